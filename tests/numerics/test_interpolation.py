"""Interpolation solvers: certificates, exact enumeration as ground truth for the heuristic."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.optimize import minimize

from numerics.interpolation import (InconsistentSystemError, lp_interpolator_exact, lp_objective,
                                    min_l2_interpolator, mirror_interpolator, q_alpha_interpolator,
                                    relative_distance,
                                    reweighted_l1_interpolator, weighted_l1_interpolator)


def _system(n=4, d=9, seed=0):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, d))
    return Z, Z @ rng.standard_normal(d)


def test_weighted_l1_is_certified_and_feasible():
    Z, y = _system()
    weights = np.linspace(0.5, 2.0, Z.shape[1])
    sol = weighted_l1_interpolator(Z, y, weights)
    assert sol.certificate["relative_gap"] < 1e-9
    assert np.linalg.norm(Z @ sol.w - y) < 1e-9


def test_dual_newton_with_a_quadratic_potential_is_the_min_norm_interpolator():
    Z, y = _system(3, 7, seed=5)
    w, _, cert = mirror_interpolator(Z, y, lambda s: (s, np.ones_like(s)), lambda s: 0.5 * s**2,
                                     lambda w_: 0.5 * w_**2)
    assert relative_distance(w, min_l2_interpolator(Z, y).w) < 1e-12
    assert cert["relative_residual"] < 1e-13 and abs(cert["duality_gap"]) < 1e-12


def test_a_negative_duality_gap_is_reported_with_its_sign():
    """Issue 23: the certificate took |P − D|, so a dual above the primal (weak duality broken, here by
    a wrong conjugate ψ*(s) = s²/4 for ψ(w) = w²/2) looked like an ordinary positive gap. The signed
    gap exposes it, and a two-sided bound still rejects it."""
    Z, y = _system(3, 7, seed=5)
    w, _, cert = mirror_interpolator(Z, y, lambda s: (s, np.ones_like(s)), lambda s: 0.25 * s**2,
                                     lambda w_: 0.5 * w_**2)
    gap = cert["duality_gap"]
    old = abs(gap)                                  # what the old certificate reported
    assert old > 0.1 and gap == -old                # the old number hid the sign; D > P here
    assert relative_distance(w, min_l2_interpolator(Z, y).w) < 1e-12   # the primal is still right


@pytest.mark.slow
def test_q_alpha_interpolator_matches_a_generic_constrained_solver():
    Z, y = _system(3, 6, seed=1)
    alpha = 0.7
    sol = q_alpha_interpolator(Z, y, alpha)
    assert sol.certificate["relative_residual"] < 1e-12
    q = lambda w: np.sum(2 * alpha**2 + w * np.arcsinh(w / (2 * alpha**2)) - np.sqrt(w**2 + 4 * alpha**4))
    ref = minimize(q, min_l2_interpolator(Z, y).w, method="SLSQP",
                   constraints=[{"type": "eq", "fun": lambda w: Z @ w - y}],
                   options={"ftol": 1e-15, "maxiter": 500})
    assert relative_distance(sol.w, ref.x) < 1e-5


@pytest.mark.slow
def test_q_alpha_interpolates_between_l1_and_l2():
    Z, y = _system(4, 12, seed=2)
    l1, l2 = weighted_l1_interpolator(Z, y).w, min_l2_interpolator(Z, y).w
    assert relative_distance(q_alpha_interpolator(Z, y, 1e-3).w, l1) < 0.1
    assert relative_distance(q_alpha_interpolator(Z, y, 30.0).w, l2) < 1e-3


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([0.25, 0.5, 0.75]))
def test_exact_enumeration_is_a_global_minimum(seed, p):
    """The enumerated optimum is never beaten by random feasible points (nor by any vertex)."""
    Z, y = _system(3, 8, seed=seed)
    exact = lp_interpolator_exact(Z, y, p)
    rng = np.random.default_rng(seed)
    null = np.linalg.svd(Z)[2][Z.shape[0]:]
    points = exact.w + rng.standard_normal((200, null.shape[0])) @ null
    assert exact.objective <= lp_objective(points, p).min() * (1 + 1e-12)


def test_reweighted_heuristic_reaches_the_exact_optimum_on_a_sparse_instance():
    rng = np.random.default_rng(3)
    Z = rng.standard_normal((6, 14))
    w_star = np.zeros(14)
    w_star[[2, 9]] = [1.5, -0.7]
    y = Z @ w_star
    exact = lp_interpolator_exact(Z, y, 0.5)
    heuristic = reweighted_l1_interpolator(Z, y, 0.5, seed=0)
    assert relative_distance(exact.w, w_star) < 1e-10
    assert heuristic.objective == pytest.approx(exact.objective, rel=1e-9)


def test_inconsistent_system_is_a_user_error():
    Z = np.array([[1.0, 1.0], [2.0, 2.0]])
    with pytest.raises(InconsistentSystemError, match="no solution"):
        weighted_l1_interpolator(Z, np.array([1.0, 3.0]))
