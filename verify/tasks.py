"""Tasks: the units of work ``verify all`` and ``verify optimizer`` plan and hand to an executor.

A task runs one *group* of claims on one seed with a fresh :class:`Context` and returns plain data
(numbers, strings, lists, dicts: no objects), so it can run in this process, in a local worker
process or on a remote Dask worker, and its results can be cached as JSON.

A group is the claims that share experiments through ``ctx.shared``: the claims registered by one
module (the Fan et al. population feeds the 15 ``fan2025-*`` claims; the label-noise claims share
one unregularized run). Grouping by module is the fallback until claim modules declare their
experiments as :class:`Experiment` objects; then a task will be one experiment × settings × seed.

Every task is a *callable by name*: its :meth:`spec` is plain data whose ``function`` names a
function of this package (``"verify.tasks:run_task"``, ``"verify.optimizer_tasks:run_part"``), and
:func:`execute` imports that function and calls it with the spec, in this process or in a worker.
No callable is ever pickled, so a worker only needs the package installed; :class:`CallTask` is
the generic task for any such function (``verify optimizer``'s fingerprint parts).
"""
from __future__ import annotations

import importlib
import math
import random
import sys
import time
import traceback
from dataclasses import asdict, dataclass, is_dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from theory.errors import UserInputError
from verify.context import Context
from verify.outcome import Outcome


@dataclass(frozen=True)
class Experiment:
    """A named computation: frozen settings per profile and ``run(settings, seed) -> result``, the
    result plain data (arrays and numbers). Claims read it through ``ctx.experiment(exp)``, which
    runs it once per task; the cache and executors key it by :meth:`key`."""
    name: str
    run: Callable[[Any, int], Any]
    quick: Any
    full: Any

    def settings(self, profile: str) -> Any:
        return self.quick if profile == "quick" else self.full

    def key(self, profile: str, seed: int) -> dict:
        settings = self.settings(profile)
        return {"experiment": self.name, "seed": int(seed),
                "settings": asdict(settings) if is_dataclass(settings) else settings}


@dataclass
class Task:
    """One group of claims on one seed."""
    group: str                      # the registering module (or the claim id when unknown)
    module: str | None              # importable module that registers the claims, if any
    claim_ids: tuple[str, ...]
    profile: str
    seed: int
    claims: tuple | None = None     # the Claim objects themselves when the registry cannot find them
    estimate: float = float("nan")  # seconds, from earlier runs (ordering and ETA)

    @property
    def name(self) -> str:
        return f"{self.group.rsplit('.', 1)[-1]} seed {self.seed}"

    def spec(self) -> dict:
        """What a worker receives: plain data (and the Claim objects only for unregistered claims)."""
        return {"function": CLAIMS_FUNCTION, "group": self.group, "module": self.module,
                "claim_ids": list(self.claim_ids), "profile": self.profile, "seed": self.seed,
                "claims": self.claims}


CLAIMS_FUNCTION = "verify.tasks:run_task"
TASK_PACKAGES = ("verify", "numerics")     # a task function lives in this project's packages


@dataclass
class CallTask:
    """A task that calls a function of this package by name: ``function`` is
    ``"package.module:name"`` and ``args`` plain data; the function is called as
    ``fn(spec, progress=..., on_record=...)`` with ``spec = {"function": ..., **args}`` and returns
    plain data."""
    name: str
    function: str
    args: dict
    estimate: float = math.nan      # seconds (ordering and ETA), NaN when unknown

    def spec(self) -> dict:
        return {"function": self.function, **self.args}


def task_function(name: str) -> Callable:
    """The function ``"package.module:attr"`` names, imported (never unpickled); only this
    project's packages (``TASK_PACKAGES``) are searched."""
    module, _, attr = name.partition(":")
    if not attr or module.split(".")[0] not in TASK_PACKAGES:
        raise ValueError(f"{name!r} is not a task function of this package (package.module:function)")
    return getattr(importlib.import_module(module), attr)


def execute(spec: dict, pin_threads: bool = False,
            progress: Callable[[int, int, str], None] | None = None,
            on_record: Callable[[str, dict], None] | None = None):
    """Run one task from its plain spec (what executors call, in this process or in a worker):
    pin the worker's threads if asked, then call the function ``spec["function"]`` names (a claims
    group, :func:`run_task`, when absent)."""
    if pin_threads:
        _pin_threads()
    fn = task_function(spec.get("function", CLAIMS_FUNCTION))
    return fn(spec, progress=progress, on_record=on_record)


