import numpy as np
import pytest
import torch

from numerics.dropout import (PopulationMLP, dropout_sgd_linear, inverted_dropout_mask,
                              train_dropout_mlps)
from numerics.equivalences import dropout_coefficient
from numerics.mlp import Architecture, Objective


def test_inverted_dropout_moments():
    gen = torch.Generator().manual_seed(0)
    keep = torch.tensor(0.7, dtype=torch.float64)
    mask = inverted_dropout_mask((500_000,), keep, gen)
    assert set(torch.unique(mask).tolist()) == {0.0, 1 / 0.7}
    assert float(mask.mean()) == pytest.approx(1.0, abs=5e-3)
    assert float(mask.var()) == pytest.approx(dropout_coefficient(0.3), rel=2e-2)


def test_population_members_are_ordinary_networks():
    arch = Architecture((3, 5, 2), "tanh")
    net = PopulationMLP(arch, members=3, seed=0)
    X = torch.randn(7, 3, dtype=torch.float64)
    out = net.forward(X)
    for m in range(3):
        obj = Objective(arch.build(), X, np.zeros((7, 2)), "mse")
        theta = net.member_parameters(net.parameters(), m)
        with torch.no_grad():
            for p, b in zip(obj.model.parameters(), obj.blocks(theta)):
                p.copy_(torch.as_tensor(b))
            np.testing.assert_allclose(obj.model(X).numpy(), out[m].detach().numpy(), rtol=1e-12)


def test_training_is_seeded_and_rate_zero_is_deterministic_gd():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((16, 3)), rng.standard_normal(16)
    arch = Architecture((3, 4, 1), "relu")
    a = train_dropout_mlps(arch, X, y, [0.0, 0.5], steps=20, lr=0.05, seed=3)
    b = train_dropout_mlps(arch, X, y, [0.0, 0.5], steps=20, lr=0.05, seed=3)
    np.testing.assert_array_equal(a[1], b[1])
    c = train_dropout_mlps(arch, X, y, [0.0, 0.1], steps=20, lr=0.05, seed=3)
    np.testing.assert_array_equal(a[0], c[0])        # rate 0 draws masks of ones: same trajectory


def test_dropout_sgd_linear_without_dropout_finds_least_squares():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3))
    y = X @ np.array([1.0, -1.0, 0.5])                     # noiseless: SGD converges exactly
    run = dropout_sgd_linear(X, y, rate=0.0, eta=0.1, steps=2000, chains=4, seed=0)
    np.testing.assert_allclose(run.final, np.tile([1.0, -1.0, 0.5], (4, 1)), atol=1e-8)
