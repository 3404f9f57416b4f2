"""Speed figures for gradient matching (issue 5).

1. The estimator on a ~100k-parameter MLP (64-256-256-64-1, tanh, n = 1000) with a 6-penalty
   dictionary (l2, lp:3, huber:0.01, nuclear, schatten:3, gradnorm): dictionary columns, the fit,
   and the stationarity check (CG steps with finite-difference Hessian-vector products). Target: the
   estimate (columns + fit + diagnostics) ≤ 2 s.
2. The quick profile of this issue's claims (wall and CPU seconds per claim). Target: ≤ 90 s total.

Prints the machine load, since other processes share the 2 cores. Usage:
    python bench/bench_estimate.py [--skip-claims] [--repeats 3]
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from numerics.gradient_matching import estimate, evaluate_dictionary, match
from numerics.mlp import Architecture, Objective
from theory.penalties import parse_penalties

CLAIMS = ["rudoler2025-explicit-penalty-recovery", "ali2019-early-stopping-ridge",
          "wager2013-dropout-ridge", "rudoler2025-dropout-implicit-l2",
          "rudoler2025-dropout-implicit-l2-digits"]
DICTIONARY = ["l2", "lp:3", "huber:0.01", "nuclear", "schatten:3", "gradnorm"]


def _best(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), float(np.median(times)), out


def bench_estimator(repeats: int, threads: int) -> None:
    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    arch = Architecture((64, 256, 256, 64, 1), "tanh")
    torch.manual_seed(0)
    obj = Objective(arch.build(), rng.standard_normal((1000, 64)), rng.standard_normal(1000), "mse")
    theta = obj.flat()
    pens = parse_penalties(DICTIONARY)
    print(f"MLP {arch.name} ({obj.size} parameters), n = 1000, dictionary {', '.join(DICTIONARY)}; "
          f"torch threads {torch.get_num_threads()}")
    estimate(obj, pens, theta, cg_iterations=0)                        # warm-up (compilation, caches)
    with threadpool_limits(limits=1, user_api="blas"):      # as inside estimate()
        grad_t = _best(lambda: obj.gradient(theta), repeats)
        cols_t = _best(lambda: evaluate_dictionary(pens, obj, theta), repeats)
        dic = cols_t[2]
        fit_t = _best(lambda: match(dic.columns, grad_t[2], dic.names), repeats)
    for signed in (False, True):
        for cg in (0, 2, 5):
            est_t = _best(lambda: estimate(obj, pens, theta, signed=signed, cg_iterations=cg), repeats)
            active = int(np.count_nonzero(est_t[2].fit.coefficients))
            print(f"  estimate ({'signed' if signed else 'λ ≥ 0'}, {active}/6 penalties active in the "
                  f"CG steps), {cg} CG steps: best {est_t[0]:.3f} s, median {est_t[1]:.3f} s "
                  f"({'≤' if est_t[0] <= 2 else '>'} 2 s)")
    print(f"  parts (best of {repeats}): ∇L {grad_t[0]:.3f} s, dictionary columns {cols_t[0]:.3f} s, "
          f"least-squares fit + diagnostics {fit_t[0]:.4f} s")


def bench_claims() -> None:
    from verify.context import Context
    from verify.registry import get

    ctx = Context(profile="quick", seed=0)
    wall_total = cpu_total = 0.0
    t_import = time.perf_counter()
    claims = [get(cid) for cid in CLAIMS]
    print(f"claims (quick profile), registry import {time.perf_counter() - t_import:.1f} s:")
    for claim in claims:
        w0, c0 = time.perf_counter(), time.process_time()
        outcome = claim.check(ctx)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        wall_total += wall
        cpu_total += cpu
        print(f"  {claim.id:<42} {outcome.status:<12} wall {wall:6.1f} s  cpu {cpu:6.1f} s")
    print(f"  total                                      wall {wall_total:6.1f} s  cpu {cpu_total:6.1f} s "
          f"(target ≤ 90 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-claims", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    default_threads = torch.get_num_threads()
    for threads in sorted({1, default_threads}):
        bench_estimator(args.repeats, threads)
    torch.set_num_threads(default_threads)
    if not args.skip_claims:
        bench_claims()
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
