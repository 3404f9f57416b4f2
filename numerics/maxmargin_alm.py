"""An augmented Lagrangian method for the Frobenius max-margin problem with many classes ("alm-newton").

For min ½‖w‖² s.t. A w ≥ 1 (A: the margin rows, vec W = w) the augmented Lagrangian method
(Rockafellar 1976; as a semismooth Newton ALM: Li, Sun & Toh 2018) iterates

    w⁺ = argmin_w φ_σ(w; λ) = ½‖w‖² + (1/2σ)‖max(0, λ − σ(A w − 1))‖²,      λ⁺ = max(0, λ − σ(A w⁺ − 1)).

It is the proximal point method on the dual max_{λ≥0} Σλ − ½‖Aᵀλ‖², so it converges even when the
dual is degenerate (more active constraints than the rank of A_S, the case at k = 1000 where the
dual Newton method of :mod:`numerics.maxmargin_dual` stalls): each subproblem is strongly convex in
w. φ_σ is minimized by semismooth Newton steps H d = −∇φ_σ, H = I + σ A_Jᵀ A_J on the rows
J = {λ − σ(A w − 1) > 0}, by preconditioned conjugate gradients: H is never formed, only products
with the sparse rows A_J, and the preconditioner is H's block diagonal (one d × d block per class
row of W; a multiclass row (e_y − e_c) x_iᵀ touches two).

All n(k − 1) constraints are handled lazily (:func:`solve_fro_lazy`): a constraint with λ = 0 enters
φ_σ only once its margin is below 1, which the matrix-free margin map checks after every
subproblem. Once the support has nearly settled, primal-dual active-set steps solve the
equality-constrained problem on it exactly (A_J A_Jᵀ ν = 1 by CG), which removes the last digits of
the gap that the ALM would need large σ for. Memory O(nnz(A_S) + k d² + n k). Nothing here is
trusted: the caller certifies the result on all constraints.

Settings (:data:`_SIGMA0` = 100, growth 5, polish below a gap of 1e-3) were chosen on
gaussian_classes(k = 1000, d = 64, per_class = 20, seed 10000), from 1 and 1e-2 (measured there:
σ₀ = 1 spent 30 s CPU on active sets of 113 k constraints; polishing at 1e-2 took 4 active-set
rounds of ~8 s for a 2× smaller gap).
"""
from __future__ import annotations

import time

import numpy as np
import scipy.sparse
import scipy.sparse.linalg

_GAP_TARGET = 1e-9     # default full relative duality gap at which the iterations stop
_SIGMA0, _SIGMA_GROWTH, _SIGMA_MAX = 100.0, 5.0, 1e5
_STALL = 3             # outer iterations without a better gap after which the iterations stop
_POLISH_BELOW = 1e-3   # full gap below which the active-set solve on the support is tried
_POLISH_ROUNDS = 4     # active-set rounds per try


