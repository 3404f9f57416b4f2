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


def _result(trained, late=None, rival_gap=1.0, N=3, residual=0.0, per_replica=None):
    """A synthetic Adam result on a 2 × 6 problem: the prediction is a vertex, the rivals are
    ``rival_gap`` (trace) and 2·``rival_gap`` (ℓ1) away from it (relative). Every replica's
    last-quarter average is ``trained`` and its third-quarter average ``late`` (default: the same, a
    stopped run); ``per_replica`` = (last, third) arrays of shape (8, 6) instead."""
    pred = np.array([1.0, 0.0, -0.5, 0.0, 0.0, 0.0])
    norm = np.linalg.norm(pred)
    trace = pred + rival_gap * norm * np.array([0, 1.0, 0, 0, 0, 0])
    l1 = pred + 2 * rival_gap * norm * np.array([0, 0, 0, 1.0, 0, 0])
    if per_replica is None:
        W = np.repeat(np.asarray(trained, float)[None], 8, axis=0)
        L = W if late is None else np.repeat(np.asarray(late, float)[None], 8, axis=0)
    else:
        W, L = (np.asarray(a, float) for a in per_replica)
    problem = SimpleNamespace(c=np.ones(6), y=np.array([1.0, 0.0]), Z=np.eye(2, 6))
    return {"N": N, "prediction": pred, "rivals": {"trace": trace, "l1": l1}, "trained": W,
            "trained_at_three_quarters": L, "last_quarter": W, "third_quarter": L,
            "projection_residual": residual, "problem": problem}


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


def test_a_replica_stopped_at_another_vertex_fails_even_off_the_manifold():
    """Replicas that stopped at another vertex (1.0 away, ≥ 3 × tolerance) fail on the replica check,
    also when they collapsed a coordinate and do not interpolate (residual 0.1, which would make a
    run at the prediction inconclusive): the run stopped there."""
    other = [1.0, 0.0, 0.0, 0.0, 0.0, 1.12]                 # 1.0 from the prediction (relative)
    for residual in (0.0, 0.1):
        r = _result(other, residual=residual)
        checks = {c.name: c for c in adam_depth_checks(3, r)}
        assert checks["depth3_replicas_settled_elsewhere"].value == 8
        assert not checks["depth3_replicas_settled_elsewhere"].passed
        assert checks["depth3_projection_residual"].role == "info"
        assert _status(r) == "failed"
    # one replica stopped elsewhere, the other seven still moving: the stopped one decides
    last = np.repeat(np.array([[1.0, 0.0, -0.5, 0.0, 0.0, 0.0]]), 8, axis=0)
    third = last.copy()
    third[1:, 4] = 0.3                                        # seven replicas moved 0.27 over the quarter
    last[0], third[0] = other, other
    r = _result(None, per_replica=(last, third))
    checks = {c.name: c for c in adam_depth_checks(3, r)}
    assert checks["depth3_replicas_settled_elsewhere"].value == 1
    assert checks["depth3_settled"].role == "info" and checks["depth3_replicas_moving"].value == 7
    assert _status(r) == "failed"


def test_a_moving_replica_far_away_is_inconclusive_and_a_stopped_one_at_the_argmin_verifies():
    far_moving = _result([1.0, 0.0, 0.0, 0.0, 0.0, 1.12], late=[1.0, 0.0, 0.0, 0.0, 0.3, 1.12])
    checks = {c.name: c for c in adam_depth_checks(3, far_moving)}
    assert checks["depth3_replicas_settled_elsewhere"].value == 0
    assert checks["depth3_settled"].role == "precondition" and not checks["depth3_settled"].passed
    assert _status(far_moving) == "inconclusive"
    at = _result([1.0, 0.0, -0.5, 0.0, 0.0, 0.0])
    assert _status(at) == "verified"
    # at the argmin but off Zw = y (residual above the precondition): not a verification
    assert _status(_result([1.0, 0.0, -0.5, 0.0, 0.0, 0.0], residual=0.1)) == "inconclusive"
    # stopped 2 tolerances away (inside the 3 × tolerance margin): not counted elsewhere, but the
    # settled replica mean misses the prediction
    near = _result([1.0, 0.0, -0.5, 0.0, 0.0, 0.112])
    checks = {c.name: c for c in adam_depth_checks(3, near)}
    assert checks["depth3_replicas_settled_elsewhere"].value == 0
    assert _status(near) == "failed"


def test_a_sabotaged_too_short_run_misses(monkeypatch):
    """A real run of depth 3 on a tuning seed cut to η²δ²·steps = 0.02 (50 steps) stays near its
    start: the prediction check must miss."""
    monkeypatch.setattr(exp, "DEPTHS", (3,))
    monkeypatch.setattr(exp, "ADAM_SETTINGS", dataclasses.replace(exp.ADAM_SETTINGS, horizon=(0.02,) * 3))
    out = get(CLAIM).check(Context(seed=10000))
    misses = [c.name for c in out.checks if not c.passed]
    assert "depth3_distance_to_prediction" in misses and out.status != "verified"
