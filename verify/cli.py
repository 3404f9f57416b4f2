"""Command line: ``python -m verify COMMAND``. Each command is a module in ``verify/commands`` with
``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> exit code``.

Exit codes: 0 success (every claim verified), 1 a verdict other than verified or a computation that
could not finish, 2 a usage error (bad arguments, files, norms, claim ids), 130 interrupted.
"""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

from theory.errors import UserInputError


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit code 2
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    import verify.commands as package

    parser = _Parser(prog="python -m verify",
                     description="Check implicit-bias theorems: derive, compute, train, compare.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        cmd = sub.add_parser(module.NAME, help=module.HELP, description=module.__doc__)
        module.add_arguments(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args._run(args)
    except UserInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly
        sys.stderr = open(os.devnull, "w")
        return 0
