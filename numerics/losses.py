"""Margin losses computed in log space, so their gradient *direction* survives any weight scale.

For margins m_{ic} (binary: C = 1; multiclass: c ≠ y_i), the per-sample losses are

    cross-entropy / logistic:  ℓ_i = log(1 + Σ_c exp(−m_{ic}))
    exponential:               ℓ_i = Σ_c exp(−m_{ic})

and L = (1/n) Σ_i ℓ_i. Once the data are separated by a wide margin, ℓ_i underflows in float64
(exp(−m) = 0 for m > 745) and ∇L becomes exactly zero, which silently freezes sign-based methods
(THEORY.md §1.4). The direction of ∇L equals that of ∇ log L = ∇L / L, and both log L and
∂ log L/∂m are computed here without forming ℓ_i:

    s_i = logsumexp_c(−m_{ic}),   log ℓ_i = log softplus(s_i)   (or s_i for the exponential loss),
    ∂ log L / ∂ m_{ic} = −exp(−m_{ic} − softplus(s_i) − logsumexp_j log ℓ_j)   (cross-entropy)
                       = −exp(−m_{ic} − logsumexp_j log ℓ_j)                   (exponential)

(the ``softplus`` term is absent for the exponential loss). Every exponent is ≤ 0 up to rounding,
so nothing overflows, and the result is exact in the regime where plain autograd returns zeros.
Callers that need ∇L itself multiply by exp(log L) — which may then underflow, honestly.
"""
from __future__ import annotations

import math

import torch

LOSSES = ("cross_entropy", "exponential")


def _log_softplus(s: torch.Tensor) -> torch.Tensor:
    """log(log(1 + e^s)) without underflow: for s ≪ 0, log(1+e^s) = e^s(1 − e^s/2 + ...)."""
    small = s < -20.0
    safe = torch.where(small, torch.zeros_like(s), s)
    return torch.where(small, s - 0.5 * torch.exp(torch.clamp(s, max=-20.0)),
                       torch.log(torch.nn.functional.softplus(safe)))


def log_sample_losses(margins: torch.Tensor, loss: str = "cross_entropy") -> torch.Tensor:
    """log ℓ_i for margins of shape (..., n, C); differentiable (autograd-safe at any scale)."""
    s = torch.logsumexp(-margins, dim=-1)
    if loss == "exponential":
        return s
    if loss == "cross_entropy":
        return _log_softplus(s)
    raise ValueError(f"unknown loss {loss!r}; expected one of {LOSSES}")


def log_loss(margins: torch.Tensor, loss: str = "cross_entropy") -> torch.Tensor:
    """log L = log((1/n) Σ_i ℓ_i) for margins of shape (..., n, C)."""
    n = margins.shape[-2]
    return torch.logsumexp(log_sample_losses(margins, loss), dim=-1) - math.log(n)


def log_loss_and_margin_gradient(margins: torch.Tensor, loss: str = "cross_entropy"):
    """(log L, ∂ log L/∂ m) in closed form for margins of shape (..., n, C); see the module docstring."""
    s = torch.logsumexp(-margins, dim=-1)
    log_l = _log_softplus(s) if loss == "cross_entropy" else s
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; expected one of {LOSSES}")
    total = torch.logsumexp(log_l, dim=-1)                       # log Σ_j ℓ_j
    exponent = -margins - total[..., None, None]
    if loss == "cross_entropy":
        exponent = exponent - torch.nn.functional.softplus(s)[..., None]
    grad = -torch.exp(exponent)
    return total - math.log(margins.shape[-2]), grad
