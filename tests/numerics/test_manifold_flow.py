"""The slow flow: exact semi-gradient, tangency to Γ, preconditioner maps."""
import numpy as np
import pytest

from numerics.diagonal_nets import DiagonalNetProblem
from numerics.manifold_flow import Preconditioner, drift, semi_gradient
from numerics.sparse_regression import manifold_point
from theory.parameterizations import parse_parameterization, quadratic_difference


def _trace_SH(problem, theta, S):
    J = problem.jacobian(theta)
    return float(np.trace(S @ (J.T @ J) / problem.n))


@pytest.mark.parametrize("text", ["u**2 - v**2", "u*v + u**2", "a**3 - b*a"])
def test_semi_gradient_matches_finite_differences(text):
    param = parse_parameterization(text)
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((2, 3))
    problem = DiagonalNetProblem(param, Z, Z @ rng.standard_normal(3))
    theta = 0.5 + rng.random((param.m, 3))
    A = rng.standard_normal((param.m * 3, param.m * 3))
    S = A @ A.T
    g = semi_gradient(problem, theta, S)
    h = 1e-6
    fd = np.array([(_trace_SH(problem, theta + h * e.reshape(theta.shape), S)
                    - _trace_SH(problem, theta - h * e.reshape(theta.shape), S)) / (2 * h)
                   for e in np.eye(theta.size)])
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("pre", [Preconditioner("sgd"), Preconditioner("adam", 0.5),
                                 Preconditioner("block", 0.5, block=2)])
def test_drift_is_tangent_to_the_manifold(pre):
    Z, y, theta0 = manifold_point(2, 4, seed=1)
    problem = DiagonalNetProblem(quadratic_difference(), Z, y)
    v = drift(problem, theta0.ravel(), pre, sigma2=0.5, kappa=-0.25)
    assert np.max(np.abs(problem.jacobian(theta0) @ v)) < 1e-10 * np.linalg.norm(v)
    assert np.linalg.norm(v) > 0


def test_sgd_drift_decreases_the_trace():
    Z, y, theta0 = manifold_point(2, 4, seed=2)
    problem = DiagonalNetProblem(quadratic_difference(), Z, y)
    v = drift(problem, theta0.ravel(), Preconditioner("sgd"), sigma2=0.5, kappa=-0.25)
    grad_trace = semi_gradient(problem, theta0, np.eye(theta0.size))
    assert grad_trace @ v < 0
