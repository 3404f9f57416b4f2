"""Throughput of the fast diagonal-net trainer against a plain per-step torch autograd loop.

Same model (w = u²−v², d, n), same optimizer maths (label-noise SGD and Adam without bias correction,
the reference using numerics.optim through TransformOptimizer), float64. Prints steps per second for
(a) one replica, (b) R replicas batched in the fast path vs R sequential autograd runs, (c) the Adam
second-moment warm-up at a frozen point (numerics.manifold_flow.second_moment_warmup, used by
li2025-adam-drift) in replica-draws per second, and the load average (other processes share the 2
cores: figures vary with it).

    python bench/bench_diagonal_nets.py [--d 16] [--n 8] [--steps 3000] [--replicas 8]
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from numerics.diagonal_nets import GD, AdamFamily, DiagonalNetProblem, balanced_init, torch_loss, train
from numerics.manifold_flow import second_moment_warmup
from numerics.optim import TransformOptimizer, adam, gd
from theory.parameterizations import quadratic_difference


def autograd_loop(problem, steps, transform, delta, seed):
    rng = np.random.default_rng(seed)
    params = [torch.full((problem.d,), 0.5, dtype=torch.float64, requires_grad=True) for _ in range(2)]
    opt = TransformOptimizer(params, transform)
    loss = torch_loss(problem)
    t0 = time.perf_counter()
    for _ in range(steps):
        noise = torch.from_numpy(delta * (2.0 * rng.integers(0, 2, size=problem.n) - 1.0))
        opt.zero_grad()
        loss(params, noise).backward()
        opt.step()
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--d", type=int, default=16)
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--replicas", type=int, default=8)
    args = ap.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    Z = rng.choice([-1.0, 1.0], size=(args.n, args.d))
    w_star = np.zeros(args.d)
    w_star[:2] = [1.0, -0.8]
    problem = DiagonalNetProblem(quadratic_difference(), Z, Z @ w_star)
    eta, delta = 0.02, 2.0
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; d = {args.d}, "
          f"n = {args.n}, {args.steps} steps")
    cases = [("label-noise SGD", GD(), gd(lambda t: eta)),
             ("label-noise Adam", AdamFamily(0.9, 1 - eta, 1e-8, 0.5),
              adam(lambda t: eta, 0.9, 1 - eta, 1e-8, bias_correction=False, exponent=0.5))]
    print(f"{'optimizer':<18} {'autograd steps/s':>17} {'fast R=1':>10} {'x':>6} "
          f"{'fast R=' + str(args.replicas) + ' (replica-steps/s)':>30} {'x':>7}")
    for name, fast, transform in cases:
        t_ref = autograd_loop(problem, args.steps, transform, delta, seed=1)
        t1 = train(problem, balanced_init(problem, 0.5), fast, eta, args.steps, label_noise=delta).seconds
        tR = train(problem, balanced_init(problem, [0.5] * args.replicas), fast, eta, args.steps,
                   label_noise=delta).seconds
        ref = args.steps / t_ref
        one = args.steps / t1
        many = args.steps * args.replicas / tR
        print(f"{name:<18} {ref:17.0f} {one:10.0f} {one / ref:6.1f} {many:30.0f} {many / ref:7.1f}")
    t0 = time.perf_counter()
    second_moment_warmup(problem, balanced_init(problem, 0.5)[0], delta, args.replicas, args.steps)
    warm = args.steps * args.replicas / (time.perf_counter() - t0)
    print(f"Adam v warm-up at a frozen point: {warm:.0f} replica-draws/s")
    bound_gradient(args.steps)


def _cpu_train(problem, opt, eta, steps, replicas, unbound: bool):
    """(CPU seconds per step, final P) of ``train``; ``unbound``: with the per-step
    ``problem.gradient(P, noise)`` instead of the bound ``problem.gradient_on(P)``."""
    cls = type(problem)
    saved = cls.__dict__.get("gradient_on")
    if unbound:
        cls.gradient_on = lambda self, P: lambda noise=None: self.gradient(P, noise)
    try:
        t0 = time.process_time()
        run = train(problem, balanced_init(problem, [0.5] * replicas), opt, eta, steps, label_noise=1.0,
                    seed=1)
        return (time.process_time() - t0) / steps, run.final
    finally:
        if unbound:
            if saved is None:
                del cls.gradient_on
            else:
                cls.gradient_on = saved


def bound_gradient(steps: int):
    """CPU µs per step of ``train`` with the bound gradient (``gradient_on``: views and buffers made
    once) against the per-step ``gradient``, at the sizes of li2025-adaptive-family (n = 2, d = 4,
    64 replicas, Adalayer) and deep-diagonal-* (n = 4, d = 32, 8 replicas, depth N), and whether the
    two runs end bit for bit equal (CPU time: the minimum of 3 alternated runs each)."""
    from numerics.deep_diagonal import DepthProblem

    rng = np.random.default_rng(0)
    Z2 = rng.standard_normal((2, 4))
    Z4 = rng.standard_normal((4, 32))
    cases = [("u²−v², n=2 d=4 R=64, Adalayer", DiagonalNetProblem(quadratic_difference(), Z2, Z2 @ np.ones(4)),
              AdamFamily(0.9, 1 - 0.00125**1.5, 1e-8, 0.5, 0), 0.00125, 64)]
    cases += [(f"u^{N}−v^{N}, n=4 d=32 R=8, GD", DepthProblem(N, Z4, Z4 @ rng.standard_normal(32)), GD(), 0.01, 8)
              for N in (2, 3, 4)]
    print(f"{'train, CPU µs/step':<34} {'gradient':>9} {'gradient_on':>12} {'x':>5}  bitwise equal")
    for name, problem, opt, eta, R in cases:
        slow, fast = np.inf, np.inf
        for _ in range(3):          # alternated, the minimum of 3 (the machine is shared)
            t, P_slow = _cpu_train(problem, opt, eta, steps, R, unbound=True)
            slow = min(slow, t)
            t, P_fast = _cpu_train(problem, opt, eta, steps, R, unbound=False)
            fast = min(fast, t)
        print(f"{name:<34} {slow * 1e6:9.1f} {fast * 1e6:12.1f} {slow / fast:5.2f}  "
              f"{np.array_equal(P_slow, P_fast)}")


if __name__ == "__main__":
    main()
