import math

import pytest

from verify.numbers import nan_max, nan_median, nan_min
from verify.outcome import Check, Outcome


def _p(name, value, tol, role="prediction", unit=""):
    return Check(name, value, "<=", tol, role=role, unit=unit)


def test_empty_check_list_is_error_not_verified():
    assert Outcome.from_checks([]).status == "error"
    # info checks alone decide nothing either
    assert Outcome.from_checks([_p("x", 1.0, 0.0, role="info")]).status == "error"


def test_nan_value_never_passes():
    assert Outcome.from_checks([_p("gap", math.nan, 1.0)]).status == "failed"
    assert Outcome.from_checks([_p("cert", math.nan, 1.0, role="precondition"),
                                _p("gap", 0.0, 1.0)]).status == "inconclusive"


def test_failure_in_one_unit_not_hidden_by_another_units_precondition():
    checks = [_p("converged", 2.0, 1.0, role="precondition", unit="a"),   # unit a cannot decide
              _p("gap", 5.0, 1.0, unit="b"),                              # unit b decisively misses
              _p("gap_a", 0.0, 1.0, unit="a")]
    outcome = Outcome.from_checks(checks)
    assert outcome.status == "failed"
    assert outcome.unit_statuses == {"a": "inconclusive", "b": "failed"}
    assert [c.name for c in outcome.deciding_checks] == ["gap"]
    # without units (the old rule) the precondition miss would have hidden it
    old = [Check(c.name, c.value, c.op, c.tolerance, c.role) for c in checks]
    assert Outcome.from_checks(old).status == "inconclusive"


def test_unitless_precondition_applies_to_every_unit():
    checks = [_p("certified", 2.0, 1.0, role="precondition"), _p("gap", 5.0, 1.0, unit="b")]
    assert Outcome.from_checks(checks).status == "inconclusive"


def test_nan_aggregation_propagates():
    # Python's max drops a NaN that does not come first; these never do
    assert max(0.0, math.nan, 1e-12) == 1e-12
    assert math.isnan(nan_max([0.0, math.nan, 1e-12]))
    assert math.isnan(nan_min([math.inf, math.nan]))
    assert math.isnan(nan_median([1.0, math.nan, 2.0]))
    assert math.isnan(nan_max([]))
    assert nan_max([1.0, 3.0, 2.0]) == 3.0


def test_verdicts_are_one_enumeration_of_plain_strings():
    import json

    from verify.outcome import STATUSES, Verdict
    from verify.report import seed_marks

    assert STATUSES == ("verified", "failed", "inconclusive", "error")
    assert json.dumps(Verdict.FAILED) == '"failed"' and f"{Verdict.ERROR}" == "error"
    assert Verdict.worst(["verified", "inconclusive", "failed"]) is Verdict.FAILED
    assert Verdict.worst(["verified", "verified"]) is Verdict.VERIFIED
    assert Verdict.worst(["inconclusive", "error"]) is Verdict.ERROR
    assert seed_marks(["verified", "failed", "inconclusive", "error", "ok"]) == "vFiE?"
    with pytest.raises(ValueError):
        Verdict.worst(["ok"])                         # a run status is not a verdict


def test_the_message_names_the_deciding_miss_first():
    """A failed unit's miss leads the message even when an inconclusive unit's misses come first in
    the check list (the evidence a reader sees first is what set the verdict)."""
    checks = [Check("depth2_settled", 0.2, "<=", 0.025, "precondition", unit="depth 2"),
              Check("depth2_distance", 0.5, "<=", 0.05, unit="depth 2"),
              Check("depth3_distance", 0.4, "<=", 0.05, unit="depth 3")]
    out = Outcome.from_checks(checks)
    assert out.status == "failed"
    assert out.message.startswith("depth3_distance")
    assert "depth2_settled" in out.message and "depth2_distance" in out.message   # nothing dropped
