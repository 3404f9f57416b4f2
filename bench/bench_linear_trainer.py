"""Training throughput on the Fan et al. (2025) multiclass problem: the population trainer versus a
plain per-step loop per optimizer (``F.cross_entropy`` + autograd + the same update rule).

Prints, per optimizer, the first recorded step at which the relative margin gap in its predicted
norm is ≤ 1e-2 under each engine, and the time to get *every* optimizer there:
  plain:      Σ_i steps_i × (seconds per step of optimizer i's own loop)
  population: max_i steps_i × (seconds per population step)

    python bench/bench_linear_trainer.py [--steps 10000] [--plain-steps 2000]
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch

from numerics.optim import TransformOptimizer
from numerics.train import checkpoints, small_tensor_mode, train_linear
from verify.claims import fan2025
from verify.context import Context
from verify.linear_margins import run_population


def plain_loop(problem, make_member, steps, record):
    """The reference: one optimizer, autograd through F.cross_entropy, p.grad = ∇L (raw)."""
    X = torch.as_tensor(problem.X)
    y = torch.as_tensor(problem.y)
    W = torch.zeros(problem.param_shape, dtype=torch.float64, requires_grad=True)
    member = make_member()
    opt = member.factory([W])
    params = []
    t0 = time.perf_counter()
    for t in range(1, steps + 1):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(X @ W.T, y).backward()
        if not isinstance(opt, TransformOptimizer) and member.schedule is not None:
            for g in opt.param_groups:
                g["lr"] = member.schedule(t)
        opt.step()
        if t in record:
            params.append(W.detach().numpy().copy())
    return (time.perf_counter() - t0) / steps, params


def first_reach(steps, gaps, target=1e-2):
    hits = [s for s, g in zip(steps, gaps) if g <= target]
    return hits[0] if hits else math.inf


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--plain-steps", type=int, default=2_000,
                        help="steps of each plain loop used to time it (and to check it tracks)")
    args = parser.parse_args()
    fan2025.SETTINGS["steps"]["quick"] = args.steps
    ctx = Context()
    t0 = time.perf_counter()
    run = fan2025._population(ctx)
    total = time.perf_counter() - t0
    train_seconds = run.trajectories["adam"].seconds
    per_step = train_seconds / args.steps
    print(f"population: {len(run.trajectories)} optimizers, {args.steps} steps in {train_seconds:.1f}s "
          f"({1e3 * per_step:.2f} ms/step, {1e6 * per_step / len(run.trajectories):.0f} µs per "
          f"optimizer-step); solvers + training {total:.1f}s")
    record = set(checkpoints(args.plain_steps))
    rows, plain_total, pop_needed = [], 0.0, 0
    for opt in fan2025._optimizers():
        if opt.key.startswith("torch-"):
            continue
        norm_name = opt.geometry
        steps_needed = first_reach(run.trajectories[opt.key].steps, run.gap_curve(opt.key, norm_name))
        sched = run.schedules[opt.key]
        with small_tensor_mode():
            plain_per_step, plain_params = plain_loop(run.problem, lambda: opt.make(sched),
                                                      args.plain_steps, record)
        sol, norm = run.solutions[norm_name], run.norms[norm_name]
        plain_gap = (sol.margin - run.problem.normalized_margin(plain_params[-1], norm)) / sol.margin
        pop_gap = run.gap_curve(opt.key, norm_name)[
            run.trajectories[opt.key].steps.index(max(s for s in run.trajectories[opt.key].steps
                                                      if s <= args.plain_steps))]
        rows.append((opt.key, steps_needed, plain_per_step, plain_gap, pop_gap))
        plain_total += steps_needed * plain_per_step
        pop_needed = max(pop_needed, steps_needed)
    print(f"\n{'optimizer':<22}{'steps to 1e-2':>14}{'plain µs/step':>15}"
          f"{'gap@' + str(args.plain_steps) + ' plain':>18}{'population':>12}")
    for key, need, pps, pg, qg in rows:
        print(f"{key:<22}{need:>14}{1e6 * pps:>15.0f}{pg:>18.3e}{qg:>12.3e}")
    pop_total = pop_needed * per_step
    print(f"\ntime for every optimizer to reach gap 1e-2: plain {plain_total:.1f}s, "
          f"population {pop_total:.1f}s, speed-up {plain_total / pop_total:.1f}x"
          + ("" if np.isfinite(plain_total) else " (some optimizer never reached it)"))


if __name__ == "__main__":
    main()
