"""numerics.benign_overfitting: the sweep point's SVM, exact test error, fits and transition finder."""
import numpy as np
import pytest

from numerics.benign_overfitting import (LinearFit, SweepPoint, derived_test_error, exponent,
                                         fit_log_error, gaussian_mixture, log_test_error,
                                         min_norm_interpolator, sweep_point, transition_radius)


def test_log_test_error_matches_the_derived_expression_and_survives_underflow():
    theta, mu = np.array([1.0, 2.0, 0.0]), np.array([1.5, 0.0, 0.0])
    assert np.exp(log_test_error(theta, mu)) == pytest.approx(derived_test_error(theta, mu), rel=1e-10)
    far = log_test_error(np.array([1.0, 0.0]), np.array([60.0, 0.0]))
    assert np.isfinite(far) and far == pytest.approx(-60.0**2 / 2 - np.log(60.0 * np.sqrt(2 * np.pi)), rel=1e-3)


def test_gaussian_mixture_shape_and_mean():
    X, y, mu = gaussian_mixture(2000, 5, 2.0, seed=0)
    assert X.shape == (2000, 5) and set(np.unique(y)) == {-1, 1}
    assert np.allclose((y[:, None] * X).mean(0), mu, atol=0.1)


def test_sweep_point_in_the_all_support_vector_regime_equals_the_closed_form():
    p = sweep_point(10, 1000, 2.0, seed=0)
    assert p.status == "ok" and p.all_support_vectors
    assert p.closed_form_distance <= 1e-8 and p.duality_gap <= 1e-6
    X, y, mu = gaussian_mixture(10, 1000, 2.0, seed=0)
    theta, _ = min_norm_interpolator(X, y)
    assert p.log_test_error == pytest.approx(log_test_error(theta, mu), rel=1e-6)
    assert p.exponent == pytest.approx(10 * 16 / (10 * 4 + 1000), rel=1e-12)


def test_non_separable_point_is_kept_and_marked():
    p = sweep_point(60, 3, 0.1, seed=0)
    assert p.status == "not separable" and np.isnan(p.log_test_error)
    assert p.as_dict()["n"] == 60


def test_fit_recovers_a_planted_line_and_ignores_skipped_points():
    pts = [SweepPoint(n=1, d=1, radius=1.0, seed=0, status="ok", exponent=e, control_exponent=e**2,
                      log_test_error=-0.5 * e - 1.0) for e in np.linspace(0.5, 10, 12)]
    pts.append(SweepPoint(n=1, d=1, radius=1.0, seed=0, status="not separable", exponent=3.0,
                          control_exponent=9.0))
    fit = fit_log_error(pts)
    assert isinstance(fit, LinearFit)
    assert fit.slope == pytest.approx(-0.5) and fit.intercept == pytest.approx(-1.0) and fit.r_squared == pytest.approx(1.0)
    assert fit_log_error(pts, control=True).r_squared < 0.99


def test_transition_radius_interpolates_and_reports_unbracketed_levels():
    radii = np.array([1.0, 2.0, 4.0])
    logs = np.log([0.4, 0.2, 0.05])
    assert transition_radius(radii, logs, 0.2) == pytest.approx(2.0)
    mid = transition_radius(radii, logs, 0.1)
    assert 2.0 < mid < 4.0
    assert np.isnan(transition_radius(radii, logs, 1e-3))


def test_exponent_uses_the_derivation():
    assert exponent(10, 1000, 2.0) == pytest.approx(160 / 1040)
    assert exponent(10, 1000, 2.0, control=True) == pytest.approx(40 / 1000)
