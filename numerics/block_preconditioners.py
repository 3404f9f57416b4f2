"""Preconditioners of the adaptive methods Li, Wen, Lyu (2025) place in one framework, as
``numerics.optim`` transformations (composable with ``chain``/``schedule``, run by
``TransformOptimizer``).

- ``block_adam_preconditioner(block)``: Adam whose second moment is shared by a block of coordinates
  of each parameter tensor, v_B = β₂ v_B + (1−β₂) mean_{k∈B} g_k²: Adam-mini (Zhang et al. 2024:
  one v per block, here contiguous blocks of ``block`` coordinates) and Adalayer (Zhao et al. 2024:
  one v per layer, ``block = 0``). ``block = 1`` is Adam.
- ``shampoo_preconditioner``: Shampoo (Gupta, Koren, Singer 2018) on a vector parameter, whose only
  factor is L = β₂ L + (1−β₂) g gᵀ, applied as (L^{1/2} + εI)⁻¹ m (EMA form, no bias correction).

Both work on the true gradient values (``Scaled.value()``): they are meant for regression losses,
where gradients do not underflow (unlike the log-space classification losses).
"""
from __future__ import annotations

import torch

from numerics.optim import Scaled, Transformation


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

    def update(grads, state, step):
        g = grads.value()
        if state is None:
            m = tuple((1 - beta1) * x for x in g)
            v = tuple((1 - beta2) * _block_mean(x * x, block) for x in g)
        else:
            m = tuple(beta1 * a + (1 - beta1) * x for a, x in zip(state[0], g))
            v = tuple(beta2 * b + (1 - beta2) * _block_mean(x * x, block) for b, x in zip(state[1], g))
        out = tuple(a / (b**exponent + eps) for a, b in zip(m, v))
        return Scaled(out, 0.0), (m, v)

    return Transformation(lambda params: None, update)


def shampoo_preconditioner(beta1: float = 0.9, beta2: float = 0.95, eps: float = 1e-6) -> Transformation:
    """(L^{1/2} + εI)⁻¹ m per vector parameter, L the EMA of g gᵀ (no bias correction)."""

    def update(grads, state, step):
        g = grads.value()
        if any(x.dim() != 1 for x in g):
            raise ValueError("this Shampoo preconditioner is defined for vector parameters")
        outer = tuple(torch.outer(x, x) for x in g)
        if state is None:
            m = tuple((1 - beta1) * x for x in g)
            L = tuple((1 - beta2) * o for o in outer)
        else:
            m = tuple(beta1 * a + (1 - beta1) * x for a, x in zip(state[0], g))
            L = tuple(beta2 * b + (1 - beta2) * o for b, o in zip(state[1], outer))
        out = []
        for a, b in zip(m, L):
            lam, V = torch.linalg.eigh(b)
            out.append(V @ ((V.T @ a) / (lam.clamp(min=0).sqrt() + eps)))
        return Scaled(tuple(out), 0.0), (m, L)

    return Transformation(lambda params: None, update)