def _class_blocks(rows: scipy.sparse.csr_array, shape: tuple, sigma: float,
                  row_ids: np.ndarray | None = None, cache: dict | None = None):
    """Inverses of the d × d diagonal blocks of I + σ A_Jᵀ A_J (``rows`` = A_J), one per row of W
    (k × d), or None when the rows are not multiclass margin rows (2d nonzeros each, as built by
    ``numerics.maxmargin.constraint_rows``: ±x_i on the columns of two class rows of W).

    With ``row_ids`` (the rows' ids in a fixed numbering, ascending) and a ``cache`` dict kept
    between calls, only the blocks of classes whose rows (or σ) changed since the last call are
    formed and inverted again; the others are the previous call's arrays, which are the same bits
    (each block is formed and inverted by itself: ``np.linalg.inv`` inverts a stack matrix by
    matrix). At 20 000 × 64, k = 1000 the inverses cost ~0.16 s CPU per Newton step (216 steps)."""
    if len(shape) != 2:
        return None
    k, d = shape
    if rows.nnz != 2 * d * rows.shape[0] or not np.all(np.diff(rows.indptr) == 2 * d):
        return None
    V = rows.data.reshape(-1, 2, d)
    cls = rows.indices.reshape(-1, 2, d)
    owner = cls[:, :, 0] // d
    if not np.all(cls // d == owner[:, :, None]):
        return None
    owner, V = owner.ravel(), V.reshape(-1, d)
    order = np.argsort(owner, kind="stable")
    owner, V = owner[order], V[order]
    bounds = np.searchsorted(owner, np.arange(k + 1))
    if cache is None or row_ids is None:
        todo, inverse = np.arange(k), np.empty((k, d, d))
    else:
        keys = (2 * np.repeat(np.asarray(row_ids, dtype=np.int64), 2) + np.tile([0, 1], row_ids.size))[order]
        if cache.get("sigma") != sigma or cache.get("shape") != (k, d):
            todo, inverse = np.arange(k), np.empty((k, d, d))
        else:
            old_keys, old_bounds, inverse = cache["keys"], cache["bounds"], cache["inverse"].copy()
            sizes = np.diff(bounds)
            same = sizes == np.diff(old_bounds)
            for a in np.flatnonzero(same & (sizes > 0)):
                same[a] = np.array_equal(keys[bounds[a]:bounds[a + 1]], old_keys[old_bounds[a]:old_bounds[a + 1]])
            todo = np.flatnonzero(~same)
        cache.update(sigma=sigma, shape=(k, d), keys=keys, bounds=bounds)
    blocks = np.zeros((todo.size, d, d))
    for j, a in enumerate(todo):
        if bounds[a + 1] > bounds[a]:
            seg = V[bounds[a]:bounds[a + 1]]
            blocks[j] = seg.T @ seg
    blocks *= sigma
    blocks[:, np.arange(d), np.arange(d)] += 1.0
    inverse[todo] = np.linalg.inv(blocks)
    if cache is not None and row_ids is not None:
        cache["inverse"] = inverse
    return inverse


def _apply_blocks(inverse: np.ndarray, v: np.ndarray) -> np.ndarray:
    k, d, _ = inverse.shape
    return np.matmul(inverse, v.reshape(k, d, 1)).ravel()


class _Alm:
    """The subproblems of the ALM on the rows A (csr; Aᵀ is its csc view, never converted)."""

    def __init__(self, A, shape, deadline, cache: dict | None = None):
        self.A = scipy.sparse.csr_array(A)
        self.shape, self.deadline = shape, deadline
        self.cg_iterations = 0
        # preconditioner blocks of the last Newton step (rows keep their ids when rows are appended)
        self.cache = {} if cache is None else cache

    @property
    def AT(self):
        return self.A.T

    def late(self) -> bool:
        return self.deadline is not None and time.process_time() > self.deadline

    def phi(self, w, lam, sigma):
        mu = np.maximum(lam - sigma * (self.A @ w - 1.0), 0.0)
        return 0.5 * w @ w + 0.5 / sigma * mu @ mu, mu

    def subproblem(self, w, lam, sigma, tol, max_newton=50):
        """Semismooth Newton on φ_σ(·; λ) from w until ‖∇φ_σ‖ ≤ tol; (w, λ⁺). The block-diagonal
        preconditioner is that of every step's own active rows (a stale one cost 3× the CG
        iterations); only the blocks of classes whose active rows changed are re-formed
        (:func:`_class_blocks` with the cache, the same bits)."""
        value, mu = self.phi(w, lam, sigma)
        for _ in range(max_newton):
            grad = w - self.AT @ mu
            gnorm = np.linalg.norm(grad)
            if gnorm <= tol or self.late():
                break
            J = np.flatnonzero(mu > 0)
            AJ = self.A[J]
            AJT = AJ.T
            blocks = _class_blocks(AJ, self.shape, sigma, J, self.cache)
            H = scipy.sparse.linalg.LinearOperator((w.size,) * 2, dtype=float,
                                                   matvec=lambda v: v + sigma * (AJT @ (AJ @ np.ravel(v))))
            M = None if blocks is None else scipy.sparse.linalg.LinearOperator(
                (w.size,) * 2, dtype=float, matvec=lambda v, inv=blocks: _apply_blocks(inv, np.ravel(v)))
            count = [0]

            def cb(_):
                count[0] += 1
            d, _ = scipy.sparse.linalg.cg(H, -grad, rtol=min(0.1, gnorm ** 0.5), maxiter=500, M=M,
                                          callback=cb)
            self.cg_iterations += count[0]
            slope = grad @ d
            step = 1.0
            while True:
                new_value, new_mu = self.phi(w + step * d, lam, sigma)
                if new_value <= value + 1e-4 * step * slope or step < 1e-10:
                    break
                step *= 0.5
            w, value, mu = w + step * d, new_value, new_mu
        return w, mu


def _normal_equations(A, J: np.ndarray, x0: np.ndarray, deadline: float | None):
    """The equality-constrained solution on the rows J: ν = argmin ½‖A_Jᵀν‖² − Σν (A_J A_Jᵀ ν = 1
    by conjugate gradients from x0), w = A_Jᵀ ν. Returns (w, ν)."""
    AJ = A[J]
    AJT = AJ.T
    op = scipy.sparse.linalg.LinearOperator((J.size,) * 2, dtype=float,
                                            matvec=lambda v: AJ @ (AJT @ np.ravel(v)))
    state = {"nu": x0}

    def stop_when_late(nu):
        state["nu"] = nu
        if deadline is not None and time.process_time() > deadline:
            raise StopIteration
    try:
        state["nu"] = scipy.sparse.linalg.cg(op, np.ones(J.size), x0=x0, rtol=1e-12, maxiter=5 * J.size,
                                             callback=stop_when_late)[0]
    except StopIteration:
        pass
    return AJT @ state["nu"], state["nu"]


def _active_set_polish(A, lam: np.ndarray, full_gap, target: float, deadline: float | None,
                       rounds: int = _POLISH_ROUNDS, verbose: bool = False):
    """Primal-dual active set steps from the support J = {λ > 0}: the equality-constrained solution
    on J (:func:`_normal_equations`), then J ← {ν > 0} ∪ {rows of A with margin < 1}, while the
    full gap (``full_gap(w, λ)``) improves. Exact once J is the optimal support and ν ≥ 0. Returns
    (gap, w, λ) of the best round (λ = ν clipped at 0, zero off J)."""
    J = np.flatnonzero(lam > 0)
    x0, best = lam[J], (np.inf, None, None)
    for _ in range(rounds):
        w, nu = _normal_equations(A, J, x0, deadline)
        full = np.zeros(lam.size)
        full[J] = np.clip(nu, 0.0, None)
        gap = full_gap(w, full)
        if verbose:
            print(f"  active set on {J.size}: gap {gap:.2e} negative {np.count_nonzero(nu < 0)} "
                  f"t {time.process_time():.1f}", flush=True)
        if not gap < best[0]:
            break
        best = (gap, w, full)
        if gap <= target or (deadline is not None and time.process_time() > deadline):
            break
        J = np.union1d(J[nu > 0], np.flatnonzero(A @ w < 1.0))
        x0 = full[J]
    return best


def solve_fro_lazy(rows_of, margins_of, index: np.ndarray, lam0: np.ndarray | None, size: int,
                   shape: tuple, deadline: float | None = None, target: float = _GAP_TARGET,
                   verbose: bool = False, min_margin_of=None, below_of=None):
    """(w, λ) for min ½‖w‖² s.t. A w ≥ 1 on ALL ``size`` constraints, by the augmented Lagrangian
    method with its constraints kept lazily: a constraint outside the working set S has λ = 0 and
    enters φ_σ only if its margin is < 1, so after each subproblem on S the full margins
    (``margins_of(w)``, matrix free) are checked and every such constraint is added to S (at most
    |S| of them at a time, the smallest margins first) and the subproblem re-solved; with none
    left the iterate is the full problem's ALM iterate. At the end the equality-constrained
    solution on the support (:func:`_normal_equations`) is tried. Returns the pair with the
    smallest full duality gap: w (vec W) and λ (flat, ``size``; zero off S).

    ``rows_of(index)`` builds the sparse rows of flat constraint indices; ``lam0`` (on ``index``)
    warm-starts λ; the iterations stop at a full relative gap ≤ ``target``, after :data:`_STALL`
    outer iterations without progress, or after ``deadline`` (process CPU time).

    ``min_margin_of(w)`` (the smallest full margin) and ``below_of(w)`` (flat indices, ascending, and
    values of the full margins < 1) may replace the two uses of ``margins_of``; they must return what
    ``margins_of`` gives, bit for bit (:func:`numerics.maxmargin._min_margin`, ``_margins_below``
    skip forming the n(k − 1) margins: ~0.15 s instead of ~0.5 s CPU at 20 000 × 64, k = 1000)."""
    if min_margin_of is None:
        def min_margin_of(w):
            return float(np.min(margins_of(w)))
    if below_of is None:
        def below_of(w):
            margins = margins_of(w)
            new = np.flatnonzero(margins < 1.0)
            return new, margins[new]
    index = np.asarray(index, dtype=np.int64)
    A = scipy.sparse.csr_array(rows_of(index))
    lam = np.zeros(index.size) if lam0 is None else np.clip(np.asarray(lam0, dtype=float), 0.0, None)
    alm = _Alm(A, shape, deadline)
    w = alm.AT @ lam
    sigma = _SIGMA0

    def full_gap(w, lam_s):
        low = float(min_margin_of(w))
        dual_norm = np.linalg.norm(alm.AT @ lam_s)
        if not low > 0 or not dual_norm > 0:
            return np.inf
        primal = np.linalg.norm(w) / low
        return (primal - lam_s.sum() / dual_norm) / primal

    in_set = np.zeros(size, dtype=bool)
    in_set[index] = True
    best, best_gap, stalled = None, np.inf, 0
    for outer in range(100):
        scale = max(np.linalg.norm(w), 1.0)
        for _ in range(50):
            w_new, mu = alm.subproblem(w, lam, sigma, tol=1e-3 / sigma * scale)
            new, values = below_of(w_new)
            outside = ~in_set[new]
            new, values = new[outside], values[outside]
            if new.size == 0 or alm.late():
                break
            if new.size > index.size:
                new = new[np.argsort(values, kind="stable")[:index.size]]
            index = np.concatenate([index, new])
            in_set[new] = True
            alm = _Alm(scipy.sparse.vstack([alm.A, rows_of(new)], format="csr"), shape, deadline, alm.cache)
            lam = np.concatenate([lam, np.zeros(new.size)])
        w, lam = w_new, mu
        gap = full_gap(w, lam)
        if verbose:
            print(f"  alm {outer}: sigma {sigma:.0e} |S| {index.size} gap {gap:.2e} active "
                  f"{np.count_nonzero(lam)} cg {alm.cg_iterations} t {time.process_time():.1f}", flush=True)
        if gap < best_gap:
            best, best_gap, stalled = (w, lam, index), gap, 0
        else:
            stalled += 1
        if best_gap <= target or stalled >= _STALL or alm.late():
            break
        if gap <= _POLISH_BELOW:   # support nearly settled: try the exact solve on it
            gap_as, w_as, lam_as = _active_set_polish(alm.A, lam, full_gap, target, deadline, verbose=verbose)
            if gap_as < best_gap:
                best, best_gap = (w_as, lam_as, index), gap_as
            if best_gap <= target or alm.late():
                break
        sigma = min(sigma * _SIGMA_GROWTH, _SIGMA_MAX)
    w, lam_s, index = best
    lam = np.zeros(size)
    lam[index] = lam_s
    return w, lam
