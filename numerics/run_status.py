"""The status of a numerical run: one enumeration with messages (in the manner of diffrax's ``RESULTS``).

Every record of a run or trajectory (a trained run, a tracked flow, a step-size sweep's member) says
how it ended with a :class:`RunStatus`. It is a ``str`` enumeration: a member equals its value
(``RunStatus.OK == "ok"``), prints as its value and is written to JSON as its value, so records that
still compare or store the plain strings read the same.

This is how a *run* ended, not a claim's verdict (``verify.outcome``: verified / failed /
inconclusive / error) and not what a fingerprint identified: a verdict is read from runs.
"""
from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    OK = "ok"
    ERROR = "error"
    NOT_CONVERGED = "not converged"
    NOT_SEPARABLE = "not separable"
    INACCURATE = "inaccurate"
    INTERRUPTED = "interrupted"

    @property
    def message(self) -> str:
        """What the status means (the record's own ``message`` says what happened)."""
        return _MESSAGES[self]

    @property
    def ok(self) -> bool:
        return self is RunStatus.OK

    @classmethod
    def of(cls, text: str) -> "RunStatus":
        """The member whose value is ``text`` (ValueError naming the known values otherwise)."""
        try:
            return cls(text)
        except ValueError:
            raise ValueError(f"unknown run status {text!r}; known: "
                             f"{', '.join(s.value for s in cls)}") from None


_MESSAGES = {
    RunStatus.OK: "the run finished as asked",
    RunStatus.ERROR: "the run failed: non-finite values (divergence, overflow) or an exception",
    RunStatus.NOT_CONVERGED: "the step budget ended before the run reached its target",
    RunStatus.NOT_SEPARABLE: "the data are not separable: the run has no limit direction to reach",
    RunStatus.INACCURATE: "a solver returned its best point without meeting its tolerance",
    RunStatus.INTERRUPTED: "the run was interrupted by the user",
}
