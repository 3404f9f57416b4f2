"""theory.benign_overfitting: the derived exponent, transition radius, Gaussian test error and the
all-support-vector regime against independent numeric evaluation."""
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from theory.benign_overfitting import c, d, n, r, risk_exponent_derivation


@pytest.fixture(scope="module")
def der():
    return risk_exponent_derivation()


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 200), st.integers(10, 10_000), st.floats(0.05, 20.0))
def test_exponent_and_control_evaluate_to_their_formulas(der, nn, dd, rr):
    E = float(der.results["exponent"].subs({n: nn, d: dd, r: rr}))
    assert E == pytest.approx(nn * rr**4 / (nn * rr**2 + dd), rel=1e-12)
    ctrl = float(der.results["control_exponent"].subs({n: nn, d: dd, r: rr}))
    assert ctrl == pytest.approx(nn * rr**2 / dd, rel=1e-12)


@pytest.mark.parametrize("level,nn,dd", [(1.0, 10, 1000), (3.0, 40, 1000), (0.2, 5, 50)])
def test_exact_transition_radius_solves_the_level_equation(der, level, nn, dd):
    radius = float(der.results["transition_radius_exact"].subs({c: level, n: nn, d: dd}))
    assert nn * radius**4 / (nn * radius**2 + dd) == pytest.approx(level, rel=1e-12)
    lead = float(der.results["transition_radius"].subs({c: level, n: nn, d: dd}))
    assert lead == pytest.approx((level * dd / nn) ** 0.25, rel=1e-12)


def test_leading_term_is_the_large_d_over_n_limit(der):
    exact = der.results["transition_radius_exact"].subs({c: 2, n: 1})
    lead = der.results["transition_radius"].subs({c: 2, n: 1})
    ratios = [float((exact / lead).subs(d, q)) for q in (1e2, 1e4, 1e8)]
    assert all(abs(a - 1) > abs(b - 1) for a, b in zip(ratios, ratios[1:]))
    assert ratios[-1] == pytest.approx(1.0, abs=1e-3)


def test_test_error_is_the_gaussian_tail(der):
    m, s = der.results["test_error_symbols"]
    f = sp.lambdify((m, s), der.results["test_error"], "scipy")
    for mm, ss in ((0.5, 1.0), (3.0, 2.0), (10.0, 4.0)):
        assert f(mm, ss) == pytest.approx(norm.cdf(-mm / ss), rel=1e-10)
    # Monte Carlo of y⟨θ, yμ + ξ⟩ < 0 for one θ
    rng = np.random.default_rng(0)
    theta, mu = np.array([1.0, 0.5, -0.3]), np.array([0.8, 0.0, 0.0])
    xi = rng.standard_normal((400_000, 3))
    mc = np.mean(theta @ mu + xi @ theta < 0)
    assert mc == pytest.approx(f(theta @ mu, np.linalg.norm(theta)), abs=3e-3)


def test_min_norm_interpolator_is_the_svm_when_every_point_is_a_support_vector(der):
    assert "all_support_vectors" in der.results
    rng = np.random.default_rng(1)
    X = rng.standard_normal((4, 200))
    y = np.array([1.0, -1.0, 1.0, -1.0])
    alpha = np.linalg.solve(X @ X.T, y)
    assert np.all(y * alpha > 0)
    w = X.T @ alpha
    assert np.allclose(X @ w, y)               # every constraint active
    lam = y * alpha
    assert np.allclose(w, (lam * y) @ X)        # stationarity with λ ≥ 0
