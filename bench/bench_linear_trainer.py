"""Training throughput on the Fan et al. (2025) multiclass problem: the population trainer versus a
plain per-step loop per optimizer (``F.cross_entropy`` + autograd + the same update rule).

The optimizers are the 15 of the issue's claims (NSD and NMD under 7 norms, Adam ε = 0), with the
claims' schedules for a horizon T. The population is the claims' own (``verify.linear_margins.
run_population`` with the quick profile's targets, 1e-2 and Adam 5e-2): it trains them in lockstep and
stops each one by the claims' rule (gap within target at two consecutive of 120 log-spaced
checkpoints). Each plain loop is run with the same schedule, checked at the same checkpoints by the
same rule, until it reaches its target or the budget T. Printed:

  population     CPU seconds until every optimizer reached its target (its certified max-margin
                 solves included; they are also timed alone)
  plain, measured  Σ_i CPU seconds of loop i until it reached its target (checkpoint evaluations
                 not charged); a loop that never reaches it within T steps contributes its cost at
                 T, so the total — and the speed-up — is then a lower bound
  plain, per-step  Σ_i (population's steps_i) × (loop i's CPU seconds per step): what the loops
                 would cost *if* they tracked the population's trajectories. They do not: once the
                 loss is below ~1e-16, F.cross_entropy's gradient loses 1 − p_y to rounding (docs/theory/numerics.md
                 §1.4), so the loops drift off the max-margin direction; this column isolates the
                 cost per step from that

CPU seconds are reported beside wall seconds because other processes may share the cores (both
engines run single-threaded, so CPU time is what they cost on an idle core).

    python bench/bench_linear_trainer.py [--horizon 40000]
"""
from __future__ import annotations

import argparse
import math
import os
import time

import torch

from numerics.maxmargin import max_margin
from numerics.optim import TransformOptimizer
from numerics.train import checkpoints, small_tensor_mode
from theory.norms import parse_norm
from verify.experiments import fan2025
from verify.context import Context
from verify.linear_margins import CONFIRMING_CHECKPOINTS, run_population


def plain_loop(problem, member, budget, reached):
    """One optimizer, autograd through F.cross_entropy, p.grad = ∇L (raw), for at most ``budget``
    steps; ``reached(t, W)`` is asked at the checkpoints (its time is not charged) and stops the
    loop when true. Returns (steps run, CPU seconds, W)."""
    X, y = torch.as_tensor(problem.X), torch.as_tensor(problem.y)
    W = torch.zeros(problem.param_shape, dtype=torch.float64, requires_grad=True)
    opt = member.factory([W])
    marks = set(checkpoints(budget, 120))
    cpu, t = 0.0, 0
    with small_tensor_mode():
        while t < budget:
            start = time.process_time()
            t += 1
            opt.zero_grad()
            torch.nn.functional.cross_entropy(X @ W.T, y).backward()
            if not isinstance(opt, TransformOptimizer) and member.schedule is not None:
                for g in opt.param_groups:
                    g["lr"] = member.schedule(t)
            opt.step()
            cpu += time.process_time() - start
            if t in marks and reached(t, W.detach().numpy()):
                break
    return t, cpu, W.detach().numpy()


def confirmed(on_target: list[bool]) -> bool:
    """The claims' stopping rule: on target at the last CONFIRMING_CHECKPOINTS checkpoints."""
    return len(on_target) >= CONFIRMING_CHECKPOINTS and all(on_target[-CONFIRMING_CHECKPOINTS:])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--horizon", type=int, default=fan2025.SETTINGS["horizon"]["quick"],
                        help="T: the budget, and the horizon the schedules are tuned for")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    problem = fan2025.problem(0)
    optimizers = [o for o in fan2025.optimizers() if o.key not in fan2025.LIBRARY]
    norms = {o.geometry: parse_norm(o.geometry) for o in optimizers}
    target = {o.key: fan2025.SETTINGS["adam_gap_tolerance" if o.key == "adam" else "gap_tolerance"]["quick"]
              for o in optimizers}

    cpu = time.process_time()
    for n in norms.values():
        max_margin(problem, n)
    solve_cpu = time.process_time() - cpu

    wall, cpu = time.perf_counter(), time.process_time()
    run = run_population(Context(), "bench", problem, list(norms.values()), optimizers, args.horizon,
                         targets=target)
    pop_cpu, pop_wall = time.process_time() - cpu, time.perf_counter() - wall
    geometry = {o.key: norms[o.geometry].name for o in optimizers}

    def gap(key, W):
        return run.relative_gap(W, geometry[key])

    pop_steps = {k: tr.steps[-1] for k, tr in run.trajectories.items() if gap(k, tr.final) <= target[k]}
    print(f"population: {len(pop_steps)} of {len(optimizers)} optimizers reached their target within "
          f"{args.horizon} steps (the last at step {max(pop_steps.values(), default=0)}): "
          f"{pop_cpu:.1f} s CPU ({pop_wall:.1f} s wall), of which its {len(norms)} certified "
          f"max-margin solves take {solve_cpu:.1f} s CPU (timed alone)")

    print(f"\n{'optimizer':<17}{'target':>7}{'pop. steps':>11}{'plain steps':>12}{'plain gap':>11}"
          f"{'plain CPU s':>12}{'µs/step':>9}")
    measured, per_step_total, missed = 0.0, 0.0, []
    for o in optimizers:
        below = []

        def reached(t, W, key=o.key):
            below.append(gap(key, W) <= target[key])
            return confirmed(below)

        steps, plain_cpu, W = plain_loop(problem, o.make(run.schedules[o.key]), args.horizon, reached)
        hit = confirmed(below)
        if not hit:
            missed.append(o.key)
        measured += plain_cpu
        per_step_total += pop_steps.get(o.key, math.inf) * plain_cpu / steps
        print(f"{o.key:<17}{target[o.key]:>7.0e}{pop_steps.get(o.key, '-'):>11}"
              f"{(str(steps) if hit else '>' + str(steps)):>12}{gap(o.key, W):>11.2e}"
              f"{plain_cpu:>12.1f}{1e6 * plain_cpu / steps:>9.0f}")
    bound = " (a lower bound: " + ", ".join(missed) + " never reached the target)" if missed else ""
    print(f"\nCPU time for every optimizer to reach its target: population {pop_cpu:.1f} s; "
          f"plain loops measured {measured:.1f} s → speed-up {measured / pop_cpu:.1f}x{bound}; "
          f"plain loops charged per step for the population's step counts {per_step_total:.1f} s → "
          f"{per_step_total / pop_cpu:.1f}x")


if __name__ == "__main__":
    main()
