"""The status of a numerical run: one enumeration with messages (in the manner of diffrax's ``RESULTS``).

Every record of a run or trajectory (a trained run, a tracked flow, a step-size sweep's member) says
how it ended with a :class:`RunStatus`. It is a ``str`` enumeration: a member equals its value
(``RunStatus.OK == "ok"``), prints as its value and is written to JSON as its value, so records that
still compare or store the plain strings read the same.

A record declares its status with :func:`status_field` (a dataclass field): every value assigned to
it, at construction or later, goes through :meth:`RunStatus.of`, so the record holds a member and a
string outside the enumeration is rejected (``ValueError``) where it is written, not where it is read.

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
    NOT_COMPUTED = "not computed"
    DEGENERATE = "degenerate"

    @property
    def message(self) -> str:
        """What the status means (the record's own ``message`` says what happened)."""
        return _MESSAGES[self]

    @property
    def ok(self) -> bool:
        return self is RunStatus.OK

    @classmethod
    def from_solver(cls, text: str) -> "tuple[RunStatus, str]":
        """(status, message) of an optimization solver's own status (cvxpy's words): "optimal" is
        OK (no message), "optimal_inaccurate" INACCURATE and anything else ("infeasible",
        "user_limit", "solver error: …") ERROR; the solver's text is kept as the message."""
        status = _SOLVER.get(text, cls.ERROR)
        return status, "" if status is cls.OK else text

    @classmethod
    def of(cls, text: "str | RunStatus") -> "RunStatus":
        """The member whose value is ``text`` (a member is itself; ValueError naming the known
        values otherwise)."""
        try:
            return cls(text)
        except ValueError:
            raise ValueError(f"unknown run status {text!r}; known: "
                             f"{', '.join(s.value for s in cls)}") from None


_MESSAGES = {
    RunStatus.OK: "the run finished as asked",
    RunStatus.ERROR: "the run failed: non-finite values (divergence, overflow), an exception or a "
                     "solver that returned no usable point",
    RunStatus.NOT_CONVERGED: "the step budget ended before the run reached its target",
    RunStatus.NOT_SEPARABLE: "the data are not separable: the run has no limit direction to reach",
    RunStatus.INACCURATE: "a solver returned its best point without meeting its tolerance",
    RunStatus.INTERRUPTED: "the run was interrupted by the user",
    RunStatus.NOT_COMPUTED: "nothing was computed: the quantity is not defined for this input, or an input "
                            "it needs is missing (the record's message says which)",
    RunStatus.DEGENERATE: "the run stopped where its equations became singular (a Jacobian lost rank, so no "
                          "further step is defined): the point is finite but not the run's target; the "
                          "record's message says where",
}

_SOLVER = {"optimal": RunStatus.OK, "optimal_inaccurate": RunStatus.INACCURATE}   # see RunStatus.from_solver


class status_field:
    """A record's status attribute, declared in a dataclass as ``status: RunStatus = status_field()``
    (required) or ``status_field(RunStatus.NOT_CONVERGED)`` (with a default). Assigning stores
    ``RunStatus.of(value)``: the old strings still work, anything else raises ``ValueError``. The
    value lives in the instance's ``__dict__``, so frozen dataclasses stay frozen (their ``__init__``
    assigns through ``object.__setattr__``, which calls this descriptor) and pickling is unchanged.

    ``kind`` is the enumeration (``RunStatus`` by default; a record of a verdict declares
    ``status_field(kind=verify.outcome.Verdict)``): the same coercion, to that enumeration's members.
    A tuple of enumerations (with no value in common) declares a status that is a member of one of
    them: a fingerprint's status is what it found (``verify.identification.Finding``) or, when its
    runs did not get that far, how they ended (``RunStatus``): ``kind=(Finding, RunStatus)``. A value
    is coerced to the enumeration that has it; one that none has raises ``ValueError`` naming them all.
    ``allowed`` (members) narrows the field to the statuses its record can have: a member outside it
    raises ``ValueError`` too (a fingerprint is never ``not converged``)."""

    def __init__(self, default=None, kind: "type[StrEnum] | tuple[type[StrEnum], ...]" = RunStatus,
                 allowed: tuple = ()):
        self.kinds = tuple(kind) if isinstance(kind, tuple) else (kind,)
        self.kind = self.kinds[0]
        if len(self.kinds) > 1:
            shared = set.intersection(*({s.value for s in k} for k in self.kinds))
            if shared:
                raise ValueError(f"status_field: the enumerations share the values {sorted(shared)}")
        self.allowed = tuple(self._member(a) for a in allowed)
        self.default = None if default is None else self.coerce(default)

    def coerce(self, value):
        """The member of ``kind`` whose value is ``value`` (ValueError naming the known values)."""
        if not self.allowed:
            return self._member(value)
        try:
            member = self._member(value)
        except ValueError:
            member = None
        if member not in self.allowed:
            raise ValueError(f"unknown status {value!r} for this record; allowed: "
                             f"{', '.join(a.value for a in self.allowed)}")
        return member

    def _member(self, value):
        if len(self.kinds) > 1:
            for kind in self.kinds:
                if isinstance(value, kind):
                    return value
            for kind in self.kinds:
                try:
                    return kind(value)
                except ValueError:
                    continue
            raise ValueError(f"unknown {' or '.join(k.__name__ for k in self.kinds)} {value!r}; known: "
                             f"{', '.join(s.value for k in self.kinds for s in k)}")
        of = getattr(self.kind, "of", None)
        if of is not None:
            return of(value)
        try:
            return self.kind(value)
        except ValueError:
            raise ValueError(f"unknown {self.kind.__name__} {value!r}; known: "
                             f"{', '.join(s.value for s in self.kind)}") from None

    def __set_name__(self, owner, name: str) -> None:
        self.name, self.slot = name, f"_{name}_run_status"

    def __get__(self, obj, owner=None):
        if obj is None:
            if self.default is None:        # dataclasses read "no default" from AttributeError
                raise AttributeError(self.name)
            return self.default
        try:
            return obj.__dict__[self.slot]
        except KeyError:
            raise AttributeError(self.name) from None

    def __set__(self, obj, value) -> None:
        obj.__dict__[self.slot] = self.coerce(value)
