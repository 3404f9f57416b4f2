"""The one registry of claims.

A claim is a published statement turned into an executable object: where it comes from, what it
assumes and predicts, how the prediction is derived (``derivation``, printed by ``verify show``) and
how it is checked (``check``, run by ``verify run``/``verify all``). Each module in
``verify/claims/`` registers its claims at import; adding a claim is adding one entry there.
"""
from __future__ import annotations

import difflib
import importlib
import pkgutil
import re
import sys
from dataclasses import dataclass, field
from typing import Callable

from theory.derivation import Derivation
from theory.errors import UserInputError
from verify.context import Context
from verify.outcome import Outcome


KINDS = ("paper", "extension", "reading")


@dataclass(frozen=True)
class Claim:
    id: str
    title: str
    source: str                                  # "Authors Year" (the paper whose claim this is)
    section: str                                 # table-of-contents heading
    statement: str                               # assumptions and prediction, in words
    check: Callable[[Context], Outcome]
    derivation: Callable[[], Derivation]
    tags: tuple[str, ...] = field(default=())
    kind: str = "paper"                          # "paper" | "extension" | "reading"
    expected: str | None = None                  # readings only: the verdict the reading should get

    def __post_init__(self):
        if self.kind not in KINDS:
            raise RuntimeError(f"claim {self.id!r}: kind {self.kind!r} is not one of {KINDS}")
        if (self.kind == "reading") != (self.expected is not None):
            raise RuntimeError(f"claim {self.id!r}: a reading, and only a reading, declares `expected`")


_REGISTRY: dict[str, Claim] = {}
_MODULES: dict[str, str] = {}                    # claim id → the module that registered it


class UnknownClaimError(UserInputError):
    pass


def register(claim: Claim) -> Claim:
    if claim.id in _REGISTRY:
        raise RuntimeError(f"claim id {claim.id!r} registered twice")
    _REGISTRY[claim.id] = claim
    _MODULES[claim.id] = sys._getframe(1).f_globals.get("__name__", "")
    return claim


def is_registered(claim: Claim) -> bool:
    return _REGISTRY.get(claim.id) is claim


def module_of(claim: Claim) -> str | None:
    """The module that registered ``claim`` (None for an unregistered claim)."""
    return _MODULES.get(claim.id) if is_registered(claim) else None


def group_of(claim: Claim) -> str:
    """The claims that may share experiments through ``ctx.shared`` run in one task per seed: those
    registered by one module. A module whose claims share nothing may say so with
    ``INDEPENDENT_CLAIMS = True``: each of its claims is then its own group (more tasks to spread
    over workers). An unregistered claim is its own group."""
    module = module_of(claim)
    if module is None:
        return f"{claim.check.__module__}:{claim.id}"
    if getattr(sys.modules.get(module), "INDEPENDENT_CLAIMS", False):
        return f"{module}:{claim.id}"
    return module


def declared_seconds(group: str, profile: str) -> float:
    """A module's declared cost of one seed of all its claims, for ordering tasks before any run
    has measured them: ``SECONDS_PER_SEED = {"quick": s, "full": s}`` in the claim module or in
    its experiment module (``verify.claims.X`` → ``verify.experiments.X``); NaN when neither
    declares it (measured costs, ``ResultCache.timings``, take precedence)."""
    module = group.split(":", 1)[0].split("[", 1)[0]
    candidates = [module]
    if module.startswith("verify.claims."):
        candidates.append("verify.experiments." + module.rsplit(".", 1)[-1])
    for name in candidates:
        mod = sys.modules.get(name)
        if mod is None and name.startswith("verify.experiments."):
            try:
                mod = importlib.import_module(name)
            except ImportError:
                mod = None
        table = getattr(mod, "SECONDS_PER_SEED", None)
        if isinstance(table, dict) and isinstance(table.get(profile), (int, float)):
            return float(table[profile])
    return float("nan")


def lookup(claim_id: str, module: str | None = None) -> Claim:
    """A claim by id, importing only its registering module when known (what a worker does)."""
    if module and claim_id not in _REGISTRY:
        importlib.import_module(module)
    if claim_id in _REGISTRY:
        return _REGISTRY[claim_id]
    return get(claim_id)


def _load_all() -> None:
    import verify.claims as package

    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{info.name}")


def all_claims() -> list[Claim]:
    """Every registered claim, in catalogue order (by section, then registration order)."""
    _load_all()
    sections: dict[str, list[Claim]] = {}
    for claim in _REGISTRY.values():
        sections.setdefault(claim.section, []).append(claim)
    return [c for sec in sorted(sections, key=_section_key) for c in sections[sec]]


def _section_key(section: str):
    number = section.split(" ", 1)[0]
    return tuple(int(x) for x in number.split(".") if x.isdigit()) or (999,), section


def get(claim_id: str) -> Claim:
    _load_all()
    if claim_id in _REGISTRY:
        return _REGISTRY[claim_id]
    close = difflib.get_close_matches(claim_id, list(_REGISTRY), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else "; see `python -m verify list`"
    raise UnknownClaimError(f"unknown claim id {claim_id!r}{hint}")


def select(pattern: str | None) -> list[Claim]:
    """Claims matching ``pattern`` (the ``-k`` option), a small pytest-like grammar: alternatives
    separated by ``or`` or commas; within one, every word must occur in the claim id, and a word
    after ``not`` must not. ``-k "fan2025 spectral"``, ``-k "soudry2018 or gunasekar2018"``,
    ``-k "fan2025 not adam"``."""
    claims = all_claims()
    if not pattern or not pattern.strip():
        return claims
    alternatives = [alt.split() for alt in re.split(r",|\bor\b", pattern.lower())]
    if any(not words or words[-1] == "not" for words in alternatives):
        raise UserInputError(f"malformed -k pattern {pattern!r}: an alternative is empty or ends in 'not'")

    def matches(cid: str, words: list[str]) -> bool:
        negate, ok = False, True
        for w in words:
            if w == "not":
                negate = not negate
                continue
            ok = ok and ((w in cid) != negate)
            negate = False
        return ok

    return [c for c in claims if any(matches(c.id.lower(), words) for words in alternatives)]
