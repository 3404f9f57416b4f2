"""ℓ2 adversarial perturbations of two-layer networks: attack search (upper bound) and certificate
(lower bound) on the smallest radius that flips a prediction (Frei, Vardi, Bartlett, Srebro 2023).

A network here is (W, b, u, k): f(x) = Σ_j u_j ReLU(⟨w_j, x⟩ − b_j)^k (b = 0 for the homogeneous
networks of ``numerics.networks``; the robust one-detector-per-cluster construction has b_j > 0).

- Attack: along each candidate unit direction v (e.g. −y Σ_j y_j μ_j, the universal direction of the
  KKT analysis, and −y ∇_x f(x)), scan r on a grid up to ``r_max`` for the first r with
  y f(x + r v) ≤ 0, then bisect that bracket. The best radius over the directions is an upper bound
  on the smallest flipping radius (a point on or past the decision boundary was exhibited).
- Certificate: for ‖z‖₂ ≤ r every pre-activation lies in [a_j − ‖w_j‖r, a_j + ‖w_j‖r]; ReLU^k is
  non-decreasing, so y f(x + z) ≥ Σ_j min over that interval of y u_j ReLU(·)^k. The largest r with a
  positive bound (bisection; the bound decreases in r) is a certified lower bound. When the attack
  finds nothing within its budget, this lower bound is what is reported.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from theory.robustness import RHO, double_edged_sword_derivation


@dataclass(frozen=True)
class ReluNetwork:
    W: np.ndarray            # (m, d)
    b: np.ndarray            # (m,)
    u: np.ndarray            # (m,)
    power: int = 1

    @classmethod
    def homogeneous(cls, params, power: int) -> "ReluNetwork":
        W, u = (np.asarray(p, dtype=float) for p in params)
        return cls(W, np.zeros(W.shape[0]), u.reshape(-1), power)

    def forward(self, X) -> np.ndarray:
        return np.maximum(np.atleast_2d(X) @ self.W.T - self.b, 0.0) ** self.power @ self.u

    def input_gradient(self, x) -> np.ndarray:
        z = self.W @ x - self.b
        slope = (z > 0).astype(float) if self.power == 1 else self.power * np.maximum(z, 0.0) ** (self.power - 1)
        return (self.u * slope) @ self.W


@dataclass(frozen=True)
class AttackResult:
    radius: float            # smallest flipping radius found (inf when none within r_max)
    direction: str           # the candidate direction that achieved it ("" when none)
    certified: float         # certified lower bound on the smallest flipping radius

    @property
    def found(self) -> bool:
        return math.isfinite(self.radius)


def line_radius(net: ReluNetwork, x, y: float, v, r_max: float, grid: int = 48,
                bisections: int = 50) -> float:
    """Smallest r ≤ r_max (to bisection accuracy) with y f(x + r v) ≤ 0 along unit v; inf if none."""
    radii = r_max * np.linspace(0.0, 1.0, grid + 1)[1:]
    margins = y * net.forward(x[None, :] + radii[:, None] * v[None, :])
    hits = np.nonzero(margins <= 0.0)[0]
    if hits.size == 0:
        return math.inf
    hi = radii[hits[0]]
    lo = radii[hits[0] - 1] if hits[0] > 0 else 0.0
    for _ in range(bisections):
        mid = 0.5 * (lo + hi)
        if y * net.forward(x + mid * v)[0] <= 0.0:
            hi = mid
        else:
            lo = mid
    return float(hi)


def margin_lower_bound(net: ReluNetwork, x, y: float, r: float) -> float:
    """Lower bound on min_{‖z‖≤r} y f(x + z) by interval bounds on the pre-activations."""
    a = net.W @ x - net.b
    spread = np.linalg.norm(net.W, axis=1) * r
    coef = y * net.u
    pre = np.where(coef > 0, a - spread, a + spread)
    return float(np.sum(coef * np.maximum(pre, 0.0) ** net.power))


def certified_radius(net: ReluNetwork, x, y: float, r_max: float, bisections: int = 60) -> float:
    """Largest r ≤ r_max (to bisection accuracy) at which :func:`margin_lower_bound` is positive."""
    if margin_lower_bound(net, x, y, 0.0) <= 0.0:
        return 0.0
    if margin_lower_bound(net, x, y, r_max) > 0.0:
        return float(r_max)
    lo, hi = 0.0, r_max
    for _ in range(bisections):
        mid = 0.5 * (lo + hi)
        if margin_lower_bound(net, x, y, mid) > 0.0:
            lo = mid
        else:
            hi = mid
    return float(lo)


def attack(net: ReluNetwork, x, y: float, directions: dict[str, np.ndarray], r_max: float) -> AttackResult:
    """Best radius over the candidate directions (each normalized), with the certificate."""
    best, best_name = math.inf, ""
    for name, v in directions.items():
        norm = float(np.linalg.norm(v))
        if norm == 0.0:
            continue
        r = line_radius(net, x, y, np.asarray(v, float) / norm, r_max)
        if r < best:
            best, best_name = r, name
    return AttackResult(best, best_name, certified_radius(net, x, y, r_max))


def candidate_directions(net: ReluNetwork, x, y: float, means, cluster_labels) -> dict[str, np.ndarray]:
    """−y Σ_j y_j μ_j (the universal direction of the KKT analysis) and −y ∇_x f(x)."""
    return {"sum_y_mu": -y * (np.asarray(cluster_labels) @ np.asarray(means)),
            "input_gradient": -y * net.input_gradient(x)}


def cluster_detector_network(means, cluster_labels) -> ReluNetwork:
    """The robust construction: one ReLU detector per cluster, f(x) = Σ_j y_j ReLU(⟨μ_j, x⟩ − b_j),
    with the threshold b(ρ = ‖μ_j‖) that maximizes the certified radius (derived in
    ``theory.robustness``: b = ρ²/2)."""
    means = np.asarray(means, dtype=float)
    threshold = sp.lambdify(RHO, double_edged_sword_derivation().results["robust_threshold"], "numpy")
    b = np.array([float(threshold(r)) for r in np.linalg.norm(means, axis=1)])
    return ReluNetwork(means, b, np.asarray(cluster_labels, float), 1)
