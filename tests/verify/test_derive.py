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


def test_deep_product_closed_form_with_certificate_and_cross_check(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["derive", "--param", "u1*u2*u3*u4", "--measure", "trace", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "R(w) = 4*Abs(w)**(3/2)" in printed and "certified by: convexity in log coordinates" in printed
    result = json.loads(out.read_text())["result"]
    check = result["numeric_check"]
    assert result["certificate"] and len(check["samples"]) == 5
    assert check["agrees"] is True and check["max_relative_difference"] <= 1e-8


def test_a_sabotaged_closed_form_fails_loudly(monkeypatch, capsys):
    """A closed form 1 % above the true minimum is above feasible values: exit 1, said plainly."""
    import dataclasses

    import theory.implied_regularizer as ir

    real = ir.derive_implied_regularizer

    def sabotaged(param, measure, budget=10.0):
        reg = real(param, measure, budget)
        return dataclasses.replace(reg, closed_form=reg.closed_form * sp.Rational(101, 100))

    monkeypatch.setattr(ir, "derive_implied_regularizer", sabotaged)
    assert main(["derive", "--param", "u*v*s", "--measure", "adam"]) == 1
    assert "ABOVE a numeric upper bound" in capsys.readouterr().out


def test_budget_gives_a_one_line_reason_instead_of_hanging(capsys):
    assert main(["derive", "--param", "u**(1/3) + v**(1/3)", "--measure", "power:0.9999999999",
                 "--budget", "1"]) == 0
    printed = capsys.readouterr().out
    assert "no closed form within the 1 s budget" in printed and "(numeric)" in printed


@pytest.mark.parametrize("argv, fragment", [
    (["--param", "u*v", "--measure", "power:1/0"], "zero denominator"),
    (["--param", "u*v", "--measure", "trace", "--budget", "nan"], "--budget"),
    (["--param", "u*v", "--measure", "trace", "--budget", "-1"], "--budget"),
    (["--param", "u1*u2*u3*u4*u5*u6*u7*u8*u9", "--measure", "trace"], "more than 8"),
])
def test_more_bad_input_is_one_line_and_exit_code_2(argv, fragment, capsys):
    with pytest.raises(SystemExit) as exc_info:
        code = main(["derive", *argv])
        raise SystemExit(code)
    assert exc_info.value.code == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert len([line for line in err.splitlines() if "error" in line]) == 1
