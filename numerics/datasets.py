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


def low_rank_classes(k: int = 10, d: int = 25, per_class: int = 5, noise: float = 0.1, rank: int = 3,
                     seed: int = 0) -> Classification:
    """Multiclass data whose k class means span only a ``rank``-dimensional subspace: the means are
    √d·u_c with u_c uniform on the unit sphere of a random ``rank``-dimensional subspace of R^d (the
    norm √d matches the Gaussian centres of :func:`gaussian_classes`), and each class has
    ``per_class`` samples μ_c + noise·N(0, I_d).

    Made for comparing max-margin predictions across a family of norms (Fan, Schmidt, Thrampoulidis
    2025): the means make the Frobenius max-margin classifier's singular values spread (``rank``
    large ones from the means' subspace, small ones from the noise directions the support vectors
    use), and few samples per class leave few active margin constraints against (k−1)·d parameters,
    so that norms which weigh the singular values (or entries) differently pick visibly different
    solutions. Means on a sphere are extreme points of their convex hull, so the noiseless means are
    linearly separable in the multiclass sense."""
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((d, rank)))[0]
    directions = rng.standard_normal((k, rank))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    centres = np.sqrt(d) * directions @ basis.T
    X = np.concatenate([centres[c] + noise * rng.standard_normal((per_class, d)) for c in range(k)])
    y = np.repeat(np.arange(k), per_class)
    return Classification.from_arrays(X, y, "multiclass")
