"""NaN through every aggregation path of the section-4/5 claims (ali2019, rudoler2025, wager2013,
cao2021, slutzky2025, wang2023).

Each test replaces the expensive numerics a claim calls (training, solvers) with a fast stand-in of
the same shape, makes ONE measured number NaN, runs the claim's check, and asserts that the NaN
reaches a decisive check (a non-finite value there) and that the claim is not ``verified``. With the
aggregation these claims used before (Python ``max``/``min``, running extrema from ``inf``) a NaN
that is not first in its list vanished; the stand-ins put it second.
"""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from verify.context import Context
from verify.registry import get


def _status(claim_id: str, seed: int = 10_000):
    """Status and checks of one quick run; an exception is an ``error`` (as the runner reports it)."""
    try:
        outcome = get(claim_id).check(Context(profile="quick", seed=seed))
    except Exception as exc:                     # noqa: BLE001 - the runner turns these into `error`
        return "error", [], repr(exc)
    return outcome.status, outcome.checks, outcome.message


def _assert_nan_caught(claim_id: str, allowed=("failed", "inconclusive", "error")):
    status, checks, message = _status(claim_id)
    assert status in allowed, (status, message)
    if status != "error":
        assert any(not math.isfinite(c.value) for c in checks if c.role != "info"), \
            "the NaN vanished before it reached a decisive check"
    return status, checks


class _NanOnCall:
    """Wrap ``func``: the ``which``-th call (1-based) returns its result with every float set to NaN."""

    def __init__(self, func, which: int):
        self.func, self.which, self.calls = func, which, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        out = self.func(*args, **kwargs)
        return np.full_like(np.asarray(out, dtype=float), np.nan) if self.calls == self.which else out


# -- section 4 ---------------------------------------------------------------------------------------
def _fast_gd_path(X, y, eta, steps):
    """Gradient descent from 0 in numpy (the same iterates as the torch path, quickly)."""
    n = X.shape[0]
    S, b = X.T @ X / n, X.T @ y / n
    theta, out = np.zeros(X.shape[1]), {}
    for k in range(1, max(steps) + 1):
        theta = theta - eta * (S @ theta - b)
        if k in steps:
            out[k] = theta.copy()
    return out


def test_ali2019_one_nan_ridge_solution(monkeypatch):
    import numerics.equivalences as eq
    monkeypatch.setattr(eq, "gradient_descent_path", _fast_gd_path)
    monkeypatch.setattr(eq, "generalized_ridge", _NanOnCall(eq.generalized_ridge, which=3))
    _assert_nan_caught("ali2019-early-stopping-ridge")


def test_ali2019_nan_sgd_chain(monkeypatch):
    import numerics.equivalences as eq
    real = eq.sgd_epoch_iterates

    def one_nan_chain(*args, **kwargs):
        out = real(*args, **kwargs)
        for it in out.values():
            it[1] = np.nan                              # the second chain of every epoch
        return out

    monkeypatch.setattr(eq, "gradient_descent_path", _fast_gd_path)
    monkeypatch.setattr(eq, "sgd_epoch_iterates", one_nan_chain)
    _assert_nan_caught("ali2019-early-stopping-ridge")


def test_wager2013_nan_sgd_average(monkeypatch):
    import numerics.dropout as dropout
    from numerics.equivalences import dropout_ridge
    calls = []

    def fake_sgd(X, y, rate, eta, steps, chains=64, batch=10, seed=0):
        calls.append(eta)
        w = dropout_ridge(X, y, rate)
        rng = np.random.default_rng(seed)
        final = w + np.sqrt(eta) * 0.1 * np.linalg.norm(w) * rng.standard_normal((chains, len(w)))
        average = w.copy()
        if len(calls) == 3:                             # the smallest step's average is the one read
            average[:] = np.nan
        return dropout.LinearDropoutRun(final, average)

    monkeypatch.setattr(dropout, "dropout_sgd_linear", fake_sgd)
    _assert_nan_caught("wager2013-dropout-ridge")


