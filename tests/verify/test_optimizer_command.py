"""``python -m verify optimizer SPEC``: the JSON contract, one-line errors with a written report, and
(slow) the identification of the optimizers whose implicit bias is known, loaded through SPEC."""
import json
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
    code = main(["optimizer", spec, "--json", str(out), "--html", str(page)])
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
    proc = subprocess.run([sys.executable, "-m", "verify", "optimizer", spec, "--json", str(out),
                           "--no-sharpness"], capture_output=True, text=True)
    result = _result(out)
    assert result["identified"] == {"binary": binary, "multiclass": multiclass}, result["message"]
    assert proc.returncode == 0 and result["status"] == "ok"
    for model, norm in (("binary", binary), ("multiclass", multiclass)):
        ratios = result["ratios"][model]
        assert max(ratios, key=ratios.get) == norm or result["increment_ratios"][model][norm] == \
            max(result["increment_ratios"][model].values())
        assert result["steps"][model] > 0 and "t^(-0.5)" in result["schedule"][model]


@pytest.mark.slow
def test_predict_verified_and_failed(tmp_path):
    good = tmp_path / "good.json"
    code = main(["optimizer", f"{USER}/reference.py:signgd", "--predict", "max", "--json", str(good),
                 "--no-sharpness"])
    assert code == 0 and _result(good)["status"] == "verified"
    bad = tmp_path / "bad.json"
    code = main(["optimizer", f"{USER}/reference.py:signgd", "--predict", "spectral", "--json", str(bad),
                 "--no-sharpness"])
    result = _result(bad)
    assert code == 1 and result["status"] == "failed"
    assert result["prediction"]["verdicts"]["multiclass"]["status"] == "failed"


@pytest.mark.slow
def test_diverging_and_non_separating(tmp_path):
    for name, status, words in (("diverges", "error", "NaN/Inf"), ("ascent", "inconclusive", "separated")):
        out = tmp_path / f"{name}.json"
        code = main(["optimizer", f"{USER}/broken.py:{name}", "--json", str(out), "--no-sharpness"])
        result = _result(out)
        assert code == 1 and result["status"] == status and words in result["message"]


@pytest.mark.slow
def test_ctrl_c_writes_partial_json(tmp_path):
    out = tmp_path / "r.json"
    # the full profile (100 000 steps per model) is still training when the interrupt arrives
    proc = subprocess.Popen([sys.executable, "-m", "verify", "optimizer", "torch.optim:SGD", "--profile",
                             "full", "--json", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    time.sleep(25)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in stderr
    result = _result(out)
    assert result["interrupted"] is True and result["status"] in ("inconclusive", "error")
