"""The engine's costs: ``verify all`` with ``--jobs 1`` and ``--jobs 2`` on a cold cache, and the
warm-cache replay, side by side; verdicts and numbers compared between the runs; and, from the
measured task costs (claim module × seed), the longest task and the wall time a greedy
longest-first schedule would take on 16 and 64 workers.

    python bench/bench_engine.py                       # the quick catalogue, default seeds
    python bench/bench_engine.py -k "wager2013 or gunasekar2018" --seeds 2

Each run is a fresh ``python -m verify all`` process (start-up included) with its own temporary
cache directory. Timings on a shared machine are noisy: quote them with the load.
"""
from __future__ import annotations

import argparse
import heapq
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(label: str, args: list[str], cache: Path, out: Path) -> dict:
    cmd = [sys.executable, "-m", "verify", "all", *args, "--cache", str(cache), "--json", str(out)]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if not out.exists():
        sys.exit(f"{label}: no JSON report (exit {done.returncode}): {done.stderr.strip()[-400:]}")
    report = json.loads(out.read_text())
    return {"label": label, "wall": wall, "code": done.returncode, "report": report}


def values(report: dict) -> dict:
    return {(c["id"], p["seed"], k["name"]): k["value"]
            for c in report["claims"] for p in c["per_seed"] for k in p["checks"]}


def compare(a: dict, b: dict) -> tuple[int, float]:
    """(values not bitwise equal, largest relative difference); NaN if the keys differ."""
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
    """Seconds per task (claim module × seed) from the per-seed costs of its claims."""
    costs: dict[tuple[str, int], float] = {}
    for c in report["claims"]:
        module = c.get("group", c["id"].split("-", 1)[0]).rsplit(".", 1)[-1]
        for p in c["per_seed"]:
            if isinstance(p.get("seconds"), (int, float)):
                costs[(module, p["seed"])] = costs.get((module, p["seed"]), 0.0) + p["seconds"]
    return costs


def makespan(costs: list[float], workers: int) -> float:
    """Greedy longest-processing-time-first schedule on ``workers`` identical workers."""
    loads = [0.0] * workers
    for cost in sorted(costs, reverse=True):
        heapq.heapreplace(loads, loads[0] + cost)
    return max(loads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", metavar="PATTERN")
    parser.add_argument("--seeds", metavar="SPEC")
    parser.add_argument("--profile", default="quick", choices=("quick", "full"))
    args = parser.parse_args()
    extra = ["--profile", args.profile] + (["-k", args.k] if args.k else []) \
        + (["--seeds", args.seeds] if args.seeds else [])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        runs = [run("cold --jobs 1", extra + ["--jobs", "1"], tmp / "c1", tmp / "1.json"),
                run("cold --jobs 2", extra + ["--jobs", "2"], tmp / "c2", tmp / "2.json"),
                run("warm replay", extra, tmp / "c2", tmp / "3.json")]
    base = runs[0]
    print(f"verify all {' '.join(extra)}   (load average at start {load:.1f}; {os.cpu_count()} cores)")
    print(f"{'run':<15} {'wall s':>8} {'speed-up':>9} {'exit':>5} {'same verdicts':>14} "
          f"{'values !=':>10} {'max rel diff':>13}")
    for r in runs:
        same = [c["status"] for c in r["report"]["claims"]] == [c["status"] for c in base["report"]["claims"]]
        unequal, worst = compare(values(base["report"]), values(r["report"]))
        print(f"{r['label']:<15} {r['wall']:8.1f} {base['wall'] / r['wall']:9.2f} {r['code']:5d} "
              f"{'yes' if same else 'NO':>14} {unequal:10d} {worst:13.2g}")
    costs = task_costs(base["report"])
    if costs:
        longest = max(costs, key=costs.get)
        total = sum(costs.values())
        print(f"\n{len(costs)} tasks, {total:.0f} s of compute (--jobs 1 run); longest: {longest[0]} seed "
              f"{longest[1]} {costs[longest]:.0f} s")
        for workers in (2, 16, 64):
            print(f"  greedy schedule on {workers:>2} workers: {makespan(list(costs.values()), workers):7.0f} s")


if __name__ == "__main__":
    main()
