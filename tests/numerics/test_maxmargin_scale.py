"""γ*(cX) = c·γ*(X) (issue 20, item 1): the max-margin solvers answer from the unit-scale problem, so
neither the margin nor the separability verdict depends on the scale of X; the working-set limit and
the argument checks of numerics.maxmargin.max_margin."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from numerics.classification import Classification, DataError, NotSeparableError
import numerics.maxmargin
from numerics.maxmargin import (DataScale, SolverError, _solve_unit, check_separable, max_margin,
                                restricted_solvers)
from numerics.run_status import RunStatus
from theory.norms import parse_norm

MULTICLASS = ["entrywise:1", "entrywise:1.5", "fro", "entrywise:3", "entrywise:inf",
              "schatten:1", "schatten:4/3", "schatten:1.5", "schatten:3", "schatten:inf"]
BINARY = ["lp:1", "lp:1.5", "lp:2", "lp:3", "lp:inf"]


def teacher_data(seed: int, n: int, d: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian inputs labelled by a random linear teacher (separable by construction)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, np.argmax(X @ rng.standard_normal((k, d)).T, axis=1)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(10_000, 20_000), n=st.integers(6, 16), d=st.integers(2, 4),
       k=st.integers(2, 4), which=st.integers(0, 100), log_c=st.floats(-150, 150))
def test_margin_is_linear_in_the_data_scale(seed, n, d, k, which, log_c):
    X, y = teacher_data(seed, n, d, k)
    assume(np.unique(y).size >= 2)
    c = 10.0 ** log_c
    model = "binary" if np.unique(y).size == 2 else "multiclass"
    names = BINARY if model == "binary" else MULTICLASS
    norm = parse_norm(names[which % len(names)], model)
    unit = max_margin(Classification.from_arrays(X, y, model), norm)
    scaled = max_margin(Classification.from_arrays(c * X, y, model), norm)
    assert scaled.status is unit.status is RunStatus.OK
    assert scaled.margin / c == pytest.approx(unit.margin, rel=1e-8)
    # both certified brackets contain γ*(X) = γ*(cX)/c, so they must overlap
    assert scaled.certificate.margin_lower / c <= unit.certificate.margin_upper * (1 + 1e-12)
    assert unit.certificate.margin_lower <= scaled.certificate.margin_upper / c * (1 + 1e-12)
    if norm.strictly_convex:   # unique min-norm classifier: W(cX) = W(X)/c
        np.testing.assert_allclose(c * scaled.W, unit.W, rtol=0, atol=1e-6 * np.abs(unit.W).max())


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(10_000, 20_000), multiclass=st.booleans(), log_c=st.floats(-300, 300))
def test_separability_verdict_does_not_depend_on_the_scale(seed, multiclass, log_c):
    """Data made non-separable (a point repeated with another label) stay non-separable at every
    scale, and separable data stay separable."""
    X, y = teacher_data(seed, 12, 3, 3 if multiclass else 2)
    assume(np.unique(y).size >= 2)
    model = "multiclass" if multiclass else "binary"
    c = 10.0 ** log_c
    check_separable(Classification.from_arrays(c * X, y, model))
    other = (y[0] + 1) % (3 if multiclass else 2)
    bad = Classification.from_arrays(c * np.vstack([X, X[:1]]), np.append(y, other), model)
    with pytest.raises(NotSeparableError):
        check_separable(bad)
    with pytest.raises(NotSeparableError):
        max_margin(bad, parse_norm("l2" if not multiclass else "fro", model))


@pytest.mark.parametrize("scale", [1e-12, 1e20])
@pytest.mark.parametrize("name", ["lp:inf", "lp:1"])
def test_negative_control_the_raw_scale_fails(name, scale):
    """The check above can fail: the same solvers run on the raw data at scale 1e-12 or 1e20 (no
    normalization, the code path before issue 20) find no classifier for these separable data
    (before issue 25 they called them non-separable; since then the separating ℓ2 classifier
    comes from the dual method, which normalizes its rows itself, so ``lp:2`` is no longer a
    control and the LPs fail in the main solve instead)."""
    rng = np.random.default_rng(10_000)
    X = rng.standard_normal((40, 5))
    y = np.sign(X @ rng.standard_normal(5))
    norm = parse_norm(name, "binary")
    raw = Classification.from_arrays(scale * X, y, "binary")
    with pytest.raises((NotSeparableError, SolverError)):
        _solve_unit(raw, norm, restricted_solvers(norm), 1e-6)
    assert max_margin(raw, norm).margin / scale == pytest.approx(
        max_margin(Classification.from_arrays(X, y, "binary"), norm).margin, rel=1e-8)


@given(log_top=st.integers(-300, 300), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=50, deadline=None)
def test_data_scale_is_exact_and_overflow_free(log_top, seed):
    """X/s has largest row norm 1 (to round-off) for any finite X, even where ‖x‖² overflows."""
    X = np.random.default_rng(seed).standard_normal((5, 4)) * 10.0 ** log_top
    scale = DataScale.of(X)
    assert np.linalg.norm(scale.unit(X), axis=1).max() == pytest.approx(1.0, rel=1e-15)
    assert float(scale.up(1.0)) == pytest.approx(float(np.linalg.norm(X / 10.0 ** log_top, axis=1).max())
                                                 * 10.0 ** log_top, rel=1e-13)


def test_no_features_and_zero_data():
    y = np.array([0, 1, 0, 1])
    with pytest.raises(DataError, match="no features"):
        max_margin(Classification.from_arrays(np.zeros((4, 0)), y), parse_norm("l2", "binary"))
    with pytest.raises(NotSeparableError, match="X is zero"):
        max_margin(Classification.from_arrays(np.zeros((4, 2)), y), parse_norm("l2", "binary"))


def test_answer_outside_the_float_range_is_refused():
    """At scale 1e-310 (subnormal X) the min-norm W ≈ 1/γ* overflows float64: refused, not inf."""
    X, y = teacher_data(10_000, 12, 3, 2)
    with pytest.raises(DataError, match="outside the float64 range"):
        max_margin(Classification.from_arrays(1e-310 * X, y), parse_norm("l2", "binary"))


def test_working_set_limit_refuses_in_one_line(monkeypatch):
    """The only size limit left is on the working set's sparse rows (memory); it is a one-line
    DataError, raised before the rows are built."""
    X, y = teacher_data(10_000, 40, 4, 3)
    monkeypatch.setattr(numerics.maxmargin, "MAX_CONSTRAINT_ENTRIES", 10)
    with pytest.raises(DataError, match="too large") as err:
        max_margin(Classification.from_arrays(X, y), parse_norm("fro"))
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("tol", [0.0, -1.0, float("nan"), 1.0, float("inf")])
def test_tolerance_out_of_range(tol):
    X, y = teacher_data(10_000, 12, 3, 2)
    with pytest.raises(ValueError, match="tol"):
        max_margin(Classification.from_arrays(X, y), parse_norm("l2", "binary"), tol=tol)
