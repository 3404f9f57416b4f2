import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from theory.penalties import (GRAMMAR, PenaltyError, gradient_matching_derivation,
                              gradient_norm_derivation, parse_penalties, parse_penalty)

ENTRYWISE = ["l2", "lp:3", "lp:1.5", "huber:0.05"]
SPECTRAL = ["nuclear", "schatten:3"]


@pytest.mark.parametrize("text,canonical", [
    ("l2", "l2"), ("L2", "l2"), ("lp:2", "l2"), ("lp:3", "lp:3"), ("lp:1.5", "lp:1.5"),
    ("huber:0.050", "huber:0.05"), ("huber:1/20", "huber:0.05"), ("schatten:1", "nuclear"),
    ("schatten:3", "schatten:3"), ("gradnorm", "gradnorm"), (" layer_l2 ", "layer_l2"),
])
def test_canonical_names(text, canonical):
    assert parse_penalty(text).name == canonical


@pytest.mark.parametrize("text,fragment", [
    ("foo", "valid: l2"), ("l1", "unknown penalty"), ("lp:1", "huber"), ("lp:0.5", "P must be > 1"),
    ("huber", "needs a parameter"), ("huber:-1", "not a positive number"), ("huber:0", "δ > 0"),
    ("lp:abc", "not a positive number"), ("l2:3", "takes no parameter"), ("schatten:0.5", "≥ 1"),
    ("lp:__import__('os')", "not a positive number"),
    ("lp:1/0", "lp:1/0: exponent P has a zero denominator"), ("schatten:3/0", "zero denominator"),
    ("huber:1/0", "huber:1/0: DELTA has a zero denominator"), ("lp:0/0", "zero denominator"),
    ("lp:1e400", "outside float64's range"), ("huber:1e-400", "outside float64's range"),
])
def test_bad_names_are_one_line_user_errors(text, fragment):
    with pytest.raises(PenaltyError) as exc:
        parse_penalty(text)
    assert fragment in str(exc.value)
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize("text,value", [("lp:1.0000000001", sp.Rational(10000000001, 10**10)),
                                        ("schatten:1.0000000001", sp.Rational(10000000001, 10**10)),
                                        ("lp:0.1e2", 10), ("huber:1e-300", sp.Rational(1, 10**300))])
def test_decimals_are_read_exactly(text, value):
    """A parameter just above an edge stays above it: schatten:1.0000000001 is not the nuclear norm
    (a float tolerance would round it to 1) and lp:1.0000000001 is not refused as P ≤ 1."""
    pen = parse_penalty(text)
    parameter = pen.profile.args[-1] if not text.startswith("huber") else None
    if parameter is not None:
        assert parameter == value and pen.name != "nuclear"
    else:
        assert pen.name == "huber:1e-300"


def test_unknown_name_lists_every_valid_one():
    with pytest.raises(PenaltyError) as exc:
        parse_penalty("ridge")
    assert all(name in str(exc.value) for name in GRAMMAR)


def test_dictionary_rules():
    assert [p.name for p in parse_penalties(["l2,huber:0.1", "nuclear"])] == ["l2", "huber:0.1", "nuclear"]
    with pytest.raises(PenaltyError, match="twice"):
        parse_penalties(["l2", "lp:2"])
    with pytest.raises(PenaltyError, match="diag_l2"):
        parse_penalties(["diag_l2", "l2"])
    with pytest.raises(PenaltyError, match="no penalty"):
        parse_penalties([","])


def _finite_difference_gradient(pen, a, h=1e-6):
    g = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        e = np.zeros_like(a)
        e[idx] = h
        g[idx] = (pen.value(a + e) - pen.value(a - e)) / (2 * h)
    return g


# entries away from 0 (lp:1.5 has an unbounded second derivative there) and from the Huber kink
SMOOTH = st.one_of(st.floats(-2, -0.052), st.floats(-0.048, -0.002), st.floats(0.002, 0.048),
                   st.floats(0.052, 2))


