"""KKT residual of a homogeneous network's normalized parameters, under any supported norm.

For the margin problem min ½‖θ‖² s.t. q_i(θ) ≥ 1 (``theory.kkt``), the parameters are first
normalized, θ̂ = θ / q_min^{1/L} (the derived normalizing scale), and multipliers are fitted:

    residual = min over λ ≥ 0, u ∈ S_τ(θ̂) of  √(stationarity² + slackness²),
    stationarity = gap_τ + ‖u − Σ_i λ_i ∇q_i(θ̂) − Σ_(i,j)∈K μ_ij k_ij‖_* / ‖θ̂‖,
    slackness    = L Σ_i λ_i (q_i(θ̂) − 1) / ‖θ̂‖²   (the derived normalizer: Σλ_i = ‖θ‖²/L at KKT).

- Smooth norms (ℓ2) and smooth models (or ReLU without kink freedom, τ = 0): S is the single
  gradient u = θ̂ and the problem is a non-negative least-squares problem (the slackness enters as one extra row), solved by
  ``scipy.optimize.nnls``.
- Other smooth ℓp (1 < p < ∞): S is again one point, u = ‖θ̂‖·∇‖θ̂‖_p, but the stationarity is
  measured in the dual ℓq norm, so the problem is a small conic one like those below.
- Non-smooth norms (ℓ∞, ℓ1, spectral, nuclear, weighted block max): u ranges over the subdifferential
  {u : ‖u‖_* = ‖θ̂‖, ⟨u, θ̂⟩ = ‖θ̂‖²}, a face of the dual ball scaled by ‖θ̂‖, built by the
  constructions registered below (one per norm kind, as cvxpy atoms declare theirs). At a finite
  training time the maximal entries / singular values / blocks are tied only up to a relative gap,
  so the face is taken at the elements within a relative tolerance τ of the maximum, and the largest
  relative gap gap_τ ≤ τ that this closes is charged to the stationarity residual (the point with
  those elements tied exactly lies within about gap_τ·‖θ̂‖). For ℓ1 and nuclear blocks the face is
  larger where entries / singular values vanish, so those within τ of zero (relative to the largest)
  are taken as zero and their share of the block's norm is charged the same way. ReLU kinks (|⟨w_j, x_i⟩| ≤
  τ‖w_j‖‖x_i‖) get the Clarke derivative s ∈ [0, 1], entering linearly as μ_ij = λ_i s_ij ∈ [0, λ_i]
  (their largest relative pre-activation is charged too). The problem is a small conic program
  (cvxpy; Clarabel, retried with more iterations and then SCS when inaccurate; SCS alone when a
  spectral block is large, see :func:`_solve`), solved for each τ
  of a grid that changes the active sets; the smallest residual over the grid is reported with its
  gap. ℓ2 blocks are evaluated in the span of u and the generators (thin QR), which keeps wide ReLU
  networks tractable.

The reported residual is re-evaluated from the returned multipliers (projected onto their
constraints), so it is achieved, whatever the solver status. ``lower_bound`` is certified by a dual
point that this module checks itself (:func:`dual_bound`), never by a solver's reported objective:
by weak duality, for block directions W_b with ‖W_b‖_b ≤ α (the block's own norm, dual to the one
measuring its stationarity), β ≥ 0 and every multiplier's coefficient
e_i = −⟨∇q_i, W̃⟩ + Σ_kinks min(0, −⟨k_ij, W̃⟩) + β·c·(q_i − 1) ≥ 0 (W̃_b = W_b/(c_b‖θ̂‖)),

    residual ≥ (α·gap_τ + min over the face of ⟨W, u/‖θ̂‖⟩) / √(α² + β²),

and always residual ≥ gap_τ. The candidate W comes from the solver's dual variables of the residual
constraints (or, for the least-squares problem, from its residual vector), mixed with −θ̂ where a
coefficient e_i is slightly negative (⟨∇q_i, θ̂⟩ = L·q_i > 0 by Euler's identity); a candidate that
fails the check gives nothing, and the bound falls back to the charged gap.
"""
from __future__ import annotations

import dataclasses
import math
import warnings
from functools import lru_cache
from dataclasses import dataclass, field

import numpy as np
import sympy as sp
from scipy.optimize import nnls

from numerics.networks import TwoLayerNetwork
from numerics.run_status import RunStatus, status_field
from theory.errors import UserInputError
from theory.kkt import NORM, Q_MIN, homogeneity_derivation
from theory.norms import BlockMax, Entrywise, Norm, Schatten

