"""Standard and adversarial training of the ReLU t-NNs of :mod:`numerics.tnn` on a binary task
(Wang et al. 2023: adversarial training by gradient flow of over-parameterized t-NNs is implicitly
biased toward transformed low-rank weights).

Loss: the logistic loss of the margins y_i f(x_i + δ_i), computed in log space with its closed-form
margin gradient (``numerics.losses.log_loss_and_margin_gradient``); the flow is discretized as
normalized gradient descent (see :func:`train_tnn`), the step applied by the GD transformation of
``numerics.optim``. The network runs as the ReLU MLP of its unfolded layers
(:func:`numerics.tnn.unfolded`) with its backward pass written out (tested against autograd); on
these sizes autograd's bookkeeping cost more than the products (2026-12-07: 69 → 32 s user CPU per
seed of the wang2023 claims).

Attacks (δ_i per sample, budget ‖δ_i‖ ≤ ε in a norm of the registry ``theory.norms`` on the d·c
entries of δ_i as one vector: ``lp:2`` or ``lp:inf``, parsed by ``parse_norm``, so ``l2``, ``linf``,
``fro``, ``max`` name them too): every decreasing margin loss is increased by decreasing the margin
y f(x + δ), so the attacks act on the margin (which never underflows, unlike the loss gradient of a
well-fitted sample):
- FGSM: one step δ = −ε·Δ(y∇ₓf), Δ the norm's steepest-ascent direction (its linear maximization
  oracle argmax_{‖Δ‖≤1} ⟨g, Δ⟩, ``Norm.steepest_direction``: g/‖g‖₂ for ℓ2, sign(g) for ℓ∞)
  (Goodfellow et al. 2015);
- PGD: ``steps`` steps of size α = 2.5ε/steps from δ = 0 along the same steepest directions, each
  followed by the projection on the ball (Madry et al. 2018).
The oracle and the projection run in torch on the whole batch of samples (:data:`ATTACK_ORACLES`,
keyed by the registry's canonical name); tests/numerics/test_tnn.py checks them against the
registry's ``steepest_directions`` and ball.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch

from numerics.losses import log_loss_and_margin_gradient
from numerics.optim import TransformOptimizer, gd
from numerics.tnn import Transform, folded_gradient, rank_measures, tnn_outputs, unfolded
from theory.errors import UserInputError
from theory.norms import Norm, NormError, parse_norm


class AttackError(UserInputError):
    """An attack specification outside what is implemented (norm, radius, steps)."""


def _l2_direction(g: torch.Tensor) -> torch.Tensor:
    """ℓ2's steepest-ascent direction g/‖g‖₂ per sample (first axis; 0 stays 0)."""
    flat = g.reshape(g.shape[0], -1).norm(dim=1).clamp_min(torch.finfo(g.dtype).tiny)
    return g / flat.reshape(-1, *([1] * (g.dim() - 1)))


def _l2_project(delta: torch.Tensor, radius: torch.Tensor) -> torch.Tensor:
    """Projection of each sample's δ (first axis) on its ℓ2 ball: δ·min(1, r/‖δ‖₂)."""
    flat = delta.reshape(delta.shape[0], -1).norm(dim=1)
    factor = torch.clamp(radius.reshape(-1) / flat.clamp_min(torch.finfo(delta.dtype).tiny), max=1.0)
    return delta * factor.reshape(-1, *([1] * (delta.dim() - 1)))


def _linf_project(delta: torch.Tensor, radius: torch.Tensor) -> torch.Tensor:
    """Projection of each sample's δ on its ℓ∞ ball: every entry clipped to [−r, r]."""
    return torch.maximum(torch.minimum(delta, radius), -radius)


#: The attack's back end per norm of the registry, by canonical name: (the norm's steepest-ascent
#: direction per sample, the torch form of ``Norm.steepest_directions``; the projection on its ball,
#: radius broadcast against δ). A norm without a closed-form projection has no entry.
ATTACK_ORACLES = {"lp:2": (_l2_direction, _l2_project), "lp:inf": (torch.sign, _linf_project)}
ATTACK_NORMS = tuple(ATTACK_ORACLES)
_SYMBOLS = {"lp:2": "ℓ2", "lp:inf": "ℓ∞"}


def attack_norm(norm: "str | Norm") -> Norm:
    """The registry's norm of an attack budget (a NORM string, parsed as a norm of δ_i's entries as one
    vector, or a :class:`theory.norms.Norm`), refused (:class:`AttackError`, one line) unless the
    attack implements it (:data:`ATTACK_ORACLES`)."""
    if not isinstance(norm, Norm):
        try:
            norm = parse_norm(str(norm), "binary")
        except NormError as exc:
            raise AttackError(f"attack norm: {exc}") from None
    if norm.name not in ATTACK_ORACLES:
        raise AttackError(f"the attack has no projection on the {norm.name} ball; attack norms: "
                          f"{', '.join(ATTACK_NORMS)} (l2, linf)")
    return norm


