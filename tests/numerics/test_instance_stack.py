"""Training a block-diagonal stack of instances equals training each instance (same label noise)."""
import numpy as np
import pytest

from numerics.diagonal_nets import GD, AdamFamily, DiagonalNetProblem, Shampoo
from numerics.instance_stack import blocks, instance_problem, stack_instances, stacked_optimizer
from theory.parameterizations import quadratic_difference


def _instances(S=3, n=3, d=5, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(S):
        Z = rng.standard_normal((n, d))
        out.append((Z, Z @ rng.standard_normal(d)))
    return out


def _run(problem, optimizer, eta, P, noises):
    state = optimizer.init(P.shape)
    for step, noise in enumerate(noises, start=1):
        D, state = optimizer.direction(problem.gradient(P, noise), state, step)
        P = P - eta * D
    return problem.w(P)


@pytest.mark.parametrize("optimizer", [GD(), AdamFamily(0.9, 0.95, 1e-3, 0.5),
                                       AdamFamily(0.5, 0.9, 1e-3, 0.25)])
def test_stack_equals_separate_runs(optimizer):
    S, n, d, steps, eta = 3, 3, 5, 20, 0.02
    instances = _instances(S, n, d)
    rng = np.random.default_rng(1)
    P0 = 0.3 + 0.4 * rng.random((2, S * d))                     # (m = 2, S·d)
    noises = rng.choice([-0.5, 0.5], size=(steps, S * n))
    stacked_opt, stacked_eta = stacked_optimizer(optimizer, eta, S)
    W = blocks(_run(stack_instances(quadratic_difference(), instances), stacked_opt, stacked_eta,
                    P0[None], noises[:, None, :])[0], S)
    for s, (Z, y) in enumerate(instances):
        problem = DiagonalNetProblem(quadratic_difference(), Z, y)
        w = _run(problem, optimizer, eta, blocks(P0, S)[:, s][None],
                 noises[:, None, s * n:(s + 1) * n])[0]
        np.testing.assert_allclose(W[s], w, rtol=1e-10, atol=1e-12)


def test_unstacked_step_differs():
    """The rescaling matters: GD on the stack with the unscaled η is not the per-instance run."""
    instances = _instances()
    P0 = np.full((1, 2, 15), 0.5)
    noises = np.zeros((10, 1, 9))
    stack = stack_instances(quadratic_difference(), instances)
    a = _run(stack, GD(), 0.02, P0, noises)
    b = _run(stack, *stacked_optimizer(GD(), 0.02, 3), P0, noises)
    assert np.max(np.abs(a - b)) > 1e-3


def test_bad_input():
    with pytest.raises(ValueError, match="share the shape"):
        stack_instances(quadratic_difference(), [(np.ones((2, 3)), np.ones(2)),
                                                 (np.ones((3, 3)), np.ones(3))])
    with pytest.raises(ValueError, match="no exact stacking rule"):
        stacked_optimizer(Shampoo(), 0.1, 2)


def test_instance_problem_is_the_instance():
    instances = _instances(3, 3, 5)
    stack = stack_instances(quadratic_difference(), instances)
    for s, (Z, y) in enumerate(instances):
        alone = instance_problem(stack, s, 3)
        np.testing.assert_array_equal(alone.Z, Z)
        np.testing.assert_array_equal(alone.y, y)