_ROUND = 1e-12   # relative round-off allowed when comparing a block's norm with the maximum
LARGE_PSD_SIDE = 40  # see _solve
TAU_GRID = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3)


class NotSeparatedError(ValueError):
    """The parameters do not separate the data (some margin ≤ 0): no KKT point to test."""


class UnsupportedNormError(UserInputError):
    """The KKT residual has no face construction for this norm."""


@dataclass(frozen=True)
class KKTResidual:
    norm: str
    residual: float                  # √(stationarity² + complementary_slackness²)
    stationarity: float              # includes the tolerance τ
    complementary_slackness: float
    tolerance: float                 # τ of the active sets (0 for smooth norms and models)
    support: int                     # number of samples with λ_i > 1e-6 max λ
    solver: str
    status: RunStatus = status_field()   # OK (solved) | INACCURATE | ERROR: RunStatus.from_solver
    multipliers: np.ndarray = field(repr=False, default=None)
    lower_bound: float = math.nan    # certified: no multipliers do better (see kkt_residual)
    message: str = ""                # the solver's own status when not OK (e.g. "optimal_inaccurate")

    @property
    def accurate(self) -> bool:
        return self.status is RunStatus.OK

    def as_dict(self) -> dict:
        return {"norm": self.norm, "residual": self.residual, "stationarity": self.stationarity,
                "complementary_slackness": self.complementary_slackness, "tolerance": self.tolerance,
                "support": self.support, "solver": self.solver, "status": self.status,
                "message": self.message, "lower_bound": self.lower_bound}


# -- blocks and their faces ---------------------------------------------------------------------
def _blocks(norm: Norm, params) -> tuple[list[Norm], list[float], list[np.ndarray], list[slice]]:
    """Split the flattened θ into the blocks the norm sees: (block norms, weights, arrays, slices)."""
    arrays = [np.asarray(p, dtype=float) for p in params]
    if isinstance(norm, BlockMax):
        if len(norm.norms) != len(arrays):
            raise UnsupportedNormError(f"{norm.name} has {len(norm.norms)} blocks, the model has "
                                       f"{len(arrays)} parameter tensors")
        slices, start = [], 0
        for a in arrays:
            slices.append(slice(start, start + a.size))
            start += a.size
        return list(norm.norms), list(norm.weights), arrays, slices
    if isinstance(norm, Entrywise):
        flat = np.concatenate([a.ravel() for a in arrays])
        return [norm], [1.0], [flat], [slice(0, flat.size)]
    raise UnsupportedNormError(f"{norm.name} is defined on one matrix; use a block norm for a network")


def _kind(norm: Norm, shape) -> str:
    if isinstance(norm, Entrywise):
        if norm.p == sp.oo:
            return "max"
        if norm.p == 2:
            return "l2"
        if norm.p == 1:
            return "sum"
        return f"lp:{float(norm.p_value):g}"       # smooth for 1 < p < ∞: one subgradient
    if isinstance(norm, Schatten) and min(shape) == 1:
        return "l2"                                   # every Schatten norm of a vector is its ℓ2 norm
    if isinstance(norm, Schatten) and norm.p in (1, sp.oo):
        return "spectral" if norm.p == sp.oo else "nuclear"
    raise UnsupportedNormError(f"no KKT face construction for {norm.name} (supported: lp:2/fro, lp:inf/"
                               f"entrywise:inf, lp:P/entrywise:P, schatten:inf, schatten:1, and block maxima "
                               f"of these)")


def unsupported(norm: Norm, params) -> str | None:
    """Why the KKT residual cannot be computed under ``norm`` for parameters shaped like ``params``
    (None when it can)."""
    try:
        norms, _, arrays, _ = _blocks(norm, params)
        for n, a in zip(norms, arrays):
            _kind(n, a.shape)
    except UnsupportedNormError as exc:
        return str(exc)
    return None


def _exponent(kind: str) -> float:
    """p of a smooth entrywise kind ``lp:P``."""
    return float(kind[3:])


def _smooth(kind: str) -> bool:
    """ℓ2 or another ℓp with 1 < p < ∞: the face is the one gradient, nothing tied or freed."""
    return kind == "l2" or kind.startswith("lp:")


