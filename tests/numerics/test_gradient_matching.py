import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from numerics.gradient_matching import (COLLINEAR_CONDITION, diagonal_ridge, estimate,
                                        evaluate_dictionary, match, newton_distance, scalar_ridge)
from numerics.mlp import Architecture, Objective
from theory.penalties import parse_penalties


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 5))
def test_exact_combination_is_recovered(seed, k):
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((40, k)) * rng.uniform(0.1, 10, k)
    lam = rng.uniform(0.01, 3, k)
    fit = match(G, -G @ lam, [f"r{i}" for i in range(k)])
    np.testing.assert_allclose(fit.coefficients, lam, rtol=1e-9)
    assert fit.residual_ratio < 1e-10
    assert fit.cosine == pytest.approx(1.0)
    assert fit.identifiable


def test_nonnegativity_clips_and_reports():
    G = np.eye(3)
    g = -np.array([1.0, -2.0, 0.5])             # the unconstrained fit has λ₂ = −2
    fit = match(G, g, ["a", "b", "c"])
    np.testing.assert_allclose(fit.coefficients, [1.0, 0.0, 0.5])
    assert fit.at_bound == ["b"]
    signed = match(G, g, ["a", "b", "c"], nonnegative=False)
    np.testing.assert_allclose(signed.coefficients, [1.0, -2.0, 0.5])
    assert signed.residual_ratio < 1e-15 < fit.residual_ratio


def test_collinear_and_zero_columns_are_flagged():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(30), rng.standard_normal(30)
    G = np.stack([a, b, 3 * a + 1e-12 * rng.standard_normal(30), np.zeros(30)], axis=1)
    fit = match(G, -a, ["a", "b", "3a", "zero"], nonnegative=False)
    assert fit.condition_number > COLLINEAR_CONDITION
    assert set(fit.collinear) == {"a", "3a"} and fit.zero == ["zero"]
    assert not fit.identifiable
    assert fit.residual_ratio < 1e-8          # the fit itself is fine; the split between a and 3a is not


def test_zero_loss_gradient():
    fit = match(np.ones((4, 1)), np.zeros(4), ["l2"])
    assert fit.coefficients[0] == 0.0 and np.isnan(fit.residual_ratio)


def _linear_problem(seed=0, n=50, d=4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.arange(1, d + 1)
    y = X @ rng.standard_normal(d) + rng.standard_normal(n)
    return X, y


def test_closed_forms_agree_with_least_squares_and_theory():
    X, y = _linear_problem()
    theta = np.linalg.solve(X.T @ X / len(y) + 0.2 * np.eye(4), X.T @ y / len(y))
    grad = X.T @ (X @ theta - y) / len(y)
    assert scalar_ridge(theta, grad) == pytest.approx(0.1)            # ½·0.2 in the λ‖θ‖² convention
    one = match((2 * theta)[:, None], grad, ["l2"], nonnegative=False)
    assert scalar_ridge(theta, grad) == pytest.approx(one.coefficients[0], rel=1e-12)
    # docs/theory/gradient-matching.md: Λ̂ = diag(Xᵀ(y − Xθ̂) ⊘ θ̂) for ½θᵀΛθ with ½‖y − Xθ‖²; here λ_i = Λ_ii/(2n)
    expected = (X.T @ (y - X @ theta)) / theta / (2 * len(y))
    np.testing.assert_allclose(diagonal_ridge(theta, grad), expected, rtol=1e-12)
    assert np.isnan(diagonal_ridge(np.array([0.0, 1.0]), np.array([1.0, 1.0]))[0])


def test_retraining_with_the_diagonal_estimate_returns_theta():
    # docs/theory/gradient-matching.md: retraining with Λ̂ returns θ̂ when XᵀX + Λ̂ ≻ 0 (here: an early-stopped GD iterate)
    X, y = _linear_problem(1)
    n = len(y)
    theta = np.zeros(4)
    for _ in range(15):
        theta -= 0.02 * X.T @ (X @ theta - y) / n
    lam = diagonal_ridge(theta, X.T @ (X @ theta - y) / n)
    A = X.T @ X / n + 2 * np.diag(lam)
    assert np.linalg.eigvalsh(A).min() > 0
    np.testing.assert_allclose(np.linalg.solve(A, X.T @ y / n), theta, rtol=1e-10)


def _tiny_mlp(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((20, 3))
    y = rng.standard_normal(20)
    torch.manual_seed(seed)
    arch = Architecture((3, 4, 1), "tanh")
    return Objective(arch.build(), X, y, "mse")


def test_dictionary_columns():
    obj = _tiny_mlp()
    theta = obj.flat()
    dic = evaluate_dictionary(parse_penalties(["l2", "layer_l2", "nuclear", "gradnorm"]), obj, theta)
    assert dic.names[0] == "l2" and dic.names[1:5] == [f"layer_l2[{n}]" for n in obj.names]
    np.testing.assert_allclose(dic.columns[:, 1:5].sum(axis=1), dic.columns[:, 0])
    np.testing.assert_allclose(dic.values[1:5].sum(), dic.values[0])
    # the gradient-norm column is 2 H ∇L (theory.penalties.gradient_norm_derivation)
    t = torch.tensor(theta)
    H = torch.autograd.functional.hessian(lambda v: obj._loss(obj._params(v)), t).numpy()
    np.testing.assert_allclose(dic.columns[:, -1], 2 * H @ obj.gradient(theta), rtol=1e-9, atol=1e-12)
    biases = [i for i, s in enumerate(obj.shapes) if len(s) == 1]
    for blk, col in zip(obj.blocks(dic.columns[:, 5]), range(len(obj.shapes))):
        if col in biases:
            assert not blk.any()                  # spectral penalties skip vectors


def test_dropout_weights_sit_on_the_input_layer():
    obj = _tiny_mlp()
    w = obj.blocks(obj.input_second_moment())
    np.testing.assert_allclose(w[0][0], (obj.X.numpy() ** 2).sum(0) / (2 * 20))
    assert all(not b.any() for b in w[1:])


def test_newton_distance_on_a_quadratic():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((5, 5))
    H = A @ A.T + np.eye(5)
    x_star = rng.standard_normal(5)
    theta = x_star + 0.01 * rng.standard_normal(5)
    st = newton_distance(lambda x: H @ (x - x_star), theta, iterations=5)
    assert st.distance == pytest.approx(np.linalg.norm(theta - x_star) / np.linalg.norm(theta), rel=1e-6)
    assert st.curvature == "positive"
    concave = newton_distance(lambda x: -(x - x_star), theta, iterations=3)
    assert concave.curvature == "negative"


def test_estimate_recovers_ridge_and_flags_non_stationary_points():
    X, y = _linear_problem()
    model = Architecture((4, 1), bias=False).build()
    obj = Objective(model, X, y, "mse")
    theta = np.linalg.solve(X.T @ X / len(y) + 0.2 * np.eye(4), X.T @ y / len(y))
    est = estimate(obj, parse_penalties(["l2", "huber:0.1"]), theta)
    assert est.fit.coefficients[0] == pytest.approx(0.1, rel=1e-9)
    assert est.reliable and est.stationarity.distance < 1e-8
    bad = estimate(obj, parse_penalties(["l2"]), theta + np.array([1.0, 0, 0, 0]))
    assert not bad.reliable and "residual ratio" in bad.warnings[0]
    assert bad.stationarity.distance > 0.05
