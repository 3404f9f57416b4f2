import math

import pytest
import torch

from numerics.homogeneous_optim import muon_shape_factor, relative_step, scale_by_block
from numerics.optim import Scaled, TransformOptimizer, adam_preconditioner


def test_scale_by_block():
    g = (torch.ones(2, 2, dtype=torch.float64), torch.ones(3, dtype=torch.float64))
    out, _ = scale_by_block((2.0, 0.5)).update(Scaled(g, -1.0), None, 1)
    assert torch.allclose(out.mantissa[0], 2 * g[0]) and torch.allclose(out.mantissa[1], 0.5 * g[1])
    assert out.log_scale == -1.0
    with pytest.raises(ValueError):
        scale_by_block((1.0, 0.0))


def test_relative_step_moves_theta_by_delta_of_its_norm():
    p = [torch.tensor([3.0, 4.0], dtype=torch.float64), torch.tensor([[0.0]], dtype=torch.float64)]
    opt = TransformOptimizer(p, relative_step(0.01))
    before = [q.clone() for q in p]
    p[0].grad, p[1].grad = torch.tensor([1.0, -2.0], dtype=torch.float64), torch.tensor([[2.0]], dtype=torch.float64)
    opt.step(log_scale=-800.0)                       # the loss scale is irrelevant: α_t/L
    move = math.sqrt(sum(float(((a - b) ** 2).sum()) for a, b in zip(p, before)))
    assert math.isclose(move, 0.01 * 5.0, rel_tol=1e-12)



@pytest.mark.parametrize("log_loss, expected", [(-10.0, 0.01), (-800.0, 0.5 / 800.0)])
def test_loss_capped_relative_step_is_min_of_delta_and_cap_over_log_loss(log_loss, expected):
    p = [torch.tensor([3.0, 4.0], dtype=torch.float64)]
    opt = TransformOptimizer(p, relative_step(0.01, loss_cap=0.5))
    p[0].grad = torch.tensor([1.0, -2.0], dtype=torch.float64)
    opt.step(log_scale=log_loss)
    move = float(torch.linalg.norm(p[0] - torch.tensor([3.0, 4.0], dtype=torch.float64)))
    assert math.isclose(move, expected * 5.0, rel_tol=1e-12)
    with pytest.raises(ValueError):
        relative_step(0.01, loss_cap=0.0)

def test_shape_factors():
    assert muon_shape_factor((8, 2)) == 2.0 and muon_shape_factor((2, 8)) == 1.0
    assert muon_shape_factor((2, 8), "ratio") == 0.5
    with pytest.raises(ValueError):
        muon_shape_factor((2, 2), "other")


def test_adam_without_eps_is_sign_under_a_stationary_gradient():
    """The numeric Adam preconditioner (ε = 0) gives the derived direction sign(g) (theory.optimizer_geometry)."""
    g = torch.tensor([0.3, -2.0, 1e-3], dtype=torch.float64)
    transform = adam_preconditioner(0.9, 0.99, eps=0.0)
    state = transform.init([g])
    for t in range(1, 20):
        out, state = transform.update(Scaled((g,), -3.0), state, t)
    direction = out.value()[0]
    assert torch.allclose(direction / direction.abs().max(), torch.sign(g))
