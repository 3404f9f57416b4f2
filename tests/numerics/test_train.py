import math

import numpy as np
import pytest
import torch

from numerics.classification import Classification
from numerics.datasets import gaussian_classes
from numerics.optim import PowerSchedule, TransformOptimizer, nsd
from numerics.train import LinearMarginMap, Member, checkpoints, train_linear
from theory.norms import parse_norm


def _reference_log_loss(p, W, loss):
    """log L and its autograd gradient from the numpy margins of ``Classification`` (naive sums)."""
    Wt = torch.tensor(W, requires_grad=True)
    X = torch.as_tensor(p.X)
    if p.model == "binary":
        margins = (torch.as_tensor(p.y, dtype=torch.float64) * (X @ Wt)).unsqueeze(1)
    else:
        Z = X @ Wt.T                                             # (n, k)
        own = Z.gather(1, torch.as_tensor(p.y).view(-1, 1))
        margins = (own - Z)[torch.arange(p.k) != torch.as_tensor(p.y).view(-1, 1)].view(p.n, p.k - 1)
        assert np.allclose(np.sort(margins.detach().numpy(), 1), np.sort(p.margins(W), 1))
    e = torch.exp(-margins).sum(1)
    value = torch.log((torch.log1p(e) if loss == "cross_entropy" else e).mean())
    (grad,) = torch.autograd.grad(value, Wt)
    return value.item(), grad.numpy()


@pytest.mark.parametrize("loss", ["cross_entropy", "exponential"])
@pytest.mark.parametrize("model,k", [("binary", 2), ("multiclass", 2), ("multiclass", 4)])
def test_batched_loss_and_gradient_match_naive_autograd(model, k, loss):
    base = gaussian_classes(k=k, d=5, per_class=6, seed=2)
    p = Classification.from_arrays(base.X, base.y, model)
    amap = LinearMarginMap(p)
    W = np.random.default_rng(1).standard_normal((3, *p.param_shape))
    log_l, grad = amap.log_loss_and_gradient(W, loss)
    for i in range(3):
        ref_value, ref_grad = _reference_log_loss(p, W[i], loss)
        assert log_l[i] == pytest.approx(ref_value, abs=1e-13)
        assert np.allclose(grad[i], ref_grad, atol=1e-14)


def test_trainer_reports_divergence_and_bad_factories():
    p = gaussian_classes(k=3, d=4, per_class=5, seed=0)

    class Exploding(torch.optim.SGD):
        def step(self, closure=None):
            for g in self.param_groups:
                for q in g["params"]:
                    q.data.fill_(math.nan)

    members = {
        "ok": Member(lambda ps: TransformOptimizer(ps, nsd(parse_norm("fro"), PowerSchedule(0.1)))),
        "nan": Member(lambda ps: Exploding(ps, lr=0.1)),
        "raises": Member(lambda ps: 1 / 0),
        "not-an-optimizer": Member(lambda ps: object()),
    }
    out = train_linear(p, members, 20)
    assert out["ok"].status == "ok" and out["ok"].steps[-1] == 20
    assert out["nan"].status == "error" and "NaN/Inf at step 1" in out["nan"].message
    assert "ZeroDivisionError" in out["raises"].message
    assert "not return a torch.optim.Optimizer" in out["not-an-optimizer"].message


def test_trainer_separates_and_records():
    p = gaussian_classes(k=3, d=4, per_class=5, seed=0)
    out = train_linear(p, {"ngd": Member(lambda ps: TransformOptimizer(ps, nsd(parse_norm("fro"), PowerSchedule(0.5))))}, 200)
    tr = out["ngd"]
    assert tr.steps == checkpoints(200) and len(tr.params) == len(tr.steps)
    assert p.margins(tr.final).min() > 0 and tr.log_loss[-1] < tr.log_loss[0]


