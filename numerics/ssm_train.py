"""Training diagonal SSMs in torch (float64): the model as a network, trained by the project's
optimizers (Slutzky, Alexander, Razin, Cohen 2025, beyond the gradient-flow analysis).

The SSM s_t = diag(a) s_{t−1} + B x_t, y = C s_k is evaluated in its convolution mode (S4D):
y = Σ_t h_{k−t+1} x_t with the Vandermonde kernel h_j = Σ_i C_i B_i a_i^{j−1};
:func:`recurrent_outputs` runs the recurrence itself (the reference the tests compare against).
Gradients come from torch autograd on this network, independently of the symbolic polynomial of
``theory.ssm``.

:func:`train_gd` is gradient descent a ← a − η_t ∇L(a) (``numerics.optim.gd``) with the largest
locally stable step scaled by c: η_t = c / λ_max(∇²L(a_t)), λ_max from the derived Hessian of
``numerics.ssm``. From a small initialization the loss is flat (∇L ~ a^{k−2}) and a constant step
would need ~10¹² iterations; the curvature-scaled step is the forward-Euler discretization of the
gradient flow with a local step ∝ c, so c → 0 recovers the flow.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from numerics.optim import TransformOptimizer, gd
from numerics.run_status import RunStatus, status_field
from numerics.ssm import CompiledFlow


def kernel(a: torch.Tensor, B: torch.Tensor, C: torch.Tensor, length: int) -> torch.Tensor:
    """h_1..h_length, batched over leading dimensions of a (…, d)."""
    powers = torch.arange(length, dtype=a.dtype)
    return ((B * C)[..., None] * a[..., None] ** powers).sum(-2)


def outputs(a: torch.Tensor, B: torch.Tensor, C: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """y = C s_k for each row of X (…, n, k): y = Σ_t h_{k−t+1} x_t."""
    h = kernel(a, B, C, X.shape[-1])
    return (X * h.flip(-1)[..., None, :]).sum(-1)


def recurrent_outputs(a: torch.Tensor, B: torch.Tensor, C: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """The recurrence s_t = a ⊙ s_{t−1} + B x_t from s_0 = 0, y = ⟨C, s_k⟩ (reference)."""
    s = torch.zeros(X.shape[:-1] + a.shape[-1:], dtype=a.dtype)
    for t in range(X.shape[-1]):
        s = a[..., None, :] * s + B[..., None, :] * X[..., t:t + 1]
    return (s * C[..., None, :]).sum(-1)


@dataclass
class GDRun:
    a: np.ndarray
    loss: float
    steps: int
    status: RunStatus = status_field()   # OK (loss ≤ target) | NOT_CONVERGED | ERROR
    message: str = ""
    seconds: float = 0.0
    losses: list[tuple[int, float]] = field(default_factory=list)   # (step, loss) checkpoints


def stack_datasets(flows: list[CompiledFlow]):
    """(X, y, w): examples and teacher labels of every member padded to a common count, shape
    (M, n_max, k) and (M, n_max), with weights w = 1/n_m on real rows and 0 on padding."""
    sets = [(np.array(f.problem.examples, dtype=float),
             np.array([float(v) for v in f.problem.derivation().results["labels"]])) for f in flows]
    k = {X.shape[1] for X, _ in sets}
    if len(k) != 1:
        raise ValueError(f"members must share the sequence length, got {sorted(k)}")
    n_max = max(X.shape[0] for X, _ in sets)
    X = np.zeros((len(sets), n_max, k.pop()))
    y, w = np.zeros((len(sets), n_max)), np.zeros((len(sets), n_max))
    for m, (Xm, ym) in enumerate(sets):
        X[m, :len(ym)], y[m, :len(ym)], w[m, :len(ym)] = Xm, ym, 1.0 / len(ym)
    return torch.tensor(X), torch.tensor(y), torch.tensor(w)


def train_gd(flows: list[CompiledFlow], a0s: list[np.ndarray], c: float, max_steps: int,
             target_loss: float = 1e-28, record_every: int = 100,
             progress: Callable[[int, int], None] | None = None) -> list[GDRun]:
    """GD with η_t = c/λ_max(∇²L(a_t)) on each member's SSM problem (B = C = 1), all members in
    lockstep: one batched autograd pass per step, one ``TransformOptimizer(gd)`` per member. A
    member stops once its loss is ≤ ``target_loss``. Examples may differ between members but must
    share their length."""
    if not 0 < c < 2:
        raise ValueError(f"the step factor c must lie in (0, 2) for a locally stable step, got {c}")
    X, y, w = stack_datasets(flows)
    params = [torch.tensor(np.asarray(a0, dtype=float), requires_grad=True) for a0 in a0s]
    eta = [0.0] * len(params)
    opts = [TransformOptimizer([p], gd(lambda t, m=m: eta[m])) for m, p in enumerate(params)]
    ones = torch.ones(params[0].shape[0], dtype=torch.float64)
    runs = [GDRun(np.asarray(a0, dtype=float), np.inf, 0, RunStatus.NOT_CONVERGED) for a0 in a0s]
    active = list(range(len(params)))
    start = time.perf_counter()
    for step in range(1, max_steps + 1):
        A = torch.stack(params)
        losses = (w * (outputs(A, ones, ones, X) - y) ** 2).sum(-1)
        grads = torch.autograd.grad(losses.sum(), params)
        values = losses.detach().numpy()
        still = []
        for m in active:
            a = params[m].detach().numpy()
            if not np.isfinite(values[m]) or not np.all(np.isfinite(a)):
                runs[m].status, runs[m].message = RunStatus.ERROR, f"NaN/Inf at step {step}"
                continue
            if step % record_every == 1:
                runs[m].losses.append((step - 1, float(values[m])))
            runs[m].steps, runs[m].loss = step - 1, float(values[m])
            if values[m] <= target_loss:
                runs[m].status, runs[m].message = RunStatus.OK, f"loss ≤ {target_loss:g} after {step - 1} steps"
                continue
            eta[m] = c / float(np.max(np.abs(np.linalg.eigvalsh(flows[m].hessian(a)))))
            opts[m].apply((grads[m],))
            still.append(m)
        active = still
        if progress is not None and step % 1000 == 0:
            progress(step, max_steps)
        if not active:
            break
    for m, p in enumerate(params):
        runs[m].a = p.detach().numpy().copy()
        runs[m].seconds = time.perf_counter() - start
        if runs[m].status is RunStatus.NOT_CONVERGED:
            runs[m].steps, runs[m].loss = max_steps, flows[m].loss(runs[m].a)
            runs[m].message = f"loss {runs[m].loss:.3g} > {target_loss:g} after {max_steps} steps"
    return runs


# -- beyond the theory: all of (a, B, C) trained, optionally inside a ReLU MLP, with Adam ----------
def mlp_outputs(params: list[torch.Tensor], X: torch.Tensor) -> torch.Tensor:
    """f(x) = Σ_j v_j ReLU(w_j z + b_j) with z = SSM(x): an SSM inside a one-hidden-layer ReLU MLP.
    ``params`` = [a, B, C, w, b, v], each with a leading member dimension."""
    a, B, C, w, b, v = params
    z = outputs(a, B, C, X)
    return (torch.relu(z[..., None] * w[:, None, :] + b[:, None, :]) * v[:, None, :]).sum(-1)


def ssm_outputs(params: list[torch.Tensor], X: torch.Tensor) -> torch.Tensor:
    """The standalone SSM with ``params`` = [a, B, C] (all trained)."""
    return outputs(*params, X)


@dataclass
class PopulationRun:
    params: list[np.ndarray]     # final parameters, leading member dimension
    losses: np.ndarray           # final training loss per member
    steps: int
    history: list[tuple[int, list[float]]] = field(default_factory=list)
    seconds: float = 0.0


def train_population(forward: Callable, params0: list[np.ndarray], X: np.ndarray, y: np.ndarray,
                     w: np.ndarray, transform, steps: int, record_every: int = 250,
                     progress: Callable[[int, int], None] | None = None) -> PopulationRun:
    """Full-batch training of M independent members held in batched tensors (leading dimension M):
    loss_m = Σ_i w_mi (f_m(x_mi) − y_mi)². The members' losses are summed, so each member receives
    exactly its own gradient; ``transform`` (e.g. ``numerics.optim.adam``) acts per coordinate, so
    one ``TransformOptimizer`` over the batched tensors is M independent optimizers in lockstep."""
    params = [torch.tensor(np.asarray(p, dtype=float), requires_grad=True) for p in params0]
    X, y, w = (torch.as_tensor(np.asarray(v, dtype=float)) for v in (X, y, w))
    opt = TransformOptimizer(params, transform)
    run = PopulationRun([], np.array([]), 0)
    start = time.perf_counter()
    for step in range(1, steps + 1):
        losses = (w * (forward(params, X) - y) ** 2).sum(-1)
        grads = torch.autograd.grad(losses.sum(), params)
        if not torch.isfinite(losses).all():
            break
        opt.apply(grads)
        run.steps = step
        if step % record_every == 0 or step == 1:
            run.history.append((step, losses.detach().tolist()))
        if progress is not None and step % 500 == 0:
            progress(step, steps)
    with torch.no_grad():
        run.losses = (w * (forward(params, X) - y) ** 2).sum(-1).numpy()
    run.params = [p.detach().numpy().copy() for p in params]
    run.seconds = time.perf_counter() - start
    return run


def stack_sequences(datasets: list[list[np.ndarray]], labels: list[np.ndarray]):
    """(X, y, w) for a population: member m's sequences (any lengths ≤ the longest) are padded with
    zeros at the *front* — s_0 = 0 makes leading zeros leave every output unchanged — and weighted
    1/n_m (padding rows weight 0)."""
    length = max(len(x) for seqs in datasets for x in seqs)
    n_max = max(len(seqs) for seqs in datasets)
    X = np.zeros((len(datasets), n_max, length))
    y, w = np.zeros((len(datasets), n_max)), np.zeros((len(datasets), n_max))
    for m, (seqs, lab) in enumerate(zip(datasets, labels)):
        for i, x in enumerate(seqs):
            X[m, i, length - len(x):] = x
        y[m, :len(seqs)], w[m, :len(seqs)] = lab, 1.0 / len(seqs)
    return X, y, w
