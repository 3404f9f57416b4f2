"""Margin losses computed in log space, so their gradient *direction* survives any weight scale.

For margins m_{ic} (binary: one margin per sample; multiclass: c ≠ y_i), the per-sample losses are

    cross-entropy / logistic:  ℓ_i = log(1 + Σ_c exp(−m_{ic}))
    exponential:               ℓ_i = Σ_c exp(−m_{ic})

and L = (1/n) Σ_i ℓ_i. Once the data are separated by a wide margin, ℓ_i underflows in float64
(exp(−m) = 0 for m > 745) and ∇L becomes exactly zero, which silently freezes sign-based methods
(THEORY.md §1.4). The direction of ∇L equals that of ∇ log L = ∇L / L; both log L and ∂ log L/∂m are
computed here with a log-sum-exp shift by each sample's smallest margin μ_i = min_c m_{ic}:

    E_{ic} = exp(μ_i − m_{ic}) ∈ [0, 1],   z_i = log Σ_c E_{ic} − μ_i = log Σ_c e^{−m_{ic}}  (exact)
    log ℓ_i = log softplus(z_i)  (cross-entropy)  or  z_i  (exponential)
    log L = logsumexp_i(log ℓ_i) − log n
    ∂ log L/∂m_{ic} = −E_{ic} · exp(−μ_i − softplus(z_i) − logsumexp_j log ℓ_j)
                      (−E_{ic} · exp(−μ_i − logsumexp_j log ℓ_j) for the exponential loss)

The factor multiplying E_{ic} is at most 1 (it is e^{−μ_i}/((1 + e^{z_i}) Σ_j ℓ_j) ≤ x/((1+x) log(1+x))
with x = e^{z_i}), so nothing overflows at any scale, misclassified samples included; entries far
above the smallest margin underflow to 0, which is their true relative weight to float64 precision.
Margins may be +inf (a masked entry contributes nothing). Callers that need ∇L itself multiply by
exp(log L) — which may then underflow, honestly.

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
    mu = margins.detach().amin(dim=class_dim, keepdim=True)     # a shift: values do not depend on it
    E = torch.exp(mu - margins)                                  # in [0, 1], 1 at the smallest margin
    z = torch.log(E.sum(dim=class_dim, keepdim=True)) - mu       # log Σ_c e^{−m_ic}, exact
    if loss == "exponential":
        log_l_i, log_weight = z, -mu
    else:
        log_l_i = _log_softplus(z)
        log_weight = -mu - torch.nn.functional.softplus(z)       # log[e^{−μ_i}/(1 + Σ_c e^{−m_ic})]
    total = torch.logsumexp(log_l_i, dim=sample_dim, keepdim=True)   # log Σ_i ℓ_i
    n = margins.shape[sample_dim]
    log_l = total.squeeze(-1).squeeze(-1) - math.log(n)
    return E, log_weight, total, log_l


def log_loss(margins: torch.Tensor, loss: str = "cross_entropy", class_dim: int = -1) -> torch.Tensor:
    """log L = log((1/n) Σ_i ℓ_i), one value per leading index; differentiable at any scale."""
    return _terms(margins, loss, class_dim)[3]


def log_loss_and_margin_gradient(margins: torch.Tensor, loss: str = "cross_entropy",
                                 class_dim: int = -1):
    """(log L, ∂ log L/∂m) in closed form (no autograd); see the module docstring."""
    with torch.no_grad():
        E, log_weight, total, log_l = _terms(margins, loss, class_dim)
        return log_l, -E * torch.exp(log_weight - total)
