"""The training engine for linear classifiers: a population of optimizers trained in lockstep.

All members see the same data; their margins, log-losses and gradients are computed in one batched
closed-form pass (``numerics.losses``), then each member's own ``torch.optim.Optimizer`` takes its
step — the members built from ``numerics.optim``'s steepest-descent family together, over a leading
member axis (``numerics.optim.TransformStack``: the same iterates, one oracle call per norm), and
the members whose optimizers are torch's own SGD or Adam with the same hyperparameters (the runs of a
step-size sweep) together too (``numerics.optim.TorchStack``: torch's single-tensor update written
over the member axis, the same numbers as each member's own ``step()``).
The members' parameters are the rows of one array (each optimizer holds a view of its row), so the
population's iterate is that array, and the stacked members' update is one fused operation on it.
Members built from ``numerics.optim`` receive the log-scaled gradient (exact at any weight scale);
any other optimizer (``torch.optim.SGD/Adam/Muon``, a user's factory) receives the true gradient
exp(log L)·∇ log L in ``p.grad`` and, when the member has a schedule, ``lr = η_t`` before each step.
float64 throughout.

A member whose parameters become NaN/Inf stops with status ``RunStatus.ERROR`` and the step it
happened in its message; the others continue. Parameters are recorded at log-spaced checkpoints.
"""
from __future__ import annotations

import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from numerics.classification import Classification
from numerics.optimizer_step import step as step_optimizer
from numerics.losses import log_loss_and_margin_gradient, log_loss_and_score_gradient, score_labels
from numerics.optim import TorchStack, TransformOptimizer, TransformStack
from numerics.run_status import RunStatus, status_field

OptimizerFactory = Callable[[list], torch.optim.Optimizer]


@dataclass(frozen=True)
class Member:
    """One optimizer to train: ``factory(params) -> torch.optim.Optimizer`` (the SPEC contract) and,
    optionally, the schedule the trainer imposes on lr (``param_groups[i]["lr"] = η_t`` before each
    step; a ``TransformOptimizer`` uses it only if its transformation reads that lr). With
    ``loss_normalized`` the lr is η_t / L(W_t) (the normalized-GD step of Nacson et al. 2019: it
    makes a step proportional to the gradient scale-free; needs a schedule)."""

    factory: OptimizerFactory
    schedule: Callable[[int], float] | None = None
    loss_normalized: bool = False


@dataclass
class Trajectory:
    name: str
    steps: list[int] = field(default_factory=list)
    params: list[np.ndarray] = field(default_factory=list)
    log_loss: list[float] = field(default_factory=list)
    status: RunStatus = status_field(RunStatus.OK)      # OK | ERROR (what happened: ``message``)
    message: str = ""
    seconds: float = 0.0

    @property
    def final(self) -> np.ndarray:
        return self.params[-1]


class LinearMarginMap:
    """The loss of a :class:`Classification` and its gradient, batched over a population of m
    parameter sets (``numerics.classification`` holds the per-model reference it is tested against).
    Layout (m, C, n), classes before samples, so that the reductions of the loss run over contiguous
    memory. float64; the products in numpy (its BLAS is ~1.5× torch's at these sizes), the multiclass
    loss in torch and the binary one in numpy (``numerics.losses``: whichever is faster at its size)."""

    def __init__(self, problem: Classification):
        self.problem = problem
        self.X = np.ascontiguousarray(problem.X, dtype=np.float64)
        self.XT = np.ascontiguousarray(self.X.T)
        self.y = np.asarray(problem.y)
        self.own = score_labels(self.y, problem.k) if problem.model != "binary" else None

    def log_loss_and_gradient(self, W, loss: str):
        """(log L, ∇_W log L) for a population W of shape (m, *param_shape), in closed form: binary
        through the margins y_i⟨w, x_i⟩ (m, 1, n) and their adjoint, multiclass through the class
        scores W xᵢ (m, k, n) (``log_loss_and_score_gradient``, which never forms the margins).
        numpy in, numpy out; torch in, torch out (zero-copy)."""
        Wn = W.numpy() if isinstance(W, torch.Tensor) else np.asarray(W, dtype=np.float64)
        m = Wn.shape[0]
        if self.problem.model == "binary":
            margins = (self.y * (Wn @ self.XT))[:, None, :]
            log_l, g = log_loss_and_margin_gradient(margins, loss, class_dim=-2)
            grad = (g[:, 0, :] * self.y) @ self.X
        else:
            k, n = self.problem.k, self.problem.n
            scores = (Wn.reshape(m * k, -1) @ self.XT).reshape(m, k, n)
            log_l, g = log_loss_and_score_gradient(torch.from_numpy(scores), self.y, loss, own=self.own)
            grad = (g.numpy().reshape(m * k, n) @ self.X).reshape(Wn.shape)
            log_l = log_l.numpy()
        if isinstance(W, torch.Tensor):
            return torch.from_numpy(log_l), torch.from_numpy(grad)
        return log_l, grad