def plan_tasks(claims: list, profile: str, seeds: list[int],
               done: Callable[[str, int], bool] = lambda cid, seed: False) -> list[Task]:
    """Tasks (group × seed) for the claims whose (claim, seed) result is not ``done`` yet, in
    catalogue order, seed-major within each group."""
    from verify.registry import group_of, is_registered, module_of

    groups: dict[str, list] = {}
    for claim in claims:
        groups.setdefault(group_of(claim), []).append(claim)
    tasks = []
    for group, members in groups.items():
        for seed in seeds:
            todo = [c for c in members if not done(c.id, seed)]
            if not todo:
                continue
            registered = all(is_registered(c) for c in todo)
            tasks.append(Task(group, module_of(todo[0]) if registered else None,
                              tuple(c.id for c in todo), profile, seed,
                              None if registered else tuple(todo)))
    return tasks


def check_claim(claim, ctx: Context) -> Outcome:
    """Run one check; a crash inside it is the check's ``error``, reported in one line."""
    try:
        return claim.check(ctx)
    except UserInputError as exc:
        return Outcome.error(str(exc))
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # the check itself broke: keep the rest of the catalogue running
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return Outcome.error(f"{type(exc).__name__}: {exc} (at {Path(where.filename).name}:{where.lineno})")


def plain(obj):
    """Plain Python data: numpy arrays as nested lists, numpy scalars as Python numbers. Unlike
    ``report.jsonable`` it keeps NaN and ±inf (the cache writes them; the report turns them into
    null)."""
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return plain(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        return float(obj)
    return obj


def outcome_data(seed: int, outcome: Outcome, seconds: float) -> dict:
    """One seed's outcome as plain data."""
    return {"seed": int(seed), "status": outcome.status,
            "checks": [{"name": c.name, "value": float(c.value), "op": c.op,
                        "tolerance": float(c.tolerance), "role": c.role, "passed": bool(c.passed),
                        "note": c.note} for c in outcome.checks],
            "metrics": plain(outcome.metrics), "tolerances": plain(outcome.tolerances),
            "message": outcome.message, "details": plain(outcome.details),
            "figures": plain(outcome.figures), "seconds": round(float(seconds), 3)}


def seed_globals(seed: int) -> None:
    """Reset the global generators a check might touch without a seed of its own, so a claim's
    numbers do not depend on what ran before it in the same process."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)


def _pin_threads() -> None:
    """One BLAS/OpenMP/torch thread per worker process (a worker is one core)."""
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1)
    except Exception:  # pragma: no cover - threadpoolctl missing or a pool it cannot see
        pass
    try:
        import torch

        if torch.get_num_threads() != 1:
            torch.set_num_threads(1)
    except Exception:  # pragma: no cover
        pass


def resolve_claims(spec: dict) -> list:
    if spec.get("claims"):
        return list(spec["claims"])
    from verify.registry import lookup

    return [lookup(cid, spec.get("module")) for cid in spec["claim_ids"]]


def run_task(spec: dict, pin_threads: bool = False,
             progress: Callable[[int, int, str], None] | None = None,
             on_record: Callable[[str, dict], None] | None = None) -> dict:
    """Run a task's claims on its seed with one fresh Context; returns ``{"records": {claim id:
    seed record}, "source": hash of the worker's package source, "seconds": wall}``."""
    from verify.cache import source_hash

    if pin_threads:
        _pin_threads()
    t_start = time.perf_counter()
    ctx = Context(profile=spec["profile"], seed=int(spec["seed"]))
    if progress is not None:
        ctx.progress = progress
    records = {}
    for claim in resolve_claims(spec):
        seed_globals(ctx.seed)
        t0 = time.perf_counter()
        outcome = check_claim(claim, ctx)
        record = outcome_data(ctx.seed, outcome, time.perf_counter() - t0)
        records[claim.id] = record
        if on_record is not None:
            on_record(claim.id, record)
    return {"records": records, "source": source_hash(),
            "seconds": round(time.perf_counter() - t_start, 3)}


def error_records(task: Task, message: str) -> dict:
    """The records of a task that could not run (its worker died, the cluster went away)."""
    return {cid: outcome_data(task.seed, Outcome.error(message), float("nan")) for cid in task.claim_ids}


__all__ = ["Experiment", "Task", "CallTask", "execute", "task_function", "plan_tasks", "check_claim", "outcome_data", "run_task",
           "error_records", "plain"]
