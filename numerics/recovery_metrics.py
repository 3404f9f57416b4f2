"""How well an interpolator recovers a sparse ground truth: population test error and sparsity.

- Excess test risk. For y = ⟨w*, z⟩ and a new feature vector z with second moment Σ = E[zzᵀ],
  E[(⟨w, z⟩ − y)²] = (w − w*)ᵀ Σ (w − w*). Rademacher ±1 and standard Gaussian features (the
  instances of :mod:`numerics.sparse_regression`, as in Li, Wen, Lyu 2025's code) have Σ = I, so the
  test error is ‖w − w*‖².
- Effective support size ‖w‖₁² / ‖w‖₂² ∈ [1, d]: equal to k for k equal-magnitude non-zeros, and,
  unlike a count of entries above a threshold, continuous in w (so the tiny coordinates a finite
  run leaves behind barely move it). The thresholded count is also given, for reading.
"""
from __future__ import annotations

import numpy as np


def excess_risk(w, w_star, second_moment=None) -> np.ndarray:
    """(w − w*)ᵀ Σ (w − w*) over the last axis (Σ = I when ``second_moment`` is None)."""
    diff = np.asarray(w, float) - np.asarray(w_star, float)
    if second_moment is None:
        return np.sum(diff**2, axis=-1)
    return np.einsum("...i,ij,...j->...", diff, np.asarray(second_moment, float), diff)


def effective_support(w) -> np.ndarray:
    """‖w‖₁² / ‖w‖₂² over the last axis (0 for w = 0)."""
    w = np.asarray(w, float)
    l2 = np.sum(w**2, axis=-1)
    return np.where(l2 > 0, np.sum(np.abs(w), axis=-1) ** 2 / np.where(l2 > 0, l2, 1.0), 0.0)


def support_count(w, relative: float = 1e-3) -> np.ndarray:
    """Number of entries with |w_j| > relative · max_j |w_j| over the last axis."""
    a = np.abs(np.asarray(w, float))
    return np.sum(a > relative * np.max(a, axis=-1, keepdims=True), axis=-1)
