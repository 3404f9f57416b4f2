"""Training throughput on the Fan et al. (2025) multiclass problem: the section-1 population trainer
against a careful plain loop, per member-step, in one run.

Population: the claims' own (``verify.experiments.fan2025``: NSD and NMD under 7 norms, Adam ε = 0,
torch's Muon/Adam/SGD), run by ``verify.linear_margins.run_population`` with the quick profile's
targets, horizon and budget, so each member runs to twice its confirmation step (the library ones
stop with their partners). One closed-form loss/gradient pass serves all members (the loss in torch,
the two products in numpy: ``numerics.train.LinearMarginMap``); the NSD/NMD members are stepped
together over a leading member axis (``numerics.optim.TransformStack``), their parameters being the
rows of one array (``numerics.train.train_linear``); torch's Adam and SGD are stepped by
``numerics.optim.TorchStack`` (torch's single-tensor update without the per-call layers of ``step``).
Its cost per member-step is (CPU s of the run − CPU s of its certified max-margin solves, timed
alone) / Σ_members steps run.

Anchor, the careful plain loop: one optimizer (NSD under one norm of the family, the claims'
schedule), torch float64, one thread, per step the log-sum-exp gradient of log L in closed form
(exact at any scale: the shift by each sample's smallest margin) and the norm's LMO, nothing else.
Its cost per step is the mean over the 7 norms. Printed side by side with the ratio; the anchor is
also checked to compute what the population computes (its iterate after the timed steps against
the population's NSD member there).

CPU seconds are what both cost on an idle core (both run single-threaded); wall seconds are shown
beside them because other processes may share the cores.

Then, where a population step goes: the per-step cost of its parts, each timed alone on the
population's final parameters with all members present (``breakdown``).

    python bench/bench_linear_trainer.py [--anchor-steps 2000] [--seed 0] [--breakdown-steps 300]
"""
from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np
import torch

from numerics.maxmargin import max_margin
from numerics.optim import PowerSchedule, TransformStack, nsd
from numerics.train import (LinearMarginMap, Trajectory, build_optimizer, small_tensor_mode, step_member,
                            step_torch_stack, torch_stacks, train_linear)
from theory.norms import parse_norm
from verify.context import Context
from verify.experiments import fan2025
from verify.linear_margins import run_population, transform_member


def plain_loop(problem, norm, schedule, steps: int) -> tuple[float, np.ndarray]:
    """NSD under ``norm`` for ``steps`` steps, written out: torch float64 on one thread, the
    closed-form log-sum-exp gradient of log L, the LMO. Returns (CPU seconds, W)."""
    X = torch.as_tensor(problem.X)
    XT, y, cols = X.T.contiguous(), torch.as_tensor(problem.y), torch.arange(problem.n)
    W = torch.zeros(problem.param_shape, dtype=torch.float64)
    with small_tensor_mode(), torch.no_grad():
        start = time.process_time()
        for t in range(1, steps + 1):
            Z = W @ XT                                     # scores (k, n)
            M = Z[y, cols] - Z                             # margins m_ic = Z_{y_i,i} − Z_ci
            M[y, cols] = math.inf                          # the own class weighs 0
            mu = M.min(0).values                           # each sample's smallest margin
            E = torch.exp(mu - M)                          # ≤ 1: nothing overflows
            z = torch.log(E.sum(0)) - mu                   # log Σ_c e^{−m_ic}
            small = z < -20.0                              # log softplus(z) = z − e^z/2 + ... there
            log_li = torch.where(small, z - 0.5 * torch.exp(z.clamp(max=-20.0)),
                                 torch.log(torch.logaddexp(torch.zeros_like(z), z.clamp(min=-20.0))))
            total = torch.logsumexp(log_li, 0)             # log Σ_i ℓ_i
            weight = torch.exp(-mu - torch.logaddexp(torch.zeros_like(z), z) - total)
            GZ = weight * E                                # ∂ log L/∂Z_ci, c ≠ y_i
            GZ[y, cols] = -GZ.sum(0)
            G = (GZ @ X).numpy()                           # ∇_W log L
            W -= schedule(t) * torch.from_numpy(norm.steepest_direction(G))
        return time.process_time() - start, W.numpy()