def test_stacked_members_equal_the_same_members_stepped_one_by_one(monkeypatch):
    """The trainer steps NSD/NMD/GD members together (``TransformStack``); given a schedule, a
    member is stepped on its own (its lr is set), with the same arithmetic. Both runs of the same
    population — members stopped by the caller at different steps, a library optimizer beside
    them — end at the same iterates to the last bit."""
    from numerics.optim import gd, nmd

    p = gaussian_classes(k=3, d=4, per_class=5, noise=0.1, seed=0)
    eta = PowerSchedule(0.2)
    makers = {"nsd-spectral": lambda: nsd(parse_norm("spectral"), eta),
              "nmd-nuclear": lambda: nmd(parse_norm("nuclear"), eta, 0.9),
              "nmd-max": lambda: nmd(parse_norm("max"), eta, 0.9),
              "nsd-3": lambda: nsd(parse_norm("entrywise:3"), eta),
              "gd": lambda: gd(eta)}

    def run(stacked):
        members = {k: Member(lambda ps, f=f: TransformOptimizer(ps, f()), None if stacked else eta)
                   for k, f in makers.items()}
        members["sgd"] = Member(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9), eta)
        stops = {5: {"nmd-max"}, 17: {"gd", "nsd-3"}}
        return train_linear(p, members, 40, record=[0, 5, 17, 25, 40],
                            on_record=lambda t, tr: stops.get(t, set()))

    from numerics.optim import TransformStack

    calls = []
    step = TransformStack.step
    monkeypatch.setattr(TransformStack, "step", lambda self, names, *a: calls.append(len(names)) or
                        step(self, names, *a))
    a = run(True)
    assert calls[0] == 5 and len(calls) == 40
    calls.clear()
    b = run(False)
    assert not calls
    for k in a:
        assert a[k].steps == b[k].steps and len(a[k].steps) > 1
        assert all(np.array_equal(x, y) for x, y in zip(a[k].params, b[k].params)), k
    assert a["nmd-max"].steps[-1] == 5 and a["gd"].steps[-1] == 17 and a["nsd-spectral"].steps[-1] == 40


# -- the population's parameter table (one array, one row per member) ------------------------------
from hypothesis import given, settings, strategies as st  # noqa: E402

from numerics.optim import TransformStack, gd, nmd  # noqa: E402

_NORMS = ["max", "sum", "fro", "entrywise:3", "spectral", "nuclear", "schatten:3"]


def _maker(kind, norm_text, eta0):
    eta = PowerSchedule(eta0)
    if kind == "gd":
        return lambda: gd(eta)
    norm = parse_norm(norm_text)
    return (lambda: nsd(norm, eta)) if kind == "nsd" else (lambda: nmd(norm, eta, 0.9))


@settings(max_examples=8, deadline=None)
@given(specs=st.lists(st.tuples(st.sampled_from(["nsd", "nmd", "gd"]), st.sampled_from(_NORMS),
                                st.floats(0.01, 1.0)), min_size=1, max_size=5),
       stops=st.lists(st.integers(1, 30), min_size=5, max_size=5), seed=st.integers(0, 50))
def test_population_equals_its_members_stepped_one_by_one(specs, stops, seed):
    """Random stackable members (stepped together on the parameter table, the update fused as
    ``Tensor.add_(u, alpha)`` is) and the same members each stepped on its own (given a schedule,
    the trainer steps a member alone), a torch SGD beside them, members stopped by the caller at
    random steps: every recorded iterate is the same to the last bit."""
    p = gaussian_classes(k=3, d=4, per_class=4, noise=0.3, seed=seed)
    makers = {f"m{i}": _maker(*s) for i, s in enumerate(specs)}
    stop_at = {f"m{i}": stops[i] for i in range(len(specs))}

    def run(stacked):
        members = {k: Member(lambda ps, f=f: TransformOptimizer(ps, f()), None if stacked else PowerSchedule(1.0))
                   for k, f in makers.items()}
        members["sgd"] = Member(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9), PowerSchedule(0.1))
        return train_linear(p, members, 30, record=list(range(0, 31, 3)),
                            on_record=lambda t, tr: {k for k, s in stop_at.items() if s <= t})

    a, b = run(True), run(False)
    for k in a:
        assert a[k].steps == b[k].steps
        assert all(np.array_equal(x, y) for x, y in zip(a[k].params, b[k].params)), k