def block_value(kind: str, a: np.ndarray) -> float:
    if kind.startswith("lp:"):
        return float(np.sum(np.abs(a) ** _exponent(kind)) ** (1.0 / _exponent(kind)))
    if kind == "max":
        return float(np.abs(a).max(initial=0.0))
    if kind == "sum":
        return float(np.abs(a).sum())
    if kind == "l2":
        return float(np.linalg.norm(a))
    sv = np.linalg.svd(a, compute_uv=False)
    return float(sv[0] if kind == "spectral" else sv.sum())


DUAL_KIND = {"max": "sum", "sum": "max", "l2": "l2", "spectral": "nuclear", "nuclear": "spectral"}


def block_dual_value(kind: str, a: np.ndarray) -> float:
    if kind.startswith("lp:"):
        p = _exponent(kind)
        return block_value(f"lp:{p / (p - 1):g}", a)
    return block_value(DUAL_KIND[kind], a)


def face_sets(kind: str, a: np.ndarray, tau: float) -> tuple[np.ndarray, float]:
    """The τ-active elements of a block's face and the relative gap they close. max: the entries
    within τ of the largest magnitude (indices); spectral: the singular values within τ of the
    largest (their count r as a one-element array); sum: the entries within τ·max of zero, taken as
    zero (indices); nuclear: the singular values above τ·σ_1, kept (count r). The gap: 1 − smallest
    tied / largest for max and spectral; the zeroed share of the block's norm for sum and nuclear."""
    if kind in ("max", "sum"):
        mags = np.abs(a).ravel()
        top = mags.max()
        if kind == "max":
            idx = np.nonzero(mags >= (1 - tau) * top)[0]
            return idx, float(1.0 - mags[idx].min() / top)
        idx = np.nonzero(mags <= tau * top)[0]
        return idx, float(mags[idx].sum() / mags.sum())
    sv = np.linalg.svd(a, compute_uv=False)
    if kind == "spectral":
        r = int(np.sum(sv >= (1 - tau) * sv[0]))
        return np.array([r]), float(1.0 - sv[r - 1] / sv[0])
    r = int(np.sum(sv > tau * sv[0]))
    return np.array([r]), float(sv[r:].sum() / sv.sum())


