"""End-to-end tests of the command line: exit codes, one-line errors, the JSON contract."""
import json
import subprocess
import sys

import numpy as np
import pytest

from verify.cli import main


def _run(args, capsys):
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_list(capsys):
    code, out, _ = _run(["list"], capsys)
    assert code == 0
    for cid in ["soudry2018-gd-l2", "gunasekar2018-sd-l1", "fan2025-nsd-spectral", "fan2025-adam-max"]:
        assert cid in out


def test_show_pretty_and_latex(capsys):
    code, out, _ = _run(["show", "fan2025-nsd-entrywise-p"], capsys)
    assert code == 0 and "Hölder" in out and "dual exponent" in out
    code, out, _ = _run(["show", "fan2025-nsd-spectral", "--latex"], capsys)
    assert code == 0 and "\\[" in out and "von Neumann" in out


def test_unknown_claim_suggests(capsys):
    code, _, err = _run(["show", "fan2025-nsd-spectrl"], capsys)
    assert code == 2 and "did you mean fan2025-nsd-spectral" in err and err.count("\n") == 1


def test_usage_error_exit_code():
    proc = subprocess.run([sys.executable, "-m", "verify", "all", "--profile", "huge"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


@pytest.fixture
def data(tmp_path):
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.standard_normal((10, 3)) + 4, rng.standard_normal((10, 3)) - 4])
    y = np.repeat([0, 1], 10)
    path = tmp_path / "d.npz"
    np.savez(path, X=X, y=y)
    return path, X, y


def test_maxmargin_json(data, tmp_path, capsys):
    path, X, y = data
    out_json = tmp_path / "mm.json"
    code, out, _ = _run(["maxmargin", str(path), "--norm", "l2", "--json", str(out_json)], capsys)
    assert code == 0 and "lp:2" in out
    result = json.loads(out_json.read_text())["result"]
    assert result["norm"] == "lp:2" and result["model"] == "binary"
    assert isinstance(result["margin"], float) and result["duality_gap"] <= 1e-6
    w = np.array(result["W"])
    assert np.min(np.where(y == 1, 1, -1) * (X @ w)) == pytest.approx(1.0, abs=1e-9)


def test_maxmargin_reports_the_label_mapping(data, tmp_path, capsys):
    """Any two labels give the binary model, the larger one the +1 class: printed and in the JSON, and
    renaming the classes the other way round flips the classifier."""
    path, X, y = data
    ws = []
    for names in ((3, 7), (7, 3)):
        renamed, out_json = tmp_path / f"r{names[0]}.npz", tmp_path / f"r{names[0]}.json"
        np.savez(renamed, X=X, y=np.where(y == 0, *names))
        code, out, _ = _run(["maxmargin", str(renamed), "--norm", "l2", "--json", str(out_json)], capsys)
        result = json.loads(out_json.read_text())["result"]
        assert code == 0 and "+1 = class 7, −1 = class 3" in out and result["classes"] == [3, 7]
        ws.append(np.array(result["W"]))
    np.testing.assert_allclose(ws[0], -ws[1], atol=1e-8)


def test_maxmargin_multiclass_flag(data, tmp_path, capsys):
    path, _, _ = data
    code, out, _ = _run(["maxmargin", str(path), "--norm", "spectral", "--multiclass"], capsys)
    assert code == 0 and "schatten:inf" in out and "multiclass" in out


@pytest.mark.parametrize("make, norm, message", [
    (lambda X, y: dict(X=X, y=np.zeros_like(y)), "l2", "single class"),
    (lambda X, y: dict(X=np.where(X > 5, np.nan, X), y=y), "l2", "NaN"),
    (lambda X, y: dict(X=X[:5], y=y), "l2", "rows but y has"),
    (lambda X, y: dict(X=X, y=y), "schatten:0.5", "p = 0.5 < 1"),
    (lambda X, y: dict(X=X, y=y), "spectral", "matrix model"),
    (lambda X, y: dict(X=np.concatenate([X, X[:1]]), y=np.concatenate([y, 1 - y[:1]])), "l2", "not linearly separable"),
])
def test_maxmargin_bad_input(data, tmp_path, capsys, make, norm, message):
    _, X, y = data
    path = tmp_path / "bad.npz"
    np.savez(path, **make(X, y))
    code, _, err = _run(["maxmargin", str(path), "--norm", norm], capsys)
    assert code == 2 and message in err and err.count("\n") == 1


def test_maxmargin_missing_file(tmp_path, capsys):
    code, _, err = _run(["maxmargin", str(tmp_path / "nope.npz"), "--norm", "l2"], capsys)
    assert code == 2 and "no such file" in err


# -- output paths are checked before any work (issue 20) ---------------------------------------
@pytest.fixture
def outputs(tmp_path):
    (tmp_path / "file").write_text("not a directory")
    (tmp_path / "dir").mkdir()
    return tmp_path


@pytest.mark.parametrize("command", [
    ["run", "soudry2018-gd-l2", "--json", "{dir}"],
    ["run", "soudry2018-gd-l2", "--html", "{dir}"],
    ["run", "soudry2018-gd-l2", "--figures", "{file}"],
    ["run", "soudry2018-gd-l2", "--json", "{file}/r.json"],
    ["run", "soudry2018-gd-l2", "--json", "{dir}/same", "--html", "{dir}/same"],
    ["all", "-k", "soudry2018-gd-l2", "--json", "{dir}"],
    ["all", "-k", "soudry2018-gd-l2", "--figures", "{file}"],
    ["optimizer", "torch.optim:SGD", "--json", "{dir}"],
    ["optimizer", "torch.optim:SGD", "--figures", "{file}"],
    ["derive", "--param", "u**2 - v**2", "--measure", "trace", "--json", "{dir}"],
    ["maxmargin", "{data}", "--norm", "l2", "--json", "{dir}"],
])
def test_an_unwritable_output_is_refused_before_the_work(outputs, data, capsys, command):
    """One line, exit 2, and nothing printed on stdout: no claim ran, no fingerprint was trained,
    nothing was derived or solved (before: the work was done and printed, then a traceback)."""
    fill = {"dir": outputs / "dir", "file": outputs / "file", "data": data[0]}
    code, out, err = _run([a.format(**fill) for a in command], capsys)
    assert code == 2 and out == "", out
    assert err.startswith("error: --") and err.count("\n") == 1
