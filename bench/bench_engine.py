"""The engine's costs: ``verify all`` with ``--jobs 1`` and ``--jobs 2`` on a cold cache side by side
(wall, CPU, the ratio, verdicts and every check value compared), the warm-cache replay; and, with
``--plan``, the task list with each task's cost and the wall time on 16 and 64 workers.

    python bench/bench_engine.py                         # the representative subset, seeds 0-1
    python bench/bench_engine.py --all                   # the whole quick catalogue, default seeds
    python bench/bench_engine.py -k "wager2013 or soudry2018" --seeds 2     # a smoke run
    python bench/bench_engine.py --plan --profile full --report docs/results/2026-12-07-quick.json

Timing runs: each a fresh ``python -m verify all`` process (start-up included) with its own cache
directory, so no result is reused ("cold"); the ``--jobs 2`` run's directory is given the task costs
and experiment map the ``--jobs 1`` run recorded (``timings.json``, ``plan.json``: no result), so it
plans experiment tasks and starts the longest first, as a user's second run would (``--no-costs``:
catalogue order, as a first run). The ratio is wall(jobs 1) / wall(jobs 2); its bound on 2 cores is
total / max(total / 2, longest task), from the jobs-1 run's task costs. Wall times on a shared machine are noisy: quote them with
the load average printed.

``--plan``: tasks (experiment group × seed) with costs from a report JSON (``--report``: per-seed
seconds of each claim, summed per task) or a cache directory (``--cache``: ``timings.json``). For a
profile that was not measured, each module's measured cost per seed is scaled by its *work ratio*:
a declared ``SECONDS_PER_SEED = {"quick": s, "full": s}`` in its experiment module when there is
one, else, per settings object of the module (one experiment), the product of full/quick over its
integer size settings (n, d, replicas, chains, seeds, instances) and sequence lengths (step sizes,
rates, configurations), times the largest ratio of its step budgets (steps, iterations: sequential
phases), the module taking its largest experiment's factor; float settings (tolerances, step sizes)
and horizons are left out. That is "linear in every size and budget"; it misses work a profile adds
outside its settings' values (a task only the full profile runs), early stopping and superlinear
solvers, so each module's factor and the fields behind it are printed. The tasks are independent, so the critical path is the longest task, and the wall on W
workers is at least max(longest, total / W); the greedy longest-first schedule is printed (within
4/3 of the optimum).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from verify.tasks import makespan  # noqa: E402

# Task costs spread like the catalogue's (seconds per seed in the 2026-12-07 quick run: 107, 52,
# 30, 18, 15, 10, 6, 2), claims sharing an experiment (tsilivis2024's population, rudoler2025's
# three) and claims that share none; ~240 s of compute per seed against the catalogue's ~660.
REPRESENTATIVE = ("tsilivis2024 or gronich2026 or deep-diagonal or rudoler2025 or lyu2020 or gunasekar2018"
                  " or soudry2018 or wager2013")
COST_FILES = ("timings.json", "plan.json")
TWO_HOURS = 7200.0


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(label: str, args: list[str], cache: Path, out: Path) -> dict:
    cmd = [sys.executable, "-m", "verify", "all", *args, "--cache", str(cache), "--json", str(out)]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cpu0, t0 = children_cpu(), time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall, cpu = time.perf_counter() - t0, children_cpu() - cpu0
    if not out.exists():
        sys.exit(f"{label}: no JSON report (exit {done.returncode}): {done.stderr.strip()[-400:]}")
    report = json.loads(out.read_text())
    return {"label": label, "wall": wall, "cpu": cpu, "code": done.returncode, "report": report}


def values(report: dict) -> dict:
    return {(c["id"], p["seed"], k["name"]): k["value"]
            for c in report["claims"] for p in c["per_seed"] for k in p["checks"]}


def compare(a: dict, b: dict) -> tuple[int, float]:
    """(values not bitwise equal, largest relative difference); (-1, NaN) if the keys differ."""
    if a.keys() != b.keys():
        return -1, float("nan")
    unequal, worst = 0, 0.0
    for key, x in a.items():
        y = b[key]
        if x == y:
            continue
        unequal += 1
        if x is None or y is None:
            worst = float("inf")
        else:
            worst = max(worst, abs(x - y) / max(abs(x), abs(y), 1e-300))
    return unequal, worst


def task_costs(report: dict) -> dict[tuple[str, int], float]:
    """Seconds per task (the task group a claim ran in × seed) from its claims' per-seed costs; a
    report without task names groups by module."""
    costs: dict[tuple[str, int], float] = {}
    for c in report["claims"]:
        task = c.get("task") or c.get("group") or c["id"].split("-", 1)[0]
        for p in c["per_seed"]:
            if isinstance(p.get("seconds"), (int, float)) and not p.get("cached"):
                costs[(task, p["seed"])] = costs.get((task, p["seed"]), 0.0) + p["seconds"]
    return costs


def timing_runs(args) -> None:
    extra = ["--profile", args.profile] + (["-k", args.k] if args.k else []) \
        + (["--seeds", args.seeds] if args.seeds else [])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        first = run("cold --jobs 1", extra + ["--jobs", "1"], tmp / "c1", tmp / "1.json")
        (tmp / "c2").mkdir()
        if not args.no_costs:
            for name in COST_FILES:
                if (tmp / "c1" / name).exists():
                    shutil.copy(tmp / "c1" / name, tmp / "c2" / name)
        second = run("cold --jobs 2", extra + ["--jobs", "2"], tmp / "c2", tmp / "2.json")
        warm = run("warm replay", extra, tmp / "c2", tmp / "3.json")
    runs = [first, second, warm]
    load_end = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"verify all {' '.join(extra)}   (load average {load:.1f} at start, {load_end:.1f} at end; "
          f"{os.cpu_count()} cores; jobs-2 schedule: "
          f"{'catalogue order' if args.no_costs else 'longest first from the jobs-1 run costs'})")
    print(f"{'run':<15} {'wall s':>8} {'CPU s':>8} {'ratio':>7} {'exit':>5} {'same verdicts':>14} "
          f"{'values !=':>10} {'max rel diff':>13} {'seeds cached':>13}")
    for r in runs:
        same = [c["status"] for c in r["report"]["claims"]] == [c["status"] for c in first["report"]["claims"]]
        unequal, worst = compare(values(first["report"]), values(r["report"]))
        cached = sum(bool(p.get("cached")) for c in r["report"]["claims"] for p in c["per_seed"])
        seeds = sum(len(c["per_seed"]) for c in r["report"]["claims"])
        print(f"{r['label']:<15} {r['wall']:8.1f} {r['cpu']:8.1f} {first['wall'] / r['wall']:7.2f} {r['code']:5d} "
              f"{'yes' if same else 'NO':>14} {unequal:10d} {worst:13.2g} {f'{cached}/{seeds}':>13}")
    if first["report"]["environment"].get("source") != warm["report"]["environment"].get("source"):
        print("note: the package source changed during the bench (another edit in the tree): the warm "
              "run could not replay the cold runs' results")
    costs = task_costs(first["report"])
    if costs:
        longest = max(costs, key=costs.get)
        total = sum(costs.values())
        bound = total / max(total / 2, costs[longest])
        print(f"\njobs 2 / jobs 1 wall ratio: {first['wall'] / second['wall']:.2f} (bound from the jobs-1 "
              f"run's task costs, total / max(total / 2, longest): {bound:.2f}; worker start-up and the "
              f"parent's share of the cores come off it)")
        print(f"{len(costs)} tasks, {total:.0f} s of task time (jobs-1 run); longest: {longest[0]} seed "
              f"{longest[1]} {costs[longest]:.0f} s; longest-first schedule on 2 workers: "
              f"{makespan(list(costs.values()), 2):.0f} s")


# --plan ------------------------------------------------------------------------------------------

def _profiled_pairs(obj, name=""):
    """(field, quick, full) for every value that differs between the profiles in a module's settings:
    ``Settings`` objects and plain dicts with ``{"quick": ..., "full": ...}`` leaves."""
    from verify.experiments.settings import Settings

    if isinstance(obj, Settings):
        q, f = obj.quick, obj.full
        for field in obj.__dataclass_fields__:
            qv, fv = getattr(q, field), getattr(f, field)
            if isinstance(getattr(obj, field), Settings):
                yield from _profiled_pairs(getattr(obj, field), f"{name}{field}.")
            elif qv != fv:
                yield f"{name}{field}", qv, fv
    elif isinstance(obj, dict):
        if set(obj) == {"quick", "full"}:
            if obj["quick"] != obj["full"]:
                yield name.rstrip("."), obj["quick"], obj["full"]
            return
        for key, value in obj.items():
            yield from _profiled_pairs(value, f"{name}{key}.")


STEP_WORDS = ("step", "iteration", "epoch")      # sequential phases: the longest one counts
NOT_WORK = ("horizon",)                           # a schedule's parameter, not a budget


def experiment_factor(obj, name: str) -> tuple[float, list[str]]:
    """One settings object's full/quick work factor: (∏ size ratios) × (largest step-count ratio)."""
    size, steps, used = 1.0, 1.0, []
    for field, q, f in _profiled_pairs(obj, f"{name}."):
        leaf = field.rsplit(".", 1)[-1]
        if isinstance(q, bool) or isinstance(f, bool) or any(w in leaf for w in NOT_WORK):
            continue
        if isinstance(q, int) and isinstance(f, int) and q > 0:
            if any(w in leaf for w in STEP_WORDS):
                steps = max(steps, f / q)
            else:
                size *= f / q
            used.append(f"{field} {q}→{f}")
        elif isinstance(q, (tuple, list)) and isinstance(f, (tuple, list)) and q and len(q) != len(f):
            size *= len(f) / len(q)
            used.append(f"len {field} {len(q)}→{len(f)}")
    return size * steps, used


