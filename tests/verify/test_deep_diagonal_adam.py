"""deep-diagonal-adam-implied-regularizer: the checks read the right numbers and can miss (a run at
the rival's interpolator, a sabotaged too-short run), and its preconditions read inconclusive."""
import dataclasses
from types import SimpleNamespace

import numpy as np

from verify.deep_diagonal_checks import adam_depth_checks
from verify.context import Context
from verify.experiments import deep_diagonal as exp
from verify.outcome import Outcome
from verify.registry import get

CLAIM = "deep-diagonal-adam-implied-regularizer"


def test_registered_as_a_reading_expected_to_fail_with_its_numbers_in_the_statement():
    claim = get(CLAIM)
    assert claim.kind == "reading" and claim.expected == "failed" and claim.title.startswith("Reading")
    s = exp.ADAM_SETTINGS
    assert f"d = {s.d}" in claim.statement and f"within relative distance {s.tolerance:g}" in claim.statement
    assert f"≥ {s.separation * s.tolerance:g}" in claim.statement


def _result(trained, late=None, rival_gap=1.0, N=3):
    """A synthetic Adam result on a 2 × 6 problem: the prediction is a vertex, the rivals are
    ``rival_gap`` (trace) and 2·``rival_gap`` (ℓ1) away from it (relative)."""
    pred = np.array([1.0, 0.0, -0.5, 0.0, 0.0, 0.0])
    norm = np.linalg.norm(pred)
    trace = pred + rival_gap * norm * np.array([0, 1.0, 0, 0, 0, 0])
    l1 = pred + 2 * rival_gap * norm * np.array([0, 0, 0, 1.0, 0, 0])
    W = np.repeat(np.asarray(trained, float)[None], 8, axis=0)
    L = W if late is None else np.repeat(np.asarray(late, float)[None], 8, axis=0)
    problem = SimpleNamespace(c=np.ones(6), y=np.array([1.0, 0.0]), Z=np.eye(2, 6))
    return {"N": N, "prediction": pred, "rivals": {"trace": trace, "l1": l1}, "trained": W,
            "trained_at_three_quarters": L, "projection_residual": 0.0, "problem": problem}


def _status(result, N=3):
    return Outcome.from_checks(adam_depth_checks(N, result)).status


def test_a_run_at_the_prediction_is_verified_and_at_the_nearest_rival_fails():
    r = _result([1.0, 0.0, -0.5, 0.0, 0.0, 0.0])
    assert _status(r) == "verified"
    at_rival = _result(r["rivals"]["trace"])
    checks = {c.name: c for c in adam_depth_checks(3, at_rival)}
    assert not checks["depth3_distance_to_prediction"].passed
    assert not checks["depth3_control_rival_over_own"].passed
    assert _status(at_rival) == "failed"


def test_the_control_is_against_the_nearer_rival():
    """Trained halfway between the prediction and the ℓ1 argmin (the farther rival): the distance
    check misses; the control reads the trace argmin, the nearer one."""
    r = _result([1.0, 0.0, -0.5, 0.02, 0.0, 0.0])
    note = {c.name: c for c in adam_depth_checks(3, r)}["depth3_control_rival_over_own"].note
    assert "label-noise SGD" in note


def test_close_rivals_or_a_moving_run_read_inconclusive():
    close = _result([1.0, 0.0, -0.5, 0.0, 0.0, 0.0], rival_gap=0.1)
    assert _status(close) == "inconclusive"
    moving = _result([1.0, 0.0, -0.5, 0.0, 0.0, 0.0], late=[1.0, 0.3, -0.5, 0.0, 0.0, 0.0])
    assert _status(moving) == "inconclusive"


def test_a_sabotaged_too_short_run_misses(monkeypatch):
    """A real run of depth 3 on a tuning seed cut to η²δ²·steps = 0.02 (50 steps) stays near its
    start: the prediction check must miss."""
    monkeypatch.setattr(exp, "DEPTHS", (3,))
    monkeypatch.setattr(exp, "ADAM_SETTINGS", dataclasses.replace(exp.ADAM_SETTINGS, horizon=(0.02,) * 3))
    out = get(CLAIM).check(Context(seed=10000))
    misses = [c.name for c in out.checks if not c.passed]
    assert "depth3_distance_to_prediction" in misses and out.status != "verified"
