"""Binary data sets for the homogeneous-network claims (seeded; no downloads).

- :func:`gaussian_clusters`: k cluster means on the unit sphere of R^d (random, nearly orthogonal for
  k ≪ d), labels alternating ±1 by cluster, points μ_j + σ·N(0, I_d/d) (so the noise norm is ≈ σ), or with the
  noise in the means' span (data of rank k).
- :func:`orthogonal_clusters`: Frei, Vardi, Bartlett, Srebro (2023): k nearly orthogonal means with
  ‖μ_j‖ = √d (μ_j ~ N(0, I_d)), x = μ_j + N(0, σ² I_d), cluster labels ±1 (balanced); returns the
  means and cluster labels too, for attacks along Σ_j y_j μ_j and the robust construction.
- :func:`digits_parity`: scikit-learn's bundled 8×8 digits (1797 images, shipped with the package),
  odd vs even, centred and scaled to unit norm, a seeded subsample.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClusterData:
    X: np.ndarray          # (n, d)
    y: np.ndarray          # (n,) ±1
    means: np.ndarray      # (k, d)
    cluster_labels: np.ndarray  # (k,) ±1
    cluster: np.ndarray    # (n,) index of each point's cluster


def gaussian_clusters(k: int = 4, d: int = 10, per_cluster: int = 8, noise: float = 0.1,
                      seed: int = 0, noise_in_mean_span: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """With ``noise_in_mean_span`` the noise is σ·N(0, I_k/k) in an orthonormal basis of the means'
    span (noise norm still ≈ σ), so the data have rank k < d while the coordinates stay those of R^d
    (what Muon's polar step needs to leave unused neurons small: see
    docs/claims/gronich2026-homogeneous-optimizer-kkt.md)."""
    rng = np.random.default_rng(seed)
    means = rng.standard_normal((k, d))
    means /= np.linalg.norm(means, axis=1, keepdims=True)
    basis = np.linalg.qr(means.T)[0] if noise_in_mean_span else np.eye(d)   # (d, r): the noise's span
    r = basis.shape[1]
    X = np.concatenate([mu + noise * rng.standard_normal((per_cluster, r)) @ basis.T / np.sqrt(r)
                        for mu in means])
    y = np.repeat(np.where(np.arange(k) % 2 == 0, 1.0, -1.0), per_cluster)
    return X, y


def orthogonal_clusters(k: int, d: int, per_cluster: int, noise: float = 1.0, seed: int = 0,
                        means: np.ndarray | None = None) -> ClusterData:
    """Frei et al. (2023) clusters; pass ``means`` (and the same k) to draw fresh test points."""
    rng = np.random.default_rng(seed)
    if means is None:
        means = rng.standard_normal((k, d))
    cluster_labels = np.where(np.arange(k) % 2 == 0, 1.0, -1.0)
    cluster = np.repeat(np.arange(k), per_cluster)
    X = means[cluster] + noise * rng.standard_normal((cluster.size, d))
    return ClusterData(X, cluster_labels[cluster], means, cluster_labels, cluster)


def digits_parity(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Odd (+1) vs even (−1) digits from ``sklearn.datasets.load_digits`` (bundled with scikit-learn)."""
    from sklearn.datasets import load_digits

    X, digit = load_digits(return_X_y=True)
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(digit), size=min(n, len(digit)), replace=False)
    X = X[idx].astype(float)
    X -= X.mean(axis=0)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return X, np.where(digit[idx] % 2 == 1, 1.0, -1.0)
