"""Closed-form gradients and Jacobians of the two-layer networks, against autograd and the symbolic model."""
import numpy as np
import pytest
import sympy as sp
import torch

from numerics.losses import log_loss
from numerics.networks import TwoLayerNetwork
from theory.homogeneous import DIM, WIDTH, NonHomogeneousModelError, homogeneous_model, two_layer_network


@pytest.mark.parametrize("activation, power, degree", [("relu", 1, 2), ("squared_relu", 2, 3)])
def test_build_from_symbolic_model(activation, power, degree):
    net = TwoLayerNetwork.build(activation, 3, 4)
    assert (net.power, net.degree) == (power, degree)


def test_from_model_rejects_other_structures():
    w, u, x = sp.symbols("w u x")
    model = homogeneous_model("cubic in u", u**3 * sp.Max(0, w * x), {"W": (w,), "u": (u,)})
    with pytest.raises(NonHomogeneousModelError):
        TwoLayerNetwork.from_model(model, 1, 1)


@pytest.mark.parametrize("activation", ["relu", "squared_relu"])
def test_forward_matches_the_symbolic_model(activation):
    m, d = 2, 3
    net = TwoLayerNetwork.build(activation, m, d)
    expr = two_layer_network(activation).expr.subs({WIDTH: m, DIM: d}).doit()
    w, u, x = sp.IndexedBase("w"), sp.IndexedBase("u"), sp.IndexedBase("x")
    syms = [w[j, k] for j in range(1, m + 1) for k in range(1, d + 1)] + [u[j] for j in range(1, m + 1)] \
        + [x[k] for k in range(1, d + 1)]
    f = sp.lambdify(syms, expr, "numpy")
    rng = np.random.default_rng(1)
    params = net.init(3, scale=1.0)
    for _ in range(5):
        xv = rng.standard_normal(d)
        assert np.isclose(net.forward(params, xv[None, :])[0], f(*net.flatten(params), *xv))


@pytest.mark.parametrize("activation", ["relu", "squared_relu"])
def test_log_loss_gradients_match_autograd(activation):
    net = TwoLayerNetwork.build(activation, 5, 4)
    rng = np.random.default_rng(0)
    X = torch.tensor(rng.standard_normal((7, 4)))
    y = torch.tensor(np.sign(rng.standard_normal(7)))
    W = torch.tensor(rng.standard_normal((2, 5, 4)) * 3, requires_grad=True)   # large: loss ≈ 0
    u = torch.tensor(rng.standard_normal((2, 1, 5)) * 3, requires_grad=True)
    log_l, q_min, gW, gu = net.log_loss_gradients(W.detach(), u.detach(), X, y)
    q = y * torch.matmul(torch.relu(torch.matmul(X, W.transpose(1, 2))) ** net.power, u.transpose(1, 2))[..., 0]
    ref = log_loss(q.unsqueeze(-1))
    ref.sum().backward()
    assert torch.allclose(log_l, ref.detach())
    assert torch.allclose(q_min, q.detach().min(dim=1).values)
    assert torch.allclose(gW, W.grad) and torch.allclose(gu, u.grad)


def test_margin_jacobian_and_kinks():
    net = TwoLayerNetwork.build("squared_relu", 3, 2)
    rng = np.random.default_rng(2)
    params, X, y = net.init(0, 1.0), rng.standard_normal((4, 2)), np.array([1.0, -1.0, 1.0, -1.0])
    J, (rows, cols, gap) = net.margin_jacobian(params, X, y, kink_tolerance=0.5)
    assert rows.size == 0 and gap == 0.0                # squared ReLU is C¹: no kinks
    theta, h = net.flatten(params), 1e-6
    for k in range(theta.size):
        e = np.zeros_like(theta)
        e[k] = h
        fd = (net.margins(net.unflatten(theta + e), X, y) - net.margins(net.unflatten(theta - e), X, y)) / (2 * h)
        assert np.allclose(J[:, k], fd, atol=1e-6)
    relu = TwoLayerNetwork.build("relu", 2, 2)
    W, u = np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[1.0, -1.0]])
    Xk = np.array([[1e-4, 1.0], [1.0, 1.0]])            # sample 0 is (relatively) on neuron 0's kink
    J, (rows, cols, gap) = relu.margin_jacobian((W, u), Xk, np.array([1.0, 1.0]), kink_tolerance=1e-3)
    assert rows.tolist() == [0] and np.isclose(gap, 1e-4 / np.linalg.norm(Xk[0]))
    assert np.allclose(J[0, :2], 0.0) and np.allclose(cols[0, :2], Xk[0])
