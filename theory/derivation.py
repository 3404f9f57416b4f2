"""A derivation: an ordered list of steps, each a sentence and (optionally) a sympy expression.

Every prediction the project checks is obtained by running a derivation; the same object is what
``python -m verify show`` prints, so what a user reads is what the checker computed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy as sp


@dataclass(frozen=True)
class Step:
    text: str
    expr: Any = None  # a sympy object (expression, Eq, Matrix, ...) or None

    def pretty(self) -> str:
        if self.expr is None:
            return self.text
        body = sp.pretty(self.expr, use_unicode=True)
        return f"{self.text}\n{_indent(body)}"

    def latex(self) -> str:
        if self.expr is None:
            return self.text
        return f"{self.text}\n\\[ {sp.latex(self.expr)} \\]"


@dataclass
class Derivation:
    """Steps of a symbolic derivation with named results (``results[name]`` is a sympy object)."""

    title: str
    steps: list[Step] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)

    def step(self, text: str, expr: Any = None) -> Any:
        self.steps.append(Step(text, expr))
        return expr

    def result(self, name: str, expr: Any, text: str | None = None) -> Any:
        self.results[name] = expr
        self.steps.append(Step(text or f"Result ({name}):", expr))
        return expr

    def extend(self, other: "Derivation", prefix: str = "") -> None:
        """Append another derivation's steps (its results are merged under ``prefix``)."""
        self.steps.append(Step(f"-- {other.title} --"))
        self.steps.extend(other.steps)
        for name, expr in other.results.items():
            self.results[prefix + name] = expr

    def pretty(self) -> str:
        lines = [self.title, "=" * len(self.title)]
        for i, s in enumerate(self.steps, 1):
            lines.append(f"[{i}] " + s.pretty())
        return "\n".join(lines)

    def latex(self) -> str:
        lines = [f"% {self.title}"]
        lines.extend(s.latex() for s in self.steps)
        return "\n\n".join(lines)

    def as_strings(self) -> list[str]:
        """One plain string per step (the ``steps`` field of the JSON contract)."""
        out = []
        for s in self.steps:
            out.append(s.text if s.expr is None else f"{s.text} {sp.sstr(s.expr)}")
        return out


def _indent(text: str, pad: str = "    ") -> str:
    return "\n".join(pad + line for line in text.splitlines())
