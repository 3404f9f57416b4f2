"""The plan of a catalogue run without running it: the tasks ``verify all`` would hand out (the
planner's own grouping, ``verify.tasks.plan_tasks``), each task's estimated cost from the costs
earlier runs recorded, the CPU they add up to, the critical path (the longest task) and the wall
time on N workers (the longest-first schedule the executors use, ``verify.tasks.makespan``).
``python -m verify all --plan`` and ``bench/bench_engine.py --plan`` print it.

Costs come from a cache directory (``timings.json``: each claim's seconds per seed, recorded by
every run, ``ResultCache.timings``) or from a report JSON (each claim's per-seed seconds, summed per
task). A task's cost is the sum of its claims' costs; a task is one core (workers are pinned to
one thread), so task-seconds are CPU seconds. A claim without a cost recorded for the planned
profile takes its quick-profile cost times its module's *work ratio*:

- a declared ``SECONDS_PER_SEED = {"quick": s, "full": s}`` in its experiment module, when there is
  one, else
- per settings object of the module (one experiment), the product of full/quick over its integer
  size settings (n, d, replicas, chains, seeds, instances) and sequence lengths (step sizes, rates,
  configurations), times the largest ratio of its step budgets (steps, iterations, epochs:
  sequential phases); the module takes its largest experiment's factor. Float settings (tolerances,
  step sizes) and horizons are left out.

That is "linear in every size and budget"; it misses work a profile adds outside its settings'
values (a task only the full profile runs), early stopping and superlinear solvers, so each
module's factor and the fields behind it are printed. A task with no cost at all (its claims never
ran, and no declaration) is listed and left out of the totals.

The tasks are independent, so the wall on W workers is at least max(longest task, total / W); the
longest-first schedule printed is within 4/3 of the optimum.
"""
from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field
from pathlib import Path

from theory.errors import UserInputError
from verify.tasks import makespan, plan_tasks

LONG_TASK = 7200.0                                 # seconds: flagged as worth splitting
STEP_WORDS = ("step", "iteration", "epoch")       # sequential phases: the longest one counts
NOT_WORK = ("horizon",)                            # a schedule's parameter, not a budget


class NoRecordedCosts(UserInputError):
    """Nothing to estimate from: no run recorded a cost for the planned claims."""


@dataclass
class PlannedTask:
    group: str                      # the planner's task group (module, or module[experiment])
    seed: int
    seconds: float                  # estimated; NaN when no cost is known
    claim_ids: tuple[str, ...] = ()
    extrapolated: bool = False      # from the quick profile's cost × the module's work ratio

    @property
    def label(self) -> str:
        module, bracket, rest = self.group.partition("[")
        return f"{module.rsplit('.', 1)[-1]}{bracket}{rest}"


@dataclass
class Plan:
    profile: str
    seeds: list[int]
    tasks: list[PlannedTask]
    source: str                                     # where the costs came from
    factors: dict[str, tuple[float, str]] = field(default_factory=dict)   # module → (ratio, how)
    cached: int = 0                                 # claim-seeds the cache replays (not planned)
    claims: int = 0
    measured: str = "quick"                         # the profile extrapolated from

    @property
    def known(self) -> list[PlannedTask]:
        """The tasks with an estimated cost, longest first."""
        return sorted((t for t in self.tasks if math.isfinite(t.seconds)), key=lambda t: -t.seconds)

    @property
    def unknown(self) -> list[PlannedTask]:
        return [t for t in self.tasks if not math.isfinite(t.seconds)]

    @property
    def cpu(self) -> float:
        """Task-seconds of the tasks with a cost (each task is one core: CPU seconds)."""
        return math.fsum(t.seconds for t in self.known)

    @property
    def critical_path(self) -> PlannedTask | None:
        known = self.known
        return known[0] if known else None

    def wall(self, workers: int) -> float:
        """The longest-first schedule's wall time on ``workers`` workers."""
        return makespan([t.seconds for t in self.known], workers) if self.known else 0.0

    def lower_bound(self, workers: int) -> float:
        longest = self.critical_path
        return max(longest.seconds if longest else 0.0, self.cpu / max(1, workers))


# -- work ratio between profiles ------------------------------------------------------------------

