"""A matrix-free multiclass dual coordinate method for the ℓ2 (Frobenius) max-margin problem.

For min ½‖W‖_F² s.t. A(W)_{ic} = ⟨w_{y_i} − w_c, x_i⟩ ≥ 1 (c ≠ y_i) the Lagrange dual is

    max_{λ ≥ 0} Σλ − ½‖A*λ‖_F²,      A*λ = Σ_i Σ_c λ_ic (e_{y_i} − e_c) x_iᵀ = W(λ).

Blocks of one sample's k − 1 multipliers are minimized exactly in turn (Crammer & Singer 2001 for the
soft-margin problem, whose block is the same one on a capped simplex): with s = ‖x_i‖² and m⁰ the
margins of sample i without its own contribution to W, the block minimizes
½ s [(Σμ)² + Σμ²] − Σ μ_c (1 − m⁰_c) over μ ≥ 0, whose solution is μ_c = max(0, a_c − S) with
a_c = (1 − m⁰_c)/s and S = Σμ the root of the increasing piecewise-linear S ↦ S − Σ max(0, a_c − S)
(found by sorting the positive a_c). Each step costs one k×d matrix-vector product (the sample's
scores) and updates only the rows of W whose multiplier changed; nothing of size n(k−1) × kd is
formed, memory is O(nk + kd + nd) (λ is stored n × k with λ_{i,y_i} = 0).

The method converges (block coordinate descent on a strongly convex-in-W quadratic over a product of
orthants), but slowly on hard-margin problems whose samples are nearly collinear. It is used for
what it does quickly: a separating classifier and the support of the dual, which become the first
working set of the constraint generation in :mod:`numerics.maxmargin`. Nothing here is trusted: the
caller certifies.
"""
from __future__ import annotations

import numpy as np

from numerics.classification import Classification

_ORDER_SEED = 0   # the sweep order: a fixed permutation of the samples (solver state, not data)


class DualCoordinateDescent:
    """λ (n × k, λ_{i,y_i} = 0) and W = A*λ of the ℓ2 max-margin dual, improved one sweep at a time."""

    def __init__(self, problem: Classification):
        if problem.model != "multiclass":
            raise ValueError("the dual coordinate method is for the multiclass model")
        self.problem = problem
        self.X, self.y = problem.X, problem.y
        self.sq = np.einsum("ij,ij->i", self.X, self.X)
        self.W = np.zeros(problem.param_shape)
        self.lam = np.zeros((problem.n, problem.k))
        self.total = np.zeros(problem.n)   # Σ_c λ_ic
        self.order = np.random.default_rng(_ORDER_SEED).permutation(problem.n)

    def sweep(self) -> None:
        """One exact minimization of every sample's block, in the fixed order."""
        W, lam, total = self.W, self.lam, self.total
        for i in self.order:
            s = self.sq[i]
            if s == 0.0:
                continue
            x, yi, li = self.X[i], self.y[i], lam[i]
            scores = W @ x
            # a_c = (1 − m⁰_c)/s with m⁰_c = m_c − s(S_i + λ_ic) the margin without sample i
            a = (1.0 - (scores[yi] - scores)) / s + total[i] + li
            a[yi] = -np.inf
            positive = np.flatnonzero(a > 0)
            if positive.size == 0 and total[i] == 0.0:
                continue
            ordered = np.sort(a[positive])[::-1]
            candidates = np.cumsum(ordered) / np.arange(2, ordered.size + 2)
            count = int(np.count_nonzero(ordered > candidates))   # a_(j) > S_j holds for a prefix
            new_total = candidates[count - 1] if count > 0 else 0.0
            changed = np.union1d(np.flatnonzero(li), positive[a[positive] > new_total])
            new = np.maximum(a[changed] - new_total, 0.0)
            W[yi] += (new_total - total[i]) * x
            W[changed] -= np.outer(new - li[changed], x)
            li[changed] = new
            total[i] = new_total

    def refresh(self) -> None:
        """Recompute W = A*λ from λ (removes the drift of the incremental updates)."""
        self.W = self.problem.adjoint(self.multipliers())

    def multipliers(self) -> np.ndarray:
        """λ in the problem's (n, k − 1) layout (columns ``problem.others``)."""
        return self.lam[np.arange(self.problem.n)[:, None], self.problem.others]


def separating_start(problem: Classification, max_sweeps: int = 50):
    """(W, S, λ): a classifier with A(W) > 0 from sweeps of the dual coordinate method (the first
    that separates), the flat constraint indices S (C order of (i, c)) that support it (the
    constraints with λ > 0 and those W violates in min-norm scale, margin < 1) and the method's
    multipliers λ (n, k − 1). Raises RuntimeError if no sweep separates."""
    method = DualCoordinateDescent(problem)
    for _ in range(max_sweeps):
        method.sweep()
        method.refresh()
        margins = problem.margins(method.W)
        if margins.min() > 0:
            lam = method.multipliers()
            return method.W, np.flatnonzero((lam > 0).ravel() | (margins < 1.0).ravel()), lam
    raise RuntimeError(f"the dual coordinate method found no separating classifier in {max_sweeps} sweeps")
