"""SPEC: how a user names an optimizer factory on the command line (docs/commands.md).

    SPEC    := MODULE ":" ATTR | PATH ".py" ":" ATTR
    MODULE  := IDENT ("." IDENT)*          e.g. torch.optim, mypkg.optimizers
    ATTR    := IDENT ("." IDENT)*          e.g. make, Muon, Factories.signum
    PATH    := any file path ending in .py e.g. path/to/my_opt.py

The string itself is parsed by a regular expression and resolved with importlib and getattr only; it
is never evaluated as an expression. But resolving it imports the module or runs the file: a SPEC is
trusted code, run on import with the user's permissions, exactly as ``import`` of any Python module
would run it. Name only code you would import yourself. ``factory(params)`` must return a
``torch.optim.Optimizer``; calling it is left to the trainer, which reports a factory that raises or
returns something else as that member's error.

Two kinds of failure are kept apart: a string outside the grammar is a usage error
(:class:`SpecSyntaxError`, exit code 2), while a well-formed SPEC that cannot be loaded (the module
does not import, the file is missing, the attribute does not exist or is not callable) is the
fingerprint's verdict ``error`` (:class:`SpecLoadError`, reported in one line with the report
still written).
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from theory.errors import UserInputError

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_DOTTED = rf"{_IDENT}(?:\.{_IDENT})*"
_MODULE_SPEC = re.compile(rf"^(?P<module>{_DOTTED}):(?P<attr>{_DOTTED})$")
_FILE_SPEC = re.compile(rf"^(?P<path>.+\.py):(?P<attr>{_DOTTED})$")


class SpecSyntaxError(UserInputError):
    """A SPEC string outside the grammar."""


class SpecLoadError(Exception):
    """A well-formed SPEC whose factory cannot be obtained (the message is one line)."""


@dataclass(frozen=True)
class Spec:
    text: str
    attr: str
    module: str | None = None      # dotted module path, or
    path: str | None = None        # a .py file

    @property
    def kind(self) -> str:
        return "file" if self.path is not None else "module"


def parse_spec(text: str) -> Spec:
    """Parse ``module.path:factory`` or ``path/to/file.py:factory`` (the string is not evaluated;
    nothing is imported yet)."""
    raw = text.strip()
    match = _FILE_SPEC.match(raw)
    if match:
        return Spec(raw, match["attr"], path=match["path"])
    match = _MODULE_SPEC.match(raw)
    if match:
        return Spec(raw, match["attr"], module=match["module"])
    raise SpecSyntaxError(f"SPEC {text!r} is not of the form module.path:factory or "
                          f"path/to/file.py:factory (identifiers only after the colon)")


def one_line(exc: BaseException) -> str:
    """``ExceptionType: message`` on one line (a user's exception, reported without traceback)."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _import_file(path: str):
    file = Path(path)
    if not file.is_file():
        raise SpecLoadError(f"{path}: no such file")
    # A private, stable module name per file: repeated loads of one file share it.
    name = "_verify_spec_" + hashlib.sha1(str(file.resolve()).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise SpecLoadError(f"{path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:
        sys.modules.pop(name, None)
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise SpecLoadError(f"{path} does not import: {one_line(exc)}") from None
    return module


def load_factory(spec: Spec | str) -> Callable:
    """The callable a SPEC names, by importing its module or running its file (trusted code: its
    top-level statements run, as with any import); raises :class:`SpecLoadError` (one line) when it
    cannot. KeyboardInterrupt (Ctrl-C, or SIGTERM under ``python -m verify``) during the import
    propagates."""
    spec = parse_spec(spec) if isinstance(spec, str) else spec
    if spec.path is not None:
        obj = _import_file(spec.path)
    else:
        try:
            obj = importlib.import_module(spec.module)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise SpecLoadError(f"module {spec.module} does not import: {one_line(exc)}") from None
    where = spec.path or spec.module
    for part in spec.attr.split("."):
        if not hasattr(obj, part):
            raise SpecLoadError(f"{where} has no attribute {spec.attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise SpecLoadError(f"{spec.text}: {spec.attr} is a {type(obj).__name__}, not a callable "
                            f"factory(params) -> torch.optim.Optimizer")
    return obj
