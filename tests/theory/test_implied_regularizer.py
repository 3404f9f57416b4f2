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
    """docs/theory/implied-regularizers.md: tr H → 4‖w‖₁ and tr Diag(H)^{1/2} → 2Σ|w|^{1/2} on u²−v²; depth-D exponents."""
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


# -- deep parameterizations: geometric programs, infimal convolutions, the budget ------------------
def _numeric_check(param, measure, reg, ws=(-2.0, -0.4, 0.7, 1.5, 3.0)):
    from numerics.fibre import cross_check, numeric_fibre_minimum

    minima = numeric_fibre_minimum(param, parse_measure(measure), ws, starts=2)
    return cross_check(sp.lambdify(w, reg.closed_form, "numpy"), minima, rel=1e-8)


def _product(N):
    return parse_parameterization("*".join(f"u{k}" for k in range(1, N + 1)))


@pytest.mark.parametrize("N", [3, 4, 5, 6, 7, 8])
@pytest.mark.parametrize("measure", ["trace", "adam", "power:1/4"])
def test_products_of_N_factors_are_geometric_programs(N, measure):
    """r = N |w|^{2(1−e)(N−1)/N} for u1⋯uN (all |θ_k| = |w|^{1/N} by symmetry), certified by convexity."""
    reg = derive_implied_regularizer(_product(N), parse_measure(measure))
    a = parse_measure(measure).power
    assert sp.simplify(reg.closed_form - N * sp.Abs(w) ** (2 * a * (N - 1) / N)) == 0
    assert "geometric program" in reg.certificate
    assert "orbits" in reg.derivation.pretty()


@pytest.mark.slow
@pytest.mark.parametrize("text", ["u1*u2*u3*u4*u5*u6*u7*u8", "u1*u2*u3", "u**5 - v**5", "u**3 - v**3",
                                  "u1*u2*u3 - v1*v2*v3", "u1*u2 + v1*v2*v3", "u1*u2*u3*u4 - v1*v2*v3*v4"])
@pytest.mark.parametrize("measure", ["trace", "adam", "power:0.3"])
def test_deep_closed_forms_agree_with_the_numeric_fibre_to_1e_8(text, measure):
    param = parse_parameterization(text)
    reg = derive_implied_regularizer(param, parse_measure(measure))
    assert reg.closed_form is not None, reg.reason
    check = _numeric_check(param, measure, reg)
    assert not check.above_upper_bound and check.agrees, check.rows


def test_cross_check_fails_on_a_sabotaged_closed_form():
    """A closed form 1 % too large lies above feasible values: the cross-check must flag it."""
    param = _product(3)
    reg = derive_implied_regularizer(param, parse_measure("trace"))
    good = _numeric_check(param, "trace", reg, ws=(0.7, 3.0))
    assert good.agrees and not good.above_upper_bound
    from numerics.fibre import cross_check, numeric_fibre_minimum

    minima = numeric_fibre_minimum(param, parse_measure("trace"), (0.7, 3.0), starts=2)
    R = sp.lambdify(w, reg.closed_form, "numpy")
    high = cross_check(lambda x: 1.01 * R(x), minima)
    assert high.above_upper_bound and not high.agrees
    low = cross_check(lambda x: 0.99 * R(x), minima)
    assert not low.above_upper_bound and not low.agrees


def test_u3_minus_v3_under_trace_splits_w_between_the_terms():
    """tr H on u³ − v³: r_i(s) = 9|s|^{4/3} is convex, so w splits in halves: 9·2^{−1/3}|w|^{4/3}
    (below the v = 0 value 9|w|^{4/3}); under Adam the concave 3|s|^{2/3} puts w on one term."""
    trace = derive_implied_regularizer(depth(3), parse_measure("trace"))
    adam = derive_implied_regularizer(depth(3), parse_measure("adam"))
    assert sp.simplify(trace.closed_form - 9 * 2 ** sp.Rational(-1, 3) * sp.Abs(w) ** sp.Rational(4, 3)) == 0
    assert "infimal convolution" in trace.certificate
    assert sp.simplify(adam.closed_form - 3 * sp.Abs(w) ** sp.Rational(2, 3)) == 0
    assert "vertex" in adam.certificate


def test_symmetry_orbits_of_unequal_exponents():
    """u²·v·s: orbits {u} and {v, s} (one variable each); the value agrees with the numeric fibre."""
    param = parse_parameterization("u**2*v*s")
    reg = derive_implied_regularizer(param, parse_measure("trace"))
    text = reg.derivation.pretty()
    assert "{u} with exponent 2" in text and "{v, s} with exponent 1" in text
    check = _numeric_check(param, "trace", reg, ws=(0.5, 2.0))
    assert check.agrees and not check.above_upper_bound


@pytest.mark.parametrize("text, fragment", [
    ("u/v", "exponents of both signs"),
    ("u**(1/3) - v**(1/3)", "not attained"),
])
def test_no_minimizer_is_a_stated_reason(text, fragment):
    reg = derive_implied_regularizer(parse_parameterization(text), parse_measure("trace"))
    assert reg.closed_form is None and fragment in reg.reason


def test_the_face_search_stops_at_its_budget():
    """u**(1/3) + v**(1/3) sends sympy's solve into a long computation: the budget ends it."""
    import time

    t0 = time.monotonic()
    reg = derive_implied_regularizer(parse_parameterization("u**(1/3) + v**(1/3)"),
                                     parse_measure("power:0.9999999999"), budget=1.0)
    assert time.monotonic() - t0 < 15
    assert reg.closed_form is None and "within the 1 s budget" in reg.reason and "tried" in reg.reason


def test_monomial_terms_structure():
    from theory.implied_regularizer import monomial_terms

    u, v, s = sp.symbols("u v s", real=True)
    terms = monomial_terms(3 * u**2 * v - s**3, (u, v, s))
    assert [t.degree for t in terms] == [3, 3]
    assert "more than one term" in monomial_terms(u**2 - v**2 + u * v, (u, v))
    assert "constant term" in monomial_terms(u * v + 1, (u, v))