class _Face:
    """Subgradients of one block norm at θ_b with the elements within relative tolerance τ of the
    maximum (of zero, for ℓ1 and nuclear blocks) taken as tied, scaled by a mass a ≥ 0: g ∈ a·∂‖θ_b‖
    (``expr`` affine in the variables). ``gap`` is the largest relative gap closed by that choice
    (charged to the residual; :func:`face_sets`)."""

    def __init__(self, kind: str, a: np.ndarray, tau: float, cp):
        self.kind, self.constraints, self.Z = kind, [], None
        if _smooth(kind):        # the one unit-dual-norm gradient
            p = 2.0 if kind == "l2" else _exponent(kind)
            flat = a.ravel()
            self.mass = cp.Variable(nonneg=True)
            self.direction = np.sign(flat) * (np.abs(flat) / block_value(kind, a)) ** (p - 1)
            self.expr = self.mass * self.direction
            self.gap = 0.0
            return
        active, self.gap = face_sets(kind, a, tau)
        if kind == "max":        # ∂‖θ‖_∞ = conv{sign(θ_j) e_j : |θ_j| maximal}
            flat = a.ravel()
            self.idx = active
            self.embed = np.zeros((flat.size, self.idx.size))
            self.embed[self.idx, np.arange(self.idx.size)] = np.sign(flat[self.idx])
            self.weights = cp.Variable(self.idx.size, nonneg=True)
            self.mass = cp.sum(self.weights)
            self.expr = self.embed @ self.weights
        elif kind == "sum":      # ∂‖θ‖_1 = {sign(θ) on the support, [−1, 1] off it}
            signs = np.sign(a.ravel())
            signs[active] = 0.0
            self.signs, self.idx = signs, active
            self.mass = cp.Variable(nonneg=True)
            self.embed = np.zeros((signs.size, active.size))
            self.embed[active, np.arange(active.size)] = 1.0
            self.expr = self.mass * signs
            if active.size:
                self.free = cp.Variable(active.size)
                self.constraints = [cp.abs(self.free) <= self.mass]
                self.expr = self.expr + self.embed @ self.free
        elif kind == "spectral":  # ∂‖W‖_sp = {U_r T V_rᵀ : T ⪰ 0, tr T = 1} over the top singular pairs
            U, sv, Vt = np.linalg.svd(a, full_matrices=False)
            r = int(active[0])
            self.U, self.Vt = U[:, :r], Vt[:r]
            if r == 1:
                self.T = cp.Variable(nonneg=True)
                self.mass = self.T
                self.expr = self.T * np.outer(self.U[:, 0], self.Vt[0]).ravel()
            else:
                self.T = cp.Variable((r, r), PSD=True)
                self.mass = cp.trace(self.T)
                self.expr = cp.vec(self.U @ self.T @ self.Vt, order="C")
        else:                    # ∂‖W‖_* = {U_r V_rᵀ + U_⊥ Z V_⊥ᵀ : ‖Z‖_sp ≤ 1} over the kept pairs
            U, sv, Vt = np.linalg.svd(a, full_matrices=True)
            r = int(active[0])
            self.polar = U[:, :r] @ Vt[:r]
            self.U_perp, self.Vt_perp = U[:, r:], Vt[r:]
            self.mass = cp.Variable(nonneg=True)
            self.expr = self.mass * self.polar.ravel()
            if self.U_perp.shape[1] and self.Vt_perp.shape[0]:
                self.Z = cp.Variable((self.U_perp.shape[1], self.Vt_perp.shape[0]))
                self.constraints = [cp.sigma_max(self.Z) <= self.mass]
                self.expr = self.expr + cp.vec(self.U_perp @ self.Z @ self.Vt_perp, order="C")

    def support_min(self, Y: np.ndarray) -> float:
        """min over g in the (τ-)face of ⟨Y, g⟩, mass one (Y shaped like the block; numpy only)."""
        y = np.asarray(Y, dtype=float)
        if _smooth(self.kind):
            return float(self.direction @ y.ravel())
        if self.kind == "max":
            return float((self.embed.T @ y.ravel()).min())
        if self.kind == "sum":
            return float(self.signs @ y.ravel() - np.abs(y.ravel()[self.idx]).sum())
        if self.kind == "spectral":
            M = self.U.T @ y @ self.Vt.T
            return float(np.linalg.eigvalsh((M + M.T) / 2).min())
        out = float(np.sum(self.polar * y))
        if self.Z is not None:
            out -= float(np.linalg.svd(self.U_perp.T @ y @ self.Vt_perp.T, compute_uv=False).sum())
        return out

    def value(self) -> tuple[float, np.ndarray]:
        """(mass, g) from the solution, projected onto the cone (non-negative weights, PSD T, free
        parts within the mass)."""
        if _smooth(self.kind):
            m = max(float(self.mass.value), 0.0)
            return m, m * self.direction
        if self.kind == "max":
            w = np.clip(self.weights.value, 0.0, None)
            return float(w.sum()), self.embed @ w
        if self.kind == "sum":
            m = max(float(self.mass.value), 0.0)
            free = np.clip(self.free.value, -m, m) if self.idx.size else np.zeros(0)
            return m, m * self.signs + self.embed @ free
        if self.kind == "nuclear":
            m = max(float(self.mass.value), 0.0)
            g = m * self.polar
            if self.Z is not None:
                Uz, sz, Vzt = np.linalg.svd(self.Z.value, full_matrices=False)
                g = g + self.U_perp @ ((Uz * np.clip(sz, 0.0, m)) @ Vzt) @ self.Vt_perp
            return m, g.ravel()
        T = np.atleast_2d(self.T.value)
        evals, evecs = np.linalg.eigh((T + T.T) / 2)
        T = (evecs * np.clip(evals, 0.0, None)) @ evecs.T
        return float(np.trace(T)), (self.U @ T @ self.Vt).ravel()


# -- the residual ---------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def homogeneity_functions(degree: int):
    """The derived normalizing scale s(q_min), slackness normalizer c(‖θ‖) and normalized margin
    γ(q_min, ‖θ‖) of ``theory.kkt.homogeneity_derivation``, compiled to numpy functions."""
    r = homogeneity_derivation(sp.Integer(degree)).results
    return (sp.lambdify(Q_MIN, r["normalizing_scale"], "numpy"),
            sp.lambdify(NORM, r["cs_normalizer"], "numpy"),
            sp.lambdify((Q_MIN, NORM), r["normalized_margin"], "numpy"))


def normalized_margin(net: TwoLayerNetwork, params, X, y, norm: Norm) -> float:
    """γ(θ) = q_min(θ)/‖θ‖^L under ``norm`` (negative when a sample is misclassified)."""
    value = norm_value(norm, params)
    q_min = float(net.margins(params, X, y).min())
    return float(homogeneity_functions(net.degree)[2](q_min, value))


