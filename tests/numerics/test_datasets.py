"""numerics.datasets.low_rank_classes: the class means span a rank-r subspace, have norm √d, and the
data is seeded."""
import numpy as np

from numerics.datasets import low_rank_classes


def test_low_rank_classes_means_have_the_declared_rank_and_norm():
    p = low_rank_classes(k=10, d=25, per_class=5, noise=0.0, rank=3, seed=10000)
    assert p.X.shape == (50, 25) and p.model == "multiclass" and p.k == 10
    means = np.array([p.X[p.y == c].mean(axis=0) for c in range(10)])
    assert np.linalg.matrix_rank(means, tol=1e-9) == 3
    assert np.allclose(np.linalg.norm(means, axis=1), 5.0)


def test_low_rank_classes_is_seeded_and_noise_is_around_the_means():
    a, b = low_rank_classes(seed=10001), low_rank_classes(seed=10001)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    c = low_rank_classes(seed=10002)
    assert not np.array_equal(a.X, c.X)
    clean = low_rank_classes(noise=0.0, seed=10001)
    assert 0.05 < np.std(a.X - clean.X) < 0.2                   # noise 0.1 around the same means
