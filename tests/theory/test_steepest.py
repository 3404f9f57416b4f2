"""The symbolic Hölder derivation against independent numerics."""
import numpy as np
import sympy as sp
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from theory.steepest import dual_exponent, holder_derivation, holder_direction, p


def test_derived_direction_matches_the_textbook_form():
    d = holder_derivation().results
    q = d["dual_exponent"]
    assert sp.simplify(q - p / (p - 1)) == 0
    # δ = g^{q−1} / ‖g‖_q^{q−1} with S = ‖g‖_q^q: exponents 1/(p−1) = q−1 and 1/p = (q−1)/q
    g, S = sp.Symbol("g", positive=True), sp.Symbol("S", positive=True)
    textbook = g ** (q - 1) / (S ** (1 / q)) ** (q - 1)
    assert sp.simplify(sp.powdenest(d["direction"] / textbook, force=True)) == 1
    assert d["limit_p_inf"] == 1


def _pnorm(v, pv):
    """numpy's p-norm on the rescaled vector (plain |v|^p underflows for tiny entries)."""
    top = np.abs(v).max()
    return 0.0 if top == 0 else top * np.linalg.norm(v / top, pv)


@settings(max_examples=60, deadline=None)
@given(v=arrays(np.float64, st.integers(1, 12), elements=st.floats(-5, 5, allow_subnormal=False)),
       pv=st.sampled_from([1.0, 1.25, 1.5, 2.0, 3.0, 7.0, np.inf]))
def test_holder_direction_is_a_maximizer(v, pv):
    delta = holder_direction(v, pv)
    qv = np.inf if pv == 1 else (1.0 if pv == np.inf else pv / (pv - 1))
    dual = _pnorm(v, qv)
    if dual == 0:
        assert np.all(delta == 0)
        return
    primal = _pnorm(delta, pv)
    assert abs(primal - 1) <= 1e-12
    assert abs(v @ delta - dual) <= 1e-12 * max(1.0, dual)


def test_ties_and_zeros():
    v = np.array([3.0, -3.0, 0.0, 1.0])
    assert np.allclose(holder_direction(v, 1.0), [0.5, -0.5, 0, 0])      # split over tied maxima
    assert np.allclose(holder_direction(v, np.inf), [1, -1, 0, 1])        # sign, zero stays zero
    assert np.all(holder_direction(np.zeros(3), 2.0) == 0)


def test_dual_exponents():
    assert dual_exponent(sp.Integer(3)) == sp.Rational(3, 2)
    assert dual_exponent(sp.Integer(1)) == sp.oo and dual_exponent(sp.oo) == 1


# -- the numeric path: the derived closed form, without the per-call lambdify dispatch -------------
from theory.steepest import _compiled_direction, holder_directions  # noqa: E402


def _lambdified_holder(v, p_value, tie_rtol=1e-12):
    """The Hölder map as it was evaluated through the lambdified derivation on every call (the
    reference the fast path must equal bit for bit)."""
    if p_value == np.inf:
        return np.sign(v)
    a = np.abs(v)
    top = a.max(axis=-1, keepdims=True, initial=0.0)
    if p_value == 1:
        ties = a >= top * (1.0 - tie_rtol)
        return np.sign(v) * ties / ties.sum(axis=-1, keepdims=True)
    qv = p_value / (p_value - 1.0)
    floor = max(1e-280, 1e-20 ** (1.0 / (qv - 1.0)))
    zero = top == 0.0
    a = np.where(a > top * floor, a / np.where(zero, 1.0, top), 0.0)
    total = np.where(zero, 1.0, np.sum(a**qv, axis=-1, keepdims=True))
    return np.sign(v) * _compiled_direction()(a, total, p_value)


@settings(max_examples=80, deadline=None)
@given(rows=st.integers(1, 5), size=st.integers(1, 30), seed=st.integers(0, 2**31),
       pv=st.one_of(st.sampled_from([1.0, 1.01, 1.25, 1.5, 2.0, 3.0, 4.0, 6.0, np.inf]), st.floats(1.01, 6.0)),
       zero_row=st.booleans(), log_scale=st.floats(-60, 60))
def test_holder_directions_equal_the_lambdified_derivation_bit_for_bit(rows, size, seed, pv, zero_row, log_scale):
    """Every exponent (the p = 2 shortcut g¹ = g, p = 1 and p = ∞ included), rows of any scale, zero
    rows and zero entries: the fast path returns the lambdified closed form's numbers exactly."""
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((rows, size)) * np.exp(log_scale + rng.uniform(-20, 20, (rows, 1)))
    v[rng.random((rows, size)) < 0.2] = 0.0
    if zero_row:
        v[0] = 0.0
    assert np.array_equal(holder_directions(v, pv), _lambdified_holder(v, pv))


def test_holder_comparison_detects_a_different_exponent():
    """The bitwise comparison above can fail: the closed form at p(1 + 1e−9) differs, as does p = 2
    evaluated through the power g^1.000000001."""
    v = np.random.default_rng(0).standard_normal((3, 20))
    for pv in (2.0, 4.0, 1.5):
        assert not np.array_equal(holder_directions(v, pv), _lambdified_holder(v, pv * (1 + 1e-9)))
