"""The engine's costs: ``verify all`` with ``--jobs 1`` and ``--jobs 2`` on a cold cache side by side
(wall, CPU, the ratio, verdicts and every check value compared), the warm-cache replay; and, with
``--plan``, the task list with each task's cost and the wall time on 16 and 64 workers.

    python bench/bench_engine.py                         # the representative subset, seeds 0-1
    python bench/bench_engine.py --all                   # the whole quick catalogue, default seeds
    python bench/bench_engine.py -k "wager2013 or soudry2018" --seeds 2     # a smoke run
    python bench/bench_engine.py --plan --profile full --report docs/results/2026-12-08-quick.json

Timing runs: each a fresh ``python -m verify all`` process (start-up included) with its own cache
directory, so no result is reused ("cold"); the ``--jobs 2`` run's directory is given the task costs
and experiment map the ``--jobs 1`` run recorded (``timings.json``, ``plan.json``: no result), so it
plans experiment tasks and starts the longest first, as a user's second run would (``--no-costs``:
catalogue order, as a first run). The ratio is wall(jobs 1) / wall(jobs 2); its bound on 2 cores is
total / max(total / 2, longest task), from the jobs-1 run's task costs. Wall times on a shared machine are noisy: quote them with
the load average printed.

``--plan``: ``verify.engine_plan`` (the planner ``python -m verify all --plan`` prints; its docstring
says how costs are estimated and extrapolated between profiles) with costs from a report JSON
(``--report``: per-seed seconds of each claim, summed per task) or a cache directory (``--cache``:
``timings.json``; every task planned, as on a cold run), on the worker counts of ``--workers``;
``--measured MODULE=S`` replaces a module's extrapolation by a measured cost per seed.
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

from verify.engine_plan import task_costs  # noqa: E402
from verify.tasks import makespan  # noqa: E402

# Task costs spread like the catalogue's (seconds per seed in the 2026-12-07 quick run: 107, 52,
# 30, 18, 15, 10, 6, 2), claims sharing an experiment (tsilivis2024's population, rudoler2025's
# three) and claims that share none; ~240 s of compute per seed against the catalogue's ~660.
REPRESENTATIVE = ("tsilivis2024 or gronich2026 or deep-diagonal or rudoler2025 or lyu2020 or gunasekar2018"
                  " or soudry2018 or wager2013")
COST_FILES = ("timings.json", "plan.json")


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


# --plan: the engine library's planner (verify.engine_plan), with costs from a report or a cache ----

def plan(args) -> None:
    from verify.engine_plan import NoRecordedCosts, format_plan, plan_from_cache, plan_from_report
    from verify.registry import all_claims
    from verify.seeds import default_seeds, resolve_seeds

    seeds = resolve_seeds(args.seeds, None, args.profile) if args.seeds else default_seeds(args.profile)
    measured = {}
    for item in args.measured:
        name, _, value = item.partition("=")
        try:
            measured[name.strip()] = float(value)
        except ValueError:
            sys.exit(f"error: --measured takes MODULE=SECONDS, got {item!r}")
    try:
        if args.report:
            result = plan_from_report(json.loads(Path(args.report).read_text()), args.profile, seeds,
                                      source=args.report, measured=measured)
        else:
            from verify.cache import default_dir

            # every task, as a cold run would plan it (no cached result replayed)
            result = plan_from_cache(all_claims(), args.profile, seeds, args.cache or default_dir(),
                                     replay=False, measured=measured)
    except (OSError, ValueError, NoRecordedCosts) as exc:
        sys.exit(f"error: {exc}")
    print(format_plan(result, args.workers, limit=None if args.all_tasks else 25))


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
