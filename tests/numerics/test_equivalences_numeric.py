import numpy as np
import pytest

from numerics.equivalences import (dropout_coefficient, dropout_ridge, early_stopping_penalty,
                                   enumerated_dropout_minimizer, generalized_ridge,
                                   gradient_descent_path)


def _data(seed=0, n=60, d=4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.linspace(0.5, 2, d)
    return X, X @ rng.standard_normal(d) + 0.3 * rng.standard_normal(n)


@pytest.mark.parametrize("eta", [0.01, 0.1])
def test_gradient_descent_is_the_generalized_ridge(eta):
    X, y = _data()
    path = gradient_descent_path(X, y, eta, [1, 7, 40])
    for t, theta in path.items():
        ridge = generalized_ridge(X, y, early_stopping_penalty(X, eta, t))
        assert np.linalg.norm(theta - ridge) <= 1e-12 * np.linalg.norm(theta)


def test_gradient_descent_path_is_gradient_descent():
    X, y = _data()
    theta = np.zeros(X.shape[1])
    for _ in range(5):
        theta = theta - 0.05 * X.T @ (X @ theta - y) / len(y)
    np.testing.assert_allclose(gradient_descent_path(X, y, 0.05, [5])[5], theta, rtol=1e-13)


def test_penalty_needs_small_steps():
    X, y = _data()
    s_max = np.linalg.eigvalsh(X.T @ X / len(y)).max()
    with pytest.raises(ValueError, match="ηs < 1"):
        early_stopping_penalty(X, 1.5 / s_max, 3)


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_dropout_ridge_equals_brute_force_expectation(rate):
    X, y = _data(1, d=5)
    assert dropout_coefficient(rate) == pytest.approx(rate / (1 - rate))
    w = dropout_ridge(X, y, rate)
    np.testing.assert_allclose(enumerated_dropout_minimizer(X, y, rate), w, rtol=1e-12)


def test_no_dropout_is_least_squares():
    X, y = _data(2)
    np.testing.assert_allclose(dropout_ridge(X, y, 0.0), np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-10)


def test_sgd_epochs_with_a_full_batch_is_gradient_descent():
    """One minibatch of all n examples per epoch: every chain is GD whatever the permutation."""
    import numpy as np

    from numerics.datasets import anisotropic_regression
    from numerics.equivalences import gradient_descent_path, sgd_epoch_iterates

    X, y = anisotropic_regression(40, 3, 2.0, seed=10_000)
    sgd = sgd_epoch_iterates(X, y, 0.05, batch=40, epochs=[1, 5, 20], chains=3, seed=1)
    gd = gradient_descent_path(X, y, 0.05, [1, 5, 20])
    for t in (1, 5, 20):
        assert np.allclose(sgd[t], gd[t][None, :], rtol=1e-12, atol=1e-14)


def test_sgd_epochs_needs_a_batch_dividing_n():
    import numpy as np
    import pytest

    from numerics.equivalences import sgd_epoch_iterates

    with pytest.raises(ValueError, match="does not divide"):
        sgd_epoch_iterates(np.ones((10, 2)), np.ones(10), 0.1, batch=3, epochs=[1], chains=1, seed=0)
