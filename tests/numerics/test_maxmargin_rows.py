"""The working-set rows of the margin map (numerics.maxmargin.constraint_rows) agree with the
matrix-free margin map A(W) and its adjoint A*λ of numerics.classification, so the solvers never
need the full n(k−1) × kd matrix."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from numerics.classification import Classification
from numerics.maxmargin import constraint_rows


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 12), d=st.integers(1, 5), k=st.integers(2, 6),
       binary=st.booleans())
def test_rows_are_the_margin_map_and_its_adjoint(seed, n, d, k, binary):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.integers(0, 2 if binary else k, n)
    y[:2] = [0, 1][: min(2, n)] if n >= 2 else y[:1]
    if np.unique(y).size < 2:
        y = np.arange(n) % 2
        if n < 2:
            return
    problem = Classification.from_arrays(X, y, "binary" if binary else "multiclass")
    W = rng.standard_normal(problem.param_shape)
    margins = problem.margins(W)
    index = rng.permutation(margins.size)[: rng.integers(1, margins.size + 1)]
    rows = constraint_rows(problem, index)
    np.testing.assert_allclose(rows @ W.ravel(), margins.ravel()[index], rtol=1e-12, atol=1e-12)
    lam = np.zeros(margins.size)
    lam[index] = rng.random(index.size)
    np.testing.assert_allclose(rows.T @ lam[index], problem.adjoint(lam.reshape(margins.shape)).ravel(),
                               rtol=1e-12, atol=1e-12)


def test_rows_negative_control():
    """A row built for the wrong class pair does not reproduce the margin (the check can miss)."""
    rng = np.random.default_rng(10_000)
    problem = Classification.from_arrays(rng.standard_normal((6, 3)), np.array([0, 1, 2, 0, 1, 2]))
    W = rng.standard_normal(problem.param_shape)
    right, wrong = constraint_rows(problem, np.array([0, 1]))
    assert np.isclose(right @ W.ravel(), problem.margins(W)[0, 0])
    assert not np.isclose(wrong @ W.ravel(), problem.margins(W)[0, 0])