@dataclass(frozen=True)
class Attack:
    """The attack family (the radius is per training member, see :func:`train_tnn`). ``norm`` is a
    NORM string of the registry (``l2``, ``linf``, ``lp:2``, ``lp:inf``, …); ``geometry`` is its
    :class:`theory.norms.Norm`."""

    norm: str = "l2"
    steps: int = 1               # 1 = FGSM, > 1 = PGD

    def __post_init__(self):
        object.__setattr__(self, "geometry", attack_norm(self.norm))
        if int(self.steps) != self.steps or self.steps < 1:
            raise AttackError(f"the number of attack steps must be a positive integer, got {self.steps}")

    def describe(self) -> str:
        kind = "FGSM" if self.steps == 1 else f"PGD-{self.steps}"
        return f"{kind}, {_SYMBOLS[self.geometry.name]}"


def perturb(layers: Sequence[torch.Tensor], w: torch.Tensor, X: torch.Tensor, y: torch.Tensor, M: Transform,
            norm: "str | Norm", radius: torch.Tensor, steps: int) -> torch.Tensor:
    """Adversarial inputs X + δ that decrease the margins y f(x + δ) within ‖δ_i‖ ≤ radius_p, the norm
    of the registry (:func:`attack_norm`).
    Shapes: layers (P, D_l, D_{l−1}, c), w (P, D, c), X (P, n, d, c), y (P, n), radius (P,) (0: no
    attack). The weights enter detached: training differentiates the loss at the fixed δ (the
    adversarial gradient flow of Wang et al. 2023). For a positively homogeneous f the attack is
    scale invariant, δ(aθ) = δ(θ) for a > 0 (∇ₓf scales by a^{J+1}, its direction does not)."""
    return _perturb([unfolded(W.detach(), M) for W in layers], w.detach().flatten(-2), X, y, attack_norm(norm),
                    radius, steps)


# The t-NN as the ReLU MLP of its unfolded layers (numerics.tnn.unfolded), with its backward pass
# written out: the trainer needs ∇ₓ of the margins (the attack) and ∇_θ log L, nothing else, and
# autograd's bookkeeping cost more than the products at these sizes (tests/numerics/test_tnn.py
# compares both gradients with autograd).
def _forward(matrices: Sequence[torch.Tensor], w_flat: torch.Tensor, X: torch.Tensor):
    """f (…, n) and the activations [h_0, …, h_J] (h_0 = X flattened to (…, n, d·c))."""
    hs = [X.flatten(-2)]
    for A in matrices:
        hs.append(torch.relu(hs[-1] @ A.transpose(-1, -2)))
    return (hs[-1] @ w_flat.unsqueeze(-1)).squeeze(-1), hs


