"""Gradient matching (Rudoler, Tan, Hooker, Kording 2025): estimate the penalty a trained θ̂ is
stationary for.

If θ̂ is stationary for L(θ) + Σ_k λ_k R_k(θ), then Σ_k λ_k ∇R_k(θ̂) = −∇L(θ̂). The estimator solves the
least-squares problem of −∇L on the dictionary columns G = [∇R_1(θ̂), ..., ∇R_K(θ̂)] (λ ≥ 0 for
penalties unless ``signed``; see ``theory.penalties.gradient_matching_derivation``) and reports the
diagnostics a user needs before trusting λ̂:

- residual ratio ‖Gλ̂ + ∇L‖ / ‖∇L‖ (0: θ̂ is exactly stationary for the fitted objective),
- cosine between Gλ̂ and −∇L,
- condition number of the column-normalized G, with the penalties that are (nearly) collinear named
  when it is large (their coefficients are then not identifiable),
- stationarity: how far θ̂ is from a stationary point of the fitted objective J = L + Σ λ̂_k R_k,
  measured by conjugate-gradient Newton steps on J (Hessian-vector products by forward differences
  of ∇J; default 2 steps), reported as ‖Δθ‖/‖θ̂‖ with the curvature met.

Closed forms for one-penalty dictionaries: :func:`scalar_ridge` and :func:`diagonal_ridge`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
from scipy.optimize import lsq_linear
from threadpoolctl import threadpool_limits

from numerics.mlp import Objective
from theory.penalties import Penalty

#: a condition number above this makes coefficients numerically non-identifiable
COLLINEAR_CONDITION = 1e6


@dataclass
class Fit:
    names: list[str]
    coefficients: np.ndarray
    residual_ratio: float          # ‖Gλ + ∇L‖/‖∇L‖ (nan when ∇L = 0)
    cosine: float                  # cos(Gλ, −∇L)
    condition_number: float        # of the column-normalized dictionary (inf: rank deficient)
    collinear: list[str]           # penalties in the (near) null space of the nonzero columns
    zero: list[str]                # penalties whose gradient vanishes at θ̂ (coefficient undefined)
    loss_gradient_norm: float
    at_bound: list[str] = field(default_factory=list)   # coefficients clipped to 0 by λ ≥ 0

    @property
    def identifiable(self) -> bool:
        return not (self.collinear or self.zero)

    def as_dict(self) -> dict:
        return {"coefficients": dict(zip(self.names, map(float, self.coefficients))),
                "residual_ratio": self.residual_ratio, "cosine": self.cosine,
                "condition_number": self.condition_number, "identifiable": self.identifiable,
                "collinear": self.collinear, "zero_gradient": self.zero, "at_bound": self.at_bound,
                "loss_gradient_norm": self.loss_gradient_norm}


def match(columns: np.ndarray, loss_gradient: np.ndarray, names: Sequence[str],
          nonnegative: bool | Sequence[bool] = True) -> Fit:
    """Least squares of −∇L on the columns (P×K) of ``columns``, with λ_k ≥ 0 where asked."""
    G = np.asarray(columns, dtype=float)
    g = np.asarray(loss_gradient, dtype=float)
    K = G.shape[1]
    nonneg = np.broadcast_to(np.asarray(nonnegative, dtype=bool), (K,))
    norms = np.linalg.norm(G, axis=0)
    live = norms > 0
    coef = np.zeros(K)
    cond, collinear = np.inf, []
    if live.any():
        Gn = G[:, live] / norms[live]
        Q, R = np.linalg.qr(Gn)
        rhs = -(Q.T @ g)
        sv, Vt = np.linalg.svd(R)[1:]
        cond = float(sv[0] / sv[-1]) if sv[-1] > 0 else np.inf
        if cond > COLLINEAR_CONDITION:
            weights = np.abs(Vt[-1])
            idx = np.flatnonzero(live)
            collinear += [names[idx[j]] for j in np.flatnonzero(weights > 0.1)]
        beta = np.linalg.lstsq(R, rhs, rcond=None)[0]
        lower = np.where(nonneg[live], 0.0, -np.inf)
        if np.any(beta < lower):
            beta = lsq_linear(R, rhs, bounds=(lower, np.inf), method="bvls", tol=1e-14).x
        coef[live] = beta / norms[live]
    explained = G @ coef
    gnorm = float(np.linalg.norm(g))
    residual = float(np.linalg.norm(explained + g))
    enorm = float(np.linalg.norm(explained))
    cosine = float(-(explained @ g) / (enorm * gnorm)) if enorm > 0 and gnorm > 0 else 0.0
    at_bound = [names[k] for k in range(K) if nonneg[k] and live[k] and coef[k] == 0.0]
    return Fit(list(names), coef, residual / gnorm if gnorm > 0 else float("nan"), cosine, cond,
               collinear, [names[k] for k in range(K) if not live[k]], gnorm, at_bound)


def scalar_ridge(theta: np.ndarray, loss_gradient: np.ndarray) -> float:
    """λ̂ = −⟨θ̂, ∇L⟩ / (2‖θ̂‖²) for R = ‖θ‖² (``gradient_matching_derivation``: ``scalar_ridge``)."""
    theta = np.asarray(theta, dtype=float)
    return float(-(theta @ loss_gradient) / (2.0 * (theta @ theta)))


def diagonal_ridge(theta: np.ndarray, loss_gradient: np.ndarray) -> np.ndarray:
    """λ̂_i = −∂_iL / (2θ̂_i) for R = Σ_i λ_i θ_i² (``diagonal_ridge``); NaN where θ̂_i = 0. For
    L = (1/(2n))‖y − Xθ‖² this is Λ̂ = diag(Xᵀ(y − Xθ̂) ⊘ θ̂)/(2n) (docs/theory/gradient-matching.md)."""
    theta = np.asarray(theta, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(theta != 0, -np.asarray(loss_gradient) / (2.0 * theta), np.nan)


# -- the dictionary on a model ------------------------------------------------------------------
@dataclass
class Dictionary:
    """The dictionary evaluated at θ: one entry per coefficient (``layer_l2`` expands per tensor)."""

    names: list[str]
    values: np.ndarray     # R_k(θ)
    columns: np.ndarray    # (P, K): ∇R_k(θ)


def column_names(penalty: Penalty, objective: Objective) -> list[str]:
    """The column names one penalty contributes (``layer_l2`` expands per tensor)."""
    if penalty.split == "tensor":
        return [f"{penalty.name}[{nm}]" for nm in objective.names]
    return [penalty.name]


def evaluate_dictionary(penalties: Sequence[Penalty], objective: Objective,
                        theta: np.ndarray) -> Dictionary:
    """R_k(θ) and the compiled gradients ∇R_k(θ) of a dictionary on a model."""
    theta = np.asarray(theta, dtype=float)
    blocks = objective.blocks(theta)
    names, values, cols = [], [], []
    for pen in penalties:
        if pen.split == "coordinate":
            raise ValueError("diag_l2 is estimated in closed form (diagonal_ridge), not as columns")
        if pen.kind == "gradient_norm":
            value, grad = objective.gradient_norm_value_and_gradient(theta)
            names.append(pen.name)
            values.append(value)
            cols.append(grad)
            continue
        if pen.kind == "spectral":
            parts = [pen.value_and_gradient(b) for b in blocks]
            names.append(pen.name)
            values.append(float(sum(v for v, _ in parts)))
            cols.append(np.concatenate([g.ravel() for _, g in parts]))
            continue
        weights = objective.input_second_moment() if pen.weights == "dropout" else None
        total, grad = pen.value_and_gradient(theta, weights)   # entrywise: one call on the flat θ
        if pen.split == "tensor":
            starts = np.cumsum([0] + objective.sizes)
            for nm, a, b in zip(column_names(pen, objective), starts[:-1], starts[1:]):
                names.append(nm)
                values.append(pen.value(theta[a:b]))
                col = np.zeros_like(theta)
                col[a:b] = grad[a:b]
                cols.append(col)
        else:
            names.append(pen.name)
            values.append(total)
            cols.append(grad)
    return Dictionary(names, np.array(values), np.stack(cols, axis=1))


@dataclass
class Stationarity:
    """How far θ̂ is from a stationary point of the fitted objective J (CG-Newton on J)."""

    gradient_norm: float     # ‖∇J(θ̂)‖
    distance: float          # ‖Δθ‖/‖θ̂‖ after the CG iterations (nan when not computed)
    curvature: str           # "positive" | "negative" (J not locally convex along a CG direction)
    iterations: int

    def as_dict(self) -> dict:
        return {"gradient_norm": self.gradient_norm, "distance": self.distance,
                "curvature": self.curvature, "cg_iterations": self.iterations}


def newton_distance(gradient: Callable[[np.ndarray], np.ndarray], theta: np.ndarray,
                    iterations: int = 2, rel_step: float = 1e-7,
                    gradient_at_theta: np.ndarray | None = None) -> Stationarity:
    """Approximately solve ∇²J Δ = −∇J(θ̂) by conjugate gradients and report ‖Δ‖/‖θ̂‖, the relative
    distance to the stationary point of the local quadratic model of J (one CG step: the Cauchy
    point along −∇J). Hessian-vector products are forward differences of ``gradient`` (one gradient
    evaluation per CG step). Stops at negative curvature (reported)."""
    theta = np.asarray(theta, dtype=float)
    g0 = gradient(theta) if gradient_at_theta is None else np.asarray(gradient_at_theta, dtype=float)
    r = -g0
    gnorm = float(np.linalg.norm(r))
    scale = max(float(np.linalg.norm(theta)), 1.0)
    if gnorm == 0.0 or iterations == 0:
        return Stationarity(gnorm, 0.0 if gnorm == 0.0 else float("nan"), "positive", 0)

    def hvp(v):
        eps = rel_step * scale / np.linalg.norm(v)
        return (gradient(theta + eps * v) - g0) / eps

    delta, direction, rr = np.zeros_like(theta), r.copy(), r @ r
    curvature, done = "positive", 0
    for done in range(1, iterations + 1):
        Hd = hvp(direction)
        dHd = direction @ Hd
        if dHd <= 0:
            curvature = "negative"
            break
        alpha = rr / dHd
        delta += alpha * direction
        r = r - alpha * Hd
        rr_new = r @ r
        if np.sqrt(rr_new) <= 1e-10 * gnorm:
            break
        direction = r + (rr_new / rr) * direction
        rr = rr_new
    return Stationarity(gnorm, float(np.linalg.norm(delta) / np.linalg.norm(theta)), curvature, done)


@dataclass
class Estimate:
    fit: Fit
    stationarity: Stationarity
    max_residual: float
    warnings: list[str]

    @property
    def reliable(self) -> bool:
        return not self.warnings

    def as_dict(self) -> dict:
        out = self.fit.as_dict()
        out.update(stationarity=self.stationarity.as_dict(), reliable=self.reliable,
                   max_residual=self.max_residual, warnings=self.warnings)
        return out


def fitted_gradient(penalties: Sequence[Penalty], coefficients: np.ndarray,
                    objective: Objective) -> Callable[[np.ndarray], np.ndarray]:
    """θ ↦ ∇J(θ) = ∇L(θ) + Σ_k λ_k ∇R_k(θ) with the dictionary's compiled gradients (``coefficients``
    in dictionary-column order; penalties whose coefficients are all 0 are not evaluated)."""
    active, used, start = [], [], 0
    for pen in penalties:
        width = len(column_names(pen, objective))
        block = np.asarray(coefficients[start:start + width])
        if np.any(block != 0):
            active.append(pen)
            used.append(block)
        start += width
    lam = np.concatenate(used) if used else np.zeros(0)

    def gradient(theta):
        if not active:
            return objective.gradient(theta)
        return objective.gradient(theta) + evaluate_dictionary(active, objective, theta).columns @ lam
    return gradient


def estimate(objective: Objective, penalties: Sequence[Penalty], theta: np.ndarray | None = None,
             signed: bool = False, max_residual: float = 0.05, cg_iterations: int = 2) -> Estimate:
    """Gradient matching of a dictionary on a model at θ̂ (default: the model's parameters), with
    diagnostics; ``warnings`` is empty when the estimate can be trusted.

    BLAS runs single-threaded here: the per-layer SVDs and the tall QR are small, and a threaded
    OpenBLAS spins for 5-10× longer on a shared 2-core machine (bench/bench_estimate.py)."""
    with threadpool_limits(limits=1, user_api="blas"):
        return _estimate(objective, penalties, theta, signed, max_residual, cg_iterations)


def _estimate(objective, penalties, theta, signed, max_residual, cg_iterations) -> Estimate:
    theta = objective.flat() if theta is None else np.asarray(theta, dtype=float)
    grad = objective.gradient(theta)
    dic = evaluate_dictionary(penalties, objective, theta)
    fit = match(dic.columns, grad, dic.names, nonnegative=not signed)
    warnings = []
    if fit.loss_gradient_norm == 0.0:
        warnings.append("∇L(θ̂) = 0: θ̂ is stationary for the loss alone; there is nothing to explain")
    elif not fit.residual_ratio <= max_residual:
        warnings.append(f"unreliable: θ̂ is not a stationary point of the fitted objective (residual "
                        f"ratio {fit.residual_ratio:.3g} > {max_residual:g}); the dictionary does not "
                        "explain ∇L or training had not converged")
    if fit.collinear:
        warnings.append(f"not identifiable: {', '.join(fit.collinear)} have (nearly) collinear "
                        f"gradients (condition number {fit.condition_number:.3g})")
    if fit.zero:
        warnings.append(f"not identifiable: {', '.join(fit.zero)} has a zero gradient at θ̂")
    station = newton_distance(fitted_gradient(penalties, fit.coefficients, objective), theta,
                              cg_iterations, gradient_at_theta=grad + dic.columns @ fit.coefficients)
    return Estimate(fit, station, max_residual, warnings)
