"""Max-margin solvers at the Fan, Schmidt, Thrampoulidis (2025) size: every norm, gap and time.

Run: python bench/bench_maxmargin.py [--tol 1e-6] [--repeat 3] [--norms NAME ...]
     python bench/bench_maxmargin.py --scale [--sizes ROW ...] [--norms NAME ...]
Multiclass norms on gaussian_classes() (k×d = 10×25, n = 500: 4500 margin constraints); binary lp
norms on gaussian_classes(k=2) (d = 25, n = 100). Wall-clock seconds are the best of --repeat runs,
with the process CPU seconds of that run beside them (all solvers run single-threaded, so CPU time
is what the solve costs on an idle core); the load average is printed because other processes may
share the cores. One-time costs (symbolic derivations, imports) are measured separately first.

``--scale``: the feature-scale table (``gaussian_classes``, seed 10000; sizes n × d, k in
:data:`SCALE_SIZES`, norms in :data:`SCALE_NORMS` unless --norms), one solve per norm and size in a
fresh process (its wall and CPU seconds and peak resident memory), and on the Frobenius rows scikit-learn's
``LinearSVC(multi_class="crammer_singer")`` (LIBLINEAR, no intercept) on the same data: its time
and the relative error of its margin min A(W)/‖W‖_F against the certified γ*. Its soft-margin
problem is the hard-margin one once C ≥ max_i Σ_c α_ic, α the multipliers of ½‖W‖² s.t. A(W) ≥ 1
(α = ‖W‖ λ from the certified solution): C is twice that bound, derived per data set (a fixed
"large" C made LIBLINEAR take > 70 s CPU at 10 000 × 512 without finishing).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

from numerics.datasets import gaussian_classes
from numerics.maxmargin import max_margin
from theory.norms import parse_norm

MULTICLASS = ["entrywise:1", "entrywise:1.5", "fro", "entrywise:3", "entrywise:inf",
              "schatten:1", "schatten:4/3", "schatten:1.5", "schatten:3", "schatten:inf"]
BINARY = ["lp:1", "lp:2", "lp:3", "lp:inf"]
# row name -> (k, d, per_class): n = k · per_class
SCALE_SIZES = {"2000x100,k10": (10, 100, 200), "10000x512,k10": (10, 512, 1000),
               "50000x512,k10": (10, 512, 5000), "1000x10,k1000": (1000, 10, 1),
               "20000x64,k1000": (1000, 64, 20)}
# the norms of each --scale row (issue 25): the whole family at k = 10, three norms at k = 1000
SCALE_NORMS = {row: MULTICLASS if k == 10 else ["fro", "entrywise:inf", "schatten:inf"]
               for row, (k, _, _) in SCALE_SIZES.items()}
SCALE_SEED = 10_000
# CPU seconds per solve of each --scale row (max_margin's cpu_budget; None = no limit): the issue's
# target at k = 1000 (≤ 120 s); a solve that cannot reach the gap in it prints its certified bracket
SCALE_BUDGET = {row: (120.0 if k == 1000 else None) for row, (k, _, _) in SCALE_SIZES.items()}
SVC_C_FACTOR = 2.0   # LIBLINEAR's C, as a multiple of the hard-margin bound below


def _scale_problem(row: str):
    k, d, per_class = SCALE_SIZES[row]
    return gaussian_classes(k=k, d=d, per_class=per_class, seed=SCALE_SEED)


def _one(row: str, name: str, tol: float) -> dict:
    """One solve (run in a child process): the certificate or the one-line reason it failed."""
    problem = _scale_problem(row)
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        sol = max_margin(problem, parse_norm(name), tol=tol, cpu_budget=SCALE_BUDGET[row])
    except Exception as exc:   # reported in the table (e.g. the size limit), not raised
        return {"error": f"{type(exc).__name__}: {exc}", "wall": time.perf_counter() - wall}
    alpha = sol.norm.value(sol.W) * sol.lam   # multipliers of the squared problem (Frobenius)
    return {"margin": sol.margin, "upper": sol.certificate.margin_upper, "gap": sol.certificate.relative_gap,
            "svc_C": SVC_C_FACTOR * float(alpha.sum(axis=1).max()),
            "status": sol.status, "solver": sol.solver, "note": sol.note, "wall": time.perf_counter() - wall,
            "cpu": time.process_time() - cpu}


def _liblinear(row: str, C: float) -> dict:
    import numpy as np
    from sklearn.svm import LinearSVC

    problem = _scale_problem(row)
    wall, cpu = time.perf_counter(), time.process_time()
    svc = LinearSVC(multi_class="crammer_singer", C=C, fit_intercept=False, tol=1e-8,
                    max_iter=100_000).fit(problem.X, problem.y)
    W = svc.coef_
    return {"margin": float(problem.margins(W).min() / np.linalg.norm(W)), "wall": time.perf_counter() - wall,
            "cpu": time.process_time() - cpu, "C": C}


def _child(kind: str, row: str, name: str, tol: float) -> tuple[dict, float]:
    """Run one measurement in a fresh process; (its result, its peak resident memory in GB)."""
    proc = subprocess.Popen([sys.executable, __file__, "--child", kind, row, name, str(tol)],
                            stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    try:
        result = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        result = {"error": f"child process exited with {proc.returncode}"}
    return result, usage.ru_maxrss / 2**20   # ru_maxrss is in KiB on Linux


def scale_table(rows: list[str], norms: list[str] | None, tol: float) -> None:
    print(f"python {platform.python_version()}, {os.cpu_count()} cores; gaussian_classes seed "
          f"{SCALE_SEED}; tol = {tol:g}; CPU budget per solve {SCALE_BUDGET}; "
          f"load average {os.getloadavg()[0]:.1f} before the runs")
    print(f"{'size':<16}{'norm':<15}{'margin γ':>14}{'rel. gap':>10}{'wall s':>9}{'cpu s':>8}{'peak GB':>9}  "
          f"status / solver")
    for row in rows:
        print(f"# {row}: load average {os.getloadavg()[0]:.1f}", flush=True)
        for name in norms or SCALE_NORMS[row]:
            res, peak = _child("solve", row, name, tol)
            if "error" in res:
                print(f"{row:<16}{name:<15}{'':>14}{'':>10}{res.get('wall', float('nan')):>9.1f}{'':>8}"
                      f"{peak:>9.2f}  {res['error']}", flush=True)
                continue
            print(f"{row:<16}{name:<15}{res['margin']:>14.8g}{res['gap']:>10.1e}{res['wall']:>9.1f}"
                  f"{res['cpu']:>8.1f}{peak:>9.2f}  {res['status']} / {res['solver']}"
                  + ("" if res["status"] == "ok" else
                     f": certified only γ* ∈ [{res['margin']:.8g}, {res['upper']:.8g}] ({res['note']})"),
                  flush=True)
            if name == "fro":
                svc, svc_peak = _child("liblinear", row, repr(res["svc_C"]), tol)
                if "error" in svc:
                    print(f"{row:<16}{'LIBLINEAR CS':<15}  {svc['error']}", flush=True)
                    continue
                error = (res["margin"] - svc["margin"]) / res["margin"]
                print(f"{row:<16}{'LIBLINEAR CS':<15}{svc['margin']:>14.8g}{error:>10.1e}{svc['wall']:>9.1f}"
                      f"{svc['cpu']:>8.1f}{svc_peak:>9.2f}  relative error of its margin vs certified γ* "
                      f"(C = {svc['C']:.3g})",
                      flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} after the runs")


def timed(problem, norm, tol):
    wall, cpu = time.perf_counter(), time.process_time()
    sol = max_margin(problem, norm, tol=tol)
    return sol, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tol", type=float, default=1e-6)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--norms", nargs="*", help="restrict to these norm strings")
    parser.add_argument("--scale", action="store_true", help="the feature-scale table (issue 25)")
    parser.add_argument("--sizes", nargs="*", choices=list(SCALE_SIZES), help="rows of the --scale table")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, row, name, tol = args.child
        print(json.dumps(_one(row, name, float(tol)) if kind == "solve" else _liblinear(row, float(name))))
        return
    if args.scale:
        scale_table(args.sizes or list(SCALE_SIZES), args.norms, args.tol)
        return
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
