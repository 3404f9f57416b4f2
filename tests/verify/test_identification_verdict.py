"""verify/identification.py: a prediction's verdict is a member of the catalogue's ``Verdict`` (the
old strings become members and read, compare and serialize as before; any other word is rejected
where the verdict is written)."""
import json

import pytest

from verify.identification import PredictionVerdict, identify, judge_prediction
from verify.outcome import Verdict


def test_judged_verdicts_are_members_with_their_old_strings():
    gaps = {"a": 0.01, "b": 0.012, "c": 0.5}
    ident = identify(gaps, 2.0)
    verdicts = {p: judge_prediction(p, ident, gaps) for p in gaps}
    assert {p: v.status for p, v in verdicts.items()} == {"a": "inconclusive", "b": "inconclusive", "c": "failed"}
    assert all(isinstance(v.status, Verdict) for v in verdicts.values())
    ok = judge_prediction("a", identify({"a": 0.001, "c": 0.5}, 2.0), {"a": 0.001, "c": 0.5})
    assert ok.status is Verdict.VERIFIED and json.dumps({"s": ok.status}) == '{"s": "verified"}'


def test_a_word_outside_the_verdicts_is_rejected_where_it_is_written():
    assert PredictionVerdict("failed", "m").status is Verdict.FAILED
    for bad in ("ok", "undetermined", "identified", ""):
        with pytest.raises(ValueError, match="unknown Verdict"):
            PredictionVerdict(bad, "m")
