import numpy as np
import pytest

from numerics.classification import Classification, DataError, load_npz
from numerics.datasets import gaussian_classes


@pytest.mark.parametrize("model", ["binary", "multiclass"])
def test_adjoint_is_the_adjoint(model):
    rng = np.random.default_rng(0)
    p = gaussian_classes(k=2 if model == "binary" else 4, d=5, per_class=6, seed=1)
    W = rng.standard_normal(p.param_shape)
    lam = rng.standard_normal(p.margins(W).shape)
    assert np.isclose(np.sum(p.margins(W) * lam), np.sum(W * p.adjoint(lam)))
    A = p.constraint_matrix()
    assert np.allclose(A @ W.ravel(), p.margins(W).ravel())


def test_multiclass_margins_by_hand():
    p = Classification.from_arrays(np.eye(3), np.array([0, 1, 2]))
    W = np.diag([1.0, 2.0, 3.0])
    assert np.allclose(np.sort(p.margins(W), axis=1), [[1, 1], [2, 2], [3, 3]])


def test_labels_are_canonicalized():
    p = Classification.from_arrays(np.ones((4, 2)), np.array([0, 1, 1, 0]))
    assert p.model == "binary" and set(p.y) == {-1, 1}
    q = Classification.from_arrays(np.ones((4, 2)), np.array([5, 7, 7, 5]), "multiclass")
    assert q.k == 2 and set(q.y) == {0, 1}


@pytest.mark.parametrize("X, y, match", [
    (np.ones((3, 2)), np.array([1, 1, 1]), "single class"),
    (np.array([[np.nan, 1.0], [0, 1]]), np.array([0, 1]), "NaN/Inf"),
    (np.ones((3, 2)), np.array([0, 1]), "3 rows but y has 2"),
    (np.ones(3), np.array([0, 1, 0]), "2-D"),
    (np.ones((2, 2)), np.array([0.5, 1.0]), "integer"),
])
def test_bad_data(X, y, match):
    with pytest.raises(DataError, match=match):
        Classification.from_arrays(X, y)


def test_load_npz_errors(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_npz(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a readable"):
        load_npz(bad)
    np.savez(tmp_path / "noy.npz", X=np.ones((2, 2)))
    with pytest.raises(DataError, match="missing array"):
        load_npz(tmp_path / "noy.npz")


def test_the_adjoint_is_the_accumulated_one_bit_for_bit():
    """A*λ by assignment (each row's other classes are distinct) equals the np.add.at accumulation,
    signed zeros included; a row with a repeated class would not (the control)."""
    import numpy as np

    from numerics.classification import Classification

    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((40, 6)), np.repeat(np.arange(8), 5)
    problem = Classification.from_arrays(X, y)
    lam = rng.random((problem.n, problem.k - 1))
    lam[lam < 0.5] = 0.0
    lam[0, 0] = -0.0
    coef = np.zeros((problem.n, problem.k))
    coef[np.arange(problem.n), problem.y] = lam.sum(axis=1)
    np.add.at(coef, (np.arange(problem.n)[:, None], problem.others), -lam)
    expected = coef.T @ problem.X
    got = problem.adjoint(lam)
    assert np.array_equal(got, expected) and np.array_equal(np.signbit(got), np.signbit(expected))
    # control: with a repeated index an assignment drops one term, the accumulation keeps both
    dup = np.zeros(3)
    np.add.at(dup, [1, 1], [1.0, 2.0])
    assigned = np.zeros(3)
    assigned[[1, 1]] = 0.0 - np.array([1.0, 2.0])
    assert dup[1] == 3.0 and assigned[1] != -3.0


def test_the_margins_are_the_gathered_differences_bit_for_bit():
    """The masked margins (every max-margin solver's margin map) equal Z_{i,y_i} − Z_{i,others} taken by
    a gather, in the order of ``others``; a mask that keeps y_i's own column would not (the control)."""
    import numpy as np

    from numerics.classification import Classification

    rng = np.random.default_rng(5)
    problem = Classification.from_arrays(rng.standard_normal((30, 4)), np.repeat(np.arange(6), 5))
    W = rng.standard_normal((6, 4))
    Z = problem.X @ W.T
    expected = Z[np.arange(problem.n), problem.y][:, None] - Z[np.arange(problem.n)[:, None], problem.others]
    assert np.array_equal(problem.margins(W), expected)
    assert not np.array_equal(problem.margins(W), (Z[np.arange(problem.n), problem.y][:, None] - Z)[:, 1:])
