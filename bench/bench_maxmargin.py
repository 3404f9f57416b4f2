"""Max-margin solvers at the Fan, Schmidt, Thrampoulidis (2025) size: every norm, gap and time.

Run: python bench/bench_maxmargin.py [--tol 1e-6] [--repeat 3] [--norms NAME ...]
Multiclass norms on gaussian_classes() (k×d = 10×25, n = 500: 4500 margin constraints); binary lp
norms on gaussian_classes(k=2) (d = 25, n = 100). Wall-clock seconds are the best of --repeat runs,
with the process CPU seconds of that run beside them (all solvers run single-threaded, so CPU time
is what the solve costs on an idle core); the load average is printed because other processes may
share the cores. One-time costs (symbolic derivations, imports) are measured separately first.
"""
from __future__ import annotations

import argparse
import os
import platform
import time

from numerics.datasets import gaussian_classes
from numerics.maxmargin import max_margin
from theory.norms import parse_norm

MULTICLASS = ["entrywise:1", "entrywise:1.5", "fro", "entrywise:3", "entrywise:inf",
              "schatten:1", "schatten:4/3", "schatten:1.5", "schatten:3", "schatten:inf"]
BINARY = ["lp:1", "lp:2", "lp:3", "lp:inf"]


def timed(problem, norm, tol):
    wall, cpu = time.perf_counter(), time.process_time()
    sol = max_margin(problem, norm, tol=tol)
    return sol, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tol", type=float, default=1e-6)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--norms", nargs="*", help="restrict to these norm strings")
    args = parser.parse_args()
    runs = [("multiclass", name) for name in MULTICLASS] + [("binary", name) for name in BINARY]
    if args.norms:
        runs = [(model, name) for model, name in runs if name in args.norms]
    data = {"multiclass": gaussian_classes(), "binary": gaussian_classes(k=2)}

    start = time.perf_counter()
    for model, name in (("multiclass", "entrywise:3"), ("multiclass", "schatten:3"), ("binary", "lp:inf")):
        max_margin(gaussian_classes(k=3 if model == "multiclass" else 2, d=4, per_class=5),
                   parse_norm(name, model))
    print(f"python {platform.python_version()}, {os.cpu_count()} cores; one-time warm-up "
          f"{time.perf_counter() - start:.1f} s (not in the table); tol = {args.tol:g}, "
          f"best of {args.repeat}; load average {os.getloadavg()[0]:.1f} before the runs")
    print(f"{'norm':<15}{'model':<12}{'margin γ':>14}{'rel. gap':>10}{'wall s':>8}{'cpu s':>7}  "
          f"{'status':<11}solver")
    worst_gap = worst_wall = 0.0
    for model, name in runs:
        sol, wall, cpu = min((timed(data[model], parse_norm(name, model), args.tol)
                              for _ in range(args.repeat)), key=lambda run: run[1])
        gap = sol.certificate.relative_gap
        worst_gap, worst_wall = max(worst_gap, gap), max(worst_wall, wall)
        print(f"{sol.norm.name:<15}{model:<12}{sol.margin:>14.10f}{gap:>10.1e}{wall:>8.2f}{cpu:>7.2f}  "
              f"{sol.status:<11}{sol.solver}", flush=True)
    print(f"worst gap {worst_gap:.1e}, slowest solve {worst_wall:.2f} s wall; "
          f"load average {os.getloadavg()[0]:.1f} after the runs")


if __name__ == "__main__":
    main()
