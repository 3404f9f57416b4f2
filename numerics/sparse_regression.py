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
