"""numerics.deep_diagonal.basic_solutions: every basic solution of Zw = y (the local minima on Zw = y of a
concave separable Σ ω_j|w_j|^κ, 0 < κ < 1), kept as the tool of the measurements in
docs/claims/deep-diagonal-adam-local-minimum.md (the claim itself is not registered: it did not decide
within its budget on the tuning seeds, session 7)."""
import numpy as np

from numerics.deep_diagonal import basic_solutions


def _instance():
    rng = np.random.default_rng(0)
    return rng.standard_normal((2, 6)), np.array([1.0, -0.7])


def test_basic_solutions_are_every_support_solution_and_nearest_is_exact():
    Z, y = _instance()
    basic = basic_solutions(Z, y)
    assert basic.W.shape == (15, 6) and basic.singular == 0
    assert np.allclose(basic.W @ Z.T, y)
    assert all(np.count_nonzero(w) <= 2 for w in basic.W)
    for S, w in zip(basic.supports, basic.W):
        assert set(np.flatnonzero(w)) <= set(S.tolist())
    x = basic.W[3] + 1e-3
    assert basic.nearest(x)[0] == 3
    assert basic.nearest(np.full(6, np.nan))[0] == -1


def test_dependent_columns_are_skipped_and_a_concave_objective_is_least_at_a_basic_solution():
    Z, y = _instance()
    Zd = Z.copy()
    Zd[:, 1] = Zd[:, 0]
    assert basic_solutions(Zd, y).singular == 1
    # Σ|w_j|^½ over interpolators: its minimum over random points of Zw = y is never below the least
    # basic solution's value (the minimum of a concave function on the polyhedral pieces is at a vertex)
    basic = basic_solutions(Z, y)
    best = np.min(np.sum(np.abs(basic.W) ** 0.5, axis=1))
    rng = np.random.default_rng(1)
    null = np.linalg.svd(Z)[2][2:]
    w0 = Z.T @ np.linalg.solve(Z @ Z.T, y)
    points = w0 + rng.standard_normal((2000, 4)) @ null
    assert np.allclose(points @ Z.T, y)
    assert np.min(np.sum(np.abs(points) ** 0.5, axis=1)) > best
