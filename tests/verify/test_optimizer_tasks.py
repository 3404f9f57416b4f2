"""verify/optimizer_tasks.py: a fingerprint part's checks and verdict in the catalogue's format, and
each check missing on a sabotaged fingerprint (an uncertified max margin, no run that separates,
a prediction another norm beats)."""
from verify.fingerprint import MemberRun, ModelFingerprint
from verify.identification import identify
from verify.optimizer_report import predicted_norms
from verify.optimizer_tasks import margin_checks, margin_verdict

GAPS = {"lp:1": 0.5, "lp:2": 0.2, "lp:inf": 0.001}          # ℓ∞ clearly closest (separation 200)


def _fingerprint(relative_gap=1e-12, min_margin=1.0, gaps=GAPS):
    member = MemberRun(0.1, None, steps=[10], min_margin=[min_margin], increment_gaps=[dict(gaps)],
                       iterate_gaps=[dict(gaps)])
    separated = min_margin > 0
    ident = identify(gaps, 2.0) if separated else None
    return ModelFingerprint("binary", {}, list(gaps), 10,
                            solutions={n: {"margin": 1.0, "relative_gap": relative_gap, "solver": "s",
                                           "status": "ok"} for n in gaps},
                            members=[member], selected=0 if separated else None, identification=ident,
                            status=("identified" if ident and ident.identified != "undetermined" else
                                    "undetermined") if separated else "not-separated",
                            message="" if separated else "no run separated the data")


def test_a_clean_fingerprint_passes_every_check_and_is_verified():
    fp = _fingerprint()
    checks = margin_checks(fp, None)
    assert [c["role"] for c in checks] == ["precondition", "precondition", "prediction"]
    assert all(c["passed"] for c in checks) and checks[2]["value"] == 0.2 / 0.001
    assert margin_verdict(fp, None)[0] == "verified"


def test_an_uncertified_max_margin_misses_its_precondition():
    checks = margin_checks(_fingerprint(relative_gap=1e-3), None)
    assert not checks[0]["passed"] and checks[0]["value"] == 1e-3


def test_no_separating_run_misses_its_precondition_and_is_inconclusive():
    fp = _fingerprint(min_margin=-0.5)
    checks = margin_checks(fp, None)
    assert [c["passed"] for c in checks] == [True, False]           # no identification, no prediction
    assert margin_verdict(fp, None)[0] == "inconclusive"


def test_close_norms_are_undetermined_not_verified():
    fp = _fingerprint(gaps={"lp:1": 0.5, "lp:2": 0.0015, "lp:inf": 0.001})   # separation 1.5 < 2
    checks = margin_checks(fp, None)
    assert not checks[2]["passed"] and margin_verdict(fp, None)[0] == "inconclusive"


def test_a_prediction_another_norm_beats_fails():
    fp = _fingerprint()
    right, wrong = predicted_norms("max"), predicted_norms("fro")           # binary: lp:inf, lp:2
    assert margin_checks(fp, right)[2]["passed"] and margin_verdict(fp, right)[0] == "verified"
    check = margin_checks(fp, wrong)[2]
    assert not check["passed"] and check["value"] == 0.001 / 0.2          # the nearest other norm is 200× closer
    assert margin_verdict(fp, wrong)[0] == "failed"
