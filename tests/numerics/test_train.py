import math

import numpy as np
import pytest
import torch

from numerics.datasets import gaussian_classes
from numerics.optim import PowerSchedule, TransformOptimizer, nsd
from numerics.train import LinearMarginMap, Member, checkpoints, train_linear
from theory.norms import parse_norm


@pytest.mark.parametrize("k", [2, 4])
def test_batched_margin_map_matches_numpy(k):
    p = gaussian_classes(k=k, d=5, per_class=6, seed=2)
    amap = LinearMarginMap(p)
    W = torch.randn(3, *p.param_shape, dtype=torch.float64)
    M = amap.margins(W)
    G = torch.randn_like(M).masked_fill(torch.isinf(M), 0.0)
    adj = amap.adjoint(G)
    for i in range(3):
        ref = p.margins(W[i].numpy())                       # (n, C)
        mine = M[i].numpy().T                               # (n, C or k with +inf)
        assert np.allclose(np.sort(mine, 1)[:, :ref.shape[1]], np.sort(ref, 1))
        assert np.isclose(np.sum(np.where(np.isinf(M[i].numpy()), 0, M[i].numpy()) * G[i].numpy()),
                          np.sum(W[i].numpy() * adj[i].numpy()))


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
