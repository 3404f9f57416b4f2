"""Verdict logic, the JSON contract of `run`/`all`, and partial results on interruption."""
import json

from theory.derivation import Derivation
from verify.outcome import Check, Outcome
from verify.registry import Claim
from verify.runner import run_claims


def _claim(cid, check):
    return Claim(id=cid, title=cid, source="Test 2026", section="9 Test", statement="",
                 check=check, derivation=lambda: Derivation("d"))


def test_status_logic():
    ok = Check("gap", 1e-3, "<=", 1e-2)
    miss = Check("gap", 1e-1, "<=", 1e-2)
    ctrl_miss = Check("control", 1e-3, ">=", 3e-2, "control")
    pre_miss = Check("solver", 1e-3, "<=", 1e-6, "precondition")
    assert Outcome.from_checks([ok]).status == "verified"
    assert Outcome.from_checks([ok, miss]).status == "failed"
    assert Outcome.from_checks([ok, ctrl_miss]).status == "failed"
    assert Outcome.from_checks([miss, pre_miss]).status == "inconclusive"
    assert Outcome.from_checks([Check("x", float("nan"), "<=", 1.0)]).status == "failed"
    # info alone decides nothing: a claim that checked nothing is an error, not verified
    assert Outcome.from_checks([Check("x", 5.0, "<=", 1.0, "info")]).status == "error"


def test_json_contract_and_exit_codes(tmp_path, capsys):
    claims = [_claim("a-ok", lambda ctx: Outcome.from_checks([Check("gap", 1e-3, "<=", 1e-2)])),
              _claim("b-broken", lambda ctx: 1 / 0)]
    path = tmp_path / "r.json"
    code = run_claims(claims, json_path=str(path))
    assert code == 1
    report = json.loads(path.read_text())
    assert report["complete"] is True and report["environment"]["profile"] == "quick"
    a, b = report["claims"]
    for rec in (a, b):
        assert {"id", "title", "source", "status", "metrics", "tolerances", "seconds"} <= set(rec)
    assert a["status"] == "verified" and a["metrics"]["gap"] == 1e-3 and a["tolerances"]["gap"] == 1e-2
    assert b["status"] == "error" and "ZeroDivisionError" in b["message"]
    assert run_claims(claims[:1]) == 0


def test_interrupt_keeps_partial_results(tmp_path):
    def interrupted(ctx):
        raise KeyboardInterrupt

    claims = [_claim("a-ok", lambda ctx: Outcome.from_checks([Check("gap", 1e-3, "<=", 1e-2)])),
              _claim("b-interrupted", interrupted)]
    path = tmp_path / "r.json"
    assert run_claims(claims, json_path=str(path)) == 130
    report = json.loads(path.read_text())
    assert report["complete"] is False and report["interrupted"] is True
    assert [c["id"] for c in report["claims"]] == ["a-ok"]


# -- a Ctrl-C before the run's own report exists (issue 21): the --json target still gets one ------
def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


def test_a_ctrl_c_while_the_catalogue_loads_writes_a_report_with_no_claim(tmp_path, monkeypatch, capsys):
    import verify.commands.all as all_command
    from verify.cli import main

    monkeypatch.setattr(all_command, "select", _interrupt)       # Ctrl-C while the claim modules import
    path = tmp_path / "r.json"
    assert main(["all", "--no-cache", "--seeds", "0:2", "--json", str(path)]) == 130
    report = json.loads(path.read_text())
    assert report["claims"] == [] and report["complete"] is False and report["interrupted"] is True
    assert report["seeds"] == [0, 1] and "unfinished" not in report         # which claims: not known yet
    assert capsys.readouterr().err == "interrupted\n"


def test_a_ctrl_c_while_the_run_opens_names_the_claims_that_did_not_run(tmp_path, monkeypatch):
    import verify.runner as runner

    monkeypatch.setattr(runner, "source_hash", _interrupt)      # Ctrl-C while the package source is hashed
    claims = [_claim("a-ok", lambda ctx: Outcome.from_checks([Check("gap", 1e-3, "<=", 1e-2)]))]
    path = tmp_path / "r.json"
    try:
        run_claims(claims, json_path=str(path), seeds=[3])
    except KeyboardInterrupt:
        pass
    else:
        raise AssertionError("the interrupt must go on to the command (exit 130)")
    report = json.loads(path.read_text())
    assert report["unfinished"] == ["a-ok"] and report["seeds"] == [3] and report["complete"] is False


def test_without_the_stub_an_early_ctrl_c_leaves_no_report(tmp_path, monkeypatch):
    """Negative control: the report above comes from ``stub_on_interrupt``, not from elsewhere."""
    from contextlib import nullcontext

    import verify.commands.all as all_command
    from verify.cli import main

    monkeypatch.setattr(all_command, "select", _interrupt)
    monkeypatch.setattr(all_command, "stub_on_interrupt", lambda *a, **k: nullcontext({}))
    path = tmp_path / "r.json"
    assert main(["all", "--no-cache", "--json", str(path)]) == 130
    assert not path.exists()