def _backward(matrices, w_flat, hs, coef, M: Transform | None):
    """Σ_i coef_i ∇f(x_i): with M, the gradients (∂W_1, …, ∂W_J, ∂w_flat); without, the per-sample
    input gradients coef_i ∇ₓf(x_i) (…, n, d·c). ReLU'(z) is taken as 1[h > 0], as autograd does."""
    G = coef.unsqueeze(-1) * w_flat.unsqueeze(-2)                              # ∂/∂h_J per sample
    grads = []
    for l in range(len(matrices) - 1, -1, -1):
        G = G * (hs[l + 1] > 0)
        if M is not None:
            grads.append(folded_gradient(G.transpose(-1, -2) @ hs[l], M, hs[l].shape[-1] // M.channels))
            if l == 0:
                break
        G = G @ matrices[l]
    if M is None:
        return G
    return (*grads[::-1], (coef.unsqueeze(-2) @ hs[-1]).squeeze(-2))


def _perturb(matrices: Sequence[torch.Tensor], w_flat: torch.Tensor, X: torch.Tensor, y: torch.Tensor, norm: Norm,
             radius: torch.Tensor, steps: int) -> torch.Tensor:
    """:func:`perturb` from the unfolded layers (:func:`numerics.tnn.unfolded`), w flattened and the
    registry's norm (one of :data:`ATTACK_ORACLES`)."""
    radius = torch.as_tensor(radius, dtype=X.dtype)
    if not bool((radius > 0).any()):
        return X
    steepest, project = ATTACK_ORACLES[norm.name]
    flat = X.reshape(-1, *X.shape[2:])                 # samples of all members on one axis
    r_flat = radius.reshape(-1, 1, 1, 1).expand(X.shape[0], X.shape[1], 1, 1).reshape(-1, 1, 1)
    delta = torch.zeros_like(X)
    step = r_flat if steps == 1 else 2.5 * r_flat / steps
    for _ in range(steps):
        _, hs = _forward(matrices, w_flat, X + delta)
        g = _backward(matrices, w_flat, hs, y, None)                            # ∇ₓ of y f per sample
        d_flat = delta.reshape(flat.shape) - step * steepest(g.reshape(flat.shape))
        delta = project(d_flat, r_flat).reshape(X.shape)
    return X + delta


def margins(layers, w, X, y, M: Transform) -> torch.Tensor:
    return y * tnn_outputs(layers, w, X, M)


def _member_norms(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    """‖(t_1, …, t_k)_p‖ over all entries of member p (first axis)."""
    return torch.sqrt(sum((t.detach() ** 2).flatten(1).sum(1) for t in tensors))


@dataclass
class TNNRun:
    layers: list[np.ndarray]                             # final t-product layers, each (P, D_l, D_{l−1}, c)
    w: np.ndarray                                        # final fully connected layer (P, D, c)
    history: list[dict] = field(default_factory=list)    # per recorded step: per-member lists
    seconds: float = 0.0


def train_tnn(layers0: Sequence[np.ndarray], w0: np.ndarray, X: np.ndarray, y: np.ndarray, M: Transform,
              steps: int, rel_step: float, attack: Attack, radii: np.ndarray, record: tuple[int, ...] = (),
              progress=None) -> TNNRun:
    """Gradient flow on the logistic loss L_p of y f(x + δ) (δ from ``attack`` within ``radii[p]``;
    0 = standard training) for P members in lockstep, discretized as *normalized* GD: member p moves
    by rel_step·‖θ_p‖ along −∇L_p/‖∇L_p‖ (computed as ∇log L_p, which never underflows). Any positive
    rescaling of time leaves the flow's path unchanged, so this traces the gradient-flow path of each
    member (to O(rel_step)) while reaching the small losses at which directional convergence shows
    (plain GD on L slows down like 1/L there). θ_p = (W_1, …, W_J, w) of member p: ``layers0`` are
    arrays (P, D_l, D_{l−1}, c), w0 (P, D, c), X (P, n, d, c), y (P, n). At the steps in ``record``
    (and 0, and the end) the run records per member the robust and clean log losses, the smallest
    clean margin, the normalized robust margin min_i y_i f(x_i + δ_i)/‖θ‖^{J+1} and the rank
    measures of every t-product layer (:func:`numerics.tnn.rank_measures`)."""
    layers = [torch.tensor(a, dtype=torch.float64) for a in layers0]
    w = torch.tensor(w0, dtype=torch.float64)
    params = [*layers, w]
    X, y = torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64)
    radius = torch.as_tensor(radii, dtype=torch.float64)
    if radius.shape != (w.shape[0],):
        raise ValueError(f"one radius per member expected, got shape {tuple(radius.shape)}")
    if not rel_step > 0:
        raise ValueError(f"the relative step must be positive, got {rel_step}")
    opt = TransformOptimizer(params, gd(lambda t: rel_step))
    degree = len(layers) + 1
    run = TNNRun([np.asarray(a) for a in layers0], np.asarray(w0))
    marks = set(record) | {0, steps}
    start = time.perf_counter()

    def snapshot(t: int, log_l: torch.Tensor, robust: torch.Tensor) -> None:
        measures = [[rank_measures(W[p], M) for W in layers] for p in range(w.shape[0])]
        clean_m = margins(layers, w, X, y, M)
        clean = log_loss_and_margin_gradient(clean_m[..., None])[0]
        theta = _member_norms(params)
        run.history.append({
            "step": t, "log_loss": log_l.tolist(), "clean_log_loss": clean.tolist(),
            "min_clean_margin": clean_m.min(-1).values.tolist(),
            "normalized_margin": (robust.min(-1).values / theta**degree).tolist(),
            "spectral_frobenius": [[r.spectral_frobenius for r in ms] for ms in measures],
            "mean_spectral_frobenius": [float(np.mean([r.spectral_frobenius for r in ms])) for ms in measures],
            "max_stable_rank": [[r.max_stable for r in ms] for ms in measures],
            "max_effective_rank": [[r.max_effective for r in ms] for ms in measures],
            "norm": theta.tolist()})

    for t in range(0, steps + 1):
        matrices, w_flat = [unfolded(W, M) for W in layers], w.flatten(-2)    # once per step
        Xa = _perturb(matrices, w_flat, X, y, attack.geometry, radius, attack.steps)
        f, hs = _forward(matrices, w_flat, Xa)
        robust = y * f
        log_l, d_margin = log_loss_and_margin_gradient(robust[..., None])        # (P,), (P, n, 1)
        if t in marks:
            snapshot(t, log_l, robust)
        if t == steps:
            break
        if not bool(torch.isfinite(log_l).all()):
            raise FloatingPointError(f"non-finite loss at step {t}")
        grads = _backward(matrices, w_flat, hs, d_margin[..., 0] * y, M)          # ∇ log L_p per member
        grads = (*grads[:-1], grads[-1].reshape(w.shape))
        factor = _member_norms(params) / _member_norms(grads).clamp_min(torch.finfo(torch.float64).tiny)
        opt.apply(tuple(g * factor.reshape(-1, *([1] * (g.dim() - 1))) for g in grads))
        if progress is not None and (t + 1) % 100 == 0:
            progress(t + 1, steps)
    run.layers, run.w = [W.detach().numpy().copy() for W in layers], w.detach().numpy().copy()
    run.seconds = time.perf_counter() - start
    return run
