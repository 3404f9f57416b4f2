"""Dropout training, vectorized over a population of independent runs (seeds, rates, chains).

Inverted dropout of rate p multiplies each unit by D = m/(1 − p), m ~ Bernoulli(1 − p), as
``torch.nn.Dropout`` does in training mode; masks are drawn from a seeded ``torch.Generator`` so every
run is reproducible. Two trainers:

- :func:`dropout_sgd_linear`: minibatch SGD on linear regression with dropout on the inputs
  (Wager et al. 2013), many chains at once; loss (1/(2B)) Σ_batch (y − (D⊙x)ᵀw)² (masks from a
  seeded numpy generator).
- :func:`train_dropout_mlps`: full-batch gradient descent (heavy-ball momentum) of a population of
  MLPs with dropout after every hidden activation, one member per (rate, seed); returns the
  tail-averaged weights of each member (Polyak averaging), in ``Architecture.build()`` order.

The MLP population steps with the project's optimizer family (``numerics.optim``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch

from numerics.mlp import ACTIVATIONS, Architecture
from numerics.optim import TransformOptimizer, chain, momentum, schedule


def inverted_dropout_mask(shape, keep: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """D = m/keep with m ~ Bernoulli(keep) (``keep`` = 1 − p, broadcast against ``shape``)."""
    keep = torch.broadcast_to(keep, shape)
    uniform = torch.rand(shape, generator=generator, dtype=torch.float32)  # 2-3× cheaper than bernoulli
    return (uniform < keep).to(keep.dtype) / keep


@dataclass
class LinearDropoutRun:
    final: np.ndarray        # (chains, d) last iterates
    average: np.ndarray      # (d,) average over chains and the second half of the run


def dropout_sgd_linear(X: np.ndarray, y: np.ndarray, rate: float, eta: float, steps: int,
                       chains: int = 64, batch: int = 10, seed: int = 0) -> LinearDropoutRun:
    """``chains`` independent minibatch-SGD runs from w = 0 with input dropout of rate ``rate``:
    w ← w − η ∇_w (1/(2B)) Σ_batch (y_i − (D_i⊙x_i)ᵀw)², a fresh mask D_i per sample and step.
    (numpy: for these tiny per-step arrays it is several times faster than torch.)"""
    rng = np.random.default_rng(seed)
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, d = X.shape
    keep = 1.0 - rate
    w = np.zeros((chains, d))
    total = np.zeros(d)
    start_avg = steps // 2
    for t in range(steps):
        idx = rng.integers(n, size=(chains, batch))
        xb = X[idx] * ((rng.random((chains, batch, d)) < keep) / keep)
        residual = y[idx] - np.einsum("cbd,cd->cb", xb, w)
        w += (eta / batch) * np.einsum("cbd,cb->cd", xb, residual)
        if t >= start_avg:
            total += w.mean(0)
    return LinearDropoutRun(w, total / (steps - start_avg))


class PopulationMLP:
    """M independent MLPs of one architecture evaluated in one batched pass (weights (M, out, in))."""

    def __init__(self, arch: Architecture, members: int, seed: int = 0):
        self.arch = arch
        self.members = members
        gen = torch.Generator().manual_seed(seed)
        self.weights, self.biases = [], []
        for a, b in zip(arch.widths[:-1], arch.widths[1:]):
            bound = 1.0 / np.sqrt(a)      # torch.nn.Linear's default initialization
            W = (torch.rand(members, b, a, generator=gen, dtype=torch.float64) * 2 - 1) * bound
            self.weights.append(W.requires_grad_(True))
            if arch.bias:
                B = (torch.rand(members, b, generator=gen, dtype=torch.float64) * 2 - 1) * bound
                self.biases.append(B.requires_grad_(True))
        self.activation = ACTIVATIONS[arch.activation]()

    def parameters(self) -> list[torch.Tensor]:
        if not self.arch.bias:
            return list(self.weights)
        return [p for pair in zip(self.weights, self.biases) for p in pair]

    def forward(self, X: torch.Tensor, keep: torch.Tensor | None = None,
                generator: torch.Generator | None = None) -> torch.Tensor:
        """(M, n, K) outputs; with ``keep`` (M,) hidden units are dropped (training mode)."""
        h = X.expand(self.members, *X.shape)
        last = len(self.weights) - 1
        for i, W in enumerate(self.weights):
            h = torch.bmm(h, W.transpose(1, 2))
            if self.arch.bias:
                h = h + self.biases[i][:, None, :]
            if i < last:
                h = self.activation(h)
                if keep is not None:
                    h = h * inverted_dropout_mask(h.shape, keep[:, None, None], generator)
        return h

    def member_parameters(self, params: Sequence[torch.Tensor], m: int) -> np.ndarray:
        """Flat θ of member m in ``Architecture.build()`` parameter order."""
        return np.concatenate([p[m].detach().numpy().ravel() for p in params])


def population_loss(outputs: torch.Tensor, y: torch.Tensor, loss: str) -> torch.Tensor:
    """Sum over members of each member's mean loss (``mse``: half squared error)."""
    if loss == "mse":
        return 0.5 * ((outputs - y) ** 2).sum() / y.shape[0]
    M, n, K = outputs.shape
    return torch.nn.functional.cross_entropy(outputs.reshape(M * n, K), y.repeat(M),
                                             reduction="sum") / n


def train_dropout_mlps(arch: Architecture, X: np.ndarray, y: np.ndarray, rates: Sequence[float],
                       steps: int, lr: float, loss: str = "mse", beta: float = 0.9,
                       average_from: float = 0.5, seed: int = 0,
                       progress: Callable[[int, int], None] | None = None) -> list[np.ndarray]:
    """Train one MLP per entry of ``rates`` (repeat a rate for several seeds) with full-batch
    momentum GD and dropout; return each member's flat θ averaged over the last
    (1 − ``average_from``) of the steps."""
    members = len(rates)
    net = PopulationMLP(arch, members, seed)
    params = net.parameters()
    opt = TransformOptimizer(params, chain(momentum(beta), schedule(lambda t: lr)), name="momentum-gd")
    gen = torch.Generator().manual_seed(seed + 1)
    Xt = torch.as_tensor(X, dtype=torch.float64)
    yt = torch.as_tensor(y).long() if loss == "cross_entropy" else \
        torch.as_tensor(y, dtype=torch.float64).reshape(len(y), -1)
    keep = torch.tensor([1.0 - r for r in rates], dtype=torch.float64)
    sums = [torch.zeros_like(p) for p in params]
    start = int(steps * average_from)
    for t in range(steps):
        value = population_loss(net.forward(Xt, keep, gen), yt, loss)
        grads = torch.autograd.grad(value, params)
        for p, g in zip(params, grads):
            p.grad = g
        opt.step()
        if t >= start:
            for s, p in zip(sums, params):
                s += p.detach()
        if progress is not None:
            progress(t + 1, steps)
    averaged = [s / (steps - start) for s in sums]
    return [net.member_parameters(averaged, m) for m in range(members)]