def _profiled_pairs(obj, name=""):
    """(field, quick, full) for every value that differs between the profiles in a module's settings:
    ``Settings`` objects and plain dicts with ``{"quick": ..., "full": ...}`` leaves."""
    from verify.experiments.settings import Settings

    if isinstance(obj, Settings):
        q, f = obj.quick, obj.full
        for name_ in obj.__dataclass_fields__:
            qv, fv = getattr(q, name_), getattr(f, name_)
            if isinstance(getattr(obj, name_), Settings):
                yield from _profiled_pairs(getattr(obj, name_), f"{name}{name_}.")
            elif qv != fv:
                yield f"{name}{name_}", qv, fv
    elif isinstance(obj, dict):
        if set(obj) == {"quick", "full"}:
            if obj["quick"] != obj["full"]:
                yield name.rstrip("."), obj["quick"], obj["full"]
            return
        for key, value in obj.items():
            yield from _profiled_pairs(value, f"{name}{key}.")


def experiment_factor(obj, name: str) -> tuple[float, list[str]]:
    """One settings object's full/quick work factor: (∏ size ratios) × (largest step-count ratio),
    and the fields behind it."""
    size, steps, used = 1.0, 1.0, []
    for name_, q, f in _profiled_pairs(obj, f"{name}."):
        leaf = name_.rsplit(".", 1)[-1]
        if isinstance(q, bool) or isinstance(f, bool) or any(w in leaf for w in NOT_WORK):
            continue
        if isinstance(q, int) and isinstance(f, int) and q > 0:
            if any(w in leaf for w in STEP_WORDS):
                steps = max(steps, f / q)
            else:
                size *= f / q
            used.append(f"{name_} {q}→{f}")
        elif isinstance(q, (tuple, list)) and isinstance(f, (tuple, list)) and q and len(q) != len(f):
            size *= len(f) / len(q)
            used.append(f"len {name_} {len(q)}→{len(f)}")
    return size * steps, used


def _short(group: str) -> str:
    """``verify.claims.li2025:li2025-adam-drift`` / ``verify.claims.fan2025[x]`` → ``li2025``/``fan2025``."""
    return group.split(":", 1)[0].split("[", 1)[0].rsplit(".", 1)[-1]


def work_ratio(group: str, profile: str, measured: str = "quick") -> tuple[float, str]:
    """(``profile``/``measured`` cost factor of a task group's claims, how it was obtained): a declared
    ``SECONDS_PER_SEED`` in its experiment module, else the largest factor of its settings objects
    (each an experiment: sizes multiply, sequential step budgets do not; an upper estimate for a
    module whose experiments grow unequally). Only quick → full is derived from the settings."""
    from verify.experiments.settings import Settings

    if profile == measured:
        return 1.0, "measured profile"
    try:
        mod = importlib.import_module(f"verify.experiments.{_short(group)}")
    except ImportError:
        return math.nan, "no experiment module"
    declared = getattr(mod, "SECONDS_PER_SEED", None)
    if isinstance(declared, dict) and declared.get(measured) and declared.get(profile):
        return declared[profile] / declared[measured], "declared SECONDS_PER_SEED"
    if (measured, profile) != ("quick", "full"):
        return math.nan, f"no declared SECONDS_PER_SEED for {measured} → {profile}"
    best, how, factors = 1.0, "no integer setting differs", []
    for name, obj in vars(mod).items():
        if name.isupper() and isinstance(obj, (Settings, dict)):
            factor, used = experiment_factor(obj, name)
            if used:
                factors.append(factor)
            if used and factor >= best:
                best, how = factor, "; ".join(used)
    if len({round(f, 6) for f in factors}) > 1:
        how += (f"  [upper estimate: the largest of {len(factors)} experiments' factors "
                f"({', '.join(f'{f:.3g}' for f in sorted(factors, reverse=True))})]")
    return best, how


# -- plans ----------------------------------------------------------------------------------------

