"""Tasks: the units of work ``verify all`` and ``verify optimizer`` plan and hand to an executor.

A claims task runs a set of claims on one seed with one fresh :class:`TaskContext` and returns
plain data (numbers, strings, lists, dicts: no objects), so it can run in this process, in a local
worker process or on a remote Dask worker, and its results can be cached as JSON.

The unit is the *experiment* × settings × seed: the claims that read one experiment (anything a
claim computes through ``ctx.shared``/``ctx.experiment``: the Fan et al. population feeds 15
claims) run in one task, so the experiment runs once per seed, and claims that share nothing run
in separate tasks, which the executor can spread over workers. The planner learns who reads what
from the task itself: :class:`TaskContext` records, for each claim, the experiments it read and
what computing each one cost, and the cache keeps that map (``ResultCache.plan``) with the task
costs. Until a claim's reads are known (its first run) its module's claims stay together (they may
share experiments; a module may declare ``INDEPENDENT_CLAIMS = True`` to say they do not); a map
that is out of date costs time, never numbers (an experiment read by two tasks is computed twice,
each time from the same profile and seed).

Every task is a *callable by name*: its :meth:`spec` is plain data whose ``function`` names a
function of this package (``"verify.tasks:run_task"``, ``"verify.optimizer_tasks:run_part"``), and
:func:`execute` imports that function and calls it with the spec, in this process or in a worker.
No callable is ever pickled, so a worker only needs the package installed; :class:`CallTask` is
the generic task for any such function (``verify optimizer``'s fingerprint parts).
"""
from __future__ import annotations

import importlib
import json
import math
import random
import re
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field, is_dataclass
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
    """Claims on one seed: those that read one experiment (or, until that is known, one module's)."""
    group: str                      # the registering module (or the claim id when unknown)
    module: str | None              # importable module that registers the claims, if any
    claim_ids: tuple[str, ...]
    profile: str
    seed: int
    claims: tuple | None = None     # the Claim objects themselves when the registry cannot find them
    estimate: float = float("nan")  # seconds, from earlier runs (ordering and ETA)
    experiments: tuple[str, ...] = ()   # the experiments the claims read (known from earlier runs)

    @property
    def name(self) -> str:
        module, bracket, label = self.group.partition("[")
        return f"{module.rsplit('.', 1)[-1]}{bracket}{label} seed {self.seed}"

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


def key_text(key) -> str:
    """A ``ctx.shared`` key as a stable string (the same in every process): plain values as JSON,
    anything else by its ``repr`` without a memory address."""
    def default(obj):
        return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(obj))
    try:
        return json.dumps(plain(list(key) if isinstance(key, tuple) else key), default=default,
                          sort_keys=True, allow_nan=True)
    except (TypeError, ValueError):
        return default(key)


def components(claim_ids: list[str], reads: dict[str, list[str]]) -> list[list[str]]:
    """The claims linked by a shared experiment (connected components; catalogue order kept)."""
    parent = {cid: cid for cid in claim_ids}

    def root(cid):
        while parent[cid] != cid:
            parent[cid] = parent[parent[cid]]
            cid = parent[cid]
        return cid

    first: dict[str, str] = {}
    for cid in claim_ids:
        for key in reads.get(cid, ()):
            if key in first:
                parent[root(cid)] = root(first[key])
            else:
                first[key] = cid
    out: dict[str, list[str]] = {}
    for cid in claim_ids:
        out.setdefault(root(cid), []).append(cid)
    return list(out.values())


def _label(keys: list[str], fallback: str) -> str:
    """A short name for an experiment group: the first experiment key's leading words."""
    if not keys:
        return fallback
    try:
        parts = json.loads(keys[0])
    except ValueError:
        return keys[0][:40]
    if not isinstance(parts, list):
        parts = [parts]
    words = [str(p) for p in parts if isinstance(p, (str, int, float))][:3]
    return ":".join(words)[:60] or fallback