def breakdown(problem, optimizers, W: np.ndarray, steps: int) -> dict[str, float]:
    """CPU µs per step of each part of a population step, all members present at parameters W
    (members × param shape): the loss/gradient pass with its two products, the stacked members'
    step (and its norm oracles alone), torch's SGD/Adam members as the trainer steps them
    (``numerics.optim.TorchStack``), each other member stepped singly (torch's Muon, our Adam)."""
    amap = LinearMarginMap(problem)
    members = {o.key: o.make(PowerSchedule(1e-3)) for o in optimizers}
    rows = torch.from_numpy(W.copy())
    params = {nm: rows[j] for j, nm in enumerate(members)}
    opts = {nm: build_optimizer(m, [params[nm]], Trajectory(nm)) for nm, m in members.items()}
    stack = TransformStack.of({nm: o for nm, o in opts.items() if members[nm].schedule is None})
    stacked = [nm for nm in members if stack is not None and nm in stack]
    libraries = torch_stacks({nm: o for nm, o in opts.items() if o is not None}, members, rows,
                             {nm: j for j, nm in enumerate(members)})
    idx = [list(members).index(nm) for nm in stacked]
    out = {}

    def timed(name, f):
        f()
        start = time.process_time()
        for _ in range(steps):
            f()
        out[name] = 1e6 * (time.process_time() - start) / steps

    with small_tensor_mode(), torch.no_grad():
        log_l, grads = amap.log_loss_and_gradient(W, "cross_entropy")
        k = problem.k
        timed("loss and gradient pass (two products included)", lambda: amap.log_loss_and_gradient(W, "cross_entropy"))
        Wk, Gk = W.reshape(len(W) * k, -1), np.ones((len(W) * k, problem.n))
        timed("  the two products alone", lambda: (Wk @ amap.XT, Gk @ amap.X))
        if stacked:
            g, ll = grads[idx].copy(), [float(log_l[i]) for i in idx]
            timed(f"stacked step ({len(stacked)} NSD/NMD members)", lambda: stack.step(stacked, g, ll))
            oracle = stack._layout(stacked)["oracle"]
            timed("  its norm oracles alone", lambda: oracle(g))
        t = [0]
        for lib in libraries:
            names = list(lib.index)
            idx = [list(members).index(nm) for nm in names]
            g, ll, tr = grads[idx].copy(), [float(log_l[i]) for i in idx], {nm: Trajectory(nm) for nm in names}

            def library(names=names, g=g, ll=ll, tr=tr):
                t[0] += 1
                step_torch_stack(lib, names, g, ll, t[0], members, tr)
            timed(f"{'+'.join(names)} (torch's {type(opts[names[0]]).__name__}, stacked)", library)
        in_library = {nm for lib in libraries for nm in lib.index}
        for j, nm in enumerate(members):
            if nm in stacked or nm in in_library or opts[nm] is None:
                continue
            tr, p, gj = Trajectory(nm), params[nm], [torch.from_numpy(grads[j].copy())]

            def one(nm=nm, p=p, gj=gj, tr=tr, lj=float(log_l[j])):
                t[0] += 1
                step_member(opts[nm], members[nm], [p], gj, lj, t[0], tr)
            timed(f"{nm} stepped singly", one)
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--anchor-steps", type=int, default=2000, help="steps of each plain loop")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--breakdown-steps", type=int, default=300, help="steps timed per part (0: skip)")
    args = parser.parse_args()
    profile = "quick"
    load0 = os.getloadavg()[0]
    problem = fan2025.problem(args.seed)
    optimizers = fan2025.optimizers()
    norms = [parse_norm(v[0]) for v in fan2025.NORMS.values()]
    targets = {o.key: fan2025.SETTINGS["adam_gap_tolerance" if o.key == "adam" else "gap_tolerance"][profile]
               for o in optimizers if o.key not in fan2025.LIBRARY}

    cpu = time.process_time()
    for n in norms:
        max_margin(problem, n)
    solve_cpu = time.process_time() - cpu

    wall, cpu = time.perf_counter(), time.process_time()
    run = run_population(Context(), "bench", problem, norms, optimizers, fan2025.SETTINGS["steps"][profile],
                         targets=targets, companions=fan2025.LIBRARY,
                         horizon=fan2025.SETTINGS["horizon"][profile])
    pop_cpu, pop_wall = time.process_time() - cpu, time.perf_counter() - wall
    member_steps = sum(tr.steps[-1] for tr in run.trajectories.values())
    pop_us = 1e6 * (pop_cpu - solve_cpu) / member_steps
    print(f"load average {load0:.2f} on {os.cpu_count()} cores at the start")
    print(f"population ({len(optimizers)} members, seed {args.seed}, {profile}): {member_steps} member-steps "
          f"in {pop_cpu:.1f} s CPU ({pop_wall:.1f} s wall), of which the {len(norms)} certified max-margin "
          f"solves take {solve_cpu:.1f} s CPU (timed alone) → {pop_us:.1f} µs CPU per member-step")

    print(f"\nanchor: plain NSD loop, {args.anchor_steps} steps per norm (the population's schedules)")
    print(f"{'norm':<16}{'µs/step':>9}{'   rel. diff. to the population':>32}")
    costs = []
    for suffix, (norm_text, _, _) in fan2025.NORMS.items():
        norm = parse_norm(norm_text)
        schedule = run.schedules[f"nsd-{suffix}"]
        seconds, W = plain_loop(problem, norm, schedule, args.anchor_steps)
        costs.append(1e6 * seconds / args.anchor_steps)
        same = train_linear(problem, {"p": transform_member(lambda s, n=norm: nsd(n, s), "nsd")(schedule)},
                            args.anchor_steps, record=[args.anchor_steps])["p"].final
        diff = np.abs(W - same).max() / np.abs(same).max()
        print(f"{norm.name:<16}{costs[-1]:>9.1f}{diff:>32.1e}")
    plain_us = float(np.mean(costs))
    print(f"\nper member-step: population {pop_us:.1f} µs, careful plain loop {plain_us:.1f} µs "
          f"(mean over the norms) → the population is {plain_us / pop_us:.1f}x the plain loop "
          f"(load average {load0:.2f} → {os.getloadavg()[0]:.2f})")
    if args.breakdown_steps:
        W = np.stack([run.trajectories[o.key].final for o in optimizers])
        parts = breakdown(problem, optimizers, W, args.breakdown_steps)
        print(f"\nwhere a step of all {len(optimizers)} members goes (CPU µs per step, each part timed alone "
              f"at the final parameters, {args.breakdown_steps} steps):")
        for name, us in parts.items():
            print(f"  {name:<48}{us:>9.0f}")


if __name__ == "__main__":
    main()
