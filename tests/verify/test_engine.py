"""The engine in process: the aggregation rule over seeds, the per-seed JSON contract, tasks
(claim module × seed, one fresh Context each), exit codes by kind, and reports that cannot be
written."""
import json
import math

import pytest
from hypothesis import given, strategies as st

from theory.derivation import Derivation
from verify.aggregate import aggregate, aggregate_status, meets_expectation
from verify.outcome import Check, Outcome
from verify.registry import Claim, all_claims, group_of
from verify.runner import run_claims
from verify.tasks import outcome_data, plan_tasks, run_task

NAN = float("nan")


def _claim(cid, check, kind="paper", expected=None):
    return Claim(id=cid, title=cid, source="Test 2026", section="9 Test", statement="s",
                 check=check, derivation=lambda: Derivation("d"), kind=kind, expected=expected)


def _rec(seed, status, value=0.0):
    return {"seed": seed, "status": status, "message": f"{status} on {seed}", "metrics": {"m": value},
            "checks": [{"name": "gap", "value": value, "op": "<=", "tolerance": 1.0, "role": "prediction",
                        "passed": status == "verified", "note": ""}]}


@pytest.mark.parametrize("statuses, expected", [
    (["verified"] * 3, "verified"),
    (["verified", "verified", "failed"], "inconclusive"),     # a verdict holds on every seed
    (["verified", "failed", "failed"], "failed"),
    (["failed", "verified"], "inconclusive"),                 # a tie is no majority
    (["failed", "inconclusive", "inconclusive"], "failed"),   # only seeds whose preconditions held vote
    (["verified", "inconclusive", "inconclusive"], "inconclusive"),
    (["verified", "error", "verified"], "inconclusive"),
    (["error", "error"], "error"),
    (["failed", "error", "error"], "failed"),
])
def test_aggregation_rule(statuses, expected):
    assert aggregate_status(statuses) == expected


@given(st.lists(st.sampled_from(["verified", "failed", "inconclusive", "error"]), min_size=1, max_size=15))
def test_aggregation_properties(statuses):
    status = aggregate_status(statuses)
    assert (status == "verified") == all(s == "verified" for s in statuses)
    decided = [s for s in statuses if s in ("verified", "failed")]
    assert (status == "failed") == (2 * decided.count("failed") > len(decided))
    # permutation invariance
    assert aggregate_status(list(reversed(statuses))) == status


def test_aggregate_message_medians_and_nan():
    agg = aggregate([_rec(0, "verified", 0.1), _rec(1, "failed", 3.0), _rec(2, "verified", 0.2)])
    assert agg["status"] == "inconclusive" and agg["message"].startswith("2/3 seeds verified")
    assert "seed 1 failed" in agg["message"]
    (gap,) = agg["checks"]
    assert (gap["median"], gap["min"], gap["max"], gap["passed"], gap["seeds"]) == (0.2, 0.1, 3.0, 2, 3)
    assert agg["metrics"]["m"] == 0.2
    with_nan = aggregate([_rec(0, "verified", 0.1), _rec(1, "failed", NAN)])
    c = with_nan["checks"][0]
    assert math.isnan(c["median"]) and math.isnan(c["min"]) and math.isnan(c["max"])
    assert math.isnan(with_nan["metrics"]["m"])
    # an error seed has no checks: the others are summarized, the error is in the message
    err = {"seed": 5, "status": "error", "message": "boom", "checks": [], "metrics": {}}
    agg = aggregate([_rec(0, "verified", 0.1), err])
    assert agg["checks"][0]["seeds"] == 1 and "seed 5 error: boom" in agg["message"]


def test_expectations_by_kind():
    assert meets_expectation("paper", None, "verified") and not meets_expectation("paper", None, "failed")
    assert meets_expectation("reading", "failed", "failed")
    assert not meets_expectation("reading", "failed", "verified")
    assert not meets_expectation("extension", None, "inconclusive")


def _by_seed(ctx):
    """gap = seed / 10: verified on seeds 0..9 (tolerance 1), failed from 10 on."""
    return Outcome.from_checks([Check("gap", ctx.seed / 10, "<=", 1.0),
                                Check("control", 5.0, ">=", 2.0, "control")])


