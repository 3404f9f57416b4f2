"""Binary data sets for the homogeneous-network claims (seeded; no downloads).

- :func:`gaussian_clusters`: k cluster means on the unit sphere of R^d (random, nearly orthogonal for
  k ≪ d, or a random rotation of means with every pairwise cosine equal to ``mean_cosine``), labels
  alternating ±1 by cluster, points μ_j + σ·N(0, I_d/d) (so the noise norm is ≈ σ), or with the
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
                      seed: int = 0, noise_in_mean_span: bool = False,
                      mean_cosine: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """With ``noise_in_mean_span`` the noise is σ·N(0, I_k/k) in an orthonormal basis of the means'
    span (noise norm still ≈ σ), so the data have rank k < d while the coordinates stay those of R^d
    (what Muon's polar step needs to leave unused neurons small: see
    docs/claims/gronich2026-homogeneous-optimizer-kkt.md).

    With ``mean_cosine`` = c the means are unit vectors with ⟨μ_i, μ_j⟩ = c for every pair i ≠ j (Gram
    matrix (1 − c)I + c·11ᵀ, positive definite iff −1/(k − 1) < c < 1), in a random orthonormal
    frame of R^d drawn from the seed: the angle between the clusters is a design constant, everything
    else stays random (tried for gronich2026, where at c < 0 the ℓ2 and layer-spectral predictions
    differ by construction: docs/claims/gronich2026-homogeneous-optimizer-kkt.md). ``None``: the
    means are independent uniform directions."""
    rng = np.random.default_rng(seed)
    means = _draw_means(rng, k, d, mean_cosine)
    basis = np.linalg.qr(means.T)[0] if noise_in_mean_span else np.eye(d)   # (d, r): the noise's span
    r = basis.shape[1]
    X = np.concatenate([mu + noise * rng.standard_normal((per_cluster, r)) @ basis.T / np.sqrt(r)
                        for mu in means])
    y = np.repeat(np.where(np.arange(k) % 2 == 0, 1.0, -1.0), per_cluster)
    return X, y


def gaussian_cluster_means(k: int = 4, d: int = 10, seed: int = 0, mean_cosine: float | None = None) -> np.ndarray:
    """The (k, d) unit means that :func:`gaussian_clusters` draws for the same arguments (the data's
    noise-free design: e.g. the cosine between the two means of a draw)."""
    return _draw_means(np.random.default_rng(seed), k, d, mean_cosine)


def _draw_means(rng, k: int, d: int, mean_cosine: float | None) -> np.ndarray:
    if mean_cosine is None:
        means = rng.standard_normal((k, d))
        return means / np.linalg.norm(means, axis=1, keepdims=True)
    c = float(mean_cosine)
    if not (k <= d and -1.0 / max(k - 1, 1) < c < 1.0):
        raise ValueError(f"mean_cosine must lie in (−1/(k − 1), 1) with k ≤ d, got {mean_cosine} (k = {k}, d = {d})")
    frame = np.linalg.qr(rng.standard_normal((d, k)))[0].T                # (k, d) orthonormal rows
    gram = (1.0 - c) * np.eye(k) + c * np.ones((k, k))
    return np.linalg.cholesky(gram) @ frame                               # rows: unit, cosines c


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