def norm_value(norm: Norm, params) -> float:
    """‖θ‖ of a parameter tuple: block norms blockwise, entrywise norms on the concatenation."""
    if isinstance(norm, BlockMax):
        return float(norm.value(tuple(params)))
    if isinstance(norm, Entrywise):
        return float(norm.value(np.concatenate([np.asarray(p, float).ravel() for p in params])))
    raise UnsupportedNormError(f"{norm.name} is defined on one matrix; use a block norm for a network")


def normalize(net: TwoLayerNetwork, params, X, y):
    """θ̂ = θ / s with the derived s = q_min^{1/L}; returns (θ̂ as a tuple, margins of θ̂)."""
    q = net.margins(params, X, y)
    q_min = float(q.min())
    if not q_min > 0:
        raise NotSeparatedError(f"the parameters do not separate the data (min margin {q_min:.3g})")
    s = float(homogeneity_functions(net.degree)[0](q_min))
    # min q̂ = 1 up to rounding; the slack q̂ − 1 ≥ 0 is clipped so that its sign is exact.
    return tuple(np.asarray(p, dtype=float) / s for p in params), 1.0 + np.maximum(q / s**net.degree - 1.0, 0.0)


def kkt_residual(net: TwoLayerNetwork, params, X, y, norm: Norm,
                 taus: tuple[float, ...] = TAU_GRID) -> KKTResidual:
    """The KKT residual of ``params`` (normalized first) for the margin problem under ``norm``.

    ``residual`` is achieved by the returned multipliers (an upper bound on the minimum whatever the
    solver status); ``lower_bound`` is certified: the minimum over the τ grid is at least the optimal
    values of the accurately solved τ and, for the others, their charged gap (the objective's constant
    part) or, with spectral blocks, the optimal value of the problem with each nuclear norm relaxed to
    the Frobenius norm (‖R‖_* ≥ ‖R‖_F: a second-order cone problem, solved accurately where the
    nuclear-norm one was not)."""
    theta, q = normalize(net, params, X, y)
    norms, weights, arrays, slices = _blocks(norm, theta)
    kinds = [_kind(n, a.shape) for n, a in zip(norms, arrays)]
    smooth_norm = len(kinds) == 1 and kinds[0] == "l2"
    if smooth_norm and (net.smooth or max(taus) == 0.0):
        # ℓ2 with no kink freedom (C¹ model, or τ = 0: σ'(0) = 0 at exact kinks, a Clarke choice) is
        # the least-squares problem below, solved exactly.
        return _nnls_residual(net, theta, q, X, y, norm)
    size = norm_value(norm, theta)
    best, seen, lower = None, set(), math.inf
    for tau in taus:
        signature, gap = _active_sets(net, theta, X, arrays, kinds, weights, size, tau)
        if best is not None and gap >= best.residual:
            break
        if signature in seen:
            continue
        seen.add(signature)
        args = (net, theta, q, X, y, norm, arrays, weights, kinds, slices, tau)
        res = _conic_residual(*args)
        bound = res.lower_bound
        if not res.accurate and "spectral" in kinds:
            relaxed = _conic_residual(*args, relax_nuclear=True)
            bound = max(bound, relaxed.lower_bound)
            if relaxed.residual < res.residual:   # better multipliers; the exact problem stays unsolved
                res = dataclasses.replace(relaxed, status=res.status, message=res.message)
        lower = min(lower, bound)
        if best is None or res.residual < best.residual:
            best = res
    return dataclasses.replace(best, lower_bound=min(lower, best.residual))


def _active_sets(net, theta, X, arrays, kinds, weights, size, tau):
    """The sizes of the τ-active sets (blocks, entries / singular values, ReLU kinks) and the largest
    relative gap they close: the τ values worth a conic solve are those that change the sets."""
    signature, gap = [], 0.0
    for kind, c, a in zip(kinds, weights, arrays):
        share = c * block_value(kind, a) / size
        if share < (1 - tau) * (1 - _ROUND):
            signature.append(0)
            continue
        gap = max(gap, 1.0 - share)
        if _smooth(kind):
            signature.append(1)
            continue
        active, face_gap = face_sets(kind, a, tau)
        signature.append(int(active[0]) if kind in ("spectral", "nuclear") else active.size)
        gap = max(gap, face_gap)
    if not net.smooth and tau > 0:
        W = theta[0]
        Z = np.asarray(X) @ W.T
        scale = np.linalg.norm(X, axis=1)[:, None] * np.linalg.norm(W, axis=1)[None, :]
        ratio = np.abs(Z) / np.where(scale > 0, scale, 1.0)
        kinks = ratio[(ratio <= tau) & (scale > 0)]
        signature.append(kinks.size)
        gap = max(gap, float(kinks.max(initial=0.0)))
    return tuple(signature), gap


