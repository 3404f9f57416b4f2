"""Implied regularizers: the symbolic fibre minimum checked against independent numeric evaluation."""
import numpy as np
import pytest
import sympy as sp

from theory.implied_regularizer import derive_implied_regularizer, homogeneity_degree, w
from theory.parameterizations import depth, parse_parameterization, product, quadratic_difference
from theory.sharpness import parse_measure


def _grid_fibre_minimum(param, e, target, grid=801):
    """Brute force for two parameters and polynomial f: fix one parameter on a grid containing 0,
    solve f = target for the other (numpy roots), keep the smallest measure value found."""
    a = 1 - e
    x, y = param.params
    gx = sp.lambdify((x, y), param.gradient[0])
    gy = sp.lambdify((x, y), param.gradient[1])
    best = np.inf
    for fixed, free in ((x, y), (y, x)):
        coeff_fns = [sp.lambdify(fixed, c) for c in sp.Poly(param.expr - target, free).all_coeffs()]
        for value in np.linspace(-3, 3, grid):
            coeffs = np.array([float(fn(value)) for fn in coeff_fns])
            if np.all(coeffs[:-1] == 0):
                continue
            for root in np.roots(coeffs):
                if abs(root.imag) < 1e-9:
                    pt = (value, root.real) if fixed == x else (root.real, value)
                    best = min(best, abs(gx(*pt)) ** (2 * a) + abs(gy(*pt)) ** (2 * a))
    return best


@pytest.mark.parametrize("param, measure, expected", [
    (product(), "adam", 2 * sp.sqrt(sp.Abs(w))),
    (product(), "trace", 2 * sp.Abs(w)),
])
def test_closed_forms_fast(param, measure, expected):
    reg = derive_implied_regularizer(param, parse_measure(measure))
    assert sp.simplify(reg.closed_form - expected) == 0
    e = float(parse_measure(measure).exponent)
    for target in (0.3, 1.7):
        assert float(reg.closed_form.subs(w, target)) == pytest.approx(
            _grid_fibre_minimum(param, e, target), rel=1e-3)


@pytest.mark.slow
@pytest.mark.parametrize("param, measure", [
    (quadratic_difference(), "trace"), (quadratic_difference(), "adam"),
    (quadratic_difference(), "power:0.25"), (depth(3), "trace"), (depth(3), "adam"),
    (parse_parameterization("u**2 - v**2 + u*v"), "trace"),
])
def test_closed_forms_match_brute_force(param, measure):
    reg = derive_implied_regularizer(param, parse_measure(measure))
    assert reg.closed_form is not None, reg.reason
    e = float(parse_measure(measure).exponent)
    for target in (-1.3, 0.4, 2.0):
        assert float(reg.closed_form.subs(w, target)) == pytest.approx(
            _grid_fibre_minimum(param, e, target), rel=2e-3)


@pytest.mark.slow
def test_theory_md_closed_forms_are_reached():
    """THEORY.md §3: tr H → 4‖w‖₁ and tr Diag(H)^{1/2} → 2Σ|w|^{1/2} on u²−v²; depth-D exponents."""
    q = quadratic_difference()
    assert sp.simplify(derive_implied_regularizer(q, parse_measure("trace")).closed_form
                       - 4 * sp.Abs(w)) == 0
    assert sp.simplify(derive_implied_regularizer(q, parse_measure("adam")).closed_form
                       - 2 * sp.sqrt(sp.Abs(w))) == 0
    for D in (3, 4):
        sgd = derive_implied_regularizer(depth(D), parse_measure("trace")).closed_form
        adam = derive_implied_regularizer(depth(D), parse_measure("adam")).closed_form
        assert sgd.as_independent(w)[1] == sp.Abs(w) ** sp.Rational(2 * (D - 1), D)
        assert adam.as_independent(w)[1] == sp.Abs(w) ** sp.Rational(D - 1, D)


def test_no_closed_form_is_reported_with_a_reason():
    reg = derive_implied_regularizer(parse_parameterization("exp(u) - exp(v)"), parse_measure("trace"))
    assert reg.closed_form is None and "homogeneous" in reg.reason
    assert "No closed form" in reg.derivation.pretty()


def test_homogeneity_degree():
    u, v = sp.symbols("u v", real=True)
    assert homogeneity_degree(u**3 - v**3, (u, v)) == 3
    assert homogeneity_degree(sp.sqrt(u * v), (u, v)) == 1
    assert homogeneity_degree(sp.exp(u) - v, (u, v)) is None
