"""Checks and verdicts (DESIGN.md): every claim's outcome is assembled from declared checks.

A :class:`Check` compares one measured number with a declared tolerance. Its ``role`` says what a
failure means:

- ``prediction``: the theorem's prediction (a miss makes the claim ``failed``);
- ``control``:    the negative control must separate (a miss makes the claim ``failed`` too: a check
                  that cannot tell the optimizers apart verifies nothing);
- ``precondition``: something the experiment needs before it can decide (solver certificate, data
                  separated, converged far enough); a miss makes the claim ``inconclusive``;
- ``info``:       reported, never decisive.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

STATUSES = ("verified", "failed", "inconclusive", "error")
_OPS = {"<=": lambda v, t: v <= t, ">=": lambda v, t: v >= t}


@dataclass(frozen=True)
class Check:
    name: str
    value: float
    op: str            # "<=" | ">="
    tolerance: float
    role: str = "prediction"
    note: str = ""

    @property
    def passed(self) -> bool:
        if self.role == "info":
            return True
        return bool(math.isfinite(self.value)) and _OPS[self.op](self.value, self.tolerance)

    def describe(self) -> str:
        mark = "ok" if self.passed else "MISS"
        text = f"{self.name} = {self.value:.4g} ({self.op} {self.tolerance:.4g}: {mark})"
        return f"{text}; {self.note}" if self.note else text


@dataclass
class Outcome:
    status: str
    metrics: dict[str, float] = field(default_factory=dict)
    tolerances: dict[str, float] = field(default_factory=dict)
    message: str = ""
    checks: list[Check] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)   # tables, series (JSON-able)
    figures: list[dict] = field(default_factory=list)       # plot specs, see verify.figures

    @classmethod
    def from_checks(cls, checks: list[Check], metrics: dict[str, float] | None = None,
                    details: dict | None = None, figures: list[dict] | None = None,
                    notes: list[str] | None = None) -> "Outcome":
        misses = [c for c in checks if not c.passed]
        status = ("inconclusive" if any(c.role == "precondition" for c in misses)
                  else "failed" if misses else "verified")
        all_metrics = {c.name: float(c.value) for c in checks}
        all_metrics.update(metrics or {})
        tolerances = {c.name: float(c.tolerance) for c in checks if c.role != "info"}
        message = "; ".join([c.describe() for c in misses] + (notes or []))
        return cls(status, all_metrics, tolerances, message, checks, details or {}, figures or [])

    @property
    def deciding_checks(self) -> list[Check]:
        """The missed checks that set the verdict: the unmet preconditions of an `inconclusive`
        outcome, the missed predictions and controls of a `failed` one (none when verified)."""
        misses = [c for c in self.checks if not c.passed]
        if self.status == "inconclusive":
            return [c for c in misses if c.role == "precondition"]
        return misses

    @classmethod
    def error(cls, message: str) -> "Outcome":
        return cls("error", message=message)
