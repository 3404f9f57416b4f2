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
