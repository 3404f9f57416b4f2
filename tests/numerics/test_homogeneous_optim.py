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


# -- NetworkStack: a population of (W, u) members stepped together ------------------------------
import numpy as np  # noqa: E402
from hypothesis import given, settings, strategies as st  # noqa: E402

from numerics.homogeneous_optim import NetworkStack, step_network_stack  # noqa: E402
from numerics.optim import PowerSchedule, adam, chain, momentum, nmd, nsd, partition, schedule, steepest  # noqa: E402
from theory.norms import BlockMax, parse_norm  # noqa: E402

_FLAT = {n: parse_norm(n, "binary") for n in ("l2", "lp:3", "linf", "l1")}
_SP, _NUC, _LINF = parse_norm("spectral"), parse_norm("nuclear"), parse_norm("linf")
_BLOCKS = {"spectral-max": BlockMax((_SP, _SP), (1.0, 1.0)), "nuclear-max": BlockMax((_NUC, _NUC), (1.0, 1.0)),
           "spectral-linf": BlockMax((_SP, _LINF), (0.25, 1.0)), "schatten3-max": BlockMax(
               (parse_norm("schatten:3"), parse_norm("schatten:3")), (2.0, 0.5))}
NET_NORMS = list(_FLAT) + list(_BLOCKS)


def _net_member(kind, norm_text, eta0, decay):
    eta = PowerSchedule(eta0, decay)
    norm = _FLAT.get(norm_text) or _BLOCKS[norm_text]
    if kind == "nsd":
        return nsd(norm, eta)
    if kind == "shape":                              # shape-factor Muon: momentum, LMO, factors, η
        return chain(momentum(0.2), steepest(norm), scale_by_block((0.35, 1.7)), schedule(eta))
    return nmd(norm, eta, {"nmd": 0.2, "nmd0": 0.0}[kind])


def _run_net_both(specs, steps, active, seed, shapes=((4, 3), (1, 4)), perturb=None):
    """The same members stepped as TransformOptimizers one by one and as one NetworkStack, members
    joining/leaving per ``active(i, t)``; returns both parameter sets."""
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s) for s in shapes]
    single = [[torch.tensor(a) for a in init] for _ in specs]
    stacked = [[torch.tensor(a) for a in init] for _ in specs]
    ones = [TransformOptimizer(p, _net_member(*s)) for p, s in zip(single, specs)]
    stack = NetworkStack({i: TransformOptimizer(p, _net_member(*(perturb or {}).get(i, s)))
                          for i, (p, s) in enumerate(zip(stacked, specs))})
    for t in range(1, steps + 1):
        names = [i for i in range(len(specs)) if active(i, t)]
        scales = np.exp(rng.uniform(-5, 5, len(names)))
        grads = [rng.standard_normal((len(names), *s)) * scales.reshape((-1,) + (1,) * len(s)) for s in shapes]
        log_l = rng.uniform(-700, 0, len(names)).tolist()
        for j, i in enumerate(names):
            ones[i].apply(tuple(torch.from_numpy(g[j].copy()) for g in grads), log_l[j])
        assert stack.step(names, grads, log_l) == {}
    return single, stacked


@settings(max_examples=12, deadline=None)
@given(specs=st.lists(st.tuples(st.sampled_from(["nsd", "nmd", "nmd0", "shape"]), st.sampled_from(NET_NORMS),
                                st.floats(1e-3, 1.0), st.sampled_from([0.0, 0.5, 0.7])),
                      min_size=1, max_size=6),
       seed=st.integers(0, 10_000), shapes=st.sampled_from([((4, 3), (1, 4)), ((3, 5), (1, 3))]))
def test_network_stack_equals_the_members_stepped_one_by_one(specs, seed, shapes):
    """Random members (NSD, NMD with β₁ = 0.2 or 0, shape-factor Muon; entrywise norms of θ and block
    maxima of Schatten/entrywise blocks, any schedule), each joining at its own step and leaving at
    another: the stacked iterates equal the single ones to the last bit."""
    rng = np.random.default_rng(seed)
    start, stop = rng.integers(1, 5, len(specs)), rng.integers(6, 12, len(specs))
    single, stacked = _run_net_both(specs, 12, lambda i, t: start[i] <= t <= stop[i], seed, shapes)
    for a, b in zip(single, stacked):
        assert all(torch.equal(x, z) for x, z in zip(a, b))


def test_network_stack_comparison_detects_a_different_member():
    """The comparison above can fail: a stacked Muon with β₁ = 0 where the single one has 0.2, or a
    schedule 1% larger, ends elsewhere while the other member stays equal."""
    specs = [("nmd", "spectral-max", 0.1, 0.7), ("nsd", "linf", 0.1, 0.7)]
    for wrong in [("nmd0", "spectral-max", 0.1, 0.7), ("nmd", "spectral-max", 0.101, 0.7)]:
        single, stacked = _run_net_both(specs, 10, lambda i, t: True, 0, perturb={0: wrong})
        assert not torch.equal(single[0][0], stacked[0][0])
        assert all(torch.equal(x, z) for x, z in zip(single[1], stacked[1]))


