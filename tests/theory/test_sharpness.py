import pytest
import sympy as sp

from theory.parameterizations import product, quadratic_difference
from theory.sharpness import MeasureError, c, gauss_newton_derivation, parse_measure


def test_parse_measure():
    assert parse_measure("trace").exponent == 0
    assert parse_measure("adam").exponent == sp.Rational(1, 2)
    assert parse_measure("power:3/4").exponent == sp.Rational(3, 4)
    assert parse_measure("power:0.25").name == "power:1/4"
    for bad in ("power:1", "power:-1", "power:x", "sgd", "power:"):
        with pytest.raises(MeasureError):
            parse_measure(bad)


def test_gauss_newton_diagonal_derived_for_u_times_v():
    d = gauss_newton_derivation(product())
    u, v = product().params
    assert d.results["hessian_diagonal"] == sp.Matrix([c * v**2, c * u**2])


@pytest.mark.slow
def test_gauss_newton_diagonal_derived_for_u2_minus_v2():
    u, v = quadratic_difference().params
    assert gauss_newton_derivation(quadratic_difference()).results["hessian_diagonal"] == \
        sp.Matrix([4 * c * u**2, 4 * c * v**2])