def _fake_penalized_fits(monkeypatch, nan_call: int):
    """fit_to_stationarity returns θ₀ as if stationary; estimate returns exactly the coefficients the
    fit was trained with (perfect recovery), except on call ``nan_call``, which is all NaN."""
    import numerics.gradient_matching as gm
    import numerics.regularized_fit as rf
    state = {"coef": None, "calls": 0}

    def fake_fit(objective, penalties, coefficients, theta0, max_iterations=0):
        state["coef"] = np.asarray(coefficients, dtype=float)
        return rf.PenalizedFit(np.asarray(theta0, dtype=float), 1e-12, 1.0, 1, "stand-in")

    def fake_estimate(objective, penalties, theta, signed=True, cg_iterations=0):
        state["calls"] += 1
        coef = state["coef"][:len(penalties)].copy()
        rr = 0.5 if len(penalties) == 1 else 1e-9
        if state["calls"] == nan_call:
            coef[:], rr = np.nan, np.nan
        fit = SimpleNamespace(coefficients=coef, residual_ratio=rr, condition_number=10.0, cosine=1.0)
        return SimpleNamespace(fit=fit, stationarity=SimpleNamespace(distance=0.0))

    monkeypatch.setattr(rf, "fit_to_stationarity", fake_fit)
    monkeypatch.setattr(gm, "estimate", fake_estimate)


def test_rudoler2025_recovery_one_nan_estimate(monkeypatch):
    _fake_penalized_fits(monkeypatch, nan_call=2)      # linear model, trained with the Huber penalty
    _assert_nan_caught("rudoler2025-explicit-penalty-recovery")


def test_rudoler2025_recovery_stand_ins_verify_without_nan(monkeypatch):
    """The stand-ins alone (no NaN) verify: the NaN is what makes the test above miss."""
    _fake_penalized_fits(monkeypatch, nan_call=-1)
    status, _, message = _status("rudoler2025-explicit-penalty-recovery")
    assert status == "verified", message


def _fake_dropout(monkeypatch, nan_member: int | None):
    """Members' weights encode their rate; the ℓ2 estimate grows with it (λ̂ = rate/10 with a small
    seed spread, explained share 20%); member ``nan_member`` gets a NaN estimate."""
    import numerics.dropout as dropout
    import numerics.gradient_matching as gm

    def fake_train(arch, X, y, rates, steps, lr, loss="mse", seed=0, progress=None, **kw):
        P = sum(a * b + b for a, b in zip(arch.widths[:-1], arch.widths[1:])) if hasattr(arch, "widths") else 100
        return [np.full(P, 1.0 + r) + 1e-3 * k for k, r in enumerate(rates)]

    calls = {"n": 0}

    def fake_estimate(objective, penalties, theta, signed=True, cg_iterations=0):
        calls["n"] += 1
        member = (calls["n"] - 1) // 2                  # two estimates (ℓ2, per-layer ℓ2) per member
        rate = float(theta[0] - 1.0)
        lam = rate / 10 + 1e-4 * (theta[1] - theta[0] + 1e-3)
        rr = math.sqrt(0.8)
        if member == nan_member:
            lam, rr = np.nan, np.nan
        fit = SimpleNamespace(coefficients=np.array([lam] * len(penalties)), residual_ratio=rr, cosine=0.45)
        return SimpleNamespace(fit=fit)

    monkeypatch.setattr(dropout, "train_dropout_mlps", fake_train)
    monkeypatch.setattr(gm, "estimate", fake_estimate)


@pytest.mark.parametrize("claim_id", ["rudoler2025-dropout-implicit-l2", "rudoler2025-dropout-implicit-l2-digits"])
def test_rudoler2025_dropout_one_nan_estimate(monkeypatch, claim_id):
    _fake_dropout(monkeypatch, nan_member=1)
    _assert_nan_caught(claim_id)


# -- section 5 ---------------------------------------------------------------------------------------
def test_cao2021_one_nan_duality_gap(monkeypatch):
    """Exact log-linear sweep points (log error = −E/2) with one NaN duality gap: the old running max
    over the gaps dropped it and the certificate precondition passed."""
    import numerics.benign_overfitting as bo
    calls = {"n": 0}

    def fake_point(n, d, radius, seed):
        calls["n"] += 1
        E = bo.exponent(n, d, radius)
        gap = np.nan if calls["n"] == 2 else 1e-9
        return bo.SweepPoint(n, d, radius, seed, "ok", E, bo.exponent(n, d, radius, control=True),
                             log_test_error=-0.5 * E - 0.1, duality_gap=gap, all_support_vectors=False)

    monkeypatch.setattr(bo, "sweep_point", fake_point)
    status, checks = _assert_nan_caught("cao2021-benign-overfitting-max-margin")
    gap = {c.name: c for c in checks}["max_svm_duality_gap"]
    assert math.isnan(gap.value) and not gap.passed