_MIX = (0.0, 1e-12, 1e-10, 1e-8, 1e-6, 1e-4, 1e-3, 1e-2, 0.1)   # shares of −θ̂ tried on a dual candidate


@dataclass
class DualData:
    """What a dual point of the residual problem at one τ is checked against (numpy only): the blocks
    (kinds, shapes, slices, weights c_b), their faces' support functions (None for a block outside
    the max), the margin gradients J, the kink generators, the slackness coefficients
    B_i = c·(q_i − 1), the charged gap, ‖θ̂‖ and θ̂ (flattened)."""
    kinds: list
    shapes: list
    slices: list
    weights: list
    supports: list
    J: np.ndarray
    kink_rows: np.ndarray
    kink_cols: np.ndarray
    slack: np.ndarray
    gap: float
    size: float
    theta: np.ndarray

    def bound(self, W: np.ndarray) -> float:
        """The lower bound certified by the block directions W (flattened like θ), −∞ if W is not a
        dual point (a coefficient e_i < 0 with no slack to absorb it, or a non-finite value)."""
        W = np.asarray(W, dtype=float)
        if not np.all(np.isfinite(W)):
            return -math.inf
        blocks = [W[sl].reshape(shape) for sl, shape in zip(self.slices, self.shapes)]
        alpha = max(block_value(k, b) for k, b in zip(self.kinds, blocks))
        if not alpha > 0:
            return -math.inf
        scaled = np.concatenate([b.ravel() / (c * self.size) for b, c in zip(blocks, self.weights)])
        A = -(self.J @ scaled)
        if self.kink_rows.size:
            np.add.at(A, self.kink_rows, np.minimum(-(self.kink_cols @ scaled), 0.0))
        short = A < 0
        if np.any(short & ~(self.slack > 0)):
            return -math.inf
        beta = float(np.max(-A[short] / self.slack[short])) if short.any() else 0.0
        face = min(sup(b) for sup, b in zip(self.supports, blocks) if sup is not None)
        alphas = [alpha]
        if face > 0 and beta > 0 and self.gap * beta**2 / face > alpha:
            alphas.append(self.gap * beta**2 / face)        # the best α ≥ max‖W_b‖ for this β
        return max((a * self.gap + face) / math.hypot(a, beta) for a in alphas)

    def certified(self, candidates) -> float:
        """max(gap, the best bound over the candidates, each mixed with a small share of −θ̂)."""
        theta_dir = []
        for k, sl, shape in zip(self.kinds, self.slices, self.shapes):
            block = self.theta[sl].reshape(shape)
            v = block_value(k, block)
            theta_dir.append(block.ravel() / v if v > 0 else np.zeros(block.size))
        theta_dir = np.concatenate(theta_dir)
        best = self.gap
        for W0 in candidates:
            if W0 is None or not np.all(np.isfinite(W0)):
                continue
            scale = max(block_value(k, W0[sl].reshape(shape))
                        for k, sl, shape in zip(self.kinds, self.slices, self.shapes))
            if not scale > 0:
                continue
            for share in _MIX:
                best = max(best, self.bound(W0 / scale - share * theta_dir))
        return float(best)


def dual_bound(data: DualData, candidates) -> float:
    """The certified lower bound of one τ's residual problem (see the module docstring)."""
    return data.certified(candidates)


