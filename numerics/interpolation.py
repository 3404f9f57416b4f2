"""Interpolators that minimize an implied regularizer: argmin R(w) s.t. Zw = y.

- ℓ2 (kernel regime): the minimum-norm solution Zᵀ(ZZᵀ)⁻¹y.
- weighted ℓ1 (label-noise SGD, rich regime): a linear program (HiGHS) with its duality gap
  recomputed from a dual-feasible ν (|Zᵀν| ≤ ω after rescaling).
- Q_α (Woodworth et al. 2020): Newton's method on the concave dual
  D(ν) = yᵀν − Σ_j Q_α*((Zᵀν)_j); the primal point is w = (Q_α')⁻¹(Zᵀν) (the derived mirror map),
  so stationarity holds exactly and the certificate is the residual ‖Zw − y‖ plus the gap Q − D.
- weighted ℓ_p, 0 < p < 1 (Adam and the exponent family; non-convex): on each orthant R is concave
  and bounded below, so its minimum over {Zw = y} ∩ orthant is at a vertex, i.e. a basic solution
  supported on n linearly independent columns. Enumerating all size-n supports is exact (ground
  truth for small d); :func:`reweighted_l1_interpolator` (Candès, Wakin, Boyd 2008, multi-start) is
  the scalable heuristic, checked against the enumeration in the tests.

Inconsistent systems (no interpolator) raise :class:`InconsistentSystemError`.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog

from theory.errors import UserInputError


class InconsistentSystemError(UserInputError):
    """Zw = y has no solution: there is no interpolator to predict."""


@dataclass(frozen=True)
class Interpolator:
    w: np.ndarray
    objective: float
    method: str
    certificate: dict = field(default_factory=dict)   # gaps / residuals (numbers)


def interpolation_system(Z, y, tol: float = 1e-9) -> tuple[np.ndarray, np.ndarray]:
    """Validate (Z, y) and return an equivalent system with full row rank (rows UᵀZ, Uᵀy)."""
    Z = np.asarray(Z, dtype=float)
    y = np.asarray(y, dtype=float)
    if Z.ndim != 2 or y.ndim != 1 or Z.shape[0] != y.shape[0]:
        raise InconsistentSystemError(f"need Z of shape (n, d) and y of shape (n,), got {Z.shape} "
                                      f"and {y.shape}")
    if not (np.all(np.isfinite(Z)) and np.all(np.isfinite(y))):
        raise InconsistentSystemError("Z or y contains NaN/Inf")
    U, s, _ = np.linalg.svd(Z, full_matrices=False)
    rank = int(np.sum(s > s.max(initial=0.0) * max(Z.shape) * np.finfo(float).eps))
    U = U[:, :rank]
    residual = y - U @ (U.T @ y)
    scale = max(np.linalg.norm(y), 1.0)
    if np.linalg.norm(residual) > tol * scale:
        raise InconsistentSystemError(
            f"Zw = y has no solution: the least-squares residual is "
            f"{np.linalg.norm(residual):.3g} (rank Z = {rank} < n = {Z.shape[0]} and y ∉ range Z)")
    return U.T @ Z, U.T @ y


def min_l2_interpolator(Z, y) -> Interpolator:
    Z, y = interpolation_system(Z, y)
    w = Z.T @ np.linalg.solve(Z @ Z.T, y)
    return Interpolator(w, float(w @ w), "min-norm", {"residual": float(np.linalg.norm(Z @ w - y))})


def weighted_l1_interpolator(Z, y, weights=None) -> Interpolator:
    """argmin Σ_j ω_j |w_j| s.t. Zw = y, certified by a dual-feasible point."""
    Z, y = interpolation_system(Z, y)
    n, d = Z.shape
    omega = np.ones(d) if weights is None else np.asarray(weights, dtype=float)
    if np.any(omega <= 0):
        raise ValueError("ℓ1 weights must be positive")
    res = linprog(np.concatenate([omega, omega]), A_eq=np.hstack([Z, -Z]), b_eq=y,
                  bounds=(0, None), method="highs")
    if res.status != 0:
        raise RuntimeError(f"LP solver failed: {res.message}")
    w = res.x[:d] - res.x[d:]
    nu = np.asarray(res.eqlin.marginals, dtype=float)
    scale = max(1.0, float(np.max(np.abs(Z.T @ nu) / omega)))
    nu = nu / scale                                  # dual feasible: |Zᵀν| ≤ ω
    primal = float(omega @ np.abs(w))
    dual = float(y @ nu)
    return Interpolator(w, primal, "weighted-l1 LP (HiGHS)", {
        "relative_gap": abs(primal - dual) / max(abs(primal), 1e-300),
        "residual": float(np.linalg.norm(Z @ w - y))})


def mirror_interpolator(Z, y, mirror_inverse, conjugate, objective, tol: float = 1e-13,
                        max_iter: int = 200) -> tuple[np.ndarray, np.ndarray, dict]:
    """argmin Σ ψ(w_j) s.t. Zw = y for a strictly convex separable ψ given through its mirror map:
    w = (ψ')⁻¹(s) (``mirror_inverse(s)`` returning (w, dw/ds)), ψ*(s) (``conjugate``) and ψ(w)
    (``objective``). Damped Newton on the dual D(ν) = yᵀν − Σ ψ*((Zᵀν)_j). The certificate's
    ``duality_gap`` is the signed relative gap (P − D)/|P|: ≥ 0 up to round-off by weak duality, so a
    negative value exposes an inconsistent ψ, ψ* pair."""
    Z, y = interpolation_system(Z, y)
    nu = np.zeros(Z.shape[0])

    def dual(nu_):
        with np.errstate(over="ignore", invalid="ignore"):   # a trial step may overflow: rejected
            return float(y @ nu_ - np.sum(conjugate(Z.T @ nu_)))

    current = dual(nu)
    it = 0
    for it in range(max_iter):
        w, dw = mirror_inverse(Z.T @ nu)
        grad = y - Z @ w
        if np.linalg.norm(grad) <= tol * max(np.linalg.norm(y), 1.0):
            break
        hess = (Z * dw) @ Z.T
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while t > 1e-12:
            trial = dual(nu + t * step)
            if np.isfinite(trial) and trial >= current - 1e-13 * max(abs(current), 1.0):
                break
            t *= 0.5
        nu = nu + t * step
        current = dual(nu)
    w, _ = mirror_inverse(Z.T @ nu)
    residual = float(np.linalg.norm(Z @ w - y) / max(np.linalg.norm(y), 1e-300))
    primal = float(np.sum(objective(w)))
    # signed: weak duality gives D ≤ P, so a negative gap is a broken certificate (a wrong conjugate, a
    # dual evaluated off its domain), not a small one; callers bound it two-sided
    return w, nu, {"relative_residual": residual, "newton_iterations": it + 1,
                   "duality_gap": (primal - current) / max(abs(primal), 1e-300)}


def q_alpha_interpolator(Z, y, alpha: float) -> Interpolator:
    """argmin Q_α(w) s.t. Zw = y (Woodworth et al. 2020), with Q_α and its mirror map taken from
    the symbolic derivation in :mod:`theory.mirror_flow`."""
    from theory.mirror_flow import q_alpha_conjugate, q_alpha_mirror_inverse, q_alpha_value

    inverse, dinverse = q_alpha_mirror_inverse()
    conj, value = q_alpha_conjugate(), q_alpha_value()
    w, _, cert = mirror_interpolator(
        Z, y, lambda s: (inverse(s, alpha), dinverse(s, alpha)), lambda s: conj(s, alpha),
        lambda w_: value(w_, alpha))
    return Interpolator(w, float(np.sum(value(w, alpha))), f"Q_alpha dual Newton (alpha={alpha:g})",
                        cert)


def lp_objective(w, p: float, weights=None) -> np.ndarray:
    """Σ_j ω_j |w_j|^p (batched over leading axes)."""
    a = np.abs(np.asarray(w, dtype=float)) ** p
    return np.sum(a if weights is None else a * weights, axis=-1)


def lp_interpolator_exact(Z, y, p: float, weights=None, max_supports: int = 2_000_000,
                          chunk: int = 20_000) -> Interpolator:
    """Global argmin Σ ω_j |w_j|^p s.t. Zw = y for 0 < p ≤ 1 by enumerating all basic solutions."""
    if not 0 < p <= 1:
        raise ValueError(f"support enumeration needs 0 < p ≤ 1, got {p}")
    Z, y = interpolation_system(Z, y)
    n, d = Z.shape
    count = math.comb(d, n)
    if count > max_supports:
        raise ValueError(f"C({d}, {n}) = {count} supports exceeds the enumeration limit "
                         f"{max_supports}; use reweighted_l1_interpolator")
    best_val, best_w, singular = np.inf, None, 0
    supports = itertools.combinations(range(d), n)
    while True:
        block = np.array(list(itertools.islice(supports, chunk)), dtype=np.int64)
        if block.size == 0:
            break
        A = Z[:, block].transpose(1, 0, 2)                      # (B, n, n)
        # Hadamard ratio |det A| / Π‖a_k‖ ∈ [0, 1]: near 0 means (numerically) singular columns.
        ratio = np.abs(np.linalg.det(A)) / np.prod(np.linalg.norm(A, axis=1), axis=1)
        ok = ratio > 1e-10
        singular += int(np.sum(~ok))
        if not np.any(ok):
            continue
        sol = np.linalg.solve(A[ok], np.broadcast_to(y, (int(ok.sum()), n))[..., None])[..., 0]
        W = np.zeros((sol.shape[0], d))
        np.put_along_axis(W, block[ok], sol, axis=1)
        vals = lp_objective(W, p, weights)
        i = int(np.argmin(vals))
        if vals[i] < best_val:
            best_val, best_w = float(vals[i]), W[i]
    if best_w is None:
        raise RuntimeError("no non-singular support: Z has no n independent columns")
    best_w, best_val = _drop_roundoff(best_w, p, weights)
    return Interpolator(best_w, best_val, f"support enumeration over C({d},{n}) = {count}",
                        {"supports": count, "singular_supports": singular,
                         "residual": float(np.linalg.norm(Z @ best_w - y))})


def _drop_roundoff(w, p, weights, rel: float = 1e-9):
    """Zero the entries below rel·max|w| (round-off of a basic solution, which |w|^p would inflate:
    (1e-16)^{1/2} = 1e-8) and return (w, objective)."""
    w = np.where(np.abs(w) < rel * max(np.max(np.abs(w)), 1e-300), 0.0, w)
    return w, float(lp_objective(w, p, weights))


def reweighted_l1_interpolator(Z, y, p: float, weights=None, starts: int = 4, iterations: int = 15,
                               seed: int = 0) -> Interpolator:
    """Multi-start reweighted ℓ1 for Σ ω_j |w_j|^p (0 < p < 1): each step minimizes the linear
    majorizer Σ ω_j p (|w_j^k| + ε_k)^{p−1} |w_j| of the concave objective (monotone descent);
    start 0 is the weighted-ℓ1 solution, the others start from random positive weights."""
    Z, y = interpolation_system(Z, y)
    d = Z.shape[1]
    omega = np.ones(d) if weights is None else np.asarray(weights, dtype=float)
    rng = np.random.default_rng(seed)
    best = None
    for s in range(starts):
        lin = omega if s == 0 else omega * rng.exponential(size=d)
        w = weighted_l1_interpolator(Z, y, lin).w
        eps = max(np.max(np.abs(w)), 1e-12)
        for _ in range(iterations):
            w = weighted_l1_interpolator(Z, y, omega * (np.abs(w) + eps) ** (p - 1)).w
            eps = max(eps * 0.2, 1e-10)
        w, val = _drop_roundoff(w, p, omega)
        if best is None or val < best[1]:
            best = (w, val)
    return Interpolator(best[0], best[1], f"reweighted l1 ({starts} starts)",
                        {"residual": float(np.linalg.norm(Z @ best[0] - y))})


def relative_distance(a, b) -> float:
    """‖a − b‖ / ‖b‖ (b is the reference)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


def power_law_form(regularizer) -> tuple[float, float]:
    """(K, κ) when the derived per-coordinate regularizer is r(w) = K |w|^κ (else ValueError)."""
    import sympy as sp

    from theory.implied_regularizer import w as w_symbol

    expr = regularizer.closed_form
    if expr is None:
        raise ValueError(f"no closed form: {regularizer.reason}")
    K, kappa = sp.Wild("K", exclude=[w_symbol]), sp.Wild("kappa", exclude=[w_symbol])
    match = expr.match(K * sp.Abs(w_symbol) ** kappa)
    if not match:
        raise ValueError(f"the regularizer {expr} is not of the form K|w|^κ")
    return float(match[K]), float(match[kappa])


def predicted_interpolator(Z, y, regularizer, exact_limit: int = 200_000, seed: int = 0) -> Interpolator:
    """argmin Σ_j c_j^{1−e} r(w_j) s.t. Zw = y for a derived power-law regularizer r = K|w|^κ
    (c_j the feature second moments): an LP for κ = 1, support enumeration (exact) for κ < 1 when
    C(d, rank) ≤ ``exact_limit``, else the reweighted-ℓ1 heuristic (labelled in ``method``)."""
    K, kappa = power_law_form(regularizer)
    Z = np.asarray(Z, dtype=float)
    weights = K * np.mean(Z**2, axis=0) ** float(regularizer.measure.power)
    if abs(kappa - 1.0) < 1e-12:
        return weighted_l1_interpolator(Z, y, weights)
    if not 0 < kappa < 1:
        raise ValueError(f"κ = {kappa} > 1 (a smooth convex problem) is not needed by these claims")
    Zr, _ = interpolation_system(Z, y)
    if math.comb(Zr.shape[1], Zr.shape[0]) <= exact_limit:
        return lp_interpolator_exact(Z, y, kappa, weights)
    return reweighted_l1_interpolator(Z, y, kappa, weights, seed=seed)
