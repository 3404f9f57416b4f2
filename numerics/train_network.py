"""Train a population of optimizers on one two-layer homogeneous network, in lockstep, in float64.

All members start from the same initialization and see the same data. Each step computes, for the
whole population at once, log L and ∇ log L in closed form (``TwoLayerNetwork.log_loss_gradients``,
exact at any scale), then every member's own optimizer steps: ``numerics.optim`` members through
``TransformOptimizer.apply(∇ log L, log_scale=log L)`` (so nothing underflows however small the loss
gets), any other ``torch.optim.Optimizer`` with the true gradient exp(log L)·∇ log L and, when the
member has a schedule, ``lr = η_t`` (``numerics.train.step_member``, as in the linear trainer). A
member whose parameters become NaN/Inf stops with status ``error``. Parameters, log-losses and min margins are
recorded at the requested steps (default: log-spaced, ``numerics.train.checkpoints``); step t is the
state after t updates.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from numerics.networks import TwoLayerNetwork
from numerics.train import Member, Trajectory, build_optimizer, checkpoints, small_tensor_mode, step_member
from numerics.homogeneous_optim import NetworkStack, step_network_stack


@dataclass
class NetworkTrajectory(Trajectory):
    margins: list[float] = field(default_factory=list)   # min_i q_i at each checkpoint
    # log L(θ_t) − log L(θ_(t−1)) at each checkpoint t ≥ 1 (NaN at t = 0): the last step's change
    log_loss_step: list[float] = field(default_factory=list)


def train_network(net: TwoLayerNetwork, X, y, members: dict[str, Member], steps: int, init,
                  record: list[int] | None = None, loss: str = "cross_entropy",
                  progress: Callable[[int, int], None] | None = None,
                  log_loss_floor: float | None = None) -> dict[str, NetworkTrajectory]:
    """Train every member from ``init`` = (W, u) for ``steps`` steps. Each trajectory's ``params`` are
    (W, u) tuples; ``margins`` holds the min margin at each checkpoint. ``log_loss_floor``: a member
    whose log-loss falls to the floor stops there, that state being its last checkpoint."""
    record = set(record or checkpoints(steps))
    Xt = torch.as_tensor(np.asarray(X), dtype=torch.float64)
    yt = torch.as_tensor(np.asarray(y), dtype=torch.float64)
    names = list(members)
    params = {nm: [torch.tensor(np.asarray(p), dtype=torch.float64) for p in init] for nm in names}
    traj = {nm: NetworkTrajectory(nm) for nm in names}
    opts = {}
    for nm in names:
        opt = build_optimizer(members[nm], params[nm], traj[nm])
        if opt is not None:
            opts[nm] = opt
    active = [nm for nm in names if nm in opts]
    # the members of the steepest-descent family step together (the same iterates, bitwise)
    stack = NetworkStack.of({nm: opt for nm, opt in opts.items() if members[nm].schedule is None})
    previous: dict[str, float] = {}
    size = sum(int(np.asarray(p).size) for p in init)
    x_max = float(np.max(np.abs(np.asarray(X)))) if np.asarray(X).size else 1.0
    overflow_bound = (1e300 / max(x_max, 1e-300)) ** (1.0 / float(net.degree)) / max(size, 1)
    t0 = time.perf_counter()
    with small_tensor_mode(), torch.no_grad():
        for t in range(steps + 1):             # pass t evaluates the parameters after t updates
            if not active:
                break
            W = torch.stack([params[nm][0] for nm in active])
            u = torch.stack([params[nm][1] for nm in active])
            finite = (torch.isfinite(W).flatten(1).all(1) & torch.isfinite(u).flatten(1).all(1)).tolist()
            # |f(x; θ)| ≤ (size·max|θ|)^L·max|x| for these L-homogeneous nets: past this bound a margin
            # could overflow float64, so the run is stopped there as a blow-up
            magnitude = torch.maximum(W.abs().flatten(1).amax(1), u.abs().flatten(1).amax(1))
            in_range = (magnitude <= overflow_bound).tolist()
            if not all(finite) or not all(in_range):
                for nm, ok, small in zip(active, finite, in_range):
                    if not ok:
                        traj[nm].status, traj[nm].message = "error", f"parameters became NaN/Inf at step {t}"
                    elif not small:
                        traj[nm].status, traj[nm].message = "error", (
                            f"parameters left float64's range at step {t} (largest entry beyond "
                            f"{overflow_bound:.3g}, where a margin of this degree-{net.degree:g} network "
                            "could overflow): a blow-up")
                finite = [ok and small for ok, small in zip(finite, in_range)]
                keep = [i for i, ok in enumerate(finite) if ok]
                active, W, u = [active[i] for i in keep], W[keep], u[keep]
                if not active:
                    break
            log_l, q_min, gW, gu = net.log_loss_gradients(W, u, Xt, yt, loss)
            log_l = log_l.tolist()
            change = [v - previous.get(nm, math.nan) for nm, v in zip(active, log_l)]
            previous.update(zip(active, log_l))
            floored = [] if log_loss_floor is None else \
                [i for i, v in enumerate(log_l) if v <= log_loss_floor]
            if t in record or floored:
                q_min = q_min.tolist()
                for i, nm in enumerate(active):
                    if t in record or i in floored:
                        traj[nm].steps.append(t)
                        traj[nm].params.append((W[i].numpy().copy(), u[i].numpy().copy()))
                        traj[nm].log_loss.append(log_l[i])
                        traj[nm].margins.append(q_min[i])
                        traj[nm].log_loss_step.append(change[i])
            for i in floored:
                traj[active[i]].message = (f"stopped after step {t}: the log-loss reached the floor "
                                           f"{log_loss_floor:g}")
            if t == steps:
                break
            stacked = [] if stack is None else [i for i, nm in enumerate(active) if i not in floored and nm in stack]
            if stacked:
                step_network_stack(stack, [active[i] for i in stacked], [gW.numpy()[stacked], gu.numpy()[stacked]],
                                   [log_l[i] for i in stacked], t + 1, traj)
            for i, nm in enumerate(active):
                if i not in floored and (stack is None or nm not in stack):
                    step_member(opts[nm], members[nm], params[nm], [gW[i], gu[i]], log_l[i], t + 1, traj[nm])
            active = [nm for i, nm in enumerate(active) if i not in floored and traj[nm].status == "ok"]
            if progress is not None:
                progress(t + 1, steps)
    elapsed = time.perf_counter() - t0
    for tr in traj.values():
        tr.seconds = elapsed
    return traj