def work_ratio(module: str, profile: str) -> tuple[float, str]:
    """(full/quick cost factor of a claim module's tasks, how it was obtained): a declared
    ``SECONDS_PER_SEED`` in its experiment module, else the largest factor of its settings objects
    (each an experiment: sizes multiply, sequential step budgets do not; an upper estimate for a
    module whose experiments grow unequally)."""
    import importlib

    from verify.experiments.settings import Settings

    if profile == "quick":
        return 1.0, "measured profile"
    short = module.split(":", 1)[0].split("[", 1)[0].rsplit(".", 1)[-1]
    try:
        mod = importlib.import_module(f"verify.experiments.{short}")
    except ImportError:
        return float("nan"), "no experiment module"
    declared = getattr(mod, "SECONDS_PER_SEED", None)
    if isinstance(declared, dict) and declared.get("quick") and declared.get(profile):
        return declared[profile] / declared["quick"], "declared SECONDS_PER_SEED"
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


def plan(args) -> None:
    from verify.seeds import default_seeds, resolve_seeds

    if args.report:
        report = json.loads(Path(args.report).read_text())
        measured_profile = report.get("environment", {}).get("profile", "quick")
        per_seed: dict[str, list[float]] = {}
        for (task, _), cost in task_costs(report).items():
            per_seed.setdefault(task, []).append(cost)
        source = f"{args.report} ({measured_profile}, seeds {report.get('seeds')})"
    else:
        from verify.cache import ResultCache, default_dir
        from verify.registry import all_claims, group_of

        cache = ResultCache(args.cache or default_dir())
        measured_profile = args.profile if cache.timings(args.profile) else "quick"
        timings = cache.timings(measured_profile)
        per_seed = {}
        for claim in all_claims():
            if claim.id in timings:
                per_seed.setdefault(group_of(claim), [0.0])[0] += timings[claim.id]
        source = f"{cache.root}/timings.json ({measured_profile})"
    if not per_seed:
        sys.exit("no task costs found (give --report REPORT.json or --cache DIR of an earlier run)")
    seeds = resolve_seeds(args.seeds, None, args.profile) if args.seeds else default_seeds(args.profile)
    measured = {}
    for item in args.measured:
        name, _, value = item.partition("=")
        try:
            measured[name.strip()] = float(value)
        except ValueError:
            sys.exit(f"error: --measured takes MODULE=SECONDS, got {item!r}")
    module_total: dict[str, float] = {}
    for task, costs in per_seed.items():
        module = task.split("[", 1)[0]
        module_total[module] = module_total.get(module, 0.0) + sum(costs) / len(costs)
    rows, factors = [], {}
    for task, costs in per_seed.items():
        mean = sum(costs) / len(costs)
        module = task.split("[", 1)[0]
        short = module.rsplit(".", 1)[-1]
        if short in measured:
            cost = measured[short] * mean / module_total[module]     # the module's seconds, shared by its tasks
            factors[module] = (cost / mean, f"measured {measured[short]:.0f} s per seed (--measured)")
        elif module not in factors:
            factors[module] = work_ratio(module, args.profile) if measured_profile != args.profile else (1.0, "measured")
        rows += [(task, seed, mean * factors[module][0]) for seed in seeds]
    rows.sort(key=lambda r: -r[2])
    total = sum(r[2] for r in rows)
    print(f"profile {args.profile}, seeds {seeds[0]}..{seeds[-1]} ({len(seeds)}); costs from {source}")
    if measured_profile != args.profile:
        print(f"\nwork ratio {args.profile}/{measured_profile} per module (see the docstring):")
        for module, (factor, how) in sorted(factors.items(), key=lambda kv: -kv[1][0]):
            print(f"  {module.rsplit('.', 1)[-1]:<28} ×{factor:9.1f}   {how}")
    print(f"\n{'task':<60} {'seed':>5} {'est. s':>10}")
    shown = rows if args.all_tasks else rows[:25]
    for task, seed, cost in shown:
        flag = "  > 2 h: split by seed part/size/checkpoint" if cost > TWO_HOURS else ""
        print(f"{task:<60} {seed:>5} {cost:10.0f}{flag}")
    if len(shown) < len(rows):
        print(f"... {len(rows) - len(shown)} more (--all-tasks)")
    longest = rows[0]
    print(f"\n{len(rows)} tasks, {total:.0f} s of compute ({total / 3600:.1f} h); critical path (the longest task): "
          f"{longest[0]} seed {longest[1]} {longest[2]:.0f} s ({longest[2] / 3600:.2f} h)")
    for workers in args.workers:
        wall = makespan([r[2] for r in rows], workers)
        print(f"  {workers:>3} workers: longest-first schedule {wall:9.0f} s ({wall / 3600:.2f} h); "
              f"lower bound {max(longest[2], total / workers):9.0f} s")
    over = sorted({r[0] for r in rows if r[2] > TWO_HOURS})
    if over:
        print("tasks over two hours alone: " + ", ".join(over))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", metavar="PATTERN", help=f"claims to run (default: the representative subset)")
    parser.add_argument("--all", action="store_true", help="the whole catalogue")
    parser.add_argument("--seeds", metavar="SPEC")
    parser.add_argument("--profile", default="quick", choices=("quick", "full"))
    parser.add_argument("--no-costs", action="store_true", help="jobs-2 run without the jobs-1 run's costs")
    parser.add_argument("--plan", action="store_true", help="print the task list and the wall on many workers")
    parser.add_argument("--report", metavar="JSON", help="--plan: task costs from this report")
    parser.add_argument("--cache", metavar="DIR", help="--plan: task costs from this cache directory")
    parser.add_argument("--workers", default="16,64", help="--plan: worker counts (default 16,64)")
    parser.add_argument("--all-tasks", action="store_true", help="--plan: list every task")
    parser.add_argument("--measured", metavar="MODULE=S", action="append", default=[],
                        help="--plan: a module's measured seconds per seed in the planned profile "
                             "(e.g. gronich2026=5700), in place of its extrapolation")
    args = parser.parse_args()
    text = args.workers
    try:
        args.workers = [int(w) for w in text.split(",")]
    except ValueError:
        args.workers = []
    if not args.workers or min(args.workers) < 1:
        sys.exit(f"error: --workers takes a comma list of positive integers, got {text!r}")
    if args.plan:
        plan(args)
        return
    if not args.all and not args.k:
        args.k = REPRESENTATIVE
        args.seeds = args.seeds or "0:2"
    timing_runs(args)


if __name__ == "__main__":
    main()