def test_network_stack_plans_the_steepest_family_only():
    """Adam, partitions and norms without a blockwise LMO on (W, u) are left to the per-member loop."""
    p = [torch.zeros(4, 3, dtype=torch.float64), torch.zeros(1, 4, dtype=torch.float64)]
    eta = PowerSchedule(0.1, 0.7)
    assert NetworkStack.plan(TransformOptimizer(p, nmd(_BLOCKS["spectral-max"], eta, 0.2))) is not None
    assert NetworkStack.plan(TransformOptimizer(p, nsd(_FLAT["l2"], eta))) is not None
    assert NetworkStack.plan(TransformOptimizer(p, adam(eta))) is None
    assert NetworkStack.plan(TransformOptimizer(p, partition([([0], nsd(_SP, eta)), ([1], nsd(_LINF, eta))]))) is None
    assert NetworkStack.plan(TransformOptimizer(p, nsd(_SP, eta))) is None       # one matrix's norm, 2 tensors
    assert NetworkStack.plan(TransformOptimizer(p, relative_step(0.01))) is None
    assert NetworkStack.of({"sgd": torch.optim.SGD(p, lr=0.1)}) is None


def test_network_stack_reports_a_member_whose_oracle_raises():
    """A non-finite gradient makes the SVD of a spectral member raise: that member is reported (and
    marked ``error`` by the trainer's helper), the others step as their own optimizers would."""
    from numerics.train import Trajectory
    specs = [("nsd", "spectral-max", 0.1, 0.7), ("nsd", "l2", 0.1, 0.7)]
    p = [[torch.ones(4, 3, dtype=torch.float64), torch.ones(1, 4, dtype=torch.float64)] for _ in specs]
    q = [[x.clone() for x in ps] for ps in p]
    stack = NetworkStack({i: TransformOptimizer(ps, _net_member(*s)) for i, (ps, s) in enumerate(zip(p, specs))})
    single = TransformOptimizer(q[1], _net_member(*specs[1]))
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 1, 4))]
    grads[0][0, 0, 0] = np.nan
    traj = {i: Trajectory(str(i)) for i in range(2)}
    step_network_stack(stack, [0, 1], grads, [-1.0, -2.0], 1, traj)
    assert traj[0].status == "error" and "LinAlgError" in traj[0].message and traj[1].status == "ok"
    single.apply((torch.from_numpy(grads[0][1].copy()), torch.from_numpy(grads[1][1].copy())), -2.0)
    assert all(torch.equal(x, z) for x, z in zip(p[1], q[1]))


def test_held_power_schedule_is_the_power_schedule_after_its_prefix():
    from numerics.homogeneous_optim import HeldPowerSchedule
    from numerics.optim import PowerSchedule
    held, power = HeldPowerSchedule(0.18, 0.68, 118), PowerSchedule(0.18, 0.68)
    assert all(held(t) == power(118) for t in range(1, 119))            # the prefix: held at η₀ t_w^(−a)
    assert all(held(t) == power(t) for t in (118, 119, 1000, 15_000))    # the tail, to the bit
    assert all(HeldPowerSchedule(0.9, 0.7)(t) == PowerSchedule(0.9, 0.7)(t) for t in range(1, 50))
    assert "max(t, 118)" in held.describe()
    for bad in (0, 2.5):
        with pytest.raises(ValueError):
            HeldPowerSchedule(0.1, 0.7, bad)


@pytest.mark.parametrize("eta0, decay, reach, size, rho", [(0.18, 0.68, 10 ** 0.5, 0.0975, 0.228),
                                                          (0.9, 0.68, 1.0, 0.0399, 0.228), (0.9, 0.7, 1.0, 10.0, 0.2)])
def test_hold_steps_is_the_shortest_prefix_whose_steps_stay_within_rho(eta0, decay, reach, size, rho):
    from numerics.homogeneous_optim import hold_steps
    t = hold_steps(eta0, decay, reach, size, rho)
    assert eta0 * t ** (-decay) * reach <= rho * size
    assert t == 1 or eta0 * (t - 1) ** (-decay) * reach > rho * size    # and the shortest such


def test_unit_step_reach_of_a_neuron():
    from numerics.homogeneous_optim import unit_step_reach
    from theory.norms import parse_norm
    assert unit_step_reach(parse_norm("linf", "binary"), 10) == (10 ** 0.5, 1.0)
    assert unit_step_reach(parse_norm("l2", "binary"), 10) == (1.0, 1.0)
    assert unit_step_reach(parse_norm("lp:3", "binary"), 10) == pytest.approx((10 ** (1 / 6), 1.0))
    assert unit_step_reach(parse_norm("spectral"), 10) == unit_step_reach(parse_norm("nuclear"), 10) == (1.0, 1.0)
