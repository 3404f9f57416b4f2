"""Synthetic separable data sets used by the claims (seeded; the seed is part of every report)."""
from __future__ import annotations

import numpy as np

from numerics.classification import Classification


def gaussian_classes(k: int = 10, d: int = 25, per_class: int = 50, noise: float = 0.1,
                     seed: int = 0) -> Classification:
    """Fan, Schmidt, Thrampoulidis (2025), synthetic setting: k Gaussian class centres μ_c ~ N(0, I_d)
    and samples μ_c + noise·N(0, I_d). With k = 2 the binary (vector) model is returned."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((k, d))
    X = np.concatenate([centres[c] + noise * rng.standard_normal((per_class, d)) for c in range(k)])
    y = np.repeat(np.arange(k), per_class)
    return Classification.from_arrays(X, y, "binary" if k == 2 else "multiclass")


def sparse_teacher(n: int = 40, d: int = 60, seed: int = 0) -> Classification:
    """Binary data labelled by a sparse teacher, d > n (the regime where the ℓ1, ℓ2 and ℓ∞ max-margin
    directions differ visibly; Gunasekar et al. 2018)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    teacher = np.zeros(d)
    teacher[:3] = [1.0, -1.0, 0.5]
    y = np.sign(X @ teacher)
    y[y == 0] = 1
    return Classification.from_arrays(X, y, "binary")


def anisotropic_regression(n: int, d: int, max_scale: float, seed: int = 0,
                           noise: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Linear regression with a Gaussian design whose feature scales are spread evenly over
    [0.5, max_scale] (so XᵀX is visibly far from a multiple of I), a Gaussian teacher and Gaussian
    label noise of standard deviation ``noise``."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.linspace(0.5, max_scale, d)
    y = X @ rng.standard_normal(d) + noise * rng.standard_normal(n)
    return X, y
