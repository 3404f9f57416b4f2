"""Standard and adversarial training of the two-layer ReLU t-NN of :mod:`numerics.tnn` on a binary task
(Wang et al. 2023: adversarial training of over-parameterized t-NNs is implicitly biased toward
transformed low-rank weights).

Loss: the logistic loss of the margins y_i f(x_i + δ_i), computed in log space
(``numerics.losses.log_loss``); the optimizer is gradient descent from ``numerics.optim`` (the step
is applied to L·∇log L, so it is plain GD on L).

Attacks (δ_i per sample, budget ‖δ_i‖ ≤ ε in ℓ2 over all d·c entries or in ℓ∞): every decreasing
margin loss is increased by decreasing the margin y f(x + δ), so the attacks act on the margin (which
never underflows, unlike the loss gradient of a well-fitted sample):
- FGSM: one step δ = ε·(−y∇ₓf normalized) (ℓ2) or ε·sign(−y∇ₓf) (ℓ∞) (Goodfellow et al. 2015);
- PGD: ``steps`` steps of size α = 2.5ε/steps from δ = 0 along the same steepest directions, each
  followed by the projection on the ball (Madry et al. 2018).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from numerics.losses import log_loss
from numerics.optim import TransformOptimizer, gd
from numerics.tnn import Transform, rank_measures, tnn_outputs
from theory.errors import UserInputError

ATTACK_NORMS = ("l2", "linf")


class AttackError(UserInputError):
    """An attack specification outside what is implemented (norm, radius, steps)."""


@dataclass(frozen=True)
class Attack:
    """The attack family (the radius is per training member, see :func:`train_tnn`)."""

    norm: str = "l2"
    steps: int = 1               # 1 = FGSM, > 1 = PGD

    def __post_init__(self):
        if self.norm not in ATTACK_NORMS:
            raise AttackError(f"unknown attack norm {self.norm!r}; expected one of {ATTACK_NORMS}")
        if int(self.steps) != self.steps or self.steps < 1:
            raise AttackError(f"the number of attack steps must be a positive integer, got {self.steps}")

    def describe(self) -> str:
        kind = "FGSM" if self.steps == 1 else f"PGD-{self.steps}"
        return f"{kind}, {self.norm.replace('l2', 'ℓ2').replace('linf', 'ℓ∞')}"


def _steepest(g: torch.Tensor, norm: str) -> torch.Tensor:
    """The unit-norm (ℓ2) or sign (ℓ∞) ascent direction of g per sample (first axis)."""
    if norm == "linf":
        return torch.sign(g)
    flat = g.reshape(g.shape[0], -1).norm(dim=1).clamp_min(torch.finfo(g.dtype).tiny)
    return g / flat.reshape(-1, *([1] * (g.dim() - 1)))


def _project(delta: torch.Tensor, norm: str, radius: torch.Tensor) -> torch.Tensor:
    """Projection of each sample's δ (first axis) on its ball; ``radius`` broadcasts against δ."""
    if norm == "linf":
        return torch.maximum(torch.minimum(delta, radius), -radius)
    flat = delta.reshape(delta.shape[0], -1).norm(dim=1)
    factor = torch.clamp(radius.reshape(-1) / flat.clamp_min(torch.finfo(delta.dtype).tiny), max=1.0)
    return delta * factor.reshape(-1, *([1] * (delta.dim() - 1)))


def perturb(W1: torch.Tensor, W2: torch.Tensor, X: torch.Tensor, y: torch.Tensor, M: Transform,
            norm: str, radius: torch.Tensor, steps: int) -> torch.Tensor:
    """Adversarial inputs X + δ that decrease the margins y f(x + δ) within ‖δ_i‖ ≤ radius_p.
    Shapes: W1 (P, m, d, c), W2 (P, 1, m, c), X (P, n, d, c), y (P, n), radius (P,) (0: no attack)."""
    radius = torch.as_tensor(radius, dtype=X.dtype)
    if not bool((radius > 0).any()):
        return X
    W1, W2 = W1.detach(), W2.detach()
    r = radius.reshape(-1, 1, 1, 1)
    flat = X.reshape(-1, *X.shape[2:])                 # samples of all members on one axis
    r_flat = r.expand(X.shape[0], X.shape[1], 1, 1).reshape(-1, 1, 1)
    delta = torch.zeros_like(X)
    step = r_flat if steps == 1 else 2.5 * r_flat / steps
    for _ in range(steps):
        delta.requires_grad_(True)
        margin = (y * tnn_outputs(W1, W2, X + delta, M)).sum()
        (g,) = torch.autograd.grad(margin, delta)
        d_flat = delta.detach().reshape(flat.shape) - step * _steepest(g.reshape(flat.shape), norm)
        delta = _project(d_flat, norm, r_flat).reshape(X.shape)
    return X + delta


