from verify.outcome import Check, Outcome
from verify.report import headline


def test_headline_shows_the_check_that_decides_the_verdict():
    passing = Check("gap", 0.01, "<=", 0.05)
    missed_prediction = Check("ratio", 2.0, "<=", 0.5)
    missed_precondition = Check("settled", -1.0, ">=", 0.0, role="precondition")
    assert headline(Outcome.from_checks([passing])).startswith("gap 0.01")
    # failed: the missed prediction, not the first (passing) one
    assert headline(Outcome.from_checks([passing, missed_prediction])).startswith("ratio 2")
    # inconclusive: the unmet precondition, even when a prediction also misses
    out = Outcome.from_checks([passing, missed_prediction, missed_precondition])
    assert out.status == "inconclusive" and headline(out).startswith("settled -1")
    # a missed control decides a failure too
    assert headline(Outcome.from_checks([passing, Check("control", 1.0, ">=", 3.0, role="control")])).startswith("control 1")
    assert Outcome.from_checks([passing]).deciding_checks == []


def _multi_unit_seed(seed: int, b_miss: str):
    """Unit A cannot decide (its precondition misses; its prediction misses too); unit B decides:
    ``b_miss`` names B's missed check."""
    from verify.tasks import outcome_data

    checks = [Check("a_settled", 0.0, ">=", 1.0, role="precondition", unit="A"),
              Check("a_pred", 9.0, "<=", 1.0, unit="A"),
              Check("b_pred", 9.0 if b_miss == "b_pred" else 0.5, "<=", 1.0, unit="B"),
              Check("b_ctrl", 0.5 if b_miss == "b_ctrl" else 9.0, ">=", 2.0, role="control", unit="B")]
    out = Outcome.from_checks(checks)
    assert out.status == "failed" and out.unit_statuses == {"A": "inconclusive", "B": "failed"}
    return outcome_data(seed, out, 0.0)


def test_the_evidence_of_a_failed_multi_unit_claim_names_the_failed_units_check():
    from verify.aggregate import aggregate, deciding_summary
    from verify.report import evidence

    per_seed = [_multi_unit_seed(0, "b_pred"), _multi_unit_seed(1, "b_pred"), _multi_unit_seed(2, "b_ctrl")]
    agg = aggregate(per_seed)
    assert agg["status"] == "failed"
    by_name = {c["name"]: c for c in agg["checks"]}
    assert by_name["a_pred"]["deciding"] == 0 and by_name["b_pred"]["deciding"] == 2
    assert by_name["b_pred"]["unit"] == "B"
    # the inconclusive unit's prediction missed on more seeds (3) than B's (2): counting misses alone
    # (reports without the per-seed ``deciding`` flag) names it; the deciding count names B's
    legacy = [dict(c, deciding=0) for c in agg["checks"]]
    assert deciding_summary("failed", legacy)["name"] == "a_pred"
    assert deciding_summary("failed", agg["checks"])["name"] == "b_pred"
    assert evidence("failed", agg["checks"]).startswith("b_pred 9")
