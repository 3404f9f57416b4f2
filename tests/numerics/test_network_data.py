import numpy as np
import pytest

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


def test_mean_cosine_fixes_the_angle_between_the_means():
    """``mean_cosine`` = c: unit means with every pairwise cosine c (noise-free points are the means),
    rank k with the noise in their span, a fresh random frame per seed; c outside (−1/(k − 1), 1)
    raises; ``None`` is the default draw."""
    for k, c in ((2, -0.5), (3, -0.4), (2, 0.3)):
        X, y = gaussian_clusters(k, 10, 2, 0.0, seed=7, noise_in_mean_span=True, mean_cosine=c)
        means = X[::2]
        assert np.allclose(np.linalg.norm(means, axis=1), 1.0)
        gram = means @ means.T
        assert np.allclose(gram[~np.eye(k, dtype=bool)], c)
    X, _ = gaussian_clusters(2, 10, 8, 0.1, seed=7, noise_in_mean_span=True, mean_cosine=-0.5)
    other, _ = gaussian_clusters(2, 10, 8, 0.1, seed=8, noise_in_mean_span=True, mean_cosine=-0.5)
    assert np.linalg.matrix_rank(X) == 2 and not np.allclose(X, other)
    for k, c in ((2, -1.0), (2, 1.0), (3, -0.5)):
        with pytest.raises(ValueError, match="mean_cosine"):
            gaussian_clusters(k, 10, 2, 0.1, seed=0, mean_cosine=c)
    plain, _ = gaussian_clusters(2, 10, 8, 0.1, seed=7, noise_in_mean_span=True, mean_cosine=None)
    assert np.array_equal(plain, gaussian_clusters(2, 10, 8, 0.1, seed=7, noise_in_mean_span=True)[0])