def test_stack_update_on_the_table_is_fused_like_add():
    """When the members' parameters are rows of one table, ``TransformStack`` updates the rows in
    one fused operation; it equals the members' own ``add_(u, alpha)`` bitwise — and an unfused
    θ + (α·u), the obvious vectorization, does not (the comparison can fail)."""
    rng = np.random.default_rng(0)
    table = torch.zeros(6, 3, 5, dtype=torch.float64)
    alone = [torch.zeros(3, 5, dtype=torch.float64) for _ in range(6)]
    eta = PowerSchedule(0.3)
    norms = ["max", "fro", "spectral", "nuclear", "entrywise:3", "schatten:3"]
    stack = TransformStack({i: TransformOptimizer([table[i]], nmd(parse_norm(n), eta)) for i, n in enumerate(norms)})
    ones = [TransformOptimizer([alone[i]], nmd(parse_norm(n), eta)) for i, n in enumerate(norms)]
    assert stack._table is not None                       # the table path is the one tested
    assert TransformStack({0: TransformOptimizer([alone[0]], nsd(parse_norm("max"), eta))})._table is None
    for t in range(1, 15):
        names = [0, 2, 3, 5] if t % 3 == 0 else list(range(6))   # gather/scatter and slice paths
        grads = rng.standard_normal((len(names), 3, 5)) * np.exp(rng.uniform(-3, 3, (len(names), 1, 1)))
        log_l = rng.uniform(-50, 0, len(names)).tolist()
        stack.step(names, grads, log_l)
        for j, i in enumerate(names):
            ones[i].apply((torch.from_numpy(grads[j].copy()),), log_l[j])
    for i in range(6):
        assert torch.equal(table[i], alone[i]), norms[i]
    theta, u, alpha = rng.standard_normal((2, 200)), rng.standard_normal((2, 200)), np.array([[-0.37], [-1.9e-3]])
    fused = torch.from_numpy(theta.copy())
    for i in range(2):
        fused[i].add_(torch.from_numpy(u[i]), alpha=float(alpha[i, 0]))
    assert not np.array_equal(theta + alpha * u, fused.numpy())


def test_an_optimizer_that_rebinds_its_parameter_is_copied_back():
    """A torch optimizer may replace ``p.data`` instead of updating it in place; its row of the
    table follows it (the same iterates as the in-place version)."""
    p = gaussian_classes(k=3, d=4, per_class=5, seed=1)

    class Rebinding(torch.optim.SGD):
        def step(self, closure=None):
            for g in self.param_groups:
                for q in g["params"]:
                    q.data = q.data - g["lr"] * q.grad

    out = train_linear(p, {"inplace": Member(lambda ps: torch.optim.SGD(ps, lr=0.5)),
                           "rebinding": Member(lambda ps: Rebinding(ps, lr=0.5))}, 25)
    assert out["inplace"].steps == out["rebinding"].steps
    assert all(np.array_equal(x, y) for x, y in zip(out["inplace"].params, out["rebinding"].params))
    assert not np.array_equal(out["rebinding"].params[0], out["rebinding"].final)


# -- torch's own optimizers of one class stepped as one (numerics.optim.TorchStack) ----------------
_LIBRARY = {
    "sgd": lambda ps: torch.optim.SGD(ps, lr=0.1),
    "sgd-momentum": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9),
    "sgd-nesterov-dampening": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.7, dampening=0.2, nesterov=False),
    "sgd-nesterov": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.8, nesterov=True),
    "adam": lambda ps: torch.optim.Adam(ps, lr=0.1),
    "adam-betas": lambda ps: torch.optim.Adam(ps, lr=0.1, betas=(0.9, 0.9), eps=1e-12),
}


def _sweep(p, factory, eta0s, steps, stacked, monkeypatch, normalized=False, stops=None, shape=None):
    from numerics.optim import TorchStack

    with monkeypatch.context() as mp:
        if not stacked:
            mp.setattr(TorchStack, "key", classmethod(lambda cls, opt: None))
        members = {f"eta0={e}": Member(factory, PowerSchedule(e), normalized) for e in eta0s}
        members["nsd"] = Member(lambda ps: TransformOptimizer(ps, nsd(parse_norm("fro"), PowerSchedule(0.3))))
        stops = stops or {}
        return train_linear(p, members, steps, record=list(range(0, steps + 1, 4)), shape=shape,
                            on_record=lambda t, tr: {k for k, s in stops.items() if s <= t})


