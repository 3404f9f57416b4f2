import numpy as np
import pytest
import sympy as sp


@pytest.mark.slow
def test_drift_constants_and_noise_scale():
    from theory.slow_drift import delta, slow_drift_derivation

    d = slow_drift_derivation()
    assert d.results["drift_constant"] == sp.Rational(-1, 4)
    assert d.results["preconditioned_drift_constant"] == sp.Rational(-1, 4)
    n = sp.Symbol("n", positive=True, integer=True)
    assert sp.simplify(d.results["noise_scale"] - delta**2 / n) == 0
    assert d.results["adam_factor"] == 2


def test_second_moment_time_scales():
    from theory.slow_drift import second_moment_time_scales

    d = second_moment_time_scales()
    assert d.results["beta2_exponent"] == sp.Rational(3, 2)
    assert d.results["tracking_error_exponent"] == sp.Rational(1, 2)
    assert d.results["coupled_error_exponent"] == 0
    s = sp.Symbol("s", positive=True)
    inside = sp.lambdify(s, d.results["quasi_static_window"])
    assert [bool(inside(v)) for v in (0.5, 1.0, 1.2, 1.9, 2.0, 2.5)] == [False, False, True, True,
                                                                           False, False]


@pytest.mark.parametrize("s", [1.0, 1.25, 1.5, 1.8])
def test_time_scale_ratios_numerically(s):
    """Independent of sympy: the ratios of the step counts behave as η^(2−s) and η^(s−1)."""
    eta = np.array([1e-2, 1e-3, 1e-4])
    memory, relax, slow = eta ** -s, 1 / eta, eta ** -2.0
    lag = np.polyfit(np.log(eta), np.log(memory / slow), 1)[0]
    follow = np.polyfit(np.log(eta), np.log(relax / memory), 1)[0]
    np.testing.assert_allclose([lag, follow], [2 - s, s - 1], atol=1e-12)
    grid = np.linspace(1.0, 2.0, 1001)
    best = grid[np.argmax(np.minimum(2 - grid, grid - 1))]
    assert abs(best - 1.5) < 1e-9
