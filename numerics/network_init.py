"""Initializations of a two-layer network other than ``TwoLayerNetwork.init`` (i.i.d. Gaussian).

``mirrored``: neurons in pairs (w, u), (−w, u). For any input x ≠ 0 with ⟨w, x⟩ ≠ 0 exactly one neuron
of a pair is active on it, with the pair's output weight u. The pairs' output signs alternate
(+, −, +, …), so with at least two pairs both signs are present and every direction x (in particular
every cluster mean μ_c) has, at initialization, at least one active neuron of each output sign per
pair of pairs: a neuron *serving* c (active on μ_c, u of the sign of c's label) exists with certainty,
where under i.i.d. signs each neuron serves c with probability 1/4 and a cluster has none with
probability (3/4)^m. Magnitudes are drawn as in ``TwoLayerNetwork.init`` (W ~ scale·N(0, 1/d),
|u| ~ scale·|N(0, 1/m)|), so the initial scale is the same in distribution.

``initialize`` picks one by name (``"iid"``: ``TwoLayerNetwork.init``; ``"mirrored"``), and
``unserved_points`` lists the training points without a serving neuron at a given initialization.
"""
from __future__ import annotations

import math

import numpy as np


def mirrored(net, seed: int, scale: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """(W, u) with rows 2i and 2i + 1 equal to w_i and −w_i and u_(2i) = u_(2i+1) = (−1)^i |v_i|
    (``net.width`` even, ≥ 4)."""
    m, d = net.shapes[0]
    if m % 2 or m < 4:
        raise ValueError(f"a mirrored initialization needs an even width ≥ 4, got {m}")
    rng = np.random.default_rng(seed)
    half = scale * rng.standard_normal((m // 2, d)) / math.sqrt(d)
    mags = scale * np.abs(rng.standard_normal(m // 2)) / math.sqrt(m)
    W = np.empty((m, d))
    W[0::2], W[1::2] = half, -half
    signs = np.where(np.arange(m // 2) % 2 == 0, 1.0, -1.0)
    u = np.repeat(signs * mags, 2)[None, :]
    return W, u


def expected_neuron_sizes(shapes, scale: float) -> tuple[float, float]:
    """(E‖w_j‖, E|u_j|) at initialization for the shapes ((m, d), (1, m)) and ``scale`` (both
    initializations draw w_j ~ scale·N(0, I_d/d), |u_j| ~ scale·|N(0, 1/m)|): scale·√(2/d)·Γ((d+1)/2)/Γ(d/2)
    (the χ_d mean) and scale·√(2/π)/√m."""
    (m, d), _ = shapes
    chi_mean = math.sqrt(2.0) * math.exp(math.lgamma((d + 1) / 2.0) - math.lgamma(d / 2.0))
    return scale * chi_mean / math.sqrt(d), scale * math.sqrt(2.0 / math.pi) / math.sqrt(m)


INITIALIZATIONS = ("iid", "mirrored")


def initialize(net, seed: int, scale: float, kind: str = "iid") -> tuple[np.ndarray, np.ndarray]:
    """The initial (W, u) of ``net`` by name: ``"iid"`` (``net.init``) or ``"mirrored"``."""
    if kind == "iid":
        return net.init(seed, scale)
    if kind == "mirrored":
        return mirrored(net, seed, scale)
    raise ValueError(f"unknown initialization {kind!r}; known: {', '.join(INITIALIZATIONS)}")


def unserved_points(params, X, y) -> np.ndarray:
    """Indices of the points x_i with no neuron *serving* them at ``params``: active on x_i
    (⟨w_j, x_i⟩ > 0) with an output weight of the sign of y_i. Only a serving neuron pushes y_i f(x_i)
    up; under the i.i.d. initialization a given point has none with probability (3/4)^m, under
    ``mirrored`` (both output signs present) never unless ⟨w, x_i⟩ = 0 exactly."""
    W, u = (np.asarray(p, dtype=float) for p in params)
    active = np.asarray(X, dtype=float) @ W.T > 0
    same_sign = np.sign(u.reshape(-1))[None, :] == np.sign(np.asarray(y, dtype=float))[:, None]
    return np.nonzero(~(active & same_sign).any(axis=1))[0]
