"""What a fingerprint found (``verify.identification.Finding``) against how its runs ended
(``numerics.run_status.RunStatus``): the margin, network and sharpness fingerprints' ``status`` is a
member of one of the two, refused where the record is built when it is any other word or one the
record cannot have, and written to JSON as the words the records always used."""
import json
import math

import pytest

from numerics.run_status import RunStatus
from verify.fingerprint import MemberRun, ModelFingerprint, _finish as finish_margin
from verify.identification import UNDETERMINED, Finding, identify
from verify.network_fingerprint import NetworkFingerprint, NetworkRun, _finish as finish_network
from verify.sharpness_fingerprint import SharpnessFingerprint

# the words each record's JSON "status" had before 2026-12-07 (session 7), by the path that writes them
OLD_WORDS = {
    "margin": {"identified", "undetermined", "not-separated", "error", "interrupted"},
    "network": {"identified", "undetermined", "not-separated", "error"},
    "sharpness": {"ok", "outside-family", "error"},
}


def test_findings_are_strings_with_messages_and_share_no_word_with_the_run_statuses():
    assert [f.value for f in Finding] == ["identified", "undetermined", "not-separated", "outside-family"]
    assert all(f.message for f in Finding) and UNDETERMINED is Finding.UNDETERMINED
    assert not {f.value for f in Finding} & {s.value for s in RunStatus}
    assert json.dumps({"s": Finding.NOT_SEPARATED}) == '{"s": "not-separated"}'
    assert Finding("identified") is Finding.IDENTIFIED
    with pytest.raises(ValueError):
        Finding("found")
    assert identify({"a": 0.001, "b": 0.5}, 2.0).finding is Finding.IDENTIFIED
    assert identify({"a": 0.01, "b": 0.015}, 2.0).finding is Finding.UNDETERMINED
    assert identify({"a": 0.3, "b": 0.9}, 2.0, fit_tolerance=0.1).finding is Finding.UNDETERMINED


def _margin(members):
    return ModelFingerprint("binary", {}, ["lp:1", "lp:2", "lp:inf"], 10, members=members)


def _member(gaps, min_margin=1.0, status=RunStatus.OK):
    from numerics.optim import PowerSchedule

    return MemberRun(0.1, PowerSchedule(0.1, 0.5), steps=[10], min_margin=[min_margin], increment_gaps=[dict(gaps)],
                     iterate_gaps=[dict(gaps)], status=status)


def test_the_margin_fingerprint_status_is_a_finding_or_the_run_end_and_its_json_words_are_the_old_ones():
    cases = {
        Finding.IDENTIFIED: [_member({"lp:1": 0.5, "lp:2": 0.2, "lp:inf": 0.001})],
        Finding.UNDETERMINED: [_member({"lp:1": 0.5, "lp:2": 0.012, "lp:inf": 0.01})],
        Finding.NOT_SEPARATED: [_member({"lp:1": 0.5, "lp:2": 0.2, "lp:inf": 0.001}, min_margin=-0.1)],
        RunStatus.ERROR: [_member({"lp:1": 0.5, "lp:2": 0.2, "lp:inf": 0.001}, min_margin=-0.1,
                                  status=RunStatus.ERROR)],
    }
    for want, members in cases.items():
        fp = _margin(members)
        finish_margin(fp, 2.0)
        assert fp.status is want, want
        assert json.loads(json.dumps(fp.record()))["status"] == want.value
    interrupted = _margin(cases[Finding.IDENTIFIED])
    interrupted.status = "interrupted"                   # an old word: stored as the run status
    finish_margin(interrupted, 2.0)
    assert interrupted.status is RunStatus.INTERRUPTED and interrupted.identified == "lp:inf"
    assert {s.value for s in (*cases, RunStatus.INTERRUPTED)} == OLD_WORDS["margin"]
    assert _margin([]).status is Finding.UNDETERMINED    # before the runs are read (it was "pending")


def test_the_network_fingerprint_status_is_a_finding_or_error_and_its_json_words_are_the_old_ones():
    l2, linf = "lp:2", "lp:inf"
    cases = {
        Finding.IDENTIFIED: [NetworkRun(1.0, 500, -300.0, phase="deep", residuals={l2: 0.02, linf: 0.5})],
        Finding.UNDETERMINED: [NetworkRun(1.0, 500, -300.0, phase="deep", residuals={l2: 0.02, linf: 0.03})],
        Finding.NOT_SEPARATED: [NetworkRun(0.1, 10_000, -1.0, phase="not fit")],
        RunStatus.ERROR: [NetworkRun(0.1, 3, math.nan, status="error", message="NaN at step 3")],
    }
    for want, runs in cases.items():
        fp = NetworkFingerprint(runs=runs)
        finish_network(fp)
        assert fp.status is want, want
        assert json.loads(json.dumps(fp.record()))["status"] == want.value
    assert {s.value for s in cases} == OLD_WORDS["network"]


def test_the_sharpness_fingerprint_status_is_how_its_runs_ended_or_outside_the_family():
    for word in OLD_WORDS["sharpness"]:
        fp = SharpnessFingerprint(word, eta=0.02, replicas=2, exponent=0.5, per_eta={0.04: 0.5, 0.02: 0.5},
                                  interval=None, interval_note="no interval: x")
        assert fp.status == word and json.loads(json.dumps(fp.record()))["status"] == word
        assert isinstance(fp.status, Finding if word == "outside-family" else RunStatus)
    assert "outside the family" in SharpnessFingerprint("outside-family").summary()
    assert SharpnessFingerprint("error", "factory raised").summary() == "error: factory raised"


@pytest.mark.parametrize("make", [
    lambda s: ModelFingerprint("binary", {}, [], 10, status=s),
    lambda s: NetworkFingerprint(status=s),
    lambda s: SharpnessFingerprint(s),
], ids=["margin", "network", "sharpness"])
def test_a_fingerprint_refuses_a_status_it_cannot_have_where_it_is_built(make):
    """Free text, a word of the other fingerprints' vocabulary, and a run status a fingerprint never
    ends in are refused at construction and at assignment."""
    allowed = {"margin": OLD_WORDS["margin"], "network": OLD_WORDS["network"],
               "sharpness": OLD_WORDS["sharpness"]}
    kind = {ModelFingerprint: "margin", NetworkFingerprint: "network", SharpnessFingerprint: "sharpness"}
    record = make("error")
    words = allowed[kind[type(record)]]
    for bad in ("pending", "rest", "not converged", "ok", "identified", "outside-family", "interrupted",
                "Identified", "not separated", ""):
        if bad in words:
            continue
        with pytest.raises(ValueError, match="for this record; allowed: "):
            make(bad)
        with pytest.raises(ValueError, match="for this record; allowed: "):
            record.status = bad
    assert record.status is RunStatus.ERROR
