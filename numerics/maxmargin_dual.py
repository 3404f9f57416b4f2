"""A dual method for max-margin problems under strictly convex norms ("dual-newton").

For the squared min-norm problem min ½‖W‖² s.t. A(W) ≥ 1 the Lagrange dual is the bound-constrained

    min_{λ ≥ 0} φ(λ) = ½‖A*λ‖_*² − Σλ,      ∇φ(λ) = A(W(λ)) − 1,   W(λ) = ‖G‖_* Δ(G),  G = A*λ,

where Δ(G) = argmax_{‖Δ‖≤1} ⟨G, Δ⟩ is the norm's steepest direction, so that W(λ) = ∇(½‖·‖_*²)(G)
(Danskin). The map needs only the norm's oracles (dual value, steepest direction); it is continuous
exactly when the dual norm is differentiable, i.e. when the norm is strictly convex (entrywise or
Schatten p with 1 < p < ∞). At the optimum W(λ*) is the min-norm classifier (Gunasekar et al. 2018).

Phase 1, L-BFGS-B (Byrd, Lu, Nocedal, Zhu 1995), finds an approximate solution and its support
{λ > 0} (to high accuracy it would be slow: it descends on φ, whose values resolve ∇φ only to about
√ε near the optimum). Phase 2 is a semismooth Newton method on the complementarity form
min(λ, ∇φ(λ)) = 0 of the KKT conditions (Qi & Sun 1993; a primal-dual active set method), whose
residual is computed exactly; its Jacobian A_I DW A_I* comes from central differences of W(·), which
can only slow the convergence, not move the solution. If Newton does not converge, phase 1 is rerun
to a tighter tolerance first. Nothing here is trusted: the caller certifies the result.
"""
from __future__ import annotations

import time

import numpy as np
import scipy.optimize
import scipy.sparse
import scipy.sparse.linalg
from threadpoolctl import threadpool_limits

from theory.norms import Norm

_FD_STEP = np.finfo(float).eps ** (1 / 3)   # central-difference step, relative to ‖G‖ / ‖a_j‖
_DENSE_JACOBIAN = 500   # active constraints up to which the Newton Jacobian is formed (Fan size: ~200)
_KKT_TARGET = 1e-12                         # ‖min(λ, A W − 1)‖_∞ in margin units: Newton has converged


_SPARSE_BELOW = 0.05   # density of the rows below which they stay sparse (many classes: 2/k)


def _row_norms(A) -> np.ndarray:
    if isinstance(A, np.ndarray):
        return np.linalg.norm(A, axis=1)
    return np.sqrt(np.asarray(A.multiply(A).sum(axis=1)).ravel())


def _dense_rows(A):
    """The rows of a dense or sparse array, one dense vector at a time."""
    if isinstance(A, np.ndarray):
        yield from A
        return
    for start, end in zip(A.indptr[:-1], A.indptr[1:]):
        row = np.zeros(A.shape[1])
        row[A.indices[start:end]] = A.data[start:end]
        yield row


