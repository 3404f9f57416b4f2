"""End to end: ``python -m verify estimate`` (exit codes, one-line errors, JSON shape)."""
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from numerics.mlp import Architecture, Objective
from numerics.regularized_fit import fit_to_stationarity
from theory.penalties import parse_penalties
from verify.cli import main


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A ridge-trained linear model (λ = 0.1 on ‖w‖²), an untrained one, and their data."""
    d = tmp_path_factory.mktemp("estimate")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 4))
    y = X @ rng.standard_normal(4) + 0.2 * rng.standard_normal(60)
    np.savez(d / "data.npz", X=X, y=y)
    arch = Architecture((4, 1), bias=False)
    torch.manual_seed(0)
    model = arch.build()
    torch.save(model.state_dict(), d / "init.pt")
    obj = Objective(model, X, y, "mse")
    fit = fit_to_stationarity(obj, parse_penalties(["l2"]), [0.1], obj.flat())
    with torch.no_grad():
        model[0].weight.copy_(torch.as_tensor(fit.theta).reshape(1, 4))
    torch.save(model.state_dict(), d / "ridge.pt")
    return d


def _run(args, capsys):
    code = main(["estimate"] + [str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_recovers_the_ridge_coefficient_and_writes_json(files, capsys):
    code, out, _ = _run([files / "ridge.pt", files / "data.npz", "--arch", "linear:4,1", "--no-bias",
                         "--penalty", "l2,huber:0.1", "--json", files / "out.json"], capsys)
    assert code == 0 and "reliable" in out
    report = json.loads((files / "out.json").read_text())
    result = report["result"]
    assert set(report) == {"result", "environment"}
    assert result["coefficients"]["l2"] == pytest.approx(0.1, rel=1e-6)
    assert result["penalties"] == ["l2", "huber:0.1"] and result["reliable"] is True
    for key in ("residual_ratio", "cosine", "condition_number", "identifiable", "stationarity",
                "warnings", "model", "data", "loss_value", "seconds"):
        assert key in result
    assert isinstance(result["residual_ratio"], float)


def test_far_from_stationarity_is_flagged_not_an_error(files, capsys):
    code, out, _ = _run([files / "init.pt", files / "data.npz", "--arch", "linear:4,1", "--no-bias",
                         "--json", files / "bad.json"], capsys)
    assert code == 0 and "UNRELIABLE" in out and "residual ratio" in out
    result = json.loads((files / "bad.json").read_text())["result"]
    assert result["reliable"] is False and result["residual_ratio"] > 0.05


def test_diagonal_closed_form(files, capsys):
    code, out, _ = _run([files / "ridge.pt", files / "data.npz", "--arch", "linear:4,1", "--no-bias",
                         "--penalty", "diag_l2", "--json", files / "diag.json"], capsys)
    assert code == 0
    diag = json.loads((files / "diag.json").read_text())["result"]["diagonal"]
    np.testing.assert_allclose(diag, 0.1, rtol=1e-6)


@pytest.mark.parametrize("extra,fragment", [
    (["--penalty", "ridge"], "unknown penalty 'ridge'; valid: l2"),
    (["--arch", "mlp:4,3,1"], "state dict does not match mlp:4,3,1"),
    (["--arch", "linear:5,1"], "X must be numeric of shape (n, 5)"),
    (["--penalty", "dropout_l2", "--arch", "mlp:4,3,1"], "dropout_l2"),
    (["--max-residual", "0"], "--max-residual"),
    (["--penalty", "lp:1/0"], "lp:1/0: exponent P has a zero denominator"),
    (["--penalty", "l2,schatten:3/0"], "schatten:3/0: exponent P has a zero denominator"),
    (["--penalty", "huber:1/0"], "huber:1/0: DELTA has a zero denominator"),
    (["--penalty", "lp:1e400"], "outside float64's range"),
    (["--penalty", "lp:1000000"], "penalty lp:1000000 is not finite in float64 at θ̂"),
    (["--penalty", "schatten:1e6"], "penalty schatten:1000000 is not finite in float64 at θ̂"),
])
def test_bad_input_is_one_line_and_exit_2(files, capsys, extra, fragment):
    args = [files / "ridge.pt", files / "data.npz", "--no-bias"]
    if "--arch" not in extra:
        args += ["--arch", "linear:4,1"]
    code, _, err = _run(args + extra, capsys)
    assert code == 2
    assert fragment in err and err.count("\n") == 1


@pytest.mark.slow
def test_subprocess_exit_codes(files):
    ok = subprocess.run([sys.executable, "-m", "verify", "estimate", str(files / "ridge.pt"),
                         str(files / "data.npz"), "--arch", "linear:4,1", "--no-bias"],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "l2" in ok.stdout and "Traceback" not in ok.stderr
    bad = subprocess.run([sys.executable, "-m", "verify", "estimate", str(files / "missing.pt"),
                          str(files / "data.npz"), "--arch", "linear:4,1"], capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


@pytest.mark.parametrize("X, y, fragment", [
    (np.zeros((0, 4)), np.zeros(0), "no rows (n = 0)"),
    (np.zeros((0, 4)), np.zeros((0, 1)), "no rows (n = 0)"),
    (np.ones((5, 4)) * (1 + 1j), np.ones(5), "must be real"),
    (np.ones((5, 4)), np.ones(5) * (1 + 1j), "must be real"),
    (np.ones((5, 4)), np.float64(1.0), "y must be a numeric array"),
    (np.ones((5, 4)), np.array(["a"] * 5), "y must be a numeric array"),
])
def test_degenerate_data_is_one_line_and_exit_2(files, tmp_path, capsys, X, y, fragment):
    np.savez(tmp_path / "bad.npz", X=X, y=y)
    code, out, err = _run([files / "ridge.pt", tmp_path / "bad.npz", "--arch", "linear:4,1",
                           "--no-bias"], capsys)
    assert code == 2 and fragment in err and err.count("\n") == 1 and out == ""


@pytest.mark.parametrize("where", ["directory", "under a file"])
def test_a_bad_json_path_is_refused_before_the_work(files, tmp_path, capsys, where):
    """Before: the estimate was computed and printed, then writing raised a traceback."""
    (tmp_path / "file").write_text("")
    target = tmp_path if where == "directory" else tmp_path / "file" / "out.json"
    code, out, err = _run([files / "ridge.pt", files / "data.npz", "--arch", "linear:4,1", "--no-bias",
                           "--json", target], capsys)
    assert code == 2 and out == "" and err.startswith("error: --json") and err.count("\n") == 1


def test_a_write_that_fails_at_the_end_is_one_line_after_the_results(files, capsys, monkeypatch):
    import errno

    import verify.report

    def full(path, payload):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(verify.report, "write_json", full)
    code, out, err = _run([files / "ridge.pt", files / "data.npz", "--arch", "linear:4,1", "--no-bias",
                           "--json", files / "full.json"], capsys)
    assert code == 1 and "verdict     reliable" in out
    assert err.count("\n") == 1 and "--json" in err and "No space left on device" in err
