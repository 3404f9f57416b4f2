"""Train a population of optimizers on one two-layer homogeneous network, in lockstep, in float64.

All members start from the same initialization and see the same data. Each step computes, for the
whole population at once, log L and ∇ log L in closed form (``TwoLayerNetwork.log_loss_gradients``,
exact at any scale), then every member's own optimizer steps: ``numerics.optim`` members through
``TransformOptimizer.apply(∇ log L, log_scale=log L)`` (so nothing underflows however small the loss
gets), any other ``torch.optim.Optimizer`` with the true gradient exp(log L)·∇ log L. A member whose
parameters become NaN/Inf stops with status ``error``. Parameters, log-losses and min margins are
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
from numerics.optim import TransformOptimizer
from numerics.train import Member, Trajectory, checkpoints, small_tensor_mode


@dataclass
class NetworkTrajectory(Trajectory):
    margins: list[float] = field(default_factory=list)   # min_i q_i at each checkpoint


def _step(opt, member: Member, pW, pu, gW, gu, log_l: float, t: int) -> None:
    if isinstance(opt, TransformOptimizer):
        opt.apply((gW, gu), log_l)
        return
    factor = math.exp(log_l)
    pW.grad, pu.grad = factor * gW, factor * gu
    if member.schedule is not None:
        for group in opt.param_groups:
            group["lr"] = member.schedule(t)
    opt.step()


def train_network(net: TwoLayerNetwork, X, y, members: dict[str, Member], steps: int, init,
                  record: list[int] | None = None, loss: str = "cross_entropy",
                  progress: Callable[[int, int], None] | None = None) -> dict[str, NetworkTrajectory]:
    """Train every member from ``init`` = (W, u) for ``steps`` steps. Each trajectory's ``params`` are
    (W, u) tuples; ``margins`` holds the min margin at each checkpoint."""
    record = set(record or checkpoints(steps))
    Xt = torch.as_tensor(np.asarray(X), dtype=torch.float64)
    yt = torch.as_tensor(np.asarray(y), dtype=torch.float64)
    names = list(members)
    params = {nm: [torch.tensor(np.asarray(p), dtype=torch.float64) for p in init] for nm in names}
    traj = {nm: NetworkTrajectory(nm) for nm in names}
    opts = {}
    for nm in names:
        try:
            opts[nm] = members[nm].factory(params[nm])
        except Exception as exc:  # a user factory: report, keep going
            traj[nm].status, traj[nm].message = "error", f"factory failed: {type(exc).__name__}: {exc}"
    active = [nm for nm in names if nm in opts]
    t0 = time.perf_counter()
    with small_tensor_mode(), torch.no_grad():
        for t in range(steps + 1):             # pass t evaluates the parameters after t updates
            if not active:
                break
            W = torch.stack([params[nm][0] for nm in active])
            u = torch.stack([params[nm][1] for nm in active])
            finite = (torch.isfinite(W).flatten(1).all(1) & torch.isfinite(u).flatten(1).all(1)).tolist()
            if not all(finite):
                for nm, ok in zip(active, finite):
                    if not ok:
                        traj[nm].status, traj[nm].message = "error", f"parameters became NaN/Inf at step {t}"
                keep = [i for i, ok in enumerate(finite) if ok]
                active, W, u = [active[i] for i in keep], W[keep], u[keep]
                if not active:
                    break
            log_l, q_min, gW, gu = net.log_loss_gradients(W, u, Xt, yt, loss)
            log_l = log_l.tolist()
            if t in record:
                q_min = q_min.tolist()
                for i, nm in enumerate(active):
                    traj[nm].steps.append(t)
                    traj[nm].params.append((W[i].numpy().copy(), u[i].numpy().copy()))
                    traj[nm].log_loss.append(log_l[i])
                    traj[nm].margins.append(q_min[i])
            if t == steps:
                break
            failed = []
            for i, nm in enumerate(active):
                try:
                    _step(opts[nm], members[nm], *params[nm], gW[i], gu[i], log_l[i], t + 1)
                except Exception as exc:  # a user optimizer: report, keep going
                    traj[nm].status = "error"
                    traj[nm].message = f"optimizer step {t + 1} raised {type(exc).__name__}: {exc}"
                    failed.append(nm)
            active = [nm for nm in active if nm not in failed]
            if progress is not None:
                progress(t + 1, steps)
    elapsed = time.perf_counter() - t0
    for tr in traj.values():
        tr.seconds = elapsed
    return traj