def _apply_measured(plan: Plan, measured: dict[str, float] | None) -> None:
    """``measured``: a module's (short name's) measured seconds per seed in the planned profile, in
    place of its extrapolation, shared among its tasks in proportion to their estimates."""
    for short, seconds in (measured or {}).items():
        mine = [t for t in plan.tasks if _short(t.group) == short and math.isfinite(t.seconds)]
        if not mine:
            continue
        per_seed = math.fsum(t.seconds for t in mine) / len({t.seed for t in mine})
        for t in mine:
            t.seconds, t.extrapolated = seconds * t.seconds / per_seed, False
        module = next(t.group for t in mine).split(":", 1)[0].split("[", 1)[0]
        plan.factors[module] = (math.nan, f"measured {seconds:.0f} s per seed (given)")


def plan_from_cache(claims: list, profile: str, seeds: list[int], cache_dir: str | Path, *,
                    replay: bool = True, measured: dict[str, float] | None = None) -> Plan:
    """The tasks ``verify all`` would run for ``claims`` × ``seeds`` with the cache at ``cache_dir``
    (``replay``: the (claim, seed) results it holds are replayed, not planned — as without
    ``--refresh``/``--no-cache``), costed from the cache's recorded timings. Reads the directory only.
    :class:`NoRecordedCosts` when it recorded no cost for any planned claim."""
    from verify.cache import ResultCache
    from verify.registry import declared_seconds

    cache = ResultCache(cache_dir)
    own = cache.timings(profile)
    quick = cache.timings("quick") if profile != "quick" else {}
    reads, _ = cache.plan(profile)
    held = {(c.id, s) for c in claims for s in seeds
            if replay and cache.get(c.id, profile, s) is not None}
    tasks = plan_tasks(claims, profile, seeds, done=lambda cid, s: (cid, s) in held, reads=reads)
    if tasks and not any(cid in own or cid in quick for t in tasks for cid in t.claim_ids):
        recorded = "no timings.json" if not (cache.root / "timings.json").exists() else \
            f"timings.json has no cost of these claims for the {profile} profile" + \
            (" or the quick one" if profile != "quick" else "")
        raise NoRecordedCosts(f"no recorded task costs in {cache.root} ({recorded}); run "
                              f"`python -m verify all` with this cache once, or give --cache DIR of an earlier run")
    plan = Plan(profile, list(seeds), [], f"{cache.root / 'timings.json'}", cached=len(held),
                claims=len(claims))
    for task in tasks:
        total, extrapolated = 0.0, False
        for cid in task.claim_ids:
            if cid in own:
                total += own[cid]
            elif cid in quick:
                module = task.group.split(":", 1)[0].split("[", 1)[0]
                if module not in plan.factors:
                    plan.factors[module] = work_ratio(task.group, profile)
                total += quick[cid] * plan.factors[module][0]
                extrapolated = True
            else:
                total = math.nan
                break
        if not math.isfinite(total) and "[" not in task.group:
            total = declared_seconds(task.group, profile)        # a module's declaration, if any
        plan.tasks.append(PlannedTask(task.group, task.seed, total, task.claim_ids, extrapolated))
    _apply_measured(plan, measured)
    return plan


def task_costs(report: dict) -> dict[tuple[str, int], float]:
    """Seconds per task (the task group a claim ran in × seed) from a report's per-seed costs of its
    claims (results replayed from the cache left out); a report without task names groups by
    module."""
    costs: dict[tuple[str, int], float] = {}
    for c in report.get("claims", []):
        task = c.get("task") or c.get("group") or c["id"].split("-", 1)[0]
        for p in c.get("per_seed", []):
            if isinstance(p.get("seconds"), (int, float)) and not p.get("cached"):
                costs[(task, p["seed"])] = costs.get((task, p["seed"]), 0.0) + p["seconds"]
    return costs


