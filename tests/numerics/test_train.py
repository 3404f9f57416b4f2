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
