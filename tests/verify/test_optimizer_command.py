"""``python -m verify optimizer SPEC``: the JSON contract, one-line errors with a written report,
seeds and executors (per-seed records, the catalogue's aggregation, ``--jobs 2`` equal to
``--jobs 1``), and (slow) the identification of the optimizers whose implicit bias is known, loaded
through SPEC."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from verify.cli import main

USER = "tests/verify/user_optimizers"


def _result(path):
    payload = json.loads(path.read_text())
    assert set(payload) == {"result", "environment"}
    return payload["result"]


def test_spec_syntax_is_a_usage_error(capsys):
    assert main(["optimizer", "torch.optim.Adam(lr=1)"]) == 2
    err = capsys.readouterr().err
    assert "module.path:factory" in err and err.count("\n") == 1


@pytest.mark.parametrize("spec, words", [
    ("no_such_module_xyz:make", "module no_such_module_xyz does not import"),
    (f"{USER}/broken.py:raises", "the factory raised RuntimeError: no optimizer today"),
    (f"{USER}/broken.py:not_an_optimizer", "not a torch.optim.Optimizer"),
])
def test_broken_optimizer_report_is_written(tmp_path, capsys, spec, words):
    out, page = tmp_path / "r.json", tmp_path / "r.html"
    code = main(["optimizer", spec, "--seed", "0", "--json", str(out), "--html", str(page)])
    stdout = capsys.readouterr().out
    assert code == 1 and "Traceback" not in stdout
    verdict = [line for line in stdout.splitlines() if line.startswith("verdict:")]
    assert len(verdict) == 1 and verdict[0].startswith("verdict: error") and words in verdict[0]
    result = _result(out)
    assert result["status"] == "error" and words in result["message"]
    assert result["identified"] == {"binary": "undetermined", "multiclass": "undetermined"}
    if spec.startswith("no_such"):       # nothing to train: no fingerprint ran
        assert "network" not in result and "sharpness" not in result
    else:
        assert result["network"]["status"] == "error" and words in result["network"]["message"]
    assert "<html>" in page.read_text() and "error" in page.read_text()


# -- slow: the full quick-profile fingerprint ------------------------------------------------------
KNOWN = [   # SPEC, binary, multiclass: the max-margin norm predicted by the literature
    ("torch.optim:SGD", "lp:2", "fro"),                                   # Soudry et al. 2018
    (f"{USER}/reference.py:signgd", "lp:inf", "entrywise:inf"),           # Gunasekar et al. 2018
    (f"{USER}/reference.py:signum", "lp:inf", "entrywise:inf"),           # Fan et al. 2025
    (f"{USER}/reference.py:adam_eps0", "lp:inf", "entrywise:inf"),        # Fan et al. 2025
    (f"{USER}/reference.py:spectral", "lp:2", "schatten:inf"),            # Fan et al. 2025
    (f"{USER}/reference.py:nuclear", "lp:2", "schatten:1"),               # Fan et al. 2025
    (f"{USER}/nsd_entrywise3.py:make", "lp:3", "entrywise:3"),
    (f"{USER}/nsd_schatten3.py:make", "lp:2", "schatten:3"),
]


@pytest.mark.slow
@pytest.mark.parametrize("spec, binary, multiclass", KNOWN)
def test_identifies_known_biases(tmp_path, spec, binary, multiclass):
    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "verify", "optimizer", spec, "--seed", "0", "--json",
                           str(out), "--no-sharpness"], capture_output=True, text=True)
    result = _result(out)
    assert result["identified"] == {"binary": binary, "multiclass": multiclass}, result["message"]
    assert proc.returncode == 0 and result["status"] == "verified"
    for model, norm in (("binary", binary), ("multiclass", multiclass)):
        ratios = result["ratios"][model]
        assert max(ratios, key=ratios.get) == norm or result["increment_ratios"][model][norm] == \
            max(result["increment_ratios"][model].values())
        assert result["steps"][model] > 0 and "t^(-0.5)" in result["schedule"][model]


@pytest.mark.slow
def test_predict_verified_and_failed(tmp_path):
    good = tmp_path / "good.json"
    code = main(["optimizer", f"{USER}/reference.py:signgd", "--predict", "max", "--seed", "0", "--json",
                 str(good), "--no-sharpness"])
    assert code == 0 and _result(good)["status"] == "verified"
    bad = tmp_path / "bad.json"
    code = main(["optimizer", f"{USER}/reference.py:signgd", "--predict", "spectral", "--seed", "0", "--json",
                 str(bad), "--no-sharpness"])
    result = _result(bad)
    assert code == 1 and result["status"] == "failed"
    assert result["prediction"]["verdicts"]["multiclass"]["status"] == "failed"


@pytest.mark.slow
def test_diverging_and_non_separating(tmp_path):
    for name, status, words in (("diverges", "error", "NaN/Inf"), ("ascent", "inconclusive", "separated")):
        out = tmp_path / f"{name}.json"
        code = main(["optimizer", f"{USER}/broken.py:{name}", "--seed", "0", "--json", str(out),
                     "--no-sharpness"])
        result = _result(out)
        assert code == 1 and result["status"] == status and words in result["message"]


@pytest.mark.slow
def test_ctrl_c_writes_partial_json(tmp_path):
    out = tmp_path / "r.json"
    # the full profile (100 000 steps per model) is still training when the interrupt arrives
    proc = subprocess.Popen([sys.executable, "-m", "verify", "optimizer", "torch.optim:SGD", "--profile",
                             "full", "--seed", "0", "--json", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    time.sleep(25)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in stderr
    result = _result(out)
    assert result["interrupted"] is True and result["status"] in ("inconclusive", "error")


# -- seeds and executors ----------------------------------------------------------------------------
@pytest.mark.parametrize("args, words", [
    (["--seeds", "3:1"], "empty or reversed"),
    (["--seeds", "-1"], "non-negative"),
    (["--seeds", "x"], "not a non-negative integer"),
    (["--seeds", ""], "--seeds is empty"),
    (["--seeds", "1001"], "at most 1000 seeds"),
    (["--seeds", "2", "--seed", "1"], "not both"),
    (["--jobs", "0"], "--jobs must be at least 1"),
    (["--jobs", "2", "--scheduler", "tcp://127.0.0.1:1"], "not both"),
])
def test_bad_seeds_and_jobs_are_usage_errors(tmp_path, capsys, args, words):
    out = tmp_path / "r.json"
    assert main(["optimizer", "torch.optim:SGD", "--json", str(out)] + args) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()                  # refused before any training


def test_two_seeds_give_per_seed_records_and_the_catalogue_aggregation(tmp_path, capsys):
    out = tmp_path / "r.json"
    code = main(["optimizer", f"{USER}/broken.py:raises", "--seeds", "2", "--no-network", "--no-sharpness",
                 "--json", str(out)])
    stdout = capsys.readouterr().out
    result = _result(out)
    assert code == 1 and result["status"] == "error" and result["seeds"] == [0, 1]
    assert "strict majority" in result["aggregation"]
    assert [r["seed"] for r in result["per_seed"]] == [0, 1]
    assert all(r["status"] == "error" and "no optimizer today" in r["message"] for r in result["per_seed"])
    assert "[seed 1] binary" in stdout and "seeds: 0 error, 1 error" in stdout
    assert sum(line.startswith("verdict:") for line in stdout.splitlines()) == 1


def test_a_spec_that_does_not_load_stops_at_the_first_task(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["optimizer", "no_such_module_xyz:make", "--seeds", "3", "--json", str(out)]) == 1
    result = _result(out)
    assert result["status"] == "error" and "does not import" in result["message"]
    assert [r["status"] for r in result["per_seed"]] == ["error"] * 3


def test_a_file_spec_travels_as_an_absolute_path(monkeypatch, tmp_path):
    from verify.optimizer_tasks import plan_parts, task_spec_text

    monkeypatch.chdir(tmp_path)
    here = os.getcwd()
    assert task_spec_text("torch.optim:SGD") == "torch.optim:SGD"
    assert task_spec_text("sub/my_opt.py:make") == f"{here}/sub/my_opt.py:make"
    tasks = plan_parts("my_opt.py:make", "quick", [0, 5], None, network=False)
    assert [t.name for t in tasks] == ["binary seed 0", "multiclass seed 0", "sharpness seed 0",
                                       "binary seed 5", "multiclass seed 5", "sharpness seed 5"]
    assert all(t.spec()["spec"] == f"{here}/my_opt.py:make" and t.spec()["function"] ==
               "verify.optimizer_tasks:run_part" for t in tasks)


# The aggregation over seeds, on plain part results (what the tasks return).
def _part(seed, part, status, identified="undetermined", message=""):
    return {"part": part, "seed": seed, "status": status, "identified": identified, "interrupted": False,
            "verdict": {"status": status, "message": f"{part}: {message or status}"},
            "checks": [{"name": f"{part}: separation", "value": 5.0 if status == "verified" else 1.0,
                        "op": ">=", "tolerance": 2.0, "role": "prediction", "passed": status == "verified",
                        "note": ""}],
            "record": {"ratios": {"n": 0.9}, "increment_ratios": {"n": 0.95}, "schedule": "s", "steps": 10},
            "lines": []}


def _report(parts, seeds, predicted=None):
    from verify.optimizer_report import Report

    report = Report("x.py:make", "quick", seeds, predicted)
    for p in parts:
        report.add(p)
    return report


def test_a_seed_that_errors_keeps_the_other_seeds():
    report = _report([_part(0, "binary", "verified", "lp:inf"),
                      _part(0, "multiclass", "verified", "entrywise:inf")], [0, 1])
    report.add(report.part_error(1, "binary", "task binary seed 1 did not complete on the cluster"))
    report.add(_part(1, "multiclass", "verified", "entrywise:inf"))
    status, message, agg = report.verdict()
    assert status == "inconclusive" and message.startswith("1/2 seeds verified")
    assert [r["status"] for r in agg["per_seed"]] == ["verified", "error"]
    result = report.result()
    assert result["per_seed"][0]["identified"] == {"binary": "lp:inf", "multiclass": "entrywise:inf"}
    assert result["identified"] == {"binary": "undetermined", "multiclass": "entrywise:inf"}


def test_seeds_that_identify_different_norms_are_not_verified():
    same = [_part(s, m, "verified", n) for s in (0, 1) for m, n in (("binary", "lp:inf"),
                                                                     ("multiclass", "entrywise:inf"))]
    assert _report(same, [0, 1]).verdict()[0] == "verified"
    split = same[:3] + [_part(1, "multiclass", "verified", "fro")]      # seed 1 names another norm
    status, message, _ = _report(split, [0, 1]).verdict()
    assert status == "inconclusive" and "seed 0 entrywise:inf, seed 1 fro" in message


def test_the_catalogue_rule_decides_failed_and_inconclusive():
    from verify.optimizer_report import predicted_norms

    predicted = predicted_norms("max")
    two_failed = [_part(s, m, st) for s, st in ((0, "failed"), (1, "failed"), (2, "verified"))
                  for m in ("binary", "multiclass")]
    assert _report(two_failed, [0, 1, 2], predicted).verdict()[0] == "failed"
    one_failed = [_part(s, m, st) for s, st in ((0, "failed"), (1, "verified"), (2, "verified"))
                  for m in ("binary", "multiclass")]
    status, message, _ = _report(one_failed, [0, 1, 2], predicted).verdict()
    assert status == "inconclusive" and message.startswith("2/3 seeds verified")
    missing = [_part(0, "binary", "verified", "lp:inf")]                # multiclass never came back
    assert _report(missing, [0]).verdict()[0] == "inconclusive"


@pytest.mark.slow
def test_two_seeds_on_two_workers_equal_one_process(tmp_path):
    """--seeds 2 on SignGD (margin parts only): every seed identifies the ℓ∞/max norm, and the
    numbers from two Dask workers equal the in-process ones bitwise (timings aside)."""
    runs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs{jobs}.json"
        code = main(["optimizer", f"{USER}/reference.py:signgd", "--seeds", "2", "--no-network",
                     "--no-sharpness", "--jobs", jobs, "--json", str(out)])
        runs[jobs] = (code, _result(out))
    code, result = runs["1"]
    assert code == 0 and result["status"] == "verified", result["message"]
    assert [r["identified"] for r in result["per_seed"]] == [{"binary": "lp:inf", "multiclass": "entrywise:inf"}] * 2
    assert (result["executor"], runs["2"][1]["executor"]) == ("in-process, one thread", "2 local worker processes")

    def numbers(res):
        drop = {"seconds", "executor"}

        def strip(x):
            if isinstance(x, dict):
                return {k: strip(v) for k, v in x.items() if k not in drop}
            if isinstance(x, list):
                return [strip(v) for v in x]
            return x
        return strip(res)

    assert numbers(runs["2"][1]) == numbers(result)