def plan_from_report(report: dict, profile: str, seeds: list[int], *, source: str = "report",
                     measured: dict[str, float] | None = None) -> Plan:
    """Every task of a report (its per-seed mean cost) on ``seeds`` in ``profile``: costs measured in
    another profile are scaled by the module's work ratio."""
    measured_profile = report.get("environment", {}).get("profile", "quick")
    per_seed: dict[str, list[float]] = {}
    for (task, _), cost in task_costs(report).items():
        per_seed.setdefault(task, []).append(cost)
    if not per_seed:
        raise NoRecordedCosts(f"no task costs in {source} (no claim with a computed, uncached seed)")
    plan = Plan(profile, list(seeds), [], f"{source} ({measured_profile}, seeds {report.get('seeds')})",
                claims=len(report.get("claims", [])), measured=measured_profile)
    for task, costs in per_seed.items():
        module = task.split(":", 1)[0].split("[", 1)[0]
        if module not in plan.factors:
            plan.factors[module] = work_ratio(task, profile, measured_profile)
        factor = plan.factors[module][0]
        mean = math.fsum(costs) / len(costs)
        plan.tasks += [PlannedTask(task, s, mean * factor, (), measured_profile != profile) for s in seeds]
    _apply_measured(plan, measured)
    return plan


def format_plan(plan: Plan, workers: list[int], limit: int | None = 25) -> str:
    """The plan as text: the tasks (longest first, ``limit`` of them; None: all), the work ratios
    used, the CPU total, the critical path, and the wall on each worker count."""
    from verify.seeds import describe

    lines = [f"plan: profile {plan.profile}, seeds {describe(plan.seeds)} ({len(plan.seeds)}); "
             f"costs from {plan.source}"]
    if plan.cached:
        lines.append(f"{plan.cached} claim-seed results are in the cache (replayed, not run)")
    if not plan.tasks:
        lines.append("nothing to run")
        return "\n".join(lines)
    factors = {m: fh for m, fh in plan.factors.items() if fh[1] != "measured profile"}
    if factors:
        lines.append(f"\nwork ratio {plan.profile}/{plan.measured} per module, for the claims without a "
                     f"{plan.profile}-profile cost (see verify/engine_plan.py):")
        for module, (factor, how) in sorted(factors.items(),
                                            key=lambda kv: -kv[1][0] if math.isfinite(kv[1][0]) else 0.0):
            text = f"×{factor:9.1f}" if math.isfinite(factor) else f"{'-':>10}"
            lines.append(f"  {module.rsplit('.', 1)[-1]:<28} {text}   {how}")
    known = plan.known
    width = max([40] + [len(t.label) for t in known])
    lines.append(f"\n{'task':<{width}} {'seed':>6} {'est. s':>10}")
    shown = known if limit is None else known[:limit]
    for t in shown:
        flag = "  (extrapolated)" if t.extrapolated else ""
        if t.seconds > LONG_TASK:
            flag += f"  > {LONG_TASK / 3600:.0f} h alone: split by seeds, sizes or checkpoints"
        lines.append(f"{t.label:<{width}} {t.seed:>6} {t.seconds:10.1f}{flag}")
    if len(shown) < len(known):
        lines.append(f"... {len(known) - len(shown)} more")
    unknown = plan.unknown
    lines.append(f"\n{len(plan.tasks)} tasks" + (f", {len(unknown)} without a recorded cost (not in the "
                                                  f"totals): " + ", ".join(f"{t.label} seed {t.seed}" for t in unknown[:8])
                                                  + (" ..." if len(unknown) > 8 else "") if unknown else ""))
    longest = plan.critical_path
    if longest is None:
        lines.append("no task has a cost: no estimate")
        return "\n".join(lines)
    lines.append(f"estimated CPU: {plan.cpu:.0f} s ({plan.cpu / 3600:.2f} h) of task time, one core per task")
    lines.append(f"critical path (the longest task): {longest.label} seed {longest.seed}, {longest.seconds:.0f} s "
                 f"({longest.seconds / 3600:.2f} h)")
    for w in workers:
        wall = plan.wall(w)
        lines.append(f"estimated wall on {w} worker{'s' if w != 1 else ''}: {wall:.0f} s ({wall / 3600:.2f} h), "
                     f"longest-first schedule; lower bound max(longest, CPU / {w}) = {plan.lower_bound(w):.0f} s")
    over = sorted({t.label for t in known if t.seconds > LONG_TASK})
    if over:
        lines.append(f"tasks over {LONG_TASK / 3600:.0f} h alone: " + ", ".join(over))
    return "\n".join(lines)


__all__ = ["Plan", "PlannedTask", "NoRecordedCosts", "plan_from_cache", "plan_from_report", "task_costs",
           "format_plan", "work_ratio", "experiment_factor", "LONG_TASK"]