def test_multi_seed_json_contract(tmp_path, capsys):
    path = tmp_path / "r.json"
    reading = _claim("r-reading", lambda ctx: Outcome.from_checks([Check("x", 2.0, "<=", 1.0)]),
                     kind="reading", expected="failed")
    assert run_claims([_claim("a-seeds", _by_seed), reading], seeds=[0, 4, 8], json_path=str(path)) == 0
    report = json.loads(path.read_text())
    assert report["seeds"] == [0, 4, 8] and report["environment"]["seeds"] == [0, 4, 8]
    assert report["complete"] is True and "verified iff verified on every seed" in report["aggregation"]
    a, r = report["claims"]
    assert a["kind"] == "paper" and "expected" not in a and a["status"] == "verified"
    assert r["kind"] == "reading" and r["expected"] == "failed" and r["status"] == "failed"
    assert [p["seed"] for p in a["per_seed"]] == [0, 4, 8]
    assert all({"seed", "status", "checks"} <= set(p) for p in a["per_seed"])
    assert a["metrics"]["gap"] == pytest.approx(0.4)
    gap = next(c for c in a["checks"] if c["name"] == "gap")
    assert (gap["median"], gap["min"], gap["max"]) == pytest.approx((0.4, 0.0, 0.8))
    out = capsys.readouterr().out
    assert "vvv" in out and "gap 0.4 [0, 0.8]" in out and "failed (as expected)" in out


def test_exit_code_follows_kinds_and_majority(tmp_path):
    # seeds 0, 5, 12: the third fails; verified on 2/3 -> inconclusive, exit 1
    assert run_claims([_claim("a-seeds", _by_seed)], seeds=[0, 5, 12]) == 1
    # a reading that verifies although it expects `failed`: exit 1
    wrong = _claim("r", lambda ctx: Outcome.from_checks([Check("x", 0.5, "<=", 1.0)]), kind="reading",
                   expected="failed")
    assert run_claims([wrong], seeds=[0]) == 1
    path = tmp_path / "r.json"
    assert run_claims([_claim("a-seeds", _by_seed)], seeds=[11, 12, 1], json_path=str(path)) == 1
    (rec,) = json.loads(path.read_text())["claims"]
    assert rec["status"] == "failed" and rec["message"].startswith("1/3 seeds verified")


def test_an_error_seed_keeps_the_other_seeds(tmp_path):
    def flaky(ctx):
        if ctx.seed == 1:
            raise RuntimeError("seed one breaks")
        return _by_seed(ctx)

    path = tmp_path / "r.json"
    assert run_claims([_claim("flaky", flaky)], seeds=[0, 1, 2], json_path=str(path)) == 1
    (rec,) = json.loads(path.read_text())["claims"]
    assert [p["status"] for p in rec["per_seed"]] == ["verified", "error", "verified"]
    assert rec["status"] == "inconclusive" and "2/3 seeds verified" in rec["message"]
    assert "RuntimeError: seed one breaks" in rec["message"]


def test_verbose_prints_every_check_as_median_and_range(capsys):
    run_claims([_claim("a-seeds", _by_seed)], seeds=[0, 2, 6], verbose=True)
    out = capsys.readouterr().out
    assert "[prediction] gap = 0.2 [0, 0.6] (<= 1: ok; 3/3 seeds ok)" in out
    assert "[control] control = 5" in out and "seeds: 0 verified, 2 verified, 6 verified" in out


def test_one_fresh_context_per_task():
    seen = []

    def remembers(ctx):
        seen.append(sorted(k[1] for k in ctx.cache))
        ctx.shared(("x",), lambda: ctx.seed)
        return _by_seed(ctx)

    run_claims([_claim("mem", remembers)], seeds=[3, 4])
    assert seen == [[], []]


