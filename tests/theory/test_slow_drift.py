import pytest
import sympy as sp

pytestmark = pytest.mark.slow


def test_drift_constants_and_noise_scale():
    from theory.slow_drift import delta, slow_drift_derivation

    d = slow_drift_derivation()
    assert d.results["drift_constant"] == sp.Rational(-1, 4)
    assert d.results["preconditioned_drift_constant"] == sp.Rational(-1, 4)
    n = sp.Symbol("n", positive=True, integer=True)
    assert sp.simplify(d.results["noise_scale"] - delta**2 / n) == 0
    assert d.results["adam_factor"] == 2
