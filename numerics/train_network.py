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

A run can be continued: :class:`NetworkTraining` holds its whole state (parameters, every optimizer's
state — momenta, the stacked members' averages and step counts — the last evaluation and the
trajectories), and :meth:`NetworkTraining.advance` takes some or all of its members further, the same
run (the schedules η_t are read at the members' own step counts, nothing restarts). Advancing in
pieces gives the iterates of one longer run, bitwise (tests/numerics/test_train_network.py).
:func:`train_network` is one call of it.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

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
    whose log-loss falls to the floor stops there, that state being its last checkpoint. (To continue
    the run afterwards, use :class:`NetworkTraining`, of which this is one :meth:`~NetworkTraining.advance`.)"""
    return NetworkTraining(net, X, y, members, init, loss, log_loss_floor).advance(steps, record, progress)


class NetworkTraining:
    """The state of a population run on one network: every member's parameters and optimizer (with
    its momenta and step count), the evaluation (log L, ∇ log L) at each member's current step, and
    the trajectories recorded so far. :meth:`advance` continues it."""

    def __init__(self, net: TwoLayerNetwork, X, y, members: dict[str, Member], init,
                 loss: str = "cross_entropy", log_loss_floor: float | None = None):
        self.net, self.members, self.loss, self.log_loss_floor = net, members, loss, log_loss_floor
        self.Xt = torch.as_tensor(np.asarray(X), dtype=torch.float64)
        self.yt = torch.as_tensor(np.asarray(y), dtype=torch.float64)
        names = list(members)
        self.params = {nm: [torch.tensor(np.asarray(p), dtype=torch.float64) for p in init] for nm in names}
        self.trajectories = {nm: NetworkTrajectory(nm) for nm in names}
        self.opts = {}
        for nm in names:
            opt = build_optimizer(members[nm], self.params[nm], self.trajectories[nm])
            if opt is not None:
                self.opts[nm] = opt
        # members still running (not stopped by an error or the floor), in the population's order
        self.running = [nm for nm in names if nm in self.opts]
        # the members of the steepest-descent family step together (the same iterates, bitwise)
        self.stack = NetworkStack.of({nm: opt for nm, opt in self.opts.items() if members[nm].schedule is None})
        self.step = dict.fromkeys(names, 0)        # updates each member has taken
        self.previous: dict[str, float] = {}       # log L at each member's current step
        self.evaluated: dict[str, tuple] = {}      # (log L, ∇_W log L, ∇_u log L) at its current step
        size = sum(int(np.asarray(p).size) for p in init)
        x_max = float(np.max(np.abs(np.asarray(X)))) if np.asarray(X).size else 1.0
        self.overflow_bound = (1e300 / max(x_max, 1e-300)) ** (1.0 / float(net.degree)) / max(size, 1)
        self.seconds = 0.0

    def advance(self, steps: int, record: Iterable[int] | None = None,
                progress: Callable[[int, int], None] | None = None,
                names: Iterable[str] | None = None) -> dict[str, NetworkTrajectory]:
        """Take the running members ``names`` (default all; they must be at one step count t₀) on to
        step ``steps``, recording at the steps of ``record`` in (t₀, steps] (on a first advance from
        step 0 in [0, steps]; default log-spaced over the run). The others stay where they are, their
        trajectories untouched. Returns all trajectories (the same objects as ``self.trajectories``)."""
        chosen = None if names is None else set(names)
        group = [nm for nm in self.running if chosen is None or nm in chosen]
        if not group:
            return self.trajectories
        starts = {self.step[nm] for nm in group}
        if len(starts) != 1:
            raise ValueError(f"members advanced together must be at one step, got steps {sorted(starts)}")
        start = starts.pop()
        if steps < start:
            raise ValueError(f"cannot advance to step {steps}: the members are at step {start}")
        record = set(record if record is not None else checkpoints(steps))
        net, stack, traj = self.net, self.stack, self.trajectories
        t0 = time.perf_counter()
        with small_tensor_mode(), torch.no_grad():
            active = group
            if all(nm in self.evaluated for nm in active):    # resumed: the evaluation at t₀ is kept
                log_l = [self.evaluated[nm][0] for nm in active]
                gW = torch.stack([self.evaluated[nm][1] for nm in active])
                gu = torch.stack([self.evaluated[nm][2] for nm in active])
            else:
                active, log_l, gW, gu = self._evaluate(start, active, record)
            t = start
            layout = None   # (active, stacked rows, their names, all rows?, the others' (row, name)), per active set
            while active and t < steps:
                if layout is None or layout[0] != active:
                    stacked = [] if stack is None else [i for i, nm in enumerate(active) if nm in stack]
                    whole = stacked == list(range(len(active)))      # then the arrays need no row selection
                    layout = (active, stacked, [active[i] for i in stacked], whole,
                              [(i, nm) for i, nm in enumerate(active) if stack is None or nm not in stack])
                _, stacked, stacked_names, whole, others = layout
                if stacked:
                    grads = [gW.numpy(), gu.numpy()] if whole else [gW.numpy()[stacked], gu.numpy()[stacked]]
                    step_network_stack(stack, stacked_names, grads, [log_l[i] for i in stacked], t + 1, traj)
                if others:
                    rows_W, rows_u = gW.unbind(0), gu.unbind(0)       # one call for every member's row views
                    for i, nm in others:
                        step_member(self.opts[nm], self.members[nm], self.params[nm], [rows_W[i], rows_u[i]],
                                    log_l[i], t + 1, traj[nm])
                for nm in active:
                    self.step[nm] = t + 1
                stepped, active = active, [nm for nm in active if traj[nm].status == "ok"]
                if len(active) < len(stepped):
                    self._stop([nm for nm in stepped if nm not in active])
                if progress is not None:
                    progress(t + 1, steps)
                t += 1
                if active:
                    active, log_l, gW, gu = self._evaluate(t, active, record)
            self.evaluated = {nm: v for nm, v in self.evaluated.items() if nm in self.running and nm not in group}
            for i, nm in enumerate(active):
                self.evaluated[nm] = (log_l[i], gW[i], gu[i])
        self.seconds += time.perf_counter() - t0
        for tr in traj.values():
            tr.seconds = self.seconds
        return traj

    def _stop(self, names) -> None:
        stopped = set(names)
        self.running = [nm for nm in self.running if nm not in stopped]

    def _evaluate(self, t: int, active: list[str], record: set):
        """Pass t: the parameters after t updates of ``active`` — stop those that blew up, evaluate
        log L and its gradient, record at the checkpoints, stop those at the log-loss floor. Returns
        the members still active with their (log L, ∇_W, ∇_u)."""
        net, traj, params = self.net, self.trajectories, self.params
        W = torch.stack([params[nm][0] for nm in active])
        u = torch.stack([params[nm][1] for nm in active])
        # |f(x; θ)| ≤ (size·max|θ|)^L·max|x| for these L-homogeneous nets: past this bound a margin
        # could overflow float64, so the run is stopped there as a blow-up. A NaN/Inf entry fails the
        # (finite) bound too (np.max and np.maximum propagate NaN), so one test over the population
        # clears the common case and the members are looked at one by one only when it failed.
        bound = self.overflow_bound
        largest = np.maximum(np.abs(W.numpy()).max(), np.abs(u.numpy()).max())
        if not (math.isfinite(bound) and largest <= bound):
            magnitude = torch.maximum(W.abs().flatten(1).amax(1), u.abs().flatten(1).amax(1))
            finite = (torch.isfinite(W).flatten(1).all(1) & torch.isfinite(u).flatten(1).all(1)).tolist()
            in_range = (magnitude <= bound).tolist()
            if not all(finite) or not all(in_range):
                for nm, ok, small in zip(active, finite, in_range):
                    if not ok:
                        traj[nm].status, traj[nm].message = "error", f"parameters became NaN/Inf at step {t}"
                    elif not small:
                        traj[nm].status, traj[nm].message = "error", (
                            f"parameters left float64's range at step {t} (largest entry beyond "
                            f"{self.overflow_bound:.3g}, where a margin of this degree-{net.degree:g} network "
                            "could overflow): a blow-up")
                finite = [ok and small for ok, small in zip(finite, in_range)]
                keep = [i for i, ok in enumerate(finite) if ok]
                self._stop([nm for i, nm in enumerate(active) if i not in keep])
                active, W, u = [active[i] for i in keep], W[keep], u[keep]
                if not active:
                    return active, [], None, None
        log_l, q_min, gW, gu = net.log_loss_gradients(W, u, self.Xt, self.yt, self.loss)
        log_l = log_l.tolist()
        floor = self.log_loss_floor
        floored = [] if floor is None else [i for i, v in enumerate(log_l) if v <= floor]
        recording = t in record or floored
        if recording:                       # the last step's change, only where it is recorded
            change = [v - self.previous.get(nm, math.nan) for nm, v in zip(active, log_l)]
        self.previous.update(zip(active, log_l))
        if recording:
            q_min = q_min.tolist()
            for i, nm in enumerate(active):
                if t in record or i in floored:
                    traj[nm].steps.append(t)
                    traj[nm].params.append((W[i].numpy().copy(), u[i].numpy().copy()))
                    traj[nm].log_loss.append(log_l[i])
                    traj[nm].margins.append(q_min[i])
                    traj[nm].log_loss_step.append(change[i])
        if not floored:
            return active, log_l, gW, gu
        for i in floored:
            traj[active[i]].message = f"stopped after step {t}: the log-loss reached the floor {floor:g}"
        self._stop([active[i] for i in floored])
        keep = [i for i in range(len(active)) if i not in floored]
        return [active[i] for i in keep], [log_l[i] for i in keep], gW[keep], gu[keep]
