"""Preconditioners of the adaptive methods Li, Wen, Lyu (2025) place in one framework, as
``numerics.optim`` transformations (composable with ``chain``/``schedule``, run by
``TransformOptimizer``).

- ``block_adam_preconditioner(block)``: Adam whose second moment is shared by a block of coordinates
  of each parameter tensor, v_B = β₂ v_B + (1−β₂) mean_{k∈B} g_k²: Adam-mini (Zhang et al. 2024:
  one v per block, here contiguous blocks of ``block`` coordinates) and Adalayer (Zhao et al. 2024:
  one v per layer, ``block = 0``). ``block = 1`` is Adam.
- ``shampoo_preconditioner``: Shampoo (Gupta, Koren, Singer 2018) on a vector parameter, whose only
  factor is L = β₂ L + (1−β₂) g gᵀ, applied as (L^{1/2} + εI)⁻¹ m (EMA form, no bias correction).

Both are instances of ``numerics.optim.adam_preconditioner`` with another second-moment statistic
(and, for Shampoo, a matrix preconditioning step).
"""
from __future__ import annotations

import torch

from numerics.optim import Transformation, adam_preconditioner


def _block_mean(x: torch.Tensor, block: int) -> torch.Tensor:
    flat = x.reshape(-1)
    size = flat.numel() if block == 0 else block
    if flat.numel() % size:
        raise ValueError(f"block size {size} does not divide the tensor size {flat.numel()}")
    means = flat.reshape(-1, size).mean(dim=1, keepdim=True)
    return means.expand(-1, size).reshape(x.shape)


def block_adam_preconditioner(block: int = 1, beta1: float = 0.9, beta2: float = 0.95,
                              eps: float = 1e-6, exponent: float = 0.5) -> Transformation:
    """m / (v_B^e + ε) with block-shared second moments (no bias correction)."""
    return adam_preconditioner(beta1, beta2, eps, bias_correction=False, exponent=exponent,
                               second_moment=lambda g: _block_mean(g * g, block))


def _outer(g: torch.Tensor) -> torch.Tensor:
    if g.dim() != 1:
        raise ValueError("this Shampoo preconditioner is defined for vector parameters")
    return torch.outer(g, g)


def _matrix_apply(m: torch.Tensor, L: torch.Tensor, exponent: float, eps: float) -> torch.Tensor:
    """(L^e + εI)⁻¹ m through the eigendecomposition of the symmetric PSD L."""
    lam, V = torch.linalg.eigh(L)
    return V @ ((V.T @ m) / (lam.clamp(min=0) ** exponent + eps))


def shampoo_preconditioner(beta1: float = 0.9, beta2: float = 0.95, eps: float = 1e-6) -> Transformation:
    """(L^{1/2} + εI)⁻¹ m per vector parameter, L the EMA of g gᵀ (no bias correction)."""
    return adam_preconditioner(beta1, beta2, eps, bias_correction=False, exponent=0.5,
                               second_moment=_outer, apply=_matrix_apply)
