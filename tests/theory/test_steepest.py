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
