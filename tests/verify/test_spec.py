"""SPEC grammar and loading (verify.spec): the string is never evaluated, the module it names runs on
import (trusted code); each failure is one line."""
import sys
from pathlib import Path

import pytest
import torch

from theory.errors import UserInputError
from verify.spec import SpecLoadError, SpecSyntaxError, load_factory, parse_spec

USER = "tests/verify/user_optimizers"


@pytest.mark.parametrize("text, kind, attr", [
    ("torch.optim:Adam", "module", "Adam"),
    ("mypkg.opt:Factories.signum", "module", "Factories.signum"),
    ("path/to/my opt.py:make", "file", "make"),
    ("C:/x/y.py:make", "file", "make"),
])
def test_parse_spec(text, kind, attr):
    spec = parse_spec(text)
    assert spec.kind == kind and spec.attr == attr


@pytest.mark.parametrize("text", ["torch.optim.Adam", "torch.optim:Adam(lr=1)", "__import__('os'):x",
                                  "a:b;c", ":make", "file.py:", "torch.optim:1x"])
def test_parse_spec_rejects(text):
    with pytest.raises(SpecSyntaxError) as err:
        parse_spec(text)
    assert isinstance(err.value, UserInputError) and "\n" not in str(err.value)


def test_load_user_file_and_module():
    make = load_factory(f"{USER}/nsd_entrywise3.py:make")
    p = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    assert isinstance(make([p]), torch.optim.Optimizer)
    assert load_factory("torch.optim:SGD") is torch.optim.SGD


@pytest.mark.parametrize("text, words", [
    ("no/such/file.py:make", "no such file"),
    ("no_such_module_xyz:make", "does not import"),
    (f"{USER}/nsd_entrywise3.py:missing", "has no attribute"),
    (f"{USER}/nsd_entrywise3.py:torch", "not a callable"),
])
def test_load_failures_are_one_line(text, words):
    with pytest.raises(SpecLoadError) as err:
        load_factory(text)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_file_that_raises_on_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import torch\nraise ValueError('broken\\nacross lines')\n")
    with pytest.raises(SpecLoadError) as err:
        load_factory(f"{bad}:make")
    assert "does not import: ValueError: broken across lines" in str(err.value)
    syntax = tmp_path / "syntax.py"
    syntax.write_text("def make(:\n")
    with pytest.raises(SpecLoadError, match="SyntaxError"):
        load_factory(f"{syntax}:make")


def test_a_spec_is_code_that_runs_on_import_not_on_parsing(tmp_path):
    """What README and verify.spec say: parsing runs nothing, loading runs the file's top level."""
    marker = tmp_path / "ran"
    user = tmp_path / "side_effect.py"
    user.write_text(f"open({str(marker)!r}, 'w').close()\n\ndef make(params):\n    return None\n")
    spec = parse_spec(f"{user}:make")
    assert not marker.exists()
    load_factory(spec)
    assert marker.exists()


def test_the_documentation_says_a_spec_is_trusted_code():
    import verify.spec

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for text in (verify.spec.__doc__, readme):
        assert "trusted code" in text and "nothing is evaluated" not in text


def test_ctrl_c_during_the_import_propagates(tmp_path):
    """KeyboardInterrupt (Ctrl-C, and SIGTERM under ``python -m verify``) is not a load error: it
    reaches the command, which keeps the partial report; the half-imported module is dropped."""
    user = tmp_path / "interrupted.py"
    user.write_text("raise KeyboardInterrupt\n")
    before = set(sys.modules)
    with pytest.raises(KeyboardInterrupt):
        load_factory(f"{user}:make")
    assert set(sys.modules) == before
