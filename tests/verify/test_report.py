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