def plan_tasks(claims: list, profile: str, seeds: list[int],
               done: Callable[[str, int], bool] = lambda cid, seed: False,
               reads: dict[str, list[str]] | None = None) -> list[Task]:
    """Tasks for the claims whose (claim, seed) result is not ``done`` yet, in catalogue order,
    seed-major within each group. A group is one module's claims (``registry.group_of``), split into
    the sets that share an experiment when ``reads`` (claim id → experiment keys read, from earlier
    runs: ``ResultCache.plan``) knows every claim of the module."""
    from verify.registry import group_of, is_registered, module_of

    groups: dict[str, list] = {}
    for claim in claims:
        groups.setdefault(group_of(claim), []).append(claim)
    reads = reads or {}
    tasks = []
    for group, members in groups.items():
        by_id = {c.id: c for c in members}
        if len(members) > 1 and all(c.id in reads for c in members):
            parts = components([c.id for c in members], reads)
        else:
            parts = [[c.id for c in members]]
        for part in parts:
            keys = list(dict.fromkeys(k for cid in part for k in reads.get(cid, ())))
            name = group if len(parts) == 1 else f"{group}[{_label(keys, part[0])}]"
            for seed in seeds:
                todo = [by_id[cid] for cid in part if not done(cid, seed)]
                if not todo:
                    continue
                registered = all(is_registered(c) for c in todo)
                tasks.append(Task(name, module_of(todo[0]) if registered else None,
                                  tuple(c.id for c in todo), profile, seed,
                                  None if registered else tuple(todo), experiments=tuple(keys)))
    return tasks


def schedule(tasks: list[Task], workers: int) -> list[Task]:
    """The order tasks are handed out in: with several workers, longest first (the longest-
    processing-time rule: no worker is left alone with a long task at the end); a task without an
    estimate counts as longest (it may be; its first run records its cost). One worker: catalogue
    order."""
    if workers <= 1:
        return list(tasks)
    return sorted(tasks, key=lambda t: -t.estimate if math.isfinite(t.estimate) else -math.inf)


def makespan(costs: list[float], workers: int) -> float:
    """The wall time of the longest-first greedy schedule of ``costs`` on ``workers`` identical
    workers (at most 4/3 of the optimum; never below the longest task or the total / workers)."""
    import heapq

    loads = [0.0] * max(1, workers)
    for cost in sorted(costs, reverse=True):
        heapq.heapreplace(loads, loads[0] + cost)
    return max(loads)


@dataclass
class TaskContext(Context):
    """The Context of one claims task: also records, for the claim running (``current``), the
    experiments it reads through ``shared`` (as :func:`key_text`), and the seconds computing each
    took (the first reader computes it)."""
    current: str | None = None
    reads: dict = field(default_factory=dict)
    experiment_seconds: dict = field(default_factory=dict)

    def shared(self, key: tuple, compute: Callable[[], Any]) -> Any:
        text = key_text(tuple(key))
        if self.current is not None:
            seen = self.reads.setdefault(self.current, [])
            if text not in seen:
                seen.append(text)

        def timed():
            t0 = time.perf_counter()
            try:
                return compute()
            finally:
                self.experiment_seconds[text] = round(time.perf_counter() - t0, 3)
        return super().shared(key, timed)


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
    deciding = outcome.deciding_checks if outcome.status in ("failed", "inconclusive") else []
    return {"seed": int(seed), "status": outcome.status,
            "checks": [{"name": c.name, "value": float(c.value), "op": c.op,
                        "tolerance": float(c.tolerance), "role": c.role, "passed": bool(c.passed),
                        "note": c.note, "unit": c.unit,
                        "deciding": any(c is d for d in deciding)} for c in outcome.checks],
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
    seed record}, "source": hash of the worker's package source, "seconds": wall, "reads": {claim
    id: experiment keys it read}, "experiments": {experiment key: seconds computing it}}``."""
    from verify.cache import source_hash

    if pin_threads:
        _pin_threads()
    t_start = time.perf_counter()
    ctx = TaskContext(profile=spec["profile"], seed=int(spec["seed"]))
    if progress is not None:
        ctx.progress = progress
    records = {}
    for claim in resolve_claims(spec):
        seed_globals(ctx.seed)
        ctx.current = claim.id
        ctx.reads.setdefault(claim.id, [])
        t0 = time.perf_counter()
        outcome = check_claim(claim, ctx)
        record = outcome_data(ctx.seed, outcome, time.perf_counter() - t0)
        records[claim.id] = record
        if on_record is not None:
            on_record(claim.id, record)
    return {"records": records, "source": source_hash(),
            "seconds": round(time.perf_counter() - t_start, 3),
            "reads": ctx.reads, "experiments": ctx.experiment_seconds}


def error_records(task: Task, message: str) -> dict:
    """The records of a task that could not run (its worker died, the cluster went away)."""
    return {cid: outcome_data(task.seed, Outcome.error(message), float("nan")) for cid in task.claim_ids}


__all__ = ["Experiment", "Task", "CallTask", "TaskContext", "execute", "task_function", "plan_tasks", "schedule",
           "makespan", "components", "key_text", "check_claim", "outcome_data", "run_task", "error_records", "plain"]
