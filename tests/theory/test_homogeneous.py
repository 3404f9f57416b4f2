"""Homogeneity degrees derived symbolically, checked against numeric evaluation of the model."""
from functools import lru_cache

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from theory.homogeneous import (NonHomogeneousModelError, activation_degree, homogeneous_model,
                                two_layer_network, DIM, WIDTH)

Z = sp.Symbol("z", real=True)


@pytest.mark.parametrize("activation, L, k", [("relu", 2, 1), ("squared_relu", 3, 2)])
def test_two_layer_degrees(activation, L, k):
    model = two_layer_network(activation)
    assert model.degree == L
    assert model.block_degrees == {"W": k, "u": 1}
    assert model.scaling_residual() == 0
    assert model.derivation().results["euler_factor"] == L


@pytest.mark.parametrize("expr, k", [(sp.Max(0, Z) ** 3, 3), (sp.Abs(Z), 1), (Z**2, 2)])
def test_activation_degree(expr, k):
    assert activation_degree(expr, Z) == k


@pytest.mark.parametrize("expr", [sp.tanh(Z), sp.exp(Z), Z + 1, sp.Max(0, Z) + Z**2])
def test_activation_not_homogeneous(expr):
    with pytest.raises(NonHomogeneousModelError):
        activation_degree(expr, Z)


def test_constant_bias_is_rejected_and_named():
    with pytest.raises(NonHomogeneousModelError, match=r"term 1 has degree 0"):
        two_layer_network("relu", bias=sp.Integer(1))


def test_tanh_activation_is_rejected_and_named():
    with pytest.raises(NonHomogeneousModelError, match="tanh"):
        two_layer_network(sp.Lambda(Z, sp.tanh(Z)))


def test_trainable_bias_keeps_homogeneity_but_output_bias_does_not():
    w, u, b, c, x = sp.symbols("w u b c x")
    model = homogeneous_model("relu with bias", u * sp.Max(0, w * x + b), {"W": (w, b), "u": (u,)})
    assert model.degree == 2
    with pytest.raises(NonHomogeneousModelError, match=r"term c has degree 1"):
        homogeneous_model("output bias", u * sp.Max(0, w * x) + c, {"p": (w, u, c)})


@lru_cache(maxsize=None)
def _instance(activation, m=2, d=3):
    model = two_layer_network(activation)
    expr = model.expr.subs({WIDTH: m, DIM: d}).doit()
    w, u, x = sp.IndexedBase("w"), sp.IndexedBase("u"), sp.IndexedBase("x")
    params = [w[j, k] for j in range(1, m + 1) for k in range(1, d + 1)] + [u[j] for j in range(1, m + 1)]
    inputs = [x[k] for k in range(1, d + 1)]
    return model, sp.lambdify(params + inputs, expr, "numpy"), params, len(params)


@settings(max_examples=10, deadline=None)
@given(alpha=st.floats(0.1, 10.0), seed=st.integers(0, 10_000))
def test_numeric_scaling_and_euler(alpha, seed):
    rng = np.random.default_rng(seed)
    for activation in ("relu", "squared_relu"):
        model, f, params, P = _instance(activation)
        theta, x = rng.standard_normal(P), rng.standard_normal(3)
        L = int(model.degree)
        value = f(*theta, *x)
        assert np.isclose(f(*(alpha * theta), *x), alpha**L * value, rtol=1e-10, atol=1e-12)
        h = 1e-6   # Euler: d/dα f(αθ) at α = 1 equals L f (central difference)
        deriv = (f(*((1 + h) * theta), *x) - f(*((1 - h) * theta), *x)) / (2 * h)
        assert np.isclose(deriv, L * value, rtol=1e-5, atol=1e-8)
