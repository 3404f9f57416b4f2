import numpy as np
import pytest

from numerics.mlp import Architecture, Objective
from numerics.regularized_fit import fit_to_stationarity, penalized
from theory.penalties import parse_penalties


def test_ridge_fit_is_the_closed_form():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = X @ np.array([1.0, 2.0, -1.0]) + 0.1 * rng.standard_normal(40)
    obj = Objective(Architecture((3, 1), bias=False).build(), X, y, "mse")
    fit = fit_to_stationarity(obj, parse_penalties(["l2"]), [0.3], np.zeros(3))
    closed = np.linalg.solve(X.T @ X / 40 + 2 * 0.3 * np.eye(3), X.T @ y / 40)
    np.testing.assert_allclose(fit.theta, closed, rtol=1e-8)
    assert fit.relative_stationarity < 1e-7


def test_penalized_objective_value_and_gradient():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((10, 2)), rng.standard_normal(10)
    obj = Objective(Architecture((2, 1), bias=False).build(), X, y, "mse")
    fun = penalized(obj, parse_penalties(["l2", "huber:0.1"]), [0.2, 0.5])
    theta = np.array([0.05, -0.7])
    value, grad = fun(theta)
    huber = 0.05**2 / 0.2 + (0.7 - 0.05)
    assert value == pytest.approx(obj.value(theta) + 0.2 * theta @ theta + 0.5 * huber)
    np.testing.assert_allclose(grad, obj.gradient(theta) + 0.4 * theta + 0.5 * np.array([0.5, -1.0]))
