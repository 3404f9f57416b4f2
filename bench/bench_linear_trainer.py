"""Training throughput on the Fan et al. (2025) multiclass problem: the population trainer versus a
plain per-step loop per optimizer (``F.cross_entropy`` + autograd + the same update rule).

The optimizers are the 15 of the issue's claims (NSD and NMD under 7 norms, Adam ε = 0), with the
claims' schedules for a horizon T. The population is the claims' own (``verify.linear_margins.
run_population`` with the quick profile's targets, 1e-2 and Adam 5e-2): it trains them in lockstep and
stops each one by the claims' rule (gap within target at two consecutive checkpoints). Printed:

  population: CPU and wall seconds until every optimizer reached its target
  plain:      Σ_i steps_i × (CPU seconds per step of optimizer i's own loop), steps_i from the
              population run — what the plain loops would cost *if* they tracked the same
              trajectories; the gap column shows they do not (F.cross_entropy's gradient loses
              1 − p_y to rounding once the loss is below ~1e-16, THEORY.md §1.4)

CPU seconds are reported beside wall seconds because other processes may share the cores (both
engines run single-threaded, so CPU time is what they cost on an idle core).

    python bench/bench_linear_trainer.py [--horizon 40000] [--plain-steps 2000]
"""
from __future__ import annotations

import argparse
import math
import os
import time

import torch

from numerics.optim import TransformOptimizer
from numerics.train import small_tensor_mode, train_linear
from theory.norms import parse_norm
from verify.claims import fan2025
from verify.context import Context
from verify.linear_margins import run_population


def plain_loop(problem, member, steps):
    """One optimizer, autograd through F.cross_entropy, p.grad = ∇L (raw). Returns CPU s/step, W."""
    X, y = torch.as_tensor(problem.X), torch.as_tensor(problem.y)
    W = torch.zeros(problem.param_shape, dtype=torch.float64, requires_grad=True)
    opt = member.factory([W])
    cpu = time.process_time()
    for t in range(1, steps + 1):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(X @ W.T, y).backward()
        if not isinstance(opt, TransformOptimizer) and member.schedule is not None:
            for g in opt.param_groups:
                g["lr"] = member.schedule(t)
        opt.step()
    return (time.process_time() - cpu) / steps, W.detach().numpy()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--horizon", type=int, default=fan2025.SETTINGS["steps"]["quick"],
                        help="T: the budget, and the horizon the schedules are tuned for")
    parser.add_argument("--plain-steps", type=int, default=2_000,
                        help="steps of each plain loop used to time it")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    problem = fan2025._problem(Context())
    optimizers = [o for o in fan2025._optimizers() if o.key not in fan2025.LIBRARY]
    norms = {o.geometry: parse_norm(o.geometry) for o in optimizers}
    target = {o.key: fan2025.SETTINGS["adam_gap_tolerance" if o.key == "adam" else "gap_tolerance"]["quick"]
              for o in optimizers}

    wall, cpu = time.perf_counter(), time.process_time()
    run = run_population(Context(), "bench", problem, list(norms.values()), optimizers, args.horizon,
                         targets=target)
    pop_cpu, pop_wall = time.process_time() - cpu, time.perf_counter() - wall
    schedules = run.schedules

    geometry = {o.key: norms[o.geometry].name for o in optimizers}

    def gap(key, W):
        return run.relative_gap(W, geometry[key])

    reached = {k: tr.steps[-1] for k, tr in run.trajectories.items() if gap(k, tr.final) <= target[k]}
    print(f"population: {len(reached)} of {len(optimizers)} optimizers reached their target within "
          f"{args.horizon} steps (the last at step {max(reached.values(), default=0)}): "
          f"{pop_cpu:.1f} s CPU ({pop_wall:.1f} s wall; this includes its {len(norms)} certified "
          f"max-margin solves, which the plain loops are not charged)")

    print(f"\n{'optimizer':<18}{'target':>8}{'steps':>8}{'plain CPU µs/step':>19}"
          f"{'gap@' + str(args.plain_steps) + ' plain':>17}{'population':>12}")
    plain_total = 0.0
    for o in optimizers:
        with small_tensor_mode():
            per_step, W_plain = plain_loop(problem, o.make(schedules[o.key]), args.plain_steps)
        steps = reached.get(o.key, math.inf)
        plain_total += steps * per_step
        # the population's gap at the same step count, from a short rerun of this one optimizer
        pop_W = train_linear(problem, {o.key: o.make(schedules[o.key])}, args.plain_steps,
                             record=[args.plain_steps])[o.key].final
        print(f"{o.key:<18}{target[o.key]:>8.0e}{steps:>8}{1e6 * per_step:>19.0f}"
              f"{gap(o.key, W_plain):>17.3e}{gap(o.key, pop_W):>12.3e}")
    print(f"\nCPU time for every optimizer to reach its target: plain {plain_total:.1f} s, "
          f"population {pop_cpu:.1f} s, speed-up {plain_total / pop_cpu:.1f}x"
          + ("" if math.isfinite(plain_total) else " (some optimizer never reached its target)"))


if __name__ == "__main__":
    main()