def margins(W1, W2, X, y, M: Transform) -> torch.Tensor:
    return y * tnn_outputs(W1, W2, X, M)


@dataclass
class TNNRun:
    W1: np.ndarray                                       # (P, m, d, c) final weights
    W2: np.ndarray
    history: list[dict] = field(default_factory=list)    # per recorded step: per-member lists
    seconds: float = 0.0


def train_tnn(W1_0: np.ndarray, W2_0: np.ndarray, X: np.ndarray, y: np.ndarray, M: Transform,
              steps: int, lr: float, attack: Attack, radii: np.ndarray, record: tuple[int, ...] = (),
              progress=None) -> TNNRun:
    """Full-batch GD on the logistic loss L_p of y f(x + δ) for P members in lockstep (member p
    attacked within ``radii[p]``; 0 = standard training), from (W1_0, W2_0) of shapes (P, m, d, c)
    and (P, 1, m, c), data X (P, n, d, c), y (P, n). Each member's step is exactly η∇L_p: the
    gradient of log L_p is rescaled by L_p (in log space, relative to the largest L). At the steps
    in ``record`` (and 0, and the end) the run records per member the robust and clean log losses,
    the smallest clean margin and the rank measures of the transformed slices of W₁."""
    W1 = torch.tensor(W1_0, dtype=torch.float64, requires_grad=True)
    W2 = torch.tensor(W2_0, dtype=torch.float64, requires_grad=True)
    X, y = torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64)
    radius = torch.as_tensor(radii, dtype=torch.float64)
    if radius.shape != (W1.shape[0],):
        raise ValueError(f"one radius per member expected, got shape {tuple(radius.shape)}")
    opt = TransformOptimizer([W1, W2], gd(lambda t: lr))
    run = TNNRun(W1_0, W2_0)
    marks = set(record) | {0, steps}
    start = time.perf_counter()

    def snapshot(t: int, log_l: torch.Tensor) -> None:
        measures = [rank_measures(w, M) for w in W1.detach()]
        with torch.no_grad():
            clean_m = margins(W1, W2, X, y, M)
            clean = log_loss(clean_m[..., None])
        run.history.append({"step": t, "log_loss": log_l.tolist(), "clean_log_loss": clean.tolist(),
                            "min_clean_margin": clean_m.min(-1).values.tolist(),
                            "max_stable_rank": [r.max_stable for r in measures],
                            "max_effective_rank": [r.max_effective for r in measures],
                            "stable_ranks": [r.stable.tolist() for r in measures],
                            "norm_W1": W1.detach().flatten(1).norm(dim=1).tolist()})

    for t in range(0, steps + 1):
        Xa = perturb(W1, W2, X, y, M, attack.norm, radius, attack.steps)
        log_l = log_loss(margins(W1, W2, Xa, y, M)[..., None])          # (P,)
        if t in marks:
            snapshot(t, log_l.detach())
        if t == steps:
            break
        if not bool(torch.isfinite(log_l).all()):
            raise FloatingPointError(f"non-finite loss at step {t}")
        top = float(log_l.detach().max())
        weight = torch.exp(log_l.detach() - top)                        # L_p / max L
        if not bool((weight > 0).all()):
            raise FloatingPointError(f"at step {t} the members' losses differ by more than float64 range "
                                     "(L_p/max L underflows); train them separately")
        grads = torch.autograd.grad((weight * log_l).sum(), (W1, W2))   # Σ_p (L_p/max L) ∇ log L_p
        opt.apply(grads, log_scale=top)                                  # = ∇L_p for member p
        if progress is not None and (t + 1) % 100 == 0:
            progress(t + 1, steps)
    run.W1, run.W2 = W1.detach().numpy().copy(), W2.detach().numpy().copy()
    run.seconds = time.perf_counter() - start
    return run
