"""Training throughput on the Fan et al. (2025) multiclass problem: the population trainer versus a
plain per-step loop per optimizer (``F.cross_entropy`` + autograd + the same update rule).

The optimizers are the 15 of the issue's claims (NSD and NMD under 7 norms, Adam ε = 0), with the
claims' schedules for a horizon T. The population trains them in lockstep and stops each one at the
first checkpoint (every --every steps) where its relative margin gap in its predicted norm reaches
its target (1e-2; Adam 5e-2, as in the quick profile). Printed:

  population: CPU and wall seconds until every optimizer reached its target
  plain:      Σ_i steps_i × (CPU seconds per step of optimizer i's own loop), steps_i from the
              population run — what the plain loops would cost *if* they tracked the same
              trajectories; the gap column shows they do not (F.cross_entropy's gradient loses
              1 − p_y to rounding once the loss is below ~1e-16, THEORY.md §1.4)

CPU seconds are reported beside wall seconds because other processes may share the cores (both
engines run single-threaded, so CPU time is what they cost on an idle core).

    python bench/bench_linear_trainer.py [--horizon 40000] [--every 250] [--plain-steps 2000]
"""
from __future__ import annotations

import argparse
import math
import os
import time

import torch

from numerics.maxmargin import max_margin
from numerics.optim import TransformOptimizer
from numerics.train import small_tensor_mode, train_linear
from theory.norms import parse_norm
from verify.claims import fan2025
from verify.context import Context


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
    parser.add_argument("--every", type=int, default=250, help="checkpoint spacing (steps)")
    parser.add_argument("--plain-steps", type=int, default=2_000,
                        help="steps of each plain loop used to time it")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    ctx = Context()
    problem = fan2025._problem(ctx)
    optimizers = [o for o in fan2025._optimizers() if not o.key.startswith("torch-")]
    norms = {o.geometry: parse_norm(o.geometry) for o in optimizers}
    solutions = {name: max_margin(problem, n) for name, n in norms.items()}
    schedules = {o.key: o.schedule(problem, norms, solutions, args.horizon) for o in optimizers}
    members = {o.key: o.make(schedules[o.key]) for o in optimizers}
    target = {o.key: fan2025.SETTINGS["adam_gap_tolerance" if o.key == "adam" else "gap_tolerance"]["quick"]
              for o in optimizers}
    geometry = {o.key: o.geometry for o in optimizers}
    reached: dict[str, int] = {}

    def gap(key, W):
        norm = norms[geometry[key]]
        return 1.0 - problem.normalized_margin(W, norm) / solutions[geometry[key]].margin

    def on_record(t, trajectories):
        done = [k for k, tr in trajectories.items()
                if k not in reached and tr.steps and tr.steps[-1] == t and gap(k, tr.params[-1]) <= target[k]]
        reached.update({k: t for k in done})
        return done

    record = list(range(0, args.horizon + 1, args.every))
    wall, cpu = time.perf_counter(), time.process_time()
    train_linear(problem, members, args.horizon, record=record, on_record=on_record)
    pop_cpu, pop_wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"population: {len(reached)} of {len(members)} optimizers reached their target within "
          f"{args.horizon} steps (the last at step {max(reached.values(), default=0)}): "
          f"{pop_cpu:.1f} s CPU ({pop_wall:.1f} s wall)")

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
