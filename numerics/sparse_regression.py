"""Sparse regression instances for the diagonal-network claims (seeded; the seed is reported).

Features as in Li, Wen, Lyu (2025)'s code: Rademacher ±1 (every feature second moment c_j = 1, so
the implied regularizers are unweighted) or Gaussian (c_j varies: the weights c_j^{1−e} matter).
"""
from __future__ import annotations

import numpy as np


def sparse_instance(n: int, d: int, support: tuple[float, ...] = (1.0, -0.8), features: str = "rademacher",
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Z, y, w*) with y = Z w*, w* supported on the first len(support) coordinates."""
    rng = np.random.default_rng(seed)
    if features == "rademacher":
        Z = rng.choice([-1.0, 1.0], size=(n, d))
    elif features == "gaussian":
        Z = rng.standard_normal((n, d))
    else:
        raise ValueError(f"features must be 'rademacher' or 'gaussian', got {features!r}")
    w_star = np.zeros(d)
    w_star[:len(support)] = support
    return Z, Z @ w_star, w_star


def manifold_point(n: int, d: int, low: float = 1.0, high: float = 2.0, seed: int = 0):
    """Gaussian features Z and a point θ₀ = (u₀, v₀) with entries in [low, high]; labels y = Z(u₀² − v₀²)
    put θ₀ on the interpolation manifold Γ (the start of a slow-drift experiment)."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, d))
    theta0 = low + (high - low) * rng.random((2, d))
    return Z, Z @ (theta0[0] ** 2 - theta0[1] ** 2), theta0


def separating_instance(n: int, d: int, support: tuple[float, ...] = (1.0, -0.8), seed: int = 0):
    """(Z, y, w*, w_decoy): Gaussian features with a planted decoy column on which the weighted-ℓ1
    and the ℓ_½-type implied regularizers have different argmins.

    Construction (derived, for any draw): y = Z w* with w* on the first len(support) coordinates; the
    last column is replaced by z_D = y/t, so that w_decoy = t·e_D interpolates too. With c_j the
    feature second moments and m = mean(y²) (so c_D = m/t²), the regularizers of label-noise SGD
    (∝ Σ c_j|w_j|) and of Adam (∝ Σ √c_j |w_j|^½) price the two interpolators at

        ℓ1:  L1 = Σ c_j|w*_j|          vs  m/t,
        ℓ½:  Lh = Σ √(c_j|w*_j|)       vs  √(m/t).

    The decoy loses under ℓ1 iff t < m/L1 and wins under ℓ½ iff t > m/Lh²; since Lh² > L1 for a
    support of ≥ 2 coordinates, t = m/(Lh·√L1) (the geometric mean of the two thresholds) makes each
    regularizer prefer a different one of the pair, by the factor ρ = Lh/√L1 > 1 in ℓ1 and √ρ in ℓ½.
    Gaussian columns are in general position (a.s.), so the ℓ1 argmin is unique; whether another
    interpolator beats both is left to the solvers (a claim checks that the argmins differ)."""
    if len(support) < 2:
        raise ValueError("the decoy construction needs a support of at least 2 coordinates")
    if d <= len(support):
        raise ValueError(f"d = {d} leaves no column for the decoy after a support of {len(support)}")
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, d))
    w_star = np.zeros(d)
    w_star[:len(support)] = support
    y = Z @ w_star
    c = np.mean(Z**2, axis=0)
    l1 = float(np.sum(c * np.abs(w_star)))
    lh = float(np.sum(np.sqrt(c * np.abs(w_star))))
    t = float(np.mean(y**2)) / (lh * np.sqrt(l1))
    Z[:, -1] = y / t
    w_decoy = np.zeros(d)
    w_decoy[-1] = t
    return Z, y, w_star, w_decoy