def _nnls_residual(net, theta, q, X, y, norm) -> KKTResidual:
    flat = net.flatten(theta)
    size = float(np.linalg.norm(flat))
    c = float(homogeneity_functions(net.degree)[1](size))      # L/‖θ‖²
    J, _ = net.margin_jacobian(theta, X, y)
    A = np.vstack([J.T, (c * size) * (q - 1.0)[None, :]])
    b = np.concatenate([flat, [0.0]])
    if A.shape[0] > A.shape[1] + 1:
        # ‖Aλ − b‖ = ‖R[:, :n]λ − R[:, n]‖ for the triangular factor R of [A b]: the same problem,
        # of size n + 1 instead of P + 1 (wide networks have P ≫ n).
        R = np.linalg.qr(np.column_stack([A, b]), mode="r")
        A, b = R[:, :-1], R[:, -1]
    lam, _ = nnls(A, b, maxiter=50 * A.shape[1])
    stat = float(np.linalg.norm(flat - J.T @ lam) / size)
    cs = float(c * lam @ (q - 1.0))
    res = math.hypot(stat, cs)
    direction = flat / size
    data = DualData(["l2"], [flat.shape], [slice(0, flat.size)], [1.0], [lambda Y: float(direction @ Y)],
                    J, np.zeros(0, dtype=int), np.zeros((0, flat.size)), c * (q - 1.0), 0.0, size, flat)
    # the dual direction of min ‖Aλ − b‖ over λ ≥ 0: the stationarity residual θ̂ − Jᵀλ
    lower = min(dual_bound(data, [flat - J.T @ lam]), res)
    return KKTResidual(norm.name, res, stat, cs, 0.0, _support(lam), "nnls", RunStatus.OK, lam, lower)


def _support(lam) -> int:
    return int(np.sum(lam > 1e-6 * max(float(lam.max(initial=0.0)), 1e-300)))


def _conic_residual(net, theta, q, X, y, norm, arrays, weights, kinds, slices, tau,
                    relax_nuclear: bool = False) -> KKTResidual:
    """The residual at tolerance τ; ``lower_bound`` is the optimal value when solved accurately, else
    the charged gap. ``relax_nuclear`` replaces each spectral block's dual (nuclear) norm by the smaller
    Frobenius norm in the problem, so its optimal value bounds the exact one from below; the reported
    residual is re-evaluated with the exact dual norms either way."""
    import cvxpy as cp

    flat = net.flatten(theta)
    size = norm_value(norm, theta)
    c_cs = float(homogeneity_functions(net.degree)[1](size))   # L/‖θ‖²
    J, (kink_rows, kink_cols, kink_gap) = net.margin_jacobian(theta, X, y, kink_tolerance=tau)
    lam = cp.Variable(len(q), nonneg=True)
    constraints = []
    if kink_rows.size:
        mu = cp.Variable(kink_rows.size, nonneg=True)
        constraints.append(mu <= lam[kink_rows])
        generators, coeffs = np.vstack([J, kink_cols]), cp.hstack([lam, mu])
    else:
        mu, generators, coeffs = None, J, lam
    faces, masses, terms = {}, [], []
    residual_eqs = []        # (equality constraint R_b == residual of block b, map of its dual to θ's block)
    gap = kink_gap
    for i, (kind, sl, c, a) in enumerate(zip(kinds, slices, weights, arrays)):
        share = c * block_value(kind, a) / size
        face = None
        if share >= (1 - tau) * (1 - _ROUND):
            face = faces[i] = _Face(kind, a, tau, cp)
            masses.append(face.mass)
            constraints += face.constraints
            gap = max(gap, 1.0 - share, face.gap)
        if kind == "l2":
            # u_b and the generators' block rows span a space of dimension ≤ 1 + #generators: the
            # ℓ2 norm is evaluated exactly in that basis (thin QR), keeping the problem small.
            basis = np.column_stack([a.ravel() / np.linalg.norm(a), generators[:, sl].T])
            Q, R = np.linalg.qr(basis)
            top = size * c * face.mass if face is not None else cp.Constant(0.0)
            Rv = cp.Variable(R.shape[0])
            constraints.append(Rv == R @ cp.hstack([cp.reshape(top, (1,), order="C"), -coeffs]))
            residual_eqs.append((constraints[-1], lambda d, Q=Q: Q @ d))
            terms.append(cp.norm2(Rv) / c)
        else:
            u_b = size * c * face.expr if face is not None else np.zeros(sl.stop - sl.start)
            Rv = cp.Variable(sl.stop - sl.start)
            constraints.append(Rv == u_b - generators[:, sl].T @ coeffs)
            residual_eqs.append((constraints[-1], lambda d: d))
            if kind == "max":
                terms.append(cp.norm1(Rv) / c)
            elif kind == "sum":
                terms.append(cp.norm_inf(Rv) / c)
            elif kind.startswith("lp:"):
                p = _exponent(kind)
                terms.append(cp.pnorm(Rv, p / (p - 1)) / c)
            elif kind == "nuclear":
                terms.append(cp.sigma_max(cp.reshape(Rv, a.shape, order="C")) / c)
            elif relax_nuclear:
                terms.append(cp.norm2(Rv) / c)
            else:
                terms.append(cp.normNuc(cp.reshape(Rv, a.shape, order="C")) / c)
    stat = cp.sum(cp.hstack(terms)) / size + gap
    cs = c_cs * ((q - 1.0) @ lam)
    problem = cp.Problem(cp.Minimize(cp.norm(cp.hstack([stat, cs]), 2)),
                         [cp.sum(cp.hstack(masses)) == 1] + constraints)
    psd_side = max((sum(a.shape) for k, a in zip(kinds, arrays)
                    if k == "nuclear" or (k == "spectral" and not relax_nuclear)), default=0)
    text, solver = _solve(problem, cp, psd_side)
    status, message = RunStatus.from_solver(text)
    if relax_nuclear:
        solver += " (nuclear ≥ Frobenius)"
    if lam.value is None:
        return KKTResidual(norm.name, math.inf, math.inf, math.inf, gap, 0, solver, RunStatus.ERROR,
                           lower_bound=gap, message=message or f"{text}: no multipliers returned")
    # Re-evaluate from the multipliers, projected onto their constraints.
    lam_v = np.clip(lam.value, 0.0, None)
    combo = J.T @ lam_v
    if mu is not None:
        combo = combo + kink_cols.T @ np.clip(mu.value, 0.0, lam_v[kink_rows])
    parts = {i: face.value() for i, face in faces.items()}
    total = sum(m for m, _ in parts.values())
    u = np.zeros_like(flat)
    for i, (_, g) in parts.items():
        u[slices[i]] = size * weights[i] * g / total
    stat_v = gap + sum(block_dual_value(k, (u - combo)[sl].reshape(a.shape)) / c
                       for k, sl, c, a in zip(kinds, slices, weights, arrays)) / size
    cs_v = float(c_cs * lam_v @ (q - 1.0))
    # the certified lower bound: the dual variables of the residual constraints, as W_b = ∓ν_b·c_b·‖θ̂‖
    # (the sign convention is the solver interface's; both are checked), never the solver's objective
    data = DualData(kinds, [a.shape for a in arrays], slices, weights,
                    [faces[i].support_min if i in faces else None for i in range(len(kinds))], J,
                    kink_rows, kink_cols.reshape(kink_rows.size, flat.size), c_cs * (q - 1.0), gap, size, flat)
    candidates = []
    duals = [eq.dual_value for eq, _ in residual_eqs]
    if all(d is not None for d in duals):
        W = np.concatenate([np.asarray(to_theta(np.asarray(d, dtype=float).ravel())) * c * size
                            for (_, to_theta), d, c in zip(residual_eqs, duals, weights)])
        candidates = [W, -W]
    lower = dual_bound(data, candidates)
    return KKTResidual(norm.name, math.hypot(stat_v, cs_v), float(stat_v), cs_v, gap, _support(lam_v), solver,
                       status, lam_v, lower, message)


