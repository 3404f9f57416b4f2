"""The optimizer family: agreement with torch's implementations and with the raw-gradient maths."""
import math

import numpy as np
import pytest
import torch

from numerics.optim import (PowerSchedule, Scaled, TransformOptimizer, adam, gd, momentum, nmd, nsd,
                            partition, steepest)
from theory.norms import parse_norm


def _pair(transform, shape=(4, 3)):
    p = torch.randn(*shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    return p.clone().requires_grad_(True), TransformOptimizer([p.requires_grad_(True)], transform)


@pytest.mark.parametrize("eps, bias", [(1e-8, True), (0.0, True), (1e-3, True)])
def test_adam_equals_torch_adam(eps, bias):
    gen = torch.Generator().manual_seed(1)
    ref = torch.zeros(5, 3, dtype=torch.float64, requires_grad=True)
    mine = torch.zeros(5, 3, dtype=torch.float64, requires_grad=True)
    o_ref = torch.optim.Adam([ref], lr=0.01, betas=(0.9, 0.99), eps=eps)
    o_mine = TransformOptimizer([mine], adam(lambda t: 0.01, 0.9, 0.99, eps, bias))
    for t in range(40):
        g = torch.randn(5, 3, dtype=torch.float64, generator=gen) * math.exp(-t / 8)
        ref.grad = g.clone()
        o_ref.step()
        mine.grad = g * math.exp(7.0)            # same gradient, handed over as mantissa·e^{−7}
        o_mine.step(log_scale=-7.0)
    assert torch.allclose(ref, mine, atol=1e-14, rtol=0)


def test_adam_coordinates_far_below_the_largest_keep_their_bounded_step():
    """ε = 0: a coordinate whose gradient is 1e−200 of the largest has g² below float64's range in a
    shared-scale mantissa; its exact step m̂/√v̂ is still sign(g)·1 for a constant gradient, and
    |m̂/√v̂| ≤ 1 always (Cauchy–Schwarz with β₁ = β₂), whatever the per-coordinate ranges."""
    tr = adam(lambda t: 1.0, 0.2, 0.2, eps=0.0)
    state = tr.init([None])
    g = torch.tensor([3.0, -1e-200, 0.0], dtype=torch.float64)
    for t in range(1, 6):
        out, state = tr.update(Scaled((g,), -1e4), state, t)
        step = out.mantissa[0] * math.exp(out.log_scale)
        assert torch.equal(torch.sign(step), torch.tensor([1.0, -1.0, 0.0], dtype=torch.float64))
        assert torch.allclose(step.abs()[:2], torch.ones(2, dtype=torch.float64), rtol=1e-12)
    rng = np.random.default_rng(0)
    state = tr.init([None])
    for t in range(1, 300):
        g = torch.tensor(rng.standard_normal(4) * 10.0 ** rng.uniform(-250, 0, 4))
        out, state = tr.update(Scaled((g,), -rng.uniform(0, 5) * t), state, t)
        assert (out.mantissa[0] * math.exp(out.log_scale)).abs().max() <= 1.0 + 1e-12


def test_momentum_in_log_scale_equals_raw_momentum():
    """M_t = β M + (1−β) g_t with gradients spanning 600 orders of magnitude (raw arithmetic would
    underflow; compare in log space against an mpmath-free float check on the mantissas)."""
    beta = 0.9
    tr = momentum(beta)
    state = tr.init([None])
    raw = np.zeros(3)
    rng = np.random.default_rng(0)
    for t in range(1, 30):
        g = rng.standard_normal(3)
        scale = -0.5 * t                     # moderate: raw arithmetic is still exact here
        out, state = tr.update(Scaled((torch.tensor(g),), scale), state, t)
        raw = beta * raw + (1 - beta) * g * math.exp(scale)
        assert np.allclose(out.mantissa[0].numpy() * math.exp(out.log_scale), raw, rtol=1e-12, atol=0)
    big, state = tr.update(Scaled((torch.ones(3),), -700.0 * 3), state, 31)
    assert torch.isfinite(big.mantissa[0]).all()


def test_nsd_ignores_the_gradient_scale():
    sched = PowerSchedule(0.1)
    a, oa = _pair(nsd(parse_norm("spectral"), sched))
    b, ob = _pair(nsd(parse_norm("spectral"), sched))
    g = torch.randn(4, 3, dtype=torch.float64)
    oa.apply((g,), 0.0)
    ob.apply((g,), -5000.0)
    assert torch.allclose(a, b)


def test_nmd_with_zero_momentum_is_nsd():
    sched = PowerSchedule(0.3)
    a, oa = _pair(nsd(parse_norm("entrywise:3"), sched))
    b, ob = _pair(nmd(parse_norm("entrywise:3"), sched, beta1=0.0))
    for _ in range(5):
        g = torch.randn(4, 3, dtype=torch.float64)
        oa.apply((g,), -3.0)
        ob.apply((g,), -3.0)
    assert torch.allclose(a, b)


def test_gd_uses_the_raw_gradient():
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = TransformOptimizer([p], gd(lambda t: 0.5))
    p.grad = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    opt.step(log_scale=math.log(2.0))
    assert torch.allclose(p, torch.tensor([-1.0, -2.0, -3.0], dtype=torch.float64))


def test_partition_and_plain_torch_loop():
    w = torch.zeros(3, 4, dtype=torch.float64, requires_grad=True)
    u = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    sched = PowerSchedule(0.1)
    opt = TransformOptimizer([w, u], partition([((0,), nsd(parse_norm("spectral"), sched)),
                                                ((1,), nsd(parse_norm("linf", "binary"), sched))]))
    x = torch.randn(4, dtype=torch.float64)
    loss = -(w @ x).sum() - u @ x
    loss.backward()
    opt.step()
    assert np.isclose(np.linalg.norm(w.detach().numpy(), 2), 0.1)
    assert torch.allclose(u.abs(), torch.full((4,), 0.1, dtype=torch.float64))


def test_steepest_rejects_schatten_over_several_tensors():
    tr = steepest(parse_norm("spectral"))
    with pytest.raises(ValueError, match="block norm"):
        tr.update(Scaled((torch.ones(2, 2), torch.ones(2, 2)), 0.0), None, 1)


def test_power_schedule():
    s = PowerSchedule(2.0, 0.5)
    assert s(1) == 2.0 and np.isclose(s(4), 1.0) and "t^(-0.5)" in s.describe()


# -- TransformStack: the members stepped together over a leading member axis ----------------------
from hypothesis import given, settings, strategies as st  # noqa: E402

from numerics.optim import TransformStack  # noqa: E402

STACK_NORMS = ["max", "sum", "fro", "entrywise:3", "spectral", "nuclear", "schatten:3"]


def _member(kind, norm_text, eta0, decay):
    eta = PowerSchedule(eta0, decay)
    if kind == "gd":
        return gd(eta)
    norm = parse_norm(norm_text)
    return nsd(norm, eta) if kind == "nsd" else nmd(norm, eta, {"nmd": 0.9, "nmd0": 0.0}[kind])


def _run_both(specs, steps, schedule_of, seed, shape=(3, 4), perturb=None):
    """Step the same members as TransformOptimizers one by one and as one TransformStack, with
    members joining/leaving per ``schedule_of(i, t)``; returns both parameter sets."""
    rng = np.random.default_rng(seed)
    single = [torch.zeros(shape, dtype=torch.float64) for _ in specs]
    stacked = [torch.zeros(shape, dtype=torch.float64) for _ in specs]
    ones = [TransformOptimizer([p], _member(*s)) for p, s in zip(single, specs)]
    stack = TransformStack({i: TransformOptimizer([p], _member(*(perturb or {}).get(i, s)))
                            for i, (p, s) in enumerate(zip(stacked, specs))})
    for t in range(1, steps + 1):
        names = [i for i in range(len(specs)) if schedule_of(i, t)]
        scales = np.exp(rng.uniform(-5, 5, (len(names),) + (1,) * len(shape)))
        grads = rng.standard_normal((len(names), *shape)) * scales
        log_l = rng.uniform(-700, 0, len(names)).tolist()
        for j, i in enumerate(names):
            ones[i].apply((torch.from_numpy(grads[j].copy()),), log_l[j])
        stack.step(names, grads, log_l)
    return single, stacked


@settings(max_examples=12, deadline=None)
@given(specs=st.lists(st.tuples(st.sampled_from(["nsd", "nmd", "nmd0", "gd"]), st.sampled_from(STACK_NORMS),
                                st.floats(1e-3, 1.0), st.sampled_from([0.0, 0.5, 1.0])),
                      min_size=1, max_size=6),
       seed=st.integers(0, 10_000), shape=st.sampled_from([(3, 4), (4, 3), (5,)]))
def test_stack_equals_the_members_stepped_one_by_one(specs, seed, shape):
    """Random members (NSD, NMD with β₁ = 0.9 or 0, GD under any stackable norm and schedule), each
    joining at its own step and leaving at another: the stacked iterates equal the single ones to
    the last bit (the same operations on the same numbers)."""
    if len(shape) == 1:                           # a vector model: entrywise norms only
        specs = [(k, n if n.startswith(("max", "sum", "fro", "entrywise")) else "fro", e, d)
                 for k, n, e, d in specs]
    rng = np.random.default_rng(seed)
    start, stop = rng.integers(1, 5, len(specs)), rng.integers(6, 12, len(specs))
    single, stacked = _run_both(specs, 12, lambda i, t: start[i] <= t <= stop[i], seed, shape)
    for a, b in zip(single, stacked):
        assert torch.equal(a, b)


def test_stack_comparison_detects_a_different_member():
    """The comparison above can fail: a stacked NMD with β₁ = 0 where the single one has 0.9, or a
    schedule 1% larger, ends elsewhere."""
    specs = [("nmd", "spectral", 0.1, 0.5), ("nsd", "max", 0.1, 0.5)]
    for wrong in [("nmd0", "spectral", 0.1, 0.5), ("nmd", "spectral", 0.101, 0.5)]:
        single, stacked = _run_both(specs, 10, lambda i, t: True, 0, perturb={0: wrong})
        assert not torch.equal(single[0], stacked[0]) and torch.equal(single[1], stacked[1])


def test_stack_plans_only_the_steepest_family():
    """Adam, partitions and block norms are not stacked (the trainer steps them one by one)."""
    p = [torch.zeros(2, 3, dtype=torch.float64)]
    eta = PowerSchedule(0.1)
    assert TransformStack.plan(TransformOptimizer(p, nmd(parse_norm("nuclear"), eta))) is not None
    assert TransformStack.plan(TransformOptimizer(p, adam(eta))) is None
    assert TransformStack.plan(TransformOptimizer(p, partition([([0], nsd(parse_norm("max"), eta))]))) is None
    assert TransformStack.plan(torch.optim.SGD(p, lr=0.1)) is None
    assert TransformStack.of({"sgd": torch.optim.SGD(p, lr=0.1)}) is None


def test_block_means_are_numpys_means_bit_for_bit():
    """AdamFamily's block statistic (sum / size, repeated) equals numpy's mean broadcast back, bitwise."""
    import numpy as np

    from numerics.optim import AdamFamily

    rng = np.random.default_rng(3)
    for block, shape in [(0, (5, 2, 7)), (2, (64, 2, 4)), (4, (3, 2, 16))]:
        G2 = rng.standard_normal(shape) ** 2 * np.exp(rng.uniform(-30, 30, shape))
        size = shape[-1] if block == 0 else block
        ref = G2.reshape(*shape[:-1], -1, size).mean(axis=-1, keepdims=True)
        ref = np.broadcast_to(ref, (*ref.shape[:-1], size)).reshape(shape)
        got = AdamFamily(block=block)._block_mean(G2)
        assert np.array_equal(got, ref)
        assert not np.array_equal(got, AdamFamily(block=1)._block_mean(G2))    # the comparison can miss


# -- TorchStack: torch's own SGD/Adam over a leading member axis ---------------------------------
_TORCH = {
    "sgd": lambda p, lr: torch.optim.SGD(p, lr=lr),
    "sgd-momentum": lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.9),
    "sgd-nesterov": lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.7, nesterov=True),
    "sgd-dampening": lambda p, lr: torch.optim.SGD(p, lr=lr, momentum=0.7, dampening=0.3),
    "adam": lambda p, lr: torch.optim.Adam(p, lr=lr),
    "adam-betas": lambda p, lr: torch.optim.Adam(p, lr=lr, betas=(0.9, 0.9), eps=1e-12),
}