@pytest.mark.parametrize("kind", list(_LIBRARY))
def test_torch_optimizers_of_one_class_stepped_as_one_equal_their_own_steps(kind, monkeypatch):
    """A step-size sweep of one torch optimizer (SGD with and without momentum/Nesterov/dampening,
    Adam) is stepped as one stacked parameter (``TorchStack``); the same sweep with every member
    stepped by its own optimizer gives the same iterates to the last bit, members stopped by the
    caller at different steps, with and without the loss-normalized lr (with which momentum runs
    blow up: a member whose exp(−log L) overflows stops with the same message either way)."""
    from numerics.optim import TorchStack

    p = gaussian_classes(k=3, d=4, per_class=5, noise=0.2, seed=3)
    calls = []
    step = TorchStack.step
    monkeypatch.setattr(TorchStack, "step", lambda self, names, *a: calls.append(len(names)) or step(self, names, *a))
    for normalized in (False, True):
        stops = {"eta0=0.02": 9, "eta0=0.1": 17}
        calls.clear()
        a = _sweep(p, _LIBRARY[kind], [0.02, 0.1, 0.3, 0.6], 30, True, monkeypatch, normalized, stops)
        assert calls[0] == 4 and len(calls) >= 4
        calls.clear()
        b = _sweep(p, _LIBRARY[kind], [0.02, 0.1, 0.3, 0.6], 30, False, monkeypatch, normalized, stops)
        assert not calls
        for k in a:
            assert (a[k].status, a[k].message, a[k].steps) == (b[k].status, b[k].message, b[k].steps), k
            assert a[k].status == "ok" or normalized, k
            assert all(np.array_equal(x, y) for x, y in zip(a[k].params, b[k].params)), (kind, normalized, k)


def test_torch_stack_comparison_detects_a_different_update(monkeypatch):
    """The comparison above can fail: an Adam stack whose last step divides before multiplying by
    the step size (−s·(m/denom), the obvious vectorization, not torch's (−s·m)/denom) ends at other
    iterates, which differ only in the last bits."""
    from numerics.optim import TorchStack

    p = gaussian_classes(k=3, d=4, per_class=5, noise=0.2, seed=3)
    eta0s = [0.05, 0.3, 1.0]
    a = _sweep(p, _LIBRARY["adam"], eta0s, 20, True, monkeypatch)

    def divided_first(self, lay, grad, counts, lrs, column):
        beta1, beta2 = self.group["betas"]
        exp_avg, exp_avg_sq = self._get(self.exp_avg, lay), self._get(self.exp_avg_sq, lay)
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        self._put(self.exp_avg, lay, exp_avg)
        self._put(self.exp_avg_sq, lay, exp_avg_sq)
        col = lambda v: torch.tensor(v, dtype=torch.float64).reshape(column)   # noqa: E731
        root = col([(1 - beta2 ** float(c)) ** 0.5 for c in counts])
        step = col([-(lr / (1 - beta1 ** float(c))) for c, lr in zip(counts, lrs)])
        return step * (exp_avg / (exp_avg_sq.sqrt() / root).add_(self.group["eps"]))

    monkeypatch.setattr(TorchStack, "_adam", divided_first)
    b = _sweep(p, _LIBRARY["adam"], eta0s, 20, True, monkeypatch)
    moved = [k for k in a if not np.array_equal(a[k].final, b[k].final)]
    assert moved and "nsd" not in moved
    assert all(np.allclose(a[k].final, b[k].final, rtol=1e-9) for k in moved)


def test_torch_stack_takes_only_what_it_can_step_exactly():
    from numerics.optim import TorchStack

    t = torch.zeros(2, 3, dtype=torch.float64)

    class Mine(torch.optim.SGD):
        pass

    assert TorchStack.key(torch.optim.SGD([t[0]], lr=0.1)) == TorchStack.key(torch.optim.SGD([t[1]], lr=0.7))
    assert TorchStack.key(torch.optim.SGD([t[0]], lr=0.1)) != TorchStack.key(torch.optim.SGD([t[1]], lr=0.1, momentum=0.9))
    assert TorchStack.key(Mine([t[0]], lr=0.1)) is None                          # a subclass
    assert TorchStack.key(torch.optim.SGD([t[0]], lr=0.1, weight_decay=0.1)) is None
    assert TorchStack.key(torch.optim.Adam([t[0]], lr=0.1, amsgrad=True)) is None
    assert TorchStack.key(torch.optim.Adam([t[0]], lr=0.1, foreach=True)) is None
    assert TorchStack.key(torch.optim.SGD([t[0], t[1]], lr=0.1)) is None         # two parameters
    assert TorchStack.key(torch.optim.SGD([t[0].float()], lr=0.1)) is None       # float32
    hooked = torch.optim.SGD([t[0]], lr=0.1)
    hooked.register_step_pre_hook(lambda *a: None)
    assert TorchStack.key(hooked) is None
    assert TorchStack.key(torch.optim.Muon([t], lr=0.1)) is None
    elsewhere = torch.zeros(3, dtype=torch.float64)
    with pytest.raises(ValueError, match="row of the table"):
        TorchStack({"a": torch.optim.SGD([elsewhere], lr=0.1)}, t, {"a": 0})
