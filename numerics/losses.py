"""Margin losses computed in log space, so their gradient *direction* survives any weight scale.

For margins m_{ic} (binary: one margin per sample; multiclass: c ≠ y_i), the per-sample losses are

    cross-entropy / logistic:  ℓ_i = log(1 + Σ_c exp(−m_{ic}))
    exponential:               ℓ_i = Σ_c exp(−m_{ic})

and L = (1/n) Σ_i ℓ_i. Once the data are separated by a wide margin, ℓ_i underflows in float64
(exp(−m) = 0 for m > 745) and ∇L becomes exactly zero, which silently freezes sign-based methods
(THEORY.md §1.4). The direction of ∇L equals that of ∇ log L = ∇L / L; both log L and ∂ log L/∂m are
computed here with one log-sum-exp shift, the smallest margin μ = min m:

    E_{ic} = exp(μ − m_{ic}) ∈ [0, 1],   S_i = Σ_c E_{ic},   z_i = log S_i − μ = log Σ_c e^{−m_{ic}}
    ℓ_i = softplus(z_i)  (cross-entropy)  or  e^{z_i}  (exponential)
    r_i = ℓ_i e^{μ}  with  log r_i = log softplus(z_i) + μ   (or log S_i)
    log L = logsumexp_i(log r_i) − μ − log n
    ∂ log L/∂m_{ic} = −E_{ic} · exp(−softplus(z_i) − logsumexp_j log r_j)   (no softplus term for exp)

Every exponential has a non-positive argument, so nothing overflows at any scale, misclassified
samples included; entries more than ~745 above μ underflow to 0, which is their true relative weight
to float64 precision. Margins may be +inf (a masked entry contributes nothing). Callers that need ∇L
itself multiply by exp(log L) — which may then underflow, honestly.

Margins are arrays of shape (..., n, C) by default; ``class_dim=-2`` accepts (..., C, n).
"""
from __future__ import annotations

import math

import torch

LOSSES = ("cross_entropy", "exponential")


def _log_softplus(z: torch.Tensor) -> torch.Tensor:
    """log(log(1 + e^z)) without underflow: for z ≪ 0, log(1 + e^z) = e^z (1 − e^z/2 + ...)."""
    small = z < -20.0
    safe = torch.where(small, torch.zeros_like(z), z)
    return torch.where(small, z - 0.5 * torch.exp(torch.clamp(z, max=-20.0)),
                       torch.log(torch.nn.functional.softplus(safe)))


def _terms(margins: torch.Tensor, loss: str, class_dim: int):
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; expected one of {LOSSES}")
    if class_dim not in (-1, -2):
        raise ValueError("class_dim must be -1 or -2")
    sample_dim = -1 if class_dim == -2 else -2
    mu = margins.detach().amin(dim=(-2, -1), keepdim=True)      # a shift: the value does not depend on it
    E = torch.exp(mu - margins)
    S = E.sum(dim=class_dim, keepdim=True)
    log_s = torch.log(S.clamp_min(torch.finfo(S.dtype).tiny))  # rows that underflowed entirely
    if loss == "exponential":
        log_r, log_weight = log_s, None
    else:
        z = log_s - mu
        log_r = _log_softplus(z) + mu
        log_weight = -torch.nn.functional.softplus(z)
    total = torch.logsumexp(log_r, dim=sample_dim, keepdim=True)   # log Σ_i ℓ_i e^{μ}
    n = margins.shape[sample_dim]
    log_l = (total - mu).squeeze(-1).squeeze(-1) - math.log(n)
    return E, log_weight, total, log_l


def log_loss(margins: torch.Tensor, loss: str = "cross_entropy", class_dim: int = -1) -> torch.Tensor:
    """log L = log((1/n) Σ_i ℓ_i), one value per leading index; differentiable at any scale."""
    return _terms(margins, loss, class_dim)[3]


def log_loss_and_margin_gradient(margins: torch.Tensor, loss: str = "cross_entropy",
                                 class_dim: int = -1):
    """(log L, ∂ log L/∂m) in closed form (no autograd); see the module docstring."""
    with torch.no_grad():
        E, log_weight, total, log_l = _terms(margins, loss, class_dim)
        scale = -total if log_weight is None else log_weight - total
        return log_l, -E * torch.exp(scale)