def test_tasks_group_claims_by_module():
    claims = all_claims()
    modules = {group_of(c) for c in claims}
    tasks = plan_tasks(claims, "quick", [0, 1])
    assert len(tasks) == 2 * len(modules)
    fan = [t for t in tasks if t.group == "verify.claims.fan2025"]
    assert [t.seed for t in fan] == [0, 1] and len(fan[0].claim_ids) == 15
    assert all(t.claims is None and t.module == t.group for t in tasks)   # workers import by name
    done = {("fan2025-nsd-max", 0)}
    again = plan_tasks(claims, "quick", [0, 1], done=lambda cid, s: (cid, s) in done)
    fan0 = next(t for t in again if t.group == "verify.claims.fan2025" and t.seed == 0)
    assert "fan2025-nsd-max" not in fan0.claim_ids and len(fan0.claim_ids) == 14


def test_run_task_returns_plain_data_and_is_repeatable():
    claim = _claim("a-seeds", _by_seed)
    (task,) = plan_tasks([claim], "quick", [3])
    first, second = run_task(task.spec()), run_task(task.spec())
    rec = first["records"]["a-seeds"]
    json.dumps(rec)                                     # plain data
    assert rec["seed"] == 3 and rec["status"] == "verified"
    strip = lambda r: {k: v for k, v in r.items() if k != "seconds"}  # noqa: E731
    assert strip(rec) == strip(second["records"]["a-seeds"])


def test_outcome_data_keeps_nan_until_the_report():
    rec = outcome_data(0, Outcome.from_checks([Check("x", NAN, "<=", 1.0)]), 0.1)
    assert math.isnan(rec["checks"][0]["value"]) and rec["status"] == "failed"


def test_unwritable_reports_still_print_the_results(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code = run_claims([_claim("a-seeds", _by_seed)], seeds=[0], json_path=str(blocker / "r.json"),
                      html_path=str(blocker / "r.html"))
    captured = capsys.readouterr()
    assert code == 1                                  # verified, but a report could not be written
    assert "a-seeds" in captured.out and "verified" in captured.out
    assert "could not write the JSON report" in captured.err and "could not write the HTML report" in captured.err
    assert "Traceback" not in captured.err


def test_progress_shows_tasks_and_an_estimate():
    import io

    from verify.progress import TaskProgress

    stream = io.StringIO()
    progress = TaskProgress(stream, enabled=True, min_interval=0)
    progress.begin(4, workers=2, estimates={"a": 10.0, "b": 10.0, "c": 20.0, "d": 20.0})
    assert "tasks 0/4" in stream.getvalue() and "ETA 30s" in stream.getvalue()   # 60 s over 2 workers
    progress.started("fan2025 seed 0")
    progress.update(5, 10, "training")
    assert "fan2025 seed 0  5/10 (50%)  training" in stream.getvalue()
    progress.finish("a")
    assert "tasks 1/4" in stream.getvalue()
    unknown = TaskProgress(io.StringIO(), enabled=True)
    unknown.begin(3)
    assert unknown.eta() != unknown.eta()          # no estimate before a task is done (NaN)


def test_a_module_may_declare_its_claims_independent(monkeypatch):
    import sys

    claims = [c for c in all_claims() if group_of(c) == "verify.claims.li2025"]
    li2025 = sys.modules[group_of(claims[0])]          # the module as the planner sees it
    assert len(plan_tasks(claims, "quick", [0])) == 1
    monkeypatch.setattr(li2025, "INDEPENDENT_CLAIMS", True, raising=False)
    tasks = plan_tasks(claims, "quick", [0])
    assert len(tasks) == len(claims) > 1 and all(t.module == "verify.claims.li2025" for t in tasks)


def test_an_interrupted_run_keeps_the_seeds_of_unfinished_claims(tmp_path):
    def stops(ctx):
        if ctx.seed == 1:
            raise KeyboardInterrupt
        return _by_seed(ctx)

    path = tmp_path / "r.json"
    assert run_claims([_claim("half", stops)], seeds=[0, 1], json_path=str(path)) == 130
    report = json.loads(path.read_text())
    assert report["claims"] == [] and report["unfinished"] == ["half"]
    assert [p["seed"] for p in report["unfinished_seeds"]["half"]] == [0]
