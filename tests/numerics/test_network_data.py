import numpy as np

from numerics.network_data import gaussian_clusters


def test_noise_in_mean_span_gives_data_of_rank_k():
    """Noise in the means' span: rank X = k (full-rank noise: rank d), the noise norm stays ≈ σ, and
    the default draw is unchanged by the option."""
    k, d, n, sigma = 2, 10, 8, 0.1
    X, y = gaussian_clusters(k, d, n, sigma, seed=3, noise_in_mean_span=True)
    full, y_full = gaussian_clusters(k, d, n, sigma, seed=3)
    assert X.shape == full.shape == (k * n, d) and np.array_equal(y, y_full)
    assert np.linalg.matrix_rank(X) == k and np.linalg.matrix_rank(full) == d
    means = np.array([X[y == c].mean(axis=0) for c in (1.0, -1.0)])
    residual = X - means[(y < 0).astype(int)]
    assert 0.3 * sigma < np.linalg.norm(residual, axis=1).mean() < 2 * sigma
    again, _ = gaussian_clusters(k, d, n, sigma, seed=3)
    assert np.array_equal(again, full)
