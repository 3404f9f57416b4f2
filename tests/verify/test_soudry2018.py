"""soudry2018-gd-l2: the gap check fails for a gap that does not decay (issue 23 item 3), the control
is the nearest rival of the ℓp family (item 1), and a sabotaged run that the old checks passed is
caught."""
import math

import numpy as np
import pytest
from scipy.linalg import null_space

import verify.experiments.soudry2018 as soudry
from numerics.train import Trajectory, checkpoints
from verify.context import Context
from verify.registry import get
from verify.outcome import Check

T = 20_000
STEPS = np.array([s for s in checkpoints(T, 40) if s >= 2], float)


def _old_criterion(steps, gaps):
    """The replaced check: [gap · log t] at T over T/10 ≤ 1.5."""
    j = int(np.argmin(np.abs(np.log(steps) - (np.log(steps[-1]) - np.log(10)))))
    return gaps[-1] * np.log(steps[-1]) / (gaps[j] * np.log(steps[j])) <= 1.5


def test_a_constant_gap_fails_where_the_old_ratio_passed():
    gaps = np.full(len(STEPS), 0.05)
    assert _old_criterion(STEPS, gaps)
    exponent = soudry.gap_log_exponent(STEPS, gaps)
    assert exponent == pytest.approx(0.0, abs=1e-9)
    assert not Check("gap_log_exponent", exponent, ">=", soudry.SETTINGS.gap_log_exponent_min).passed


@pytest.mark.parametrize("gaps, expected", [(lambda t: 0.8 / np.log(t), 1.0),
                                            (lambda t: 0.8 / np.log(t) + 2.0 / np.log(t) ** 2, None)])
def test_a_gap_of_order_one_over_log_t_passes(gaps, expected):
    exponent = soudry.gap_log_exponent(STEPS, gaps(STEPS))
    if expected is not None:
        assert exponent == pytest.approx(expected, abs=1e-9)
    assert exponent >= soudry.SETTINGS.gap_log_exponent_min


def test_nan_or_nonpositive_gap_gives_nan():
    gaps = 0.8 / np.log(STEPS)
    gaps[-3] = math.nan
    assert math.isnan(soudry.gap_log_exponent(STEPS, gaps))
    assert math.isnan(soudry.gap_log_exponent(STEPS, np.zeros(len(STEPS))))


@pytest.fixture(scope="module")
def sabotaged(request):
    """The claim's check on a run w(t) = (ŵ + δ) log t, δ ⊥ every x_i with ‖δ‖ = 0.05‖ŵ‖: its margins
    are ŵ's, its normalized-margin gap is constant (≈ ‖δ‖²/2‖ŵ‖²), its residual grows by only
    0.05 of ‖ŵ‖ log 10 per decade."""
    real = soudry.run_population
    captured = {}

    def fake(ctx, tag, problem, norms, optimizers, steps, **kw):
        run = real(ctx, tag + "-sabotaged", problem, norms, optimizers, 10)
        w_hat = run.solutions["lp:2"].W
        delta = null_space(problem.X)[:, 0]
        delta *= 0.05 * np.linalg.norm(w_hat) / np.linalg.norm(delta)
        params = [(w_hat + delta) * math.log(s) for s in STEPS]
        run.trajectories = {"gd": Trajectory("gd", [int(s) for s in STEPS], params, [0.0] * len(STEPS))}
        captured["run"] = run
        return run

    mp = pytest.MonkeyPatch()
    mp.setattr(soudry, "run_population", fake)
    try:
        outcome = get("soudry2018-gd-l2").check(Context(seed=0))
    finally:
        mp.undo()
    return outcome, captured["run"]


def test_sabotaged_run_passed_the_old_checks_and_fails_the_new(sabotaged):
    outcome, run = sabotaged
    checks = {c.name: c for c in outcome.checks}
    gaps = run.gap_curve("gd", "lp:2")
    assert np.ptp(gaps) < 1e-9 * gaps[-1]                       # the gap does not decay at all
    assert _old_criterion(STEPS, gaps)                          # the old gap check passed
    assert checks["residual_growth"].passed                      # 0.05 ≤ 0.07
    assert checks["control_residual_growth"].passed
    assert outcome.status == "failed" and not checks["gap_log_exponent"].passed


def test_control_is_the_nearest_rival(sabotaged):
    outcome, run = sabotaged
    control = outcome.details["control_by_norm"]
    assert set(control) == {"lp:1", "lp:3", "lp:inf"}
    assert outcome.metrics["control_residual_growth"] == min(control.values())
    assert min(control, key=control.get) == "lp:3"               # not ℓ1, the old control
    assert control["lp:3"] < control["lp:1"]