class _DualMap:
    """λ ↦ W(λ) for constraint rows A (dense or sparse; vec W = w, A w ≥ 1) under a norm."""

    def __init__(self, A: np.ndarray, shape: tuple[int, ...], norm: Norm, deadline: float | None = None):
        self.A, self.shape, self.norm, self.dual = A, shape, norm, norm.dual
        self.deadline = deadline   # process CPU time after which the iterations stop

    def late(self) -> bool:
        return self.deadline is not None and time.process_time() > self.deadline

    def primal(self, g: np.ndarray) -> np.ndarray:
        """vec W = ∇(½‖·‖_*²) at vec G = g: ‖G‖_* times the steepest direction of G."""
        G = g.reshape(self.shape)
        return self.dual.value(G) * self.norm.steepest_direction(G).ravel()

    def gradient(self, lam: np.ndarray) -> np.ndarray:
        """∇φ(λ) = A W(λ) − 1."""
        return self.A @ self.primal(self.A.T @ lam) - 1.0

    def kkt_residual(self, lam: np.ndarray) -> float:
        """‖min(λ, ∇φ(λ))‖_∞: zero exactly at the KKT points of the bound-constrained dual."""
        return float(np.abs(np.minimum(lam, self.gradient(lam))).max())

    def lbfgs(self, lam0: np.ndarray, gtol: float) -> np.ndarray:
        def objective(lam):
            g = self.A.T @ lam
            w = self.primal(g)
            return 0.5 * float(g @ w) - lam.sum(), self.A @ w - 1.0   # ⟨G, W(G)⟩ = ‖G‖_*²

        def stop_when_late(intermediate_result):
            if self.late():
                raise StopIteration

        result = scipy.optimize.minimize(objective, lam0, jac=True, method="L-BFGS-B",
                                         bounds=[(0.0, None)] * lam0.size, callback=stop_when_late,
                                         options={"maxiter": 5000, "ftol": 0.0, "gtol": gtol})
        return result.x

    def _newton_step(self, g: np.ndarray, rows, residual: np.ndarray) -> np.ndarray:
        """The solution of J Δ = residual, J = ∂∇φ_I/∂λ_I = A_I DW(g) A_Iᵀ (symmetric positive
        semidefinite), with DW(g) applied by central differences. Up to :data:`_DENSE_JACOBIAN`
        active constraints J is formed column by column and solved by least squares; above, where
        forming it costs |I| pairs of oracle calls and the solve |I|³, by MINRES on the products
        J v (two oracle calls each)."""
        scale = _FD_STEP * np.linalg.norm(g)
        if rows.shape[0] <= _DENSE_JACOBIAN:
            steps = scale / _row_norms(rows)
            jac = np.column_stack([rows @ (self.primal(g + h * a) - self.primal(g - h * a)) / (2 * h)
                                   for a, h in zip(_dense_rows(rows), steps)])
            return np.linalg.lstsq(jac, residual, rcond=None)[0]

        def product(v):
            direction = rows.T @ np.ravel(v)
            size = np.linalg.norm(direction)
            if size == 0.0:
                return np.zeros(rows.shape[0])
            h = scale / size
            return rows @ (self.primal(g + h * direction) - self.primal(g - h * direction)) / (2 * h)

        jac = scipy.sparse.linalg.LinearOperator((rows.shape[0],) * 2, matvec=product, dtype=float)
        return scipy.sparse.linalg.minres(jac, residual, rtol=1e-12, maxiter=10 * rows.shape[0])[0]

    def semismooth_newton(self, lam: np.ndarray, max_iter: int = 20) -> np.ndarray:
        """Primal-dual active set iterations: λ_j = 0 off I = {∇φ_j < λ_j}, then a Newton step on
        ∇φ_I = 0 (exact for the Frobenius norm, whose W(λ) is linear). The iterates are not
        monotone; the best one by KKT residual is returned, and the iterations stop once the
        residual exceeds that of the starting point (outside the region where Newton converges)."""
        best = np.clip(lam, 0.0, None)
        start = best_value = self.kkt_residual(best)
        for _ in range(max_iter):
            if best_value <= _KKT_TARGET or self.late():
                break
            active = self.gradient(lam) < lam
            lam = np.where(active, lam, 0.0)
            g, rows = self.A.T @ lam, self.A[np.flatnonzero(active)]
            if not active.any() or not g.any():
                break
            lam[active] -= self._newton_step(g, rows, rows @ self.primal(g) - 1.0)
            value = self.kkt_residual(np.clip(lam, 0.0, None))
            if value > start:
                break
            if value < best_value:
                best, best_value = np.clip(lam, 0.0, None), value
        return best


def solve_dual_newton(A: np.ndarray, shape: tuple[int, ...], norm: Norm,
                      lam0: np.ndarray | None = None,
                      deadline: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(vec W, λ) for min ‖W‖ s.t. A vec(W) ≥ 1; λ ≥ 0 are the multipliers of the squared problem
    (‖W‖ times those of min ‖W‖). ``lam0`` warm-starts the dual (e.g. from a smaller working set);
    after ``deadline`` (process CPU time) the iterations stop and the best point so far is returned.

    The data are first scaled to unit typical row norm r (A → A/r gives W → rW and λ → r²λ, as
    W(λ) is 1-homogeneous), so that the tolerances below are scale free."""
    A = scipy.sparse.csr_array(A)
    if A.nnz >= _SPARSE_BELOW * A.shape[0] * A.shape[1]:   # dense products are faster (BLAS)
        A = A.toarray()
    r = float(np.median(_row_norms(A)))
    dual_map = _DualMap(A / r, shape, norm, deadline)
    starts = [np.zeros(A.shape[0])] if lam0 is None else [r**2 * lam0, np.zeros(A.shape[0])]
    best, best_value = None, np.inf
    with threadpool_limits(limits=1, user_api="blas"):   # small BLAS calls: threads only cost
        for lam in starts:   # a warm start Newton does not converge from is followed by a cold one
            for gtol in (1e-3, 1e-6):   # Newton usually converges from the loose start
                lam = dual_map.semismooth_newton(dual_map.lbfgs(lam, gtol))
                value = dual_map.kkt_residual(lam)
                if value < best_value:
                    best, best_value = lam, value
                if value <= _KKT_TARGET or dual_map.late():
                    break
            if best_value <= _KKT_TARGET or dual_map.late():
                break
    return dual_map.primal(dual_map.A.T @ best) / r, best / r**2