@settings(max_examples=25, deadline=None)
@given(arrays(np.float64, (3, 4), elements=SMOOTH))
def test_compiled_gradients_match_finite_differences(a):
    for name in ENTRYWISE:
        pen = parse_penalty(name)
        np.testing.assert_allclose(pen.gradient(a), _finite_difference_gradient(pen, a), atol=1e-6)


@settings(max_examples=15, deadline=None)
@given(arrays(np.float64, (3, 4), elements=st.floats(-2, 2)))
def test_spectral_gradients_match_finite_differences(a):
    s = np.linalg.svd(a, compute_uv=False)
    if s.min() < 1e-2 or np.min(np.diff(-s)) < 1e-2:   # non-differentiable or ill-conditioned points
        return
    for name in SPECTRAL:
        pen = parse_penalty(name)
        np.testing.assert_allclose(pen.gradient(a), _finite_difference_gradient(pen, a), atol=1e-5)


def test_values_against_definitions():
    a = np.array([[0.5, -2.0], [0.01, 3.0]])
    assert parse_penalty("l2").value(a) == pytest.approx(np.sum(a**2))
    assert parse_penalty("lp:3").value(a) == pytest.approx(np.sum(np.abs(a) ** 3))
    huber = np.where(np.abs(a) <= 0.05, a**2 / 0.1, np.abs(a) - 0.025)
    assert parse_penalty("huber:0.05").value(a) == pytest.approx(huber.sum())
    assert parse_penalty("nuclear").value(a) == pytest.approx(np.linalg.svd(a, compute_uv=False).sum())
    assert parse_penalty("nuclear").value(np.ones(3)) == 0.0          # vectors carry no spectrum
    np.testing.assert_allclose(parse_penalty("schatten:3").gradient(np.ones(3)), 0.0)


def test_huber_tends_to_l1():
    a = np.linspace(-1, 1, 11)
    assert parse_penalty("huber:1e-6").value(a) == pytest.approx(np.abs(a).sum(), abs=1e-5)
    np.testing.assert_allclose(parse_penalty("huber:1e-6").gradient(a[a != 0]), np.sign(a[a != 0]))


def test_weighted_gradient():
    a, w = np.array([1.0, -2.0]), np.array([3.0, 0.5])
    np.testing.assert_allclose(parse_penalty("dropout_l2").gradient(a, w), 2 * w * a)
    assert parse_penalty("dropout_l2").value(a, w) == pytest.approx(np.sum(w * a**2))


def test_gradient_norm_penalty_needs_the_model():
    with pytest.raises(ValueError):
        parse_penalty("gradnorm").gradient(np.ones(3))
    assert "2" in sp.sstr(gradient_norm_derivation().results["gradient"])


def test_matching_closed_forms_evaluate_to_least_squares():
    rng = np.random.default_rng(0)
    theta, grad = rng.standard_normal(7), rng.standard_normal(7)
    res = gradient_matching_derivation().results
    sym = {s.name: s for s in res["scalar_ridge"].free_symbols}
    value = float(res["scalar_ridge"].subs({sym["‖θ‖²"]: theta @ theta, sym["⟨θ,∇L⟩"]: theta @ grad}))
    col = 2 * theta
    assert value == pytest.approx(-(col @ grad) / (col @ col))
    sym = {s.name: s for s in res["diagonal_ridge"].free_symbols}
    diag = float(res["diagonal_ridge"].subs({sym["∂_iL"]: grad[0], sym["theta_i"]: theta[0]}))
    assert diag == pytest.approx(-grad[0] / (2 * theta[0]))


@pytest.mark.parametrize("name", ENTRYWISE + SPECTRAL + ["gradnorm", "layer_l2", "dropout_l2", "diag_l2"])
def test_every_penalty_has_a_derivation(name):
    text = parse_penalty(name).derivation().pretty()
    assert name.split(":")[0] in text