@pytest.mark.parametrize("kind", list(_TORCH))
@pytest.mark.parametrize("shape,members", [((10, 25), 3), ((1, 60), 4), ((5, 5), 1), ((3, 5), 7)])
def test_torch_stack_equals_torch_stepping_each_member(kind, shape, members):
    """``TorchStack`` on rows of one table against torch's own optimizer stepped on a separate
    tensor per member, gradients over 10 orders of magnitude, per-member lr, the members a
    gather (not a slice) of the table after step 5: bitwise equal at every step (the sizes put
    entries in the vectorized body and the scalar tail of torch's loops differently in the two)."""
    from numerics.optim import TorchStack

    rng = np.random.default_rng(members)
    table = torch.zeros((members, *shape), dtype=torch.float64)
    alone = [torch.zeros(shape, dtype=torch.float64, requires_grad=True) for _ in range(members)]
    lr0 = rng.uniform(0.01, 1.0, members)
    stack = TorchStack({i: _TORCH[kind]([table[i]], float(lr0[i])) for i in range(members)}, table,
                       {i: i for i in range(members)})
    theirs = [_TORCH[kind]([alone[i]], float(lr0[i])) for i in range(members)]
    active = list(range(members))
    for t in range(1, 11):
        if t == 6 and members > 2:
            active = [0, 2]
        g = rng.standard_normal((len(active), *shape)) * np.exp(rng.uniform(-5, 5, (len(active), 1, 1)))
        factors = np.exp(rng.uniform(-30, 0, len(active)))
        lrs = [float(lr0[i]) * t ** -0.5 for i in active]
        stack.step(active, g, factors.tolist(), lrs)
        for j, i in enumerate(active):
            theirs[i].param_groups[0]["lr"] = lrs[j]
            alone[i].grad = float(factors[j]) * torch.from_numpy(g[j].copy())
            theirs[i].step()
        assert all(torch.equal(table[i], alone[i].detach()) for i in range(members)), t
