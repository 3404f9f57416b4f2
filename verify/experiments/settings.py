"""Frozen settings objects whose fields may differ between the quick and the full profile.

Usage::

    @dataclass(frozen=True)
    class RidgeSettings(Settings):
        n: int = Profiled(quick=1000, full=2000)      # profiled: one value per profile
        eta: float = 5e-3                             # the same in both profiles
        etas: tuple = Profiled(quick=(5e-3, 5e-2), full=(5e-3, 2e-2, 5e-2))

    SETTINGS = RidgeSettings()
    s = SETTINGS.resolve(ctx.profile)   # or ctx.settings(SETTINGS): a RidgeSettings of plain values
    statement = f"... {SETTINGS.describe('n')} ..."  # "n = 1000 (full: 2000)": one source per number
    statement = f"... over {SETTINGS.values('n')} samples"  # "1000 (full: 2000)"
    EXPERIMENT = experiment("ridge", run, SETTINGS)   # a verify.tasks.Experiment with both profiles

Fields hold plain data (numbers, strings, tuples, nested Settings); sequences are tuples so the
objects stay hashable. ``resolve`` is idempotent: a resolved object resolves to an equal one.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Generic, TypeVar

from theory.errors import UserInputError
from verify.context import PROFILES

T = TypeVar("T")
S = TypeVar("S", bound="Settings")


@dataclass(frozen=True)
class Profiled(Generic[T]):
    """A setting with one value per profile."""
    quick: T
    full: T

    def value(self, profile: str) -> T:
        _check_profile(profile)
        return self.quick if profile == "quick" else self.full


def _check_profile(profile: str) -> None:
    if profile not in PROFILES:
        raise UserInputError(f"unknown profile {profile!r} (expected one of {', '.join(PROFILES)})")


def _resolve(value: Any, profile: str) -> Any:
    if isinstance(value, Profiled):
        value = value.value(profile)
    if isinstance(value, Settings):
        return value.resolve(profile)
    return value


def fmt(value: Any, _inner: bool = False) -> str:
    """A setting as statement text: floats with ``:g``, integers as they are, a sequence as the set
    ``{a, b}`` and sequences inside it as tuples ``(a, b)``."""
    if isinstance(value, bool) or isinstance(value, str):
        return str(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (tuple, list)):
        body = ", ".join(fmt(v, True) for v in value)
        return f"({body})" if _inner else "{" + body + "}"
    return str(value)


@dataclass(frozen=True)
class Settings:
    """Base of frozen settings dataclasses (subclass with ``@dataclass(frozen=True)``)."""

    def resolve(self: S, profile: str) -> S:
        """The same settings with every :class:`Profiled` field replaced by its value under
        ``profile`` (nested settings resolved too)."""
        _check_profile(profile)
        return dataclasses.replace(self, **{f.name: _resolve(getattr(self, f.name), profile)
                                            for f in dataclasses.fields(self)})

    @property
    def quick(self: S) -> S:
        return self.resolve("quick")

    @property
    def full(self: S) -> S:
        return self.resolve("full")

    def profiled(self) -> tuple[str, ...]:
        """Names of the fields whose value differs between the profiles."""
        q, f = self.quick, self.full
        return tuple(x.name for x in dataclasses.fields(self) if getattr(q, x.name) != getattr(f, x.name))

    def text(self, name: str, profile: str = "quick") -> str:
        """One field's value under ``profile``, formatted by :func:`fmt`."""
        return fmt(getattr(self.resolve(profile), name))

    def values(self, name: str) -> str:
        """One field as ``quick value (full: full value)``, or its one value when both agree."""
        q, f = self.text(name, "quick"), self.text(name, "full")
        return q if q == f else f"{q} (full: {f})"

    def rows(self, *names: str) -> list[tuple[str, str, str]]:
        """(name, quick text, full text) for each named field (all fields when none are named);
        nested settings give one row per field, named ``outer.inner``."""
        out = []
        for name in names or tuple(f.name for f in dataclasses.fields(self)):
            value = getattr(self, name)
            if isinstance(value, Settings):
                out += [(f"{name}.{inner}", q, f) for inner, q, f in value.rows()]
            else:
                out.append((name, self.text(name, "quick"), self.text(name, "full")))
        return out

    def describe(self, *names: str) -> str:
        """``name = quick value (full: full value)`` for each named field (all fields when none are
        named; nested settings as ``name.field = ...``); a field equal in both profiles shows its
        one value."""
        return ", ".join(f"{n} = {q}" if q == f else f"{n} = {q} (full: {f})" for n, q, f in self.rows(*names))


def experiment(name: str, run: Callable[[Any, int], Any], settings: Settings):
    """A :class:`verify.tasks.Experiment` whose quick and full settings are ``settings`` resolved."""
    from verify.tasks import Experiment
    return Experiment(name, run, settings.resolve("quick"), settings.resolve("full"))
