"""Test error of the hard-margin SVM on Gaussian mixtures across a sweep of (n, d, ‖μ‖)
(Cao, Gu, Belkin 2021).

Each sweep point draws x_i = y_i μ + ξ_i (μ = ‖μ‖ e_1, ξ ~ N(0, I_d), balanced random labels), solves
the ℓ2 max-margin problem with the project's certified solver (``numerics.maxmargin``) and
evaluates the *exact* test error Φ(−⟨θ̂, μ⟩/‖θ̂‖) derived in ``theory.benign_overfitting`` (its log
by ``scipy.special.log_ndtr``, accurate down to errors far below 1e-300). In the all-support-vector
regime y ⊙ (XXᵀ)⁻¹y > 0 the SVM is cross-checked against the closed form Xᵀ(XXᵀ)⁻¹y. A point whose
data are not linearly separable is kept in the results with status ``not separable`` (never
silently dropped); a point the solver could not certify has status ``inaccurate``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import sympy as sp
from scipy.special import log_ndtr

from numerics.classification import Classification, NotSeparableError
from numerics.maxmargin import max_margin
from numerics.run_status import RunStatus, status_field
from theory.benign_overfitting import d as d_sym
from theory.benign_overfitting import n as n_sym
from theory.benign_overfitting import r as r_sym
from theory.benign_overfitting import risk_exponent_derivation
from theory.norms import parse_norm


def gaussian_mixture(n: int, d: int, radius: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, y, μ): x_i = y_i μ + ξ_i with μ = radius·e_1, ξ_i ~ N(0, I_d), y_i = ±1 at random."""
    rng = np.random.default_rng(seed)
    y = rng.choice(np.array([-1, 1]), size=n)
    mu = np.zeros(d)
    mu[0] = radius
    return y[:, None] * mu + rng.standard_normal((n, d)), y, mu


@lru_cache(maxsize=1)
def _error_function():
    der = risk_exponent_derivation()
    m, s = der.results["test_error_symbols"]
    return sp.lambdify((m, s), der.results["test_error"], "scipy")


def log_test_error(theta: np.ndarray, mu: np.ndarray) -> float:
    """log Φ(−⟨θ, μ⟩/‖θ‖): the log of the derived exact Gaussian test error (``scipy.special.log_ndtr``,
    which keeps its accuracy where Φ underflows; :func:`derived_test_error` is the cross-check)."""
    return float(log_ndtr(-float(theta @ mu) / float(np.linalg.norm(theta))))


def derived_test_error(theta: np.ndarray, mu: np.ndarray) -> float:
    """Φ(−⟨θ, μ⟩/‖θ‖), evaluated from the derived sympy expression."""
    return float(_error_function()(float(theta @ mu), float(np.linalg.norm(theta))))


def exponent(n: float, d: float, radius: float, control: bool = False) -> float:
    """The derived exponent E = n‖μ‖⁴/(n‖μ‖² + d) (or the mis-specified n‖μ‖²/d)."""
    expr = risk_exponent_derivation().results["control_exponent" if control else "exponent"]
    return float(expr.subs({n_sym: n, d_sym: d, r_sym: radius}))


def min_norm_interpolator(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(θ, α) with θ = Xᵀα, XXᵀα = y."""
    alpha = np.linalg.solve(X @ X.T, y.astype(float))
    return X.T @ alpha, alpha


@dataclass(frozen=True)
class SweepPoint:
    n: int
    d: int
    radius: float
    seed: int
    status: RunStatus = status_field()   # OK | NOT_SEPARABLE | INACCURATE (the solver's best point)
    exponent: float
    control_exponent: float
    log_test_error: float = float("nan")
    duality_gap: float = float("nan")
    all_support_vectors: bool = False
    closed_form_distance: float = float("nan")   # ‖θ̂_SVM − θ̂_closed‖/‖θ̂_closed‖ (all-SV regime)

    def as_dict(self) -> dict:
        return asdict(self)


def sweep_point(n: int, d: int, radius: float, seed: int) -> SweepPoint:
    X, y, mu = gaussian_mixture(n, d, radius, seed)
    base = dict(n=n, d=d, radius=float(radius), seed=seed, exponent=exponent(n, d, radius),
                control_exponent=exponent(n, d, radius, control=True))
    try:
        sol = max_margin(Classification.from_arrays(X, y, "binary"), parse_norm("l2", "binary"))
    except NotSeparableError:
        return SweepPoint(status=RunStatus.NOT_SEPARABLE, **base)
    theta = np.asarray(sol.W, dtype=float).ravel()
    closed, alpha = min_norm_interpolator(X, y)
    all_sv = bool(np.all(y * alpha > 0))
    dist = float(np.linalg.norm(theta - closed) / np.linalg.norm(closed)) if all_sv else float("nan")
    return SweepPoint(status=sol.status,            # max_margin's: OK (gap ≤ tol) | INACCURATE (its best point)
                      log_test_error=log_test_error(theta, mu),
                      duality_gap=float(sol.certificate.relative_gap), all_support_vectors=all_sv,
                      closed_form_distance=dist, **base)


@dataclass(frozen=True)
class LinearFit:
    slope: float
    intercept: float
    r_squared: float


def fit_log_error(points: list[SweepPoint], control: bool = False) -> LinearFit:
    """Least squares log(test error) ≈ intercept + slope·E over the points with status ok."""
    ok = [p for p in points if p.status is RunStatus.OK]
    x = np.array([p.control_exponent if control else p.exponent for p in ok])
    yv = np.array([p.log_test_error for p in ok])
    slope, intercept = np.polyfit(x, yv, 1)
    resid = yv - (slope * x + intercept)
    r2 = 1.0 - float(resid @ resid) / float(((yv - yv.mean()) ** 2).sum())
    return LinearFit(float(slope), float(intercept), r2)


def transition_radius(radii: np.ndarray, log_errors: np.ndarray, level: float) -> float:
    """The radius where the mean log test error crosses log(level), by linear interpolation in
    (log radius, log error); nan when the level is not bracketed."""
    radii, log_errors = np.asarray(radii, float), np.asarray(log_errors, float)
    target = np.log(level)
    for i in range(len(radii) - 1):
        lo, hi = log_errors[i], log_errors[i + 1]
        if (lo - target) * (hi - target) <= 0 and lo != hi:
            frac = (target - lo) / (hi - lo)
            return float(np.exp(np.log(radii[i]) + frac * (np.log(radii[i + 1]) - np.log(radii[i]))))
    return float("nan")