def _solve(problem, cp, psd_side: int = 0) -> tuple[str, str]:
    """Clarabel; on an inaccurate or failed solve, Clarabel with more iterations, then SCS. Returns
    (status, solver) of the first optimal attempt, else of the last one.

    The nuclear norm of an m×n block is a PSD cone of side m + n; Clarabel's direct factorization of
    its dense (m+n)(m+n+1)/2-square Hessian block dominates beyond side ``LARGE_PSD_SIDE`` (measured:
    W of 8×65, digits with a bias column, 14–27 s per solve, against 0.6–1.7 s for SCS at ε = 1e-9 with
    optimal values equal to 1e-10), so there SCS runs alone: where it is inaccurate, its multipliers
    still give an achieved residual, and ``kkt_residual`` certifies a lower bound through the
    Frobenius relaxation (Clarabel took 35 s on such a case and was inaccurate on another)."""
    attempts = [("clarabel", cp.CLARABEL, {}),
                ("clarabel (max_iter 1000)", cp.CLARABEL, {"max_iter": 1000}),
                ("scs", cp.SCS, {"eps": 1e-9, "max_iters": 5_000})]
    if psd_side > LARGE_PSD_SIDE:
        attempts = attempts[-1:]
    status, name = "not solved", attempts[0][0]
    for name, solver, options in attempts:
        try:
            with warnings.catch_warnings():      # an inaccurate solve is reported through ``status``
                warnings.simplefilter("ignore", UserWarning)
                problem.solve(solver=solver, **options)
            status = problem.status
        except cp.SolverError as exc:
            status = f"solver error: {exc}"
        if status == "optimal":
            break
    return status, name
