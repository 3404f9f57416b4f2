"""The projection onto Γ at the end of a label-noise run (numerics.label_noise_runs)."""
import numpy as np

from numerics.diagonal_nets import GD, DiagonalNetProblem
from numerics.instance_stack import instance_residuals, stack_instances
from numerics.label_noise_runs import run_to_interpolator
from theory.parameterizations import quadratic_difference

S, N, D, TARGET = 3, 2, 4, 1e-3


def _stack(scales):
    """S instances with w* = (1, −0.5, 0, 0); instance s's features scaled by scales[s] (its curvature
    by scales[s]²)."""
    rng = np.random.default_rng(0)
    w_star = np.array([1.0, -0.5, 0.0, 0.0])
    out = []
    for c in scales:
        Z = c * rng.standard_normal((N, D))
        out.append((Z, Z @ w_star))
    return stack_instances(quadratic_difference(), out)


def _project(problem, instances, target):
    """A short noisy phase (barely moving) then the projection; per-instance residuals (R, S)."""
    res = run_to_interpolator(problem, GD(), 0.5, 1e-3, 5, 0.1, 0.0, replicas=2, seed=0,
                              projection_steps=300, projection_eta=0.05 * S, projection_chunks=4,
                              projection_residual=target, instances=instances)
    assert res.status == "ok", res.message
    P_w = res.W
    Zb = [problem.Z[s * N:(s + 1) * N, s * D:(s + 1) * D] for s in range(S)]
    yb = [problem.y[s * N:(s + 1) * N] for s in range(S)]
    per = np.array([[np.linalg.norm(Zb[s] @ w[s * D:(s + 1) * D] - yb[s]) / np.linalg.norm(yb[s])
                     for s in range(S)] for w in P_w])
    return res, per


def test_badly_scaled_instance_reaches_the_per_instance_residual():
    problem = _stack([10.0, 10.0, 1.0])         # instance 2: curvature 100× below the others'
    # the old rule: the stack as one problem, one step (the largest curvature's), stop on the
    # stack's overall residual ≤ target/√S -- leaves the badly-scaled instance above the target
    old, old_per = _project(problem, 1, TARGET / np.sqrt(S))
    assert np.max(old_per[:, 2]) > TARGET
    # the rule: stop on every instance's residual, the slow instance continues alone at its own step
    new, new_per = _project(problem, S, TARGET)
    assert np.max(new_per) <= TARGET
    assert np.isclose(new.residual, np.max(new_per))            # the reported residual is per instance


def test_instance_residuals_of_one_instance_is_the_relative_residual():
    problem = _stack([1.0, 2.0, 0.5])
    P = np.full((2, 2, S * D), 0.7)
    per = instance_residuals(problem, P, S)
    assert per.shape == (2, S)
    alone = DiagonalNetProblem(problem.param, problem.Z[N:2 * N, D:2 * D], problem.y[N:2 * N])
    expected = np.linalg.norm(alone.residual(P[..., D:2 * D]), axis=-1) / np.linalg.norm(alone.y)
    np.testing.assert_allclose(per[:, 1], expected)
    np.testing.assert_allclose(instance_residuals(problem, P, 1)[:, 0],
                               np.linalg.norm(problem.residual(P), axis=-1) / np.linalg.norm(problem.y))


# -- the late instances projected together: each bit for bit its own run ---------------------------
def _instances(scales, seed=1):
    from numerics.instance_stack import instance_problem

    problem = _stack(scales)
    rng = np.random.default_rng(seed)
    starts = [0.5 + 0.3 * rng.random((2, 2, D)) for _ in range(S)]
    return [instance_problem(problem, s, S) for s in range(S)], starts


def test_instances_projected_together_equal_their_separate_runs_bitwise():
    from numerics.diagonal_nets import train
    from numerics.label_noise_runs import gd_instances

    subs, starts = _instances([10.0, 3.0, 1.0])
    etas = [2e-3, 1e-2, 0.05]                       # each its own step
    finals, _, broken = gd_instances(subs, starts, etas, 700)
    assert broken is None
    for sub, start, eta, got in zip(subs, starts, etas, finals):
        alone = train(sub, start, GD(), eta, 700).final
        assert np.array_equal(got, alone)             # not close: equal
    # a sabotaged batch (one shared step for all) is not the separate runs: the comparison can miss
    shared, _, _ = gd_instances(subs, starts, [etas[0]] * S, 700)
    assert not np.array_equal(shared[2], train(subs[2], starts[2], GD(), etas[2], 700).final)


def test_a_diverging_instance_is_named_with_its_step():
    from numerics.label_noise_runs import gd_instances

    subs, starts = _instances([1.0, 1.0, 1.0])
    _, _, broken = gd_instances(subs, starts, [1e-3, 1e3, 1e-3], 600)
    assert broken is not None and broken[0] == 1 and broken[1] in (256, 512, 600)
