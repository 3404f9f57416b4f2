"""Checks and verdicts (docs/verdicts.md): every claim's outcome is assembled from declared checks.

A :class:`Check` compares one measured number with a declared tolerance. Its ``role`` says what a
failure means:

- ``prediction``: the theorem's prediction (a miss makes the claim ``failed``);
- ``control``:    the negative control must separate (a miss makes the claim ``failed`` too: a check
                  that cannot tell the optimizers apart verifies nothing);
- ``precondition``: something the experiment needs before it can decide (solver certificate, data
                  separated, converged far enough); a miss makes the claim ``inconclusive``;
- ``info``:       reported, never decisive.

A claim made of several units (optimizers x tasks, one run per norm) tags each check with its
``unit``. A unit's preconditions (and the unit-less ones, which hold for every unit) decide whether
that unit's predictions and controls are read: a decisive miss in a unit whose preconditions held
makes the claim ``failed`` even when another unit could not decide. An outcome with no decisive
check at all is ``error``: a claim that checked nothing verified nothing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    """A claim's (or ``verify optimizer``'s) verdict: the one vocabulary of every report. A ``str``
    enumeration, so a member equals, prints and is written to JSON as its value. How a numerical run
    ended is another vocabulary (``numerics.run_status.RunStatus``): a verdict is read from runs."""

    VERIFIED = "verified"
    FAILED = "failed"
    INCONCLUSIVE = "inconclusive"
    ERROR = "error"

    @property
    def mark(self) -> str:
        """One letter per seed in the summary table."""
        return _VERDICT_MARKS[self]

    @classmethod
    def worst(cls, verdicts) -> "Verdict":
        """The most severe of ``verdicts`` (error, failed, inconclusive, verified: in that order)."""
        return min((cls(v) for v in verdicts), key=_SEVERITY.index)


_VERDICT_MARKS = {Verdict.VERIFIED: "v", Verdict.FAILED: "F", Verdict.INCONCLUSIVE: "i", Verdict.ERROR: "E"}
_SEVERITY = (Verdict.ERROR, Verdict.FAILED, Verdict.INCONCLUSIVE, Verdict.VERIFIED)
STATUSES = tuple(Verdict)
_OPS = {"<=": lambda v, t: v <= t, ">=": lambda v, t: v >= t}


@dataclass(frozen=True)
class Check:
    name: str
    value: float
    op: str            # "<=" | ">="
    tolerance: float
    role: str = "prediction"
    note: str = ""
    unit: str = ""     # the part of a multi-unit claim this check belongs to ("" = the whole claim)

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
    status: Verdict
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
        status = status_of(checks)
        all_metrics = {c.name: float(c.value) for c in checks}
        all_metrics.update(metrics or {})
        tolerances = {c.name: float(c.tolerance) for c in checks if c.role != "info"}
        out = cls(status, all_metrics, tolerances, "", checks, details or {}, figures or [])
        # the message names the checks that set the verdict first (a failed unit's misses before an
        # inconclusive unit's), then the other misses, then the notes
        deciding = out.deciding_checks
        rest = [c for c in misses if not any(c is d for d in deciding)]
        out.message = "; ".join([c.describe() for c in deciding + rest] + (notes or []))
        return out

    @property
    def unit_statuses(self) -> dict[str, Verdict]:
        """Each unit's own status (the unit-less checks count in every unit)."""
        return unit_statuses(self.checks)

    @property
    def deciding_checks(self) -> list[Check]:
        """The missed checks that set the verdict: the unmet preconditions of an `inconclusive`
        outcome, the missed predictions and controls of a `failed` one (none when verified)."""
        misses = [c for c in self.checks if not c.passed]
        if self.status == "inconclusive":
            return [c for c in misses if c.role == "precondition"]
        if self.status == "failed":
            statuses = unit_statuses(self.checks)
            return [c for c in misses if c.role != "precondition"
                    and (not c.unit or statuses.get(c.unit) == "failed")]
        return misses

    @classmethod
    def error(cls, message: str) -> "Outcome":
        return cls(Verdict.ERROR, message=message)


def _status(checks: list[Check]) -> Verdict:
    misses = [c for c in checks if not c.passed]
    if any(c.role == "precondition" for c in misses):
        return Verdict.INCONCLUSIVE
    return Verdict.FAILED if misses else Verdict.VERIFIED


def unit_statuses(checks: list[Check]) -> dict[str, Verdict]:
    """Status per unit: a unit is judged on its own checks plus the unit-less ones."""
    common = [c for c in checks if not c.unit]
    units = sorted({c.unit for c in checks if c.unit})
    if not units:
        return {"": _status(common)} if common else {}
    return {u: _status(common + [c for c in checks if c.unit == u]) for u in units}


def status_of(checks: list[Check]) -> Verdict:
    """The verdict of one seed's checks: ``error`` when nothing decisive was checked; ``failed`` when
    some unit (with its preconditions met) missed a prediction or control; else ``inconclusive``
    when a precondition missed anywhere; else ``verified``."""
    if not any(c.role != "info" for c in checks):
        return Verdict.ERROR
    statuses = unit_statuses(checks)
    if Verdict.FAILED in statuses.values():
        return Verdict.FAILED
    if Verdict.INCONCLUSIVE in statuses.values():
        return Verdict.INCONCLUSIVE
    return Verdict.VERIFIED
