"""End-to-end: `python -m verify derive` (in-process through the CLI entry point, and one subprocess)."""
import json
import subprocess
import sys

import pytest
import sympy as sp

from verify.cli import main


def test_derive_closed_form_with_json(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["derive", "--param", "u*v", "--measure", "adam", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "R(w) = 2*sqrt(Abs(w))" in printed
    result = json.loads(out.read_text())["result"]
    assert result["parameterization"] == "u*v" and result["measure"] == "adam"
    w = sp.Symbol("w", real=True)
    assert sp.simplify(sp.sympify(result["regularizer"], locals={"w": w}) - 2 * sp.sqrt(sp.Abs(w))) == 0
    assert result["numeric_check"]["agrees"] is True
    assert result["steps"] and result["latex"]


def test_derive_without_closed_form_falls_back_to_labelled_numeric(capsys):
    assert main(["derive", "--param", "exp(u) - exp(v)", "--measure", "trace"]) == 0
    printed = capsys.readouterr().out
    assert "no closed form" in printed and "(numeric)" in printed


@pytest.mark.parametrize("argv, fragment", [
    (["--param", "u@v", "--measure", "trace"], "unexpected character"),
    (["--param", "u*v", "--measure", "power:2"], "0 ≤ E < 1"),
    (["--param", "3", "--measure", "trace"], "no parameters"),
])
def test_bad_input_is_one_line_and_exit_code_2(argv, fragment, capsys):
    assert main(["derive", *argv]) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1


@pytest.mark.slow
def test_derive_subprocess_for_an_unnamed_parameterization(tmp_path):
    """A parameterization no claim uses: w = u**2 * v under power:1/4 (closed form + numeric check)."""
    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "verify", "derive", "--param", "u**2*v", "--measure",
                           "power:1/4", "--json", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())["result"]
    assert result["closed_form"] and result["numeric_check"]["agrees"]
