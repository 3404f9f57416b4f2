"""rudoler2025 dropout claims: the ℓ2 estimate must explain a real share of ‖∇L‖² (issue 23 item 11).
Training and estimation are replaced by fast stand-ins whose λ̂ grows with the rate."""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from verify.context import Context
from verify.registry import get

CLAIMS = ["rudoler2025-dropout-implicit-l2", "rudoler2025-dropout-implicit-l2-digits"]


def _stand_ins(monkeypatch, squared_cosine: float):
    import numerics.dropout as dropout
    import numerics.gradient_matching as gm

    def fake_train(arch, X, y, rates, steps, lr, loss="mse", seed=0, progress=None, **kw):
        P = sum(a * b + b for a, b in zip(arch.widths[:-1], arch.widths[1:]))
        return [np.full(P, 1.0 + r) + 1e-3 * k for k, r in enumerate(rates)]

    def fake_estimate(objective, penalties, theta, signed=True, cg_iterations=0):
        rate = float(theta[0] - 1.0)
        lam = rate / 10 + 1e-4 * (theta[1] - theta[0] + 1e-3)     # grows with the rate, small spread
        fit = SimpleNamespace(coefficients=np.array([lam] * len(penalties)),
                              residual_ratio=math.sqrt(1 - squared_cosine), cosine=math.sqrt(squared_cosine))
        return SimpleNamespace(fit=fit)

    monkeypatch.setattr(dropout, "train_dropout_mlps", fake_train)
    monkeypatch.setattr(gm, "estimate", fake_estimate)


@pytest.mark.parametrize("claim_id", CLAIMS)
def test_a_growing_estimate_that_explains_a_real_share_verifies(monkeypatch, claim_id):
    _stand_ins(monkeypatch, squared_cosine=0.2)
    outcome = get(claim_id).check(Context(profile="quick", seed=10_000))
    assert outcome.status == "verified", outcome.message


@pytest.mark.parametrize("claim_id", CLAIMS)
def test_a_growing_estimate_of_a_direction_that_explains_nothing_fails(monkeypatch, claim_id):
    """The old checks (slope, monotone means, p = 0 control) all pass when the ℓ2 direction explains
    no more of ∇L than a random direction would (squared cosine 1/P); the explained-share check fails."""
    _stand_ins(monkeypatch, squared_cosine=1e-4)
    outcome = get(claim_id).check(Context(profile="quick", seed=10_000))
    checks = {c.name: c for c in outcome.checks}
    old = ["slope_ci95_low", "monotone_rate_means", "control_rate0_ratio", "finite_parameters"]
    assert all(checks[name].passed for name in old)
    assert not checks["median_l2_explained_fraction"].passed
    assert outcome.status == "failed"
