"""Pieces the optimizer family (``numerics.optim``) needs for homogeneous networks.

- :func:`scale_by_block`: fixed per-parameter learning-rate multipliers (per-layer multipliers and
  shape factors of practical Muon variants, e.g. √max(1, rows/cols)); Gronich & Vardi (2026): they
  turn the max of the layers' norms into a weighted max (see ``theory.optimizer_geometry``).
- :func:`relative_step`: gradient descent with the loss-based learning rate of Lyu & Li (2020)'s
  experiments, η_t = α_t / L(θ_t), with α_t chosen so that every step moves θ by the fraction δ of
  its ℓ2 norm: a time reparametrization of gradient flow that keeps its trajectory (as δ → 0) while
  the norm grows geometrically, so the direction gets time to converge; optionally capped at the
  order of step Lyu & Li's GD analysis allows (δ_t ≤ c/|log L|).
- :func:`muon_shape_factor`: the per-matrix learning-rate factors of practical Muon variants.

Schedules are ``numerics.optim.PowerSchedule`` (η₀ t^{−a}, the schedules of Gronich & Vardi 2026,
whose admissibility ``theory.schedules`` decides).
"""
from __future__ import annotations

import math
from typing import Sequence

import torch

from numerics.optim import Scaled, Transformation


def scale_by_block(factors: Sequence[float]) -> Transformation:
    """Multiply the update of parameter i by ``factors[i]`` (> 0)."""
    factors = tuple(float(f) for f in factors)
    if any(not f > 0 for f in factors):
        raise ValueError(f"block learning-rate factors must be positive, got {factors}")

    def update(grads, state, step):
        if len(grads.mantissa) != len(factors):
            raise ValueError(f"{len(factors)} factors for {len(grads.mantissa)} parameters")
        return Scaled(tuple(f * m for f, m in zip(factors, grads.mantissa)), grads.log_scale), state

    return Transformation(lambda params: None, update)


def relative_step(delta: float, loss_cap: float | None = None) -> Transformation:
    """Update δ_t‖θ‖₂ · g/‖g‖₂ (θ all parameters, g the incoming direction ∇ log L): GD with the
    learning rate α_t/L(θ_t) of Lyu & Li (2020), α_t = δ_t‖θ_t‖/‖∇ log L(θ_t)‖.

    Without ``loss_cap``, δ_t = δ: the loss-based rate of Lyu & Li's experiments, under which ‖θ‖
    grows geometrically. With it, δ_t = min(δ, c/|log L(θ_t)|), the order of the step their GD
    analysis allows: along the margin direction q = log 1/L grows like ‖θ‖^L, the loss's curvature
    along the gradient is about L(θ)·(L q/‖θ‖)², so the descent lemma's second-order term matches
    the first once the relative step reaches order 1/q. Beyond it the constant step zigzags with
    period 2 (measured on the Lyu & Li clusters once δ·|log L| exceeds 0.5–0.9) and the smoothed
    margin can drop; under the cap ‖θ‖^L grows only linearly in t."""
    if not 0 < delta < 1:
        raise ValueError(f"relative step δ must lie in (0, 1), got {delta}")
    if loss_cap is not None and not loss_cap > 0:
        raise ValueError(f"loss cap c must be positive, got {loss_cap}")

    def init(params):
        return tuple(params)  # references: TransformOptimizer updates them in place

    def update(grads, params, step):
        theta = math.sqrt(sum(float((p.detach() ** 2).sum()) for p in params))
        g = math.sqrt(sum(float((m**2).sum()) for m in grads.mantissa))
        if g == 0.0 or theta == 0.0:
            return Scaled(tuple(torch.zeros_like(m) for m in grads.mantissa), 0.0), params
        d = delta if loss_cap is None else min(delta, loss_cap / max(abs(grads.log_scale), 1e-300))
        return Scaled(tuple((d * theta / g) * m for m in grads.mantissa), 0.0), params

    return Transformation(init, update)


SHAPE_CONVENTIONS = ("max1", "ratio")


def muon_shape_factor(shape: Sequence[int], convention: str = "max1") -> float:
    """Per-matrix learning-rate factor of practical Muon variants for a (rows × cols) = (fan_out ×
    fan_in) matrix: ``max1`` √max(1, rows/cols) (Keller Jordan's Muon), ``ratio`` √(rows/cols) (the
    spectral scaling condition of Bernstein and coauthors)."""
    rows, cols = shape
    if convention == "max1":
        return math.sqrt(max(1.0, rows / cols))
    if convention == "ratio":
        return math.sqrt(rows / cols)
    raise ValueError(f"unknown shape-factor convention {convention!r}; expected one of {SHAPE_CONVENTIONS}")