def _fake_ssm(monkeypatch, nan_call: int):
    """Gradient flow / GD stand-ins: every run ends at a (fixed, fitted-looking) state with loss 1e-31;
    run ``nan_call`` of the flow ends at NaN."""
    import numerics.ssm as ssm
    import numerics.ssm_train as st
    calls = {"n": 0}

    def state(d):
        a = np.zeros(d)
        a[0], a[1] = 1.0, 1e-2
        return a

    def fake_flow(flow, a0, rtol=1e-10, method="LSODA", target_loss=1e-28, **kw):
        calls["n"] += 1
        a = state(len(a0)) if calls["n"] != nan_call else np.full(len(a0), np.nan)
        return ssm.FlowRun(a, 1e-31, "ok", "stand-in", 1.0, 1, 1, 1, rtol, method, 0.0)

    def fake_gd(flows, a0s, c, max_steps, progress=None, **kw):
        return [st.GDRun(state(len(a0)), 1e-31, 1, "ok") for a0 in a0s]

    monkeypatch.setattr(ssm, "compile_flow", lambda problem: problem)
    monkeypatch.setattr(ssm, "integrate_gradient_flow", fake_flow)
    monkeypatch.setattr(st, "train_gd", fake_gd)


def test_slutzky2025_one_nan_flow(monkeypatch):
    _fake_ssm(monkeypatch, nan_call=3)                   # seed 1 of 3, clean run at rtol
    _assert_nan_caught("slutzky2025-ssm-clean-label-poisoning")


def test_slutzky2025_beyond_one_nan_loss(monkeypatch):
    import numerics.ssm_train as st

    def fake_population(forward, params0, X, y, w, optimizer, steps, progress=None, **kw):
        losses = np.zeros(len(params0[0]))
        losses[2] = np.nan                              # seed 0, benign: second in the loss check
        return st.PopulationRun([p.copy() for p in params0], losses, steps)

    monkeypatch.setattr(st, "train_population", fake_population)
    _assert_nan_caught("slutzky2025-poisoning-beyond-gradient-flow")


def _fake_tnn(monkeypatch):
    """t-NN training stand-in: the layer-mean ratio ends at 0.5 (J = 1) or 0.8 (J = 3) from 0.6,
    losses far below ℓ(0)/n; the third member of every J = 3 population (the first seed's FGSM run,
    which both claims read) ends at NaN."""
    import numerics.tnn_train as tt

    def fake_train(layers0, w0, X, y, M, steps, rel_step, attack, radii, record=(), progress=None):
        P, depth = w0.shape[0], len(layers0)
        end = 0.5 if depth == 1 else 0.8
        history = []
        for t in sorted(set(record) | {0, steps}):
            ratio = np.full(P, 0.6 if t == 0 else end)
            if depth > 1 and t == steps:
                ratio[2] = np.nan
            history.append({"step": t, "log_loss": [-50.0] * P, "clean_log_loss": [-50.0] * P,
                            "min_clean_margin": [1.0] * P, "normalized_margin": [0.1] * P,
                            "spectral_frobenius": [[r] * depth for r in ratio],
                            "mean_spectral_frobenius": ratio.tolist(),
                            "max_stable_rank": [[1.5] * depth for _ in range(P)]})
        return tt.TNNRun(list(layers0), w0, history)

    monkeypatch.setattr(tt, "train_tnn", fake_train)


def test_wang2023_depth_trend_one_nan_run(monkeypatch):
    _fake_tnn(monkeypatch)
    _assert_nan_caught("wang2023-tnn-adversarial-low-rank")


def test_wang2023_reading_one_nan_run(monkeypatch):
    """The reading is expected to fail; a NaN must still reach its checks (it never reads verified)."""
    _fake_tnn(monkeypatch)
    _assert_nan_caught("wang2023-adversarial-vs-standard-rank")