@contextmanager
def small_tensor_mode():
    """Settings for many tiny float64 ops: one intra-op thread for torch and for numpy's BLAS
    (thread hand-offs cost more than the ops: with threaded BLAS a population step is ~3× slower)
    and flushing subnormals (the CPU's FTZ/DAZ flags of this thread, which numpy's arithmetic here
    obeys too), which the log-space loss produces for samples far from the support (their weight is
    below 1e-308 of the largest one; subnormal arithmetic is ~100× slower)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    flushed = torch.set_flush_denormal(True)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(threads)
        if flushed:
            torch.set_flush_denormal(False)


def checkpoints(steps: int, count: int = 40) -> list[int]:
    """Log-spaced steps 1..steps (always including the last)."""
    grid = np.unique(np.round(np.logspace(0, math.log10(steps), count)).astype(int))
    return [int(s) for s in grid if 1 <= s <= steps] + ([] if steps in grid else [steps])


def build_optimizer(member: Member, params: list, trajectory: Trajectory):
    """``member.factory(params)``, or None with the trajectory marked ``error`` when a (user's)
    factory raises or returns something other than a ``torch.optim.Optimizer``."""
    try:
        opt = member.factory(params)
    except Exception as exc:  # a user factory: report, keep going
        trajectory.status, trajectory.message = RunStatus.ERROR, f"factory failed: {type(exc).__name__}: {exc}"
        return None
    if not isinstance(opt, torch.optim.Optimizer):
        trajectory.status, trajectory.message = RunStatus.ERROR, "factory did not return a torch.optim.Optimizer"
        return None
    return opt


def step_member(opt, member: Member, params: list, grads: list, log_l: float, t: int,
                trajectory: Trajectory) -> bool:
    """Step t of one member, given ∇ log L per parameter tensor: ``lr = η_t`` (divided by L with
    ``loss_normalized``) when the member has a schedule; a ``TransformOptimizer`` gets ∇ log L and
    log L (exact at any scale), any other optimizer the true gradient exp(log L)·∇ log L. A step that
    raises marks the trajectory ``error`` (and returns True; False otherwise)."""
    try:
        if member.schedule is not None:
            lr = member.schedule(t) * (math.exp(-log_l) if member.loss_normalized else 1.0)
            for group in opt.param_groups:
                group["lr"] = lr
        if isinstance(opt, TransformOptimizer):
            opt.apply(tuple(grads), log_l)
        else:
            factor = math.exp(log_l)
            for p, g in zip(params, grads):
                p.grad = factor * g
            step_optimizer(opt)
    except Exception as exc:  # a user optimizer: report, keep going
        trajectory.status = RunStatus.ERROR
        trajectory.message = f"optimizer step {t} raised {type(exc).__name__}: {exc}"
        return True
    return False


def step_stack(stack: TransformStack, names: list[str], grads: np.ndarray, log_l: list[float], t: int,
               trajectories: dict[str, Trajectory]) -> bool:
    """Step t of the stacked members ``names`` (``TransformStack.step``); if it raises, every one of
    them is marked ``error``, as ``step_member`` marks one (True: one was)."""
    try:
        stack.step(names, grads, log_l)
    except Exception as exc:
        for nm in names:
            trajectories[nm].status = RunStatus.ERROR
            trajectories[nm].message = f"optimizer step {t} raised {type(exc).__name__}: {exc}"
        return True
    return False


def step_torch_stack(stack: TorchStack, names: list[str], grads: np.ndarray, log_l: list[float], t: int,
                     members: dict[str, Member], trajectories: dict[str, Trajectory]) -> bool:
    """Step t of the torch optimizers ``names`` stepped as one (``TorchStack``), with what
    ``step_member`` hands each: the gradient exp(log L)·∇ log L and ``lr = η_t`` (divided by L with
    ``loss_normalized``). A member whose lr or gradient factor cannot be computed (exp overflows) is
    marked ``error`` and not stepped, as ``step_member`` marks it; if the stacked step raises, every
    member in it is (True: a member was marked)."""
    keep, factors, lrs = [], [], []
    for i, (nm, v) in enumerate(zip(names, log_l)):
        try:
            lr = members[nm].schedule(t) * (math.exp(-v) if members[nm].loss_normalized else 1.0)
            factors.append(math.exp(v))
        except Exception as exc:
            trajectories[nm].status = RunStatus.ERROR
            trajectories[nm].message = f"optimizer step {t} raised {type(exc).__name__}: {exc}"
            continue
        keep.append(i)
        lrs.append(lr)
    failed = len(keep) < len(names)
    if failed:
        if not keep:
            return True
        names, grads = [names[i] for i in keep], grads[keep]
    try:
        stack.step(names, grads, factors, lrs)
    except Exception as exc:
        for nm in names:
            trajectories[nm].status = RunStatus.ERROR
            trajectories[nm].message = f"optimizer step {t} raised {type(exc).__name__}: {exc}"
        return True
    return failed


def torch_stacks(opts: dict, members: dict[str, Member], table: torch.Tensor, row_of: dict) -> list[TorchStack]:
    """The members with a schedule whose optimizers are torch's own SGD or Adam with the same
    hyperparameters (``TorchStack.key``; e.g. the runs of a step-size sweep), grouped: one
    ``TorchStack`` per group of two or more, and a lone Adam too, which the stack steps with the same
    numbers and fewer layers than torch's ``step`` (67 against 109 µs per step on a 10×25 parameter,
    best of five; a lone SGD is faster through torch's own, 41 against 48 µs, and stays there)."""
    groups: dict = {}
    for nm, opt in opts.items():
        if members[nm].schedule is not None:
            key = TorchStack.key(opt)
            if key is not None:
                groups.setdefault(key, []).append(nm)
    return [TorchStack({nm: opts[nm] for nm in names}, table, row_of)
            for key, names in groups.items() if len(names) > 1 or key[0] is torch.optim.Adam]


def train_linear(problem: Classification, members: dict[str, Member], steps: int,
                 loss: str = "cross_entropy", record: list[int] | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 init: np.ndarray | None = None, shape: tuple[int, ...] | None = None,
                 log_loss_floor: float | None = None,
                 on_record: Callable[[int, dict[str, Trajectory]], None] | None = None,
                 ) -> dict[str, Trajectory]:
    """Train every member from ``init`` (default 0) for ``steps`` steps; returns their trajectories.

    ``shape``: the shape of the parameter tensor the optimizers see (default the problem's; (1, d)
    hands a binary model's w to matrix optimizers as a one-row matrix); recorded parameters keep the
    problem's shape. ``log_loss_floor``: a member whose log-loss falls to the floor stops there, its
    parameters at that point being its last checkpoint. ``on_record(t, trajectories)`` is called
    after every checkpoint with the trajectories recorded so far; it may return names of members
    to stop there (e.g. the losing members of a step-size sweep).

    The members' parameters are the rows of one (members, *shape) float64 array: each optimizer
    gets a view of its row, so the stacked members' steps and any torch optimizer's in-place update
    land there, and the population's iterate W is that array (all members running) or one gather of
    its running rows — never a per-step stack of separate tensors. An optimizer that rebinds its
    parameter's storage (``p.data = ...``) is copied back into its row after each of its steps."""
    record = set(record or checkpoints(steps))
    amap = LinearMarginMap(problem)
    names = list(members)
    start = torch.zeros(problem.param_shape, dtype=torch.float64) if init is None else \
        torch.as_tensor(init, dtype=torch.float64)
    shape = tuple(shape or problem.param_shape)
    param_shape = tuple(problem.param_shape)
    start = start.reshape(shape)
    rows = np.empty((len(names), *shape))                  # the members' parameters, one row each
    rows[...] = start.numpy()
    table = torch.from_numpy(rows)
    params = {nm: table[j].requires_grad_(True) for j, nm in enumerate(names)}
    row_of = {nm: j for j, nm in enumerate(names)}
    storage = {nm: p.data_ptr() for nm, p in params.items()}
    opts: dict[str, torch.optim.Optimizer] = {}
    traj = {nm: Trajectory(nm) for nm in names}
    for nm in names:
        opt = build_optimizer(members[nm], [params[nm]], traj[nm])
        if opt is not None:
            opts[nm] = opt
    active = [nm for nm in names if nm in opts]
    stack = TransformStack.of({nm: opt for nm, opt in opts.items() if members[nm].schedule is None})
    libraries = torch_stacks(opts, members, table, row_of)
    in_library = {nm: lib for lib in libraries for nm in lib.index}
    t0 = time.perf_counter()
    if not active:
        return traj
    layout = None                                          # index arrays of the running members

    def arrange(active):
        idx = np.array([row_of[nm] for nm in active], dtype=np.intp)
        stacked = [i for i, nm in enumerate(active) if stack is not None and nm in stack]
        library = [(lib, [i for i, nm in enumerate(active) if in_library.get(nm) is lib]) for lib in libraries]
        return {"rows": idx, "all": len(active) == len(names) and bool(np.all(idx == np.arange(len(names)))),
                "stacked": stacked, "stacked_names": [active[i] for i in stacked],
                "stacked_all": len(stacked) == len(active),
                "library": [(lib, at, [active[i] for i in at]) for lib, at in library if at],
                "single": [(i, nm) for i, nm in enumerate(active)
                           if (stack is None or nm not in stack) and nm not in in_library]}

    with small_tensor_mode(), torch.no_grad():
        for t in range(1, steps + 2):          # pass steps+1 only evaluates the final parameters
            if layout is None:
                layout = arrange(active)
            W = rows if layout["all"] else rows[layout["rows"]]
            if not np.isfinite(W).all():
                finite = np.isfinite(W).reshape(len(active), -1).all(1).tolist()
                for nm, ok in zip(active, finite):
                    if not ok:
                        traj[nm].status = RunStatus.ERROR
                        traj[nm].message = f"parameters became NaN/Inf at step {t - 1}"
                active = [nm for nm, ok in zip(active, finite) if ok]
                if not active:
                    break
                layout = arrange(active)
                W = rows if layout["all"] else rows[layout["rows"]]
            W = W.reshape(len(active), *param_shape)
            log_l_array, grads = amap.log_loss_and_gradient(W, loss)
            log_l = log_l_array.tolist()
            floored = [] if log_loss_floor is None else [i for i, v in enumerate(log_l) if v <= log_loss_floor]
            if t - 1 in record or floored:
                for i, nm in enumerate(active):
                    if t - 1 in record or i in floored:
                        traj[nm].steps.append(t - 1)
                        traj[nm].params.append(W[i].copy())
                        traj[nm].log_loss.append(log_l[i])
                stop = on_record(t - 1, traj) if on_record is not None else None
            else:
                stop = None
            for i in floored:
                traj[active[i]].message = (f"stopped after step {t - 1}: the log-loss reached "
                                           f"the floor {log_loss_floor:g}")
            if stop and t <= steps:
                for i, nm in enumerate(active):
                    if nm in stop and i not in floored:
                        traj[nm].message = f"stopped after step {t - 1} by the caller"
                        floored.append(i)
            if floored:
                keep = [i for i in range(len(active)) if i not in floored]
                active, log_l, grads = [active[i] for i in keep], [log_l[i] for i in keep], grads[keep]
                if not active:
                    break
                layout = arrange(active)
            if t > steps:
                break
            grads = grads.reshape(len(active), *shape)
            failed = False                                 # a member marked error in this step
            if layout["stacked"]:
                if layout["stacked_all"]:
                    failed |= step_stack(stack, layout["stacked_names"], grads, log_l, t, traj)
                else:
                    stacked = layout["stacked"]
                    failed |= step_stack(stack, layout["stacked_names"], grads[stacked],
                                         [log_l[i] for i in stacked], t, traj)
            for lib, at, lib_names in layout["library"]:
                failed |= step_torch_stack(lib, lib_names, grads[at], [log_l[i] for i in at], t, members, traj)
            for i, nm in layout["single"]:
                p = params[nm]
                failed |= step_member(opts[nm], members[nm], [p], [torch.from_numpy(grads[i])], log_l[i], t,
                                      traj[nm])
                if p.data_ptr() != storage[nm]:                  # the optimizer rebound p's storage
                    rows[row_of[nm]] = p.detach().numpy().reshape(shape)
            if failed:
                active = [nm for nm in active if traj[nm].status is RunStatus.OK]
                layout = None
            if progress is not None:
                progress(t, steps)
    elapsed = time.perf_counter() - t0
    for tr in traj.values():
        tr.seconds = elapsed
    return traj
