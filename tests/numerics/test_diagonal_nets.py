"""The fast diagonal-net trainer equals the project's optimizer transformations step for step, and its
closed-form gradients / Hessian diagonals equal torch autograd."""
import numpy as np
import pytest
import torch

from numerics.block_preconditioners import block_adam_preconditioner, shampoo_preconditioner
from numerics.diagonal_nets import (AdamFamily, DiagonalNetProblem, GD, Shampoo, balanced_init,
                                    torch_loss, train)
from numerics.interpolation import InconsistentSystemError
from numerics.optim import TransformOptimizer, adam, chain, gd, schedule
from theory.parameterizations import parse_parameterization, quadratic_difference


def _problem(param=None, n=3, d=4, seed=0):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, d))
    return DiagonalNetProblem(param or quadratic_difference(), Z, Z @ rng.standard_normal(d))


def _lockstep(problem, fast, transform, steps=6, eta=0.05, delta=0.5, seed=1):
    """Run the fast update and TransformOptimizer(transform) on the same noise; max abs difference."""
    rng = np.random.default_rng(seed)
    P = 0.3 + 0.2 * rng.random((1, problem.param.m, problem.d))
    params = [torch.tensor(P[0, k].copy(), requires_grad=True) for k in range(problem.param.m)]
    opt = TransformOptimizer(params, transform)
    loss = torch_loss(problem)
    state = fast.init(P.shape)
    worst = 0.0
    for step in range(1, steps + 1):
        noise = delta * rng.choice([-1.0, 1.0], size=problem.n)
        D, state = fast.direction(problem.gradient(P, noise[None]), state, step)
        P = P - eta * D
        opt.zero_grad()
        loss(params, noise).backward()
        opt.step()
        ref = np.stack([p.detach().numpy() for p in params])
        worst = max(worst, float(np.max(np.abs(P[0] - ref))))
    return worst


def test_fast_gd_equals_optim_gd():
    assert _lockstep(_problem(), GD(), gd(lambda t: 0.05)) < 1e-14


@pytest.mark.parametrize("e", [0.0, 0.25, 0.5])
def test_fast_adam_family_equals_optim_adam(e):
    fast = AdamFamily(beta1=0.9, beta2=0.95, eps=1e-6, exponent=e)
    ref = adam(lambda t: 0.05, 0.9, 0.95, eps=1e-6, bias_correction=False, exponent=e)
    assert _lockstep(_problem(), fast, ref) < 1e-12


def test_fast_rmsprop_is_adam_without_momentum():
    fast = AdamFamily(beta1=0.0, beta2=0.9, eps=1e-8, exponent=0.5)
    ref = adam(lambda t: 0.05, 0.0, 0.9, eps=1e-8, bias_correction=False, exponent=0.5)
    assert _lockstep(_problem(), fast, ref) < 1e-12


@pytest.mark.parametrize("block", [0, 2])
def test_fast_block_adam_equals_transformation(block):
    fast = AdamFamily(beta1=0.9, beta2=0.95, eps=1e-6, exponent=0.5, block=block)
    ref = chain(block_adam_preconditioner(block, 0.9, 0.95, 1e-6, 0.5), schedule(lambda t: 0.05))
    assert _lockstep(_problem(), fast, ref) < 1e-12


def test_fast_shampoo_equals_transformation():
    # ε well above round-off: L starts at rank one, and (L^{1/2} + εI)⁻¹ amplifies rounding in its
    # null space by 1/ε, so two correct implementations agree only to ~1e-16/ε.
    fast = Shampoo(beta1=0.9, beta2=0.95, eps=1e-2)
    ref = chain(shampoo_preconditioner(0.9, 0.95, 1e-2), schedule(lambda t: 0.05))
    assert _lockstep(_problem(), fast, ref) < 1e-12


@pytest.mark.parametrize("text", ["u**2 - v**2", "u*v", "u**3 - v**3", "a*exp(b) - b**2"])
def test_gradient_and_exact_hessian_diagonal_match_autograd(text):
    problem = _problem(parse_parameterization(text))
    rng = np.random.default_rng(3)
    P = 0.5 + rng.random((problem.param.m, problem.d))
    loss = torch_loss(problem)
    flat = torch.tensor(P.ravel(), requires_grad=True)

    def f(x):
        return loss(list(x.reshape(problem.param.m, problem.d)))

    grad = torch.autograd.functional.jacobian(f, flat).numpy()
    hess = torch.autograd.functional.hessian(f, flat).numpy()
    np.testing.assert_allclose(problem.gradient(P).ravel(), grad, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(problem.hessian_diagonal(P).ravel(), np.diag(hess), rtol=1e-11,
                               atol=1e-12)


def test_gauss_newton_diagonal_is_exact_at_interpolation():
    rng = np.random.default_rng(4)
    Z = rng.standard_normal((2, 4))
    problem = DiagonalNetProblem(quadratic_difference(), Z, Z @ np.array([1.0, 0.0, -1.0, 0.5]))
    P = np.array([[1.0, 0.1, 0.2, np.sqrt(0.5)], [0.0, 0.1, np.sqrt(1.04), 0.0]])
    assert np.max(np.abs(problem.residual(P))) < 1e-12
    np.testing.assert_allclose(problem.hessian_diagonal(P), problem.gauss_newton_diagonal(P))


def test_divergence_reports_the_step():
    problem = _problem()
    run = train(problem, balanced_init(problem, 3.0), GD(), eta=10.0, steps=2000)
    assert run.status == "error" and "step" in run.message


def test_inconsistent_data_is_rejected():
    with pytest.raises(InconsistentSystemError):
        DiagonalNetProblem(quadratic_difference(), np.ones((2, 3)), np.array([1.0, 2.0]))
