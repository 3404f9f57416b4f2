"""Certified max-margin classifiers of linear models under any registered norm.

    1/γ* = min ‖W‖  s.t.  A(W) ≥ 1                 (min-norm form of the max-margin problem;
                                                    Gunasekar et al. 2018 for the binary model,
                                                    Fan, Schmidt, Thrampoulidis 2025 for multiclass)

Only a few margin constraints are active at the optimum (the support vectors), so the problem is
solved by constraint generation: a restricted problem on a working set S of constraints, then every
sample with a constraint that the restricted solution violates adds its most violated ones to S
(up to 2^r in round r, S at most doubling: :func:`_most_violated`).
S starts from the few smallest margins of each label pair (y_i, c) under a separating classifier,
so that the first restricted problem already constrains every pair of classes (a start from each
sample's worst class leaves pairs out, and costs several extra rounds). Multipliers of S padded with zeros stay dual feasible for the full
problem and W rescaled by its smallest margin is primal feasible, so every round is certified on
the full data by weak duality (:func:`numerics.certificate.certify`); the loop stops once the
relative duality gap is ≤ tol. Nothing a solver reports is trusted beyond its status: the
certificate decides.

The n(k−1) × kd matrix of the margin map is never formed: A(W) and A*λ on all constraints are two
matrix products (``Classification.margins`` / ``adjoint``) and only the working set's rows are
built, sparse (:func:`constraint_rows`: 2d nonzeros per multiclass row), so memory is
O(nk + nd + |S|·d) and no problem size is refused, only a working set beyond
:data:`MAX_CONSTRAINT_ENTRIES` nonzeros. Everything is solved and certified on X/s, s the largest row norm
of X (:class:`DataScale`), and rescaled by γ*(cX) = c·γ*(X).

Solvers (:func:`restricted_solvers`): strictly convex norms (entrywise or Schatten p, 1 < p < ∞) go
first to the generic dual method of :mod:`numerics.maxmargin_dual`; :data:`REGISTRY` maps each norm
kind to its constructions (:mod:`numerics.maxmargin_conic`: a HiGHS linear program for the entrywise
1- and ∞-norms, then Clarabel conic programs), so adding a norm kind is one entry. Solvers are
tried in order until one certifies; if none does, the multipliers of the best point are re-solved
on its active constraints (``→refine``), and the best certified point is returned, with status
``inaccurate`` if its gap is still above tol and a ``note`` saying why.

Many classes (k(k − 1)·3 > 2n): the first working set and a separating classifier come from the
matrix-free dual coordinate method of :mod:`numerics.maxmargin_cd`, whose pair (W, λ) is also
certified under the requested norm as a fallback bracket. The Frobenius norm is then solved on all
constraints by the augmented Lagrangian method of :mod:`numerics.maxmargin_alm`, which keeps its
constraints lazily (a constraint enters only once its margin drops below 1) and ends with an exact
active-set solve on the support; the ∞ norms keep the working-set solvers. LP/conic solves on more than
:data:`MAX_CONIC_ROWS` rows and Schatten 1/∞ LMIs of order above :data:`MAX_LMI_ORDER` are refused
(their factorizations outgrow memory); ``cpu_budget`` bounds a solve's CPU time.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import scipy.optimize
import scipy.sparse
import sympy as sp
from threadpoolctl import threadpool_limits

from numerics.certificate import Certificate, certify
from numerics.classification import Classification, DataError, NotSeparableError
from numerics.run_status import RunStatus, status_field
from numerics.maxmargin_conic import (ConicError, cvxpy_atom, solve_dual, solve_lp, solve_nuclear_dual,
                                      solve_primal)
from numerics.maxmargin_cd import separating_start
from numerics.maxmargin_dual import solve_dual_newton
from numerics.maxmargin_alm import solve_fro_lazy
from theory.norms import Entrywise, Norm, NormError, Schatten


_INITIAL_PER_GROUP = 3   # initial working set: the smallest margins of each label pair
_ACTIVE = 1e-3           # relative margin excess below which a constraint counts as active


class SolverError(RuntimeError):
    """A solver failed outright (the message names the solver and its status)."""


@dataclass(frozen=True)
class MaxMarginSolution:
    norm: Norm
    model: str                 # "binary" | "multiclass"
    W: np.ndarray              # min-norm form: scaled so that min A(W) = 1
    lam: np.ndarray            # dual multipliers, shape (n, C), dual feasible (‖A*λ‖_* ≤ 1)
    certificate: Certificate   # recomputed from the data by numerics.certificate.certify
    solver: str                # the restricted solver that produced (W, λ)
    status: RunStatus = status_field()   # OK (certified gap ≤ tol) | INACCURATE (best found, gap > tol)
    seconds: float
    note: str = ""             # why the gap is above tol, when it is (budget, refused solvers)

    @property
    def margin(self) -> float:
        """γ attained by W (a certified lower bound on γ*)."""
        return self.certificate.margin_lower

    @property
    def direction(self) -> np.ndarray:
        return self.W / self.norm.value(self.W)


# A restricted solver: (A_S, parameter shape, warm-start λ_S or None) -> (vec W, λ_S).
Restricted = Callable[[np.ndarray, tuple, "np.ndarray | None"], tuple[np.ndarray, np.ndarray]]


MAX_LMI_ORDER = 600   # largest k + m of a Schatten 1/∞ LMI handed to Clarabel (k = 10, m ≤ 512 measured)


def _remaining(deadline: float | None) -> float | None:
    """CPU seconds of this process left before ``deadline`` (a ``time.process_time()`` value)."""
    return None if deadline is None else max(deadline - time.process_time(), 0.0)


MAX_CONIC_ROWS = 50_000   # working-set rows handed to HiGHS or Clarabel (measured failures at 78–98 k)


def _check_conic_rows(A) -> None:
    """Refuse an LP/conic restricted solve on more than :data:`MAX_CONIC_ROWS` constraints: at
    20 000 × 64, k = 1000, Clarabel's factorization on 78 394 rows was killed for memory and HiGHS's
    LP on ~98 000 rows × 64 001 columns grew past 10 GB (docs/claims/maxmargin-solvers.md)."""
    if A.shape[0] > MAX_CONIC_ROWS:
        raise ConicError(f"working set of {A.shape[0]} constraints > {MAX_CONIC_ROWS}: too large for the "
                         f"LP/conic solvers (their factorizations outgrow memory)")


def _check_lmi(norm: Norm, shape: tuple) -> None:
    """Refuse a Schatten 1/∞ conic program whose LMI [[·, W], [Wᵀ, ·]] has order k + m above
    :data:`MAX_LMI_ORDER` (its semidefinite cone has (k + m)(k + m + 1)/2 entries, and the
    interior-point scaling of that cone is dense)."""
    if isinstance(norm, Schatten) and len(shape) == 2 and sum(shape) > MAX_LMI_ORDER:
        raise ConicError(f"the {norm.name} LMI would have order k + m = {shape[0]} + {shape[1]} = "
                         f"{sum(shape)} > {MAX_LMI_ORDER} (no conic construction at this many classes)")


def _clarabel(norm: Norm, deadline: float | None = None) -> tuple[str, Restricted]:
    atom = cvxpy_atom(norm)

    def solve(A, shape, lam0):
        _check_lmi(norm, shape)
        _check_conic_rows(A)
        return solve_primal(A, shape, atom)[:2]
    return "clarabel", solve


def _highs(norm: Entrywise, deadline: float | None = None) -> tuple[str, Restricted]:
    def solve(A, shape, lam0):
        _check_conic_rows(A)
        return solve_lp(A, shape, norm.p, _remaining(deadline))[:2]
    return "highs-lp", solve


def _nuclear_dual(norm: Schatten, deadline: float | None = None) -> tuple[str, Restricted]:
    def solve(A, shape, lam0):
        _check_lmi(norm, shape)
        _check_conic_rows(A)
        return solve_nuclear_dual(A, shape)[:2]
    return "clarabel-dual", solve


# Norm kind -> its constructions, in the order tried (each given the norm and the CPU deadline).
REGISTRY: dict[type, Callable[[Norm, "float | None"], list[tuple[str, Restricted]]]] = {
    Entrywise: lambda norm, deadline: ([_highs(norm, deadline)] if norm.p in (1, sp.oo) else [])
    + [_clarabel(norm, deadline)],
    Schatten: lambda norm, deadline: {1: [_nuclear_dual(norm, deadline), _clarabel(norm, deadline)],
                                      sp.oo: [_clarabel(norm, deadline)]}.get(norm.p, []),
}


def restricted_solvers(norm: Norm, deadline: float | None = None) -> list[tuple[str, Restricted]]:
    """The solvers tried for ``norm``: the generic dual method first when the norm is strictly
    convex (it needs only the norm's oracles and reaches machine precision), then the conic
    constructions of :data:`REGISTRY`. ``deadline`` (process CPU time) stops the dual method and
    HiGHS early; their best point so far is then certified like any other."""
    if type(norm) not in REGISTRY:
        raise NormError(f"no max-margin solver is registered for the norm {norm.name}")
    smooth = [("dual-newton", lambda A, shape, lam0: solve_dual_newton(A, shape, norm, lam0, deadline))]
    return (smooth if norm.strictly_convex else []) + REGISTRY[type(norm)](norm, deadline)


def _groups(problem: Classification) -> np.ndarray:
    """The group of each margin constraint (flat, C order): the label pair (y_i, c) in the
    multiclass model, the label y_i in the binary one."""
    if problem.model == "binary":
        return problem.y
    return (problem.y[:, None] * problem.k + problem.others).ravel()


def _smallest_per_group(problem: Classification, margins: np.ndarray, count: int) -> np.ndarray:
    """Flat indices of the ``count`` smallest margins of every group."""
    groups = _groups(problem)
    order = np.lexsort((margins, groups))
    first = np.searchsorted(groups[order], groups[order], side="left")
    return order[np.arange(order.size) - first < count]


def _worst_per_sample(margins: np.ndarray, exclude: np.ndarray, below: float = 1.0,
                      count: int = 1) -> np.ndarray:
    """Flat indices of each sample's ``count`` smallest margins outside ``exclude``, those < ``below``."""
    m = margins.copy()
    m.ravel()[exclude] = np.inf
    count = min(count, m.shape[1])
    cls = np.argpartition(m, count - 1, axis=1)[:, :count] if count > 1 else m.argmin(axis=1)[:, None]
    rows = np.arange(m.shape[0])[:, None]
    keep = m[rows, cls] < below
    return (rows * m.shape[1] + cls)[keep]


def _most_violated(margins: np.ndarray, n: int, working: np.ndarray, count: int) -> np.ndarray:
    """The constraints a constraint-generation round adds: up to ``count`` violated ones (margin
    < 1) per sample, at most as many in all as the working set has (the most violated first), so
    that the working set at most doubles per round and never outgrows twice what it needs."""
    new = _worst_per_sample(margins.reshape(n, -1), working, 1.0, count)
    if new.size > working.size:
        new = new[np.argsort(margins.ravel()[new], kind="stable")[:working.size]]
    return new


def constraint_rows(problem: Classification, index: np.ndarray,
                    features: np.ndarray | None = None) -> scipy.sparse.csr_array:
    """The rows ``index`` (flat, C order of (i, c)) of the margin map A as a sparse |index| × (number
    of parameters) array: y_i x_iᵀ (binary) or (e_{y_i} − e_c) x_iᵀ (multiclass, 2d nonzeros of kd).
    Only working sets are formed; A(W) and A*λ on all constraints are ``problem.margins`` and
    ``problem.adjoint``. ``features`` (one row per entry of ``index``, any number m of columns)
    replaces the samples' x_i: with the rows of X Q it gives the margin map of W ↦ W Qᵀ."""
    index = np.asarray(index, dtype=np.int64)
    i, j = np.divmod(index, 1 if problem.model == "binary" else problem.k - 1)
    F = problem.X[i] if features is None else features
    m = F.shape[1]
    if problem.model == "binary":
        return scipy.sparse.csr_array(problem.y[i, None] * F)
    first, second = problem.y[i], problem.others[i, j]
    low, high = np.minimum(first, second), np.maximum(first, second)
    sign = np.where(first < second, 1.0, -1.0)[:, None]      # columns sorted within each row
    data = np.concatenate([sign * F, -sign * F], axis=1)
    cols = np.concatenate([low[:, None] * m + np.arange(m), high[:, None] * m + np.arange(m)], axis=1)
    return scipy.sparse.csr_array((data.ravel(), cols.ravel(), np.arange(index.size + 1) * 2 * m),
                                  shape=(index.size, problem.k * m))


def _flat_margins(problem: Classification, w: np.ndarray) -> np.ndarray:
    return problem.margins(np.asarray(w).reshape(problem.param_shape)).ravel()


def _class_scores(problem: Classification, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Z_{i,y_i}, Z) with Z = X Wᵀ, as ``Classification.margins`` computes them (multiclass)."""
    Z = problem.X @ np.asarray(w, dtype=float).reshape(problem.param_shape).T
    return Z[np.arange(problem.n), problem.y], Z


def _min_margin(problem: Classification, w: np.ndarray) -> float:
    """min A(W), the same float as ``_flat_margins(problem, w).min()`` without forming the n(k − 1)
    margins: rounding is monotone, so min_c fl(Z_{iy} − Z_{ic}) = fl(Z_{iy} − max_{c≠y} Z_{ic})
    (NaN propagates through both). ~0.15 s instead of ~0.5 s CPU at 20 000 × 64, k = 1000."""
    if problem.model == "binary":
        return float(_flat_margins(problem, w).min())
    own, Z = _class_scores(problem, w)
    Z[np.arange(problem.n), problem.y] = -np.inf
    return float(np.min(own - np.max(Z, axis=1)))


def _margins_below(problem: Classification, w: np.ndarray, level: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(flat indices in ascending order, values) of the margins of W below ``level``: the same as
    ``np.flatnonzero(m < level)`` and ``m[...]`` for m = ``_flat_margins(problem, w)``, bit for bit,
    without gathering the n(k − 1) margins into a new array."""
    if problem.model == "binary":
        margins = _flat_margins(problem, w)
        index = np.flatnonzero(margins < level)
        return index, margins[index]
    own, Z = _class_scores(problem, w)
    np.subtract(own[:, None], Z, out=Z)   # the margins of Classification.margins, class y_i included
    below = Z < level
    below[np.arange(problem.n), problem.y] = False
    i, c = np.nonzero(below)
    return i * (problem.k - 1) + c - (c > problem.y[i]), Z[i, c]


def _check_rows(problem: Classification, count: int) -> None:
    """Refuse a working set whose sparse rows would hold more than :data:`MAX_CONSTRAINT_ENTRIES`
    nonzeros (each row has d of them in the binary model, 2d in the multiclass one)."""
    per_row = problem.d if problem.model == "binary" else 2 * problem.d
    if count * per_row > MAX_CONSTRAINT_ENTRIES:
        raise DataError(f"problem too large: a working set of {count} margin constraints × {per_row} "
                        f"nonzeros = {count * per_row:.3g} entries ({count * per_row * 12 / 2**30:.1f} GiB) "
                        f"exceeds the limit of {MAX_CONSTRAINT_ENTRIES:.3g} entries")


class _WorkingSet:
    """Flat constraint indices and their sparse rows, grown by appending."""

    def __init__(self, problem: Classification, index: np.ndarray):
        self.problem = problem
        _check_rows(problem, index.size)
        self.index, self.rows = index, constraint_rows(problem, index)

    def add(self, new: np.ndarray) -> None:
        _check_rows(self.problem, self.index.size + new.size)
        self.index = np.concatenate([self.index, new])
        self.rows = scipy.sparse.vstack([self.rows, constraint_rows(self.problem, new)], format="csr")

    def restricted(self, norm: Norm) -> tuple[scipy.sparse.csr_array, tuple, Callable]:
        """(rows, parameter shape, lift to W) of the restricted problem. For a Schatten norm W is
        searched in the row space of the working set's samples, W = Ŵ Qᵀ with Q (d × m) an
        orthonormal basis: A(Ŵ Qᵀ) only sees the samples' coordinates Qᵀx_i, and ‖W Q Qᵀ‖ ≤ ‖W‖
        (σ_j(WP) ≤ σ_j(W) for a projector P), so the restricted optimum has this form; the rows
        shrink from kd to km columns (m ≤ the number of samples in the set). Used for the nuclear
        and spectral norms (conic programs whose size grows with (k + m)²), not for the dual
        method, which was slower on the reduced rows."""
        problem = self.problem
        full = (self.rows, problem.param_shape, lambda w: np.reshape(w, problem.param_shape))
        if not isinstance(norm, Schatten) or norm.strictly_convex:   # measured: only the SDPs gain
            return full
        samples = self.index // (problem.k - 1)
        basis, sigma, _ = np.linalg.svd(problem.X[np.unique(samples)].T, full_matrices=False)
        basis = basis[:, sigma > sigma.max(initial=0.0) * max(basis.shape) * np.finfo(float).eps]
        if basis.shape[1] >= problem.d:
            return full
        shape = (problem.k, basis.shape[1])
        rows = constraint_rows(problem, self.index, problem.X[samples] @ basis)
        return rows, shape, lambda w: np.reshape(w, shape) @ basis.T


def _initial_working_set(problem: Classification, margins: np.ndarray) -> np.ndarray:
    """The ``_INITIAL_PER_GROUP`` smallest margins of each label pair, or, when label pairs
    outnumber the samples (many classes), each sample's smallest margin."""
    groups = 2 if problem.model == "binary" else problem.k * (problem.k - 1)
    if groups * _INITIAL_PER_GROUP <= 2 * problem.n:
        return _smallest_per_group(problem, margins, _INITIAL_PER_GROUP)
    return _worst_per_sample(margins.reshape(problem.n, -1), np.empty(0, dtype=np.int64), np.inf)


def _many_classes(problem: Classification) -> bool:
    """Label pairs outnumber the samples (k(k − 1)·3 > 2n): the regime of :func:`_initial_working_set`
    where each sample's smallest margin starts the working set, and of the dual coordinate start."""
    return problem.model == "multiclass" and problem.k * (problem.k - 1) * _INITIAL_PER_GROUP > 2 * problem.n


def _separating(problem: Classification, max_rounds: int = 50):
    """(w, S, λ): a W with A(W) > 0, the working set S that produced it and, when they come from
    the dual coordinate method, its multipliers λ (n, k − 1), else None. With many classes
    (:func:`_many_classes`) W is the iterate of the dual coordinate method
    (:func:`numerics.maxmargin_cd.separating_start`: the first sweep that separates; S = its
    support and the constraints it violates in min-norm scale; the class-centroid classifier may
    separate too, but its working set of each sample's smallest margin grew 20 000 → 245 191
    constraints at 20 000 × 64, k = 1000); else the class-centroid classifier A*(1) if it
    separates (S empty); else the ℓ2 min-norm classifier of S (:func:`_separating_restricted`), grown by
    constraint generation until W separates (rounds as in :func:`_constraint_generation`). An
    infeasible working set proves the full problem infeasible (it has more constraints)."""
    if _many_classes(problem):
        try:
            W, index, lam = separating_start(problem)
            return W.ravel(), index, lam
        except RuntimeError:   # no sweep separated: the working-set search below decides
            pass
    per_sample = 1 if problem.model == "binary" else problem.k - 1
    w = problem.adjoint(np.ones((problem.n, per_sample))).ravel()
    margins = _flat_margins(problem, w)
    if margins.min() > 0:
        return w, np.empty(0, dtype=np.int64), None
    working = _WorkingSet(problem, _initial_working_set(problem, margins))
    for round_ in range(max_rounds):
        w = _separating_restricted(problem, working.rows)
        margins = _flat_margins(problem, w)
        if margins.min() > 0:
            return w, working.index, None
        working.add(_most_violated(margins, problem.n, working.index, 2 ** round_))
    raise SolverError(f"no separating classifier found in {max_rounds} constraint-generation rounds")


def _separating_restricted(problem: Classification, rows) -> np.ndarray:
    """The ℓ2 min-norm classifier of the rows by the dual method if it separates them, else by
    Clarabel, else a feasible point of HiGHS (which proves the rows infeasible if they are: the
    dual method has no infeasibility verdict)."""
    l2 = Entrywise(sp.Integer(2), vector=problem.model == "binary")
    w = solve_dual_newton(rows, problem.param_shape, l2)[0]
    if (rows @ w).min() > 0:
        return w
    try:
        return solve_primal(rows, problem.param_shape, cvxpy_atom(l2))[0]
    except ConicError:
        return _feasible_point(problem, rows)


def _feasible_point(problem: Classification, A: np.ndarray) -> np.ndarray:
    """A solution of A w ≥ 1 by the HiGHS LP solver, or NotSeparableError if there is none."""
    result = scipy.optimize.linprog(np.zeros(A.shape[1]), A_ub=-A, b_ub=-np.ones(A.shape[0]),
                                    bounds=(None, None), method="highs")
    if result.status == 2:
        raise NotSeparableError(f"the data are not linearly separable: no {problem.model} linear "
                                f"classifier has a positive margin on all {problem.n} samples")
    if result.status != 0:
        raise SolverError(f"highs separability LP failed: {result.message}")
    return result.x


def _constraint_generation(problem: Classification, norm: Norm, solve: Restricted,
                           index: np.ndarray, tol: float, max_rounds: int = 50,
                           deadline: float | None = None):
    """Best certified (W, λ, certificate) of a restricted solver over constraint-generation rounds.
    Round r adds up to 2^r of the most violated constraints of each violating sample
    (:func:`_most_violated`): a sample whose support has s constraints (up to k − 1 with many
    classes) is covered after O(log s) rounds. No round starts after ``deadline`` (CPU time)."""
    lam0, best = None, None
    working = _WorkingSet(problem, index)
    size = problem.margins(np.zeros(problem.param_shape)).size
    for round_ in range(max_rounds):
        rows, shape, lift = working.restricted(norm)
        w, lam_s = solve(rows, shape, lam0)
        lam = np.zeros(size)
        lam[working.index] = np.clip(lam_s, 0.0, None)
        W = lift(w)
        cert = certify(problem, norm, W, lam.reshape(problem.n, -1))
        if best is None or cert.relative_gap < best[2].relative_gap:
            best = (W, lam, cert)
        scale = (rows @ w).min()
        if cert.relative_gap <= tol or not scale > 0 or _remaining(deadline) == 0.0:
            break
        new = _most_violated(_flat_margins(problem, W) / scale, problem.n, working.index, 2 ** round_)
        if new.size == 0:
            break
        working.add(new)
        lam0 = lam[working.index]   # warm start: zero on the new constraints
    return best



def _refine_multipliers(problem: Classification, norm: Norm, W: np.ndarray,
                        lam: np.ndarray, cert: Certificate, name: str):
    """Re-solve the dual max Σλ s.t. ‖A*λ‖_* ≤ 1 on the constraints that W makes active (within
    ``_ACTIVE``): interior-point multipliers are often less accurate than the primal point. The
    refined pair is kept only if its certificate is better."""
    dual_atom = cvxpy_atom(norm.dual)
    if dual_atom is None:
        return W, lam, cert, name
    margins = _flat_margins(problem, W)
    active = np.flatnonzero(margins <= margins.min() * (1 + _ACTIVE))
    try:
        _check_rows(problem, active.size)
        _check_lmi(norm.dual, problem.param_shape)
        if active.size > MAX_CONIC_ROWS:
            raise ConicError(f"{active.size} active constraints > {MAX_CONIC_ROWS}")
        lam_active = solve_dual(constraint_rows(problem, active), problem.param_shape, dual_atom)[0]
    except (ConicError, DataError):
        return W, lam, cert, name
    refined = np.zeros(margins.size)
    refined[active] = np.clip(lam_active, 0.0, None)
    refined_cert = certify(problem, norm, W, refined.reshape(problem.n, -1))
    if refined_cert.relative_gap < cert.relative_gap:
        return W, refined, refined_cert, f"{name}→refine"
    return W, lam, cert, name


@dataclass(frozen=True)
class DataScale:
    """A scale s = 2^e · r of the data X derived from the data: the largest row norm, so that
    X/s has largest row norm 1. The power of two is split off first (exactly), so that neither the
    row norms nor s·m and w/s overflow or underflow in between for any finite X."""
    exponent: int
    mantissa: float   # r ∈ [2^-1, √d]: the largest row norm of X / 2^e

    @classmethod
    def of(cls, X: np.ndarray) -> "DataScale | None":
        """The scale of X, or None if X is zero (no classifier has a positive margin)."""
        top = float(np.abs(X).max(initial=0.0))
        if top == 0.0:
            return None
        exponent = int(np.frexp(top)[1])
        X2 = np.ldexp(X, -exponent)          # exact: entries of magnitude < 1
        return cls(exponent, float(np.sqrt(np.einsum("ij,ij->i", X2, X2).max())))

    def unit(self, X: np.ndarray) -> np.ndarray:
        return np.ldexp(X, -self.exponent) / self.mantissa

    def up(self, value):
        """s · value (a margin: γ*(X) = s γ*(X/s)); may be 0 or inf, which the caller refuses."""
        with np.errstate(over="ignore", under="ignore"):
            return np.ldexp(np.asarray(value, dtype=float) * self.mantissa, self.exponent)

    def down(self, value):
        """value / s (a classifier or multipliers: the min-norm W of X is that of X/s divided by s);
        may be 0 or inf, which the caller refuses."""
        with np.errstate(over="ignore", under="ignore"):
            return np.ldexp(np.asarray(value, dtype=float) / self.mantissa, -self.exponent)


def _unit_problem(problem: Classification) -> tuple[Classification, DataScale]:
    """The problem with X/s (s from :class:`DataScale`), or NotSeparableError if X = 0."""
    if problem.d == 0:
        raise DataError(f"X has no features (shape {problem.X.shape}): a linear classifier needs d ≥ 1")
    scale = DataScale.of(problem.X)
    if scale is None:
        raise NotSeparableError(f"the data are not linearly separable: X is zero, so every linear "
                                f"classifier has margin 0 on all {problem.n} samples")
    flat = np.asarray(problem.X).reshape(problem.n, -1)
    zero = np.flatnonzero(~np.any(flat != 0, axis=1))
    if zero.size:   # its margin is 0 under every W (binary and multiclass alike)
        raise NotSeparableError(f"the data are not linearly separable: sample {int(zero[0])} is the zero "
                                f"vector, so every linear classifier has margin 0 on it")
    return dataclasses.replace(problem, X=scale.unit(problem.X)), scale


def check_separable(problem: Classification) -> None:
    """Raise :class:`NotSeparableError` unless some W has a positive margin on every sample
    (decided on X/s, so the verdict does not depend on the scale of X)."""
    unit, _ = _unit_problem(problem)
    _separating(unit)


MAX_CONSTRAINT_ENTRIES = 500_000_000   # nonzeros of a working set's sparse rows (6 GB)


def max_margin(problem: Classification, norm: Norm, tol: float = 1e-6,
               cpu_budget: float | None = None) -> MaxMarginSolution:
    """The max-margin classifier of ``problem`` under ``norm``, certified to relative gap ``tol``.

    The problem is solved and certified on X/s (s the largest row norm of X, :class:`DataScale`):
    γ*(X) = s γ*(X/s), the min-norm classifier and the dual-feasible multipliers of X are those of
    X/s divided by s, and the relative gap is unchanged, so every answer and the separability
    verdict follow from the unit-scale problem whatever the scale of X.

    Raises NotSeparableError (non-separable data), NormError (no solver for this norm and model),
    DataError (no features, a working set too large, or an answer outside the float64 range at
    this scale),
    ValueError (tol not in (0, 1)) or SolverError (every solver failed outright).

    ``cpu_budget`` (seconds of process CPU time, None = no limit): no constraint-generation round
    or solver starts after it is spent, the dual method and HiGHS stop at it, and the best
    certified pair so far is returned (status ``inaccurate`` if its gap is above tol). Whenever the
    gap is above tol, ``note`` says why (the budget, or the solvers that failed or were refused)."""
    start = time.perf_counter()
    if not 0.0 < tol < 1.0:
        raise ValueError(f"tol must be a relative gap in (0, 1), got {tol!r}")
    if cpu_budget is not None and not cpu_budget > 0:
        raise ValueError(f"cpu_budget must be a positive number of seconds, got {cpu_budget!r}")
    deadline = None if cpu_budget is None else time.process_time() + cpu_budget
    if problem.model == "binary" and not isinstance(norm, Entrywise):
        raise NormError(f"{norm.name} needs a matrix model; the binary model has a vector w")
    solvers = restricted_solvers(norm, deadline)
    unit, scale = _unit_problem(problem)
    W, lam, name, note = _solve_unit(unit, norm, solvers, tol, deadline)
    cert = certify(unit, norm, W, lam)
    W, lam = scale.down(W), scale.down(lam)
    lower, upper = (float(scale.up(m)) for m in (cert.margin_lower, cert.margin_upper))
    if not (np.all(np.isfinite(W)) and np.isfinite(lower) and lower > 0 and upper > 0):
        raise DataError(f"the max-margin answer for X at scale {float(scale.up(1.0)):.3g} (largest row "
                        f"norm) is outside the float64 range (margin {lower:.3g}); rescale X")
    cert = Certificate(float(scale.down(cert.primal_value)), float(scale.down(cert.dual_value)),
                       cert.relative_gap, lower, upper)
    optimal = cert.relative_gap <= tol
    return MaxMarginSolution(norm, problem.model, W, lam, cert, name,
                             RunStatus.OK if optimal else RunStatus.INACCURATE,
                             time.perf_counter() - start, "" if optimal else note)


def _is_frobenius(problem: Classification, norm: Norm) -> bool:
    return problem.model == "multiclass" and isinstance(norm, Entrywise) and norm.p == 2


def _frobenius_alm(problem: Classification, norm: Norm, index: np.ndarray, lam0: np.ndarray, tol: float,
                   deadline: float | None, failures: list) -> tuple | None:
    """Many classes, Frobenius norm: the augmented Lagrangian method on all constraints, kept
    lazily (:func:`numerics.maxmargin_alm.solve_fro_lazy`), from the dual coordinate method's
    support ``index`` and multipliers ``lam0``; (W, λ, certificate on all constraints, name), or
    None if the method failed (the reason appended to ``failures``)."""
    held = [0]

    def rows_of(new):   # the working set's rows, within the memory limit of every working set
        held[0] += new.size
        _check_rows(problem, held[0])
        return constraint_rows(problem, new)
    try:
        w, lam = solve_fro_lazy(rows_of, lambda w: _flat_margins(problem, w), index, lam0.ravel()[index],
                                lam0.size, problem.param_shape, deadline, target=tol / 2,
                                min_margin_of=lambda w: _min_margin(problem, w),
                                below_of=lambda w: _margins_below(problem, w))
    except (DataError, np.linalg.LinAlgError) as exc:
        failures.append(f"alm-newton: {exc}")
        return None
    W = w.reshape(problem.param_shape)
    cert = certify(problem, norm, W, lam.reshape(problem.n, -1))
    if _remaining(deadline) == 0.0 and cert.relative_gap > tol:
        failures.append(f"alm-newton: stopped by the CPU budget at gap {cert.relative_gap:.2g}")
    return W, lam, cert, "alm-newton"


def _solve_unit(problem: Classification, norm: Norm, solvers, tol: float, deadline: float | None = None):
    """(W, λ, solver name, note) on the unit-scale problem: W in min-norm form (min A(W) = 1), λ dual
    feasible (‖A*λ‖_* = 1); the note says why the gap is above tol if it is. With many classes the
    separating pair of the dual coordinate method is itself certified under ``norm`` (a bracket
    for every norm) and kept if no solver does better."""
    with threadpool_limits(limits=1, user_api="blas"):   # small dense algebra: threads only cost
        W0, needed, lam0 = _separating(problem)   # the constraints ℓ2 needed: a start for every norm
        best, failures = None, []
        if lam0 is not None:
            W0 = W0.reshape(problem.param_shape)
            alm = _frobenius_alm(problem, norm, needed, lam0, tol, deadline, failures) \
                if _is_frobenius(problem, norm) else None
            if alm is not None and alm[2].relative_gap <= tol:   # certified: the fallback is not needed
                best, solvers = alm, []
            else:
                best = (W0, lam0.ravel(), certify(problem, norm, W0, lam0), "dual-cd separator")
                if alm is not None and alm[2].relative_gap < best[2].relative_gap:
                    best = alm
        if solvers:
            working = np.union1d(_initial_working_set(problem, _flat_margins(problem, W0)), needed)
        for name, solve in solvers:
            if _remaining(deadline) == 0.0:
                failures.append(f"{name}: not started, CPU budget spent")
                continue
            try:
                W, lam, cert = _constraint_generation(problem, norm, solve, working, tol, deadline=deadline)
            except (ConicError, np.linalg.LinAlgError) as exc:
                failures.append(f"{name}: {exc}")
                continue
            if _remaining(deadline) == 0.0 and cert.relative_gap > tol:
                failures.append(f"{name}: stopped by the CPU budget at gap {cert.relative_gap:.2g}")
            if best is None or cert.relative_gap < best[2].relative_gap:
                best = (W, lam, cert, name)
            if cert.relative_gap <= tol:
                break
        if (best is not None and np.isfinite(best[2].relative_gap) and best[2].relative_gap > tol
                and _remaining(deadline) != 0.0):
            best = _refine_multipliers(problem, norm, *best)
    if best is None or not np.isfinite(best[2].relative_gap):
        raise SolverError(f"no max-margin solver found a classifier for {norm.name}: "
                          + ("; ".join(failures) or "no positive margins"))
    W, lam, _, name = best
    W = W / _min_margin(problem, W)   # min A(W), bit for bit
    lam = lam.reshape(problem.n, -1)
    dual_norm = norm.dual.value(problem.adjoint(lam))
    lam = lam / dual_norm if dual_norm > 0 else lam
    return W, lam, name, "; ".join(failures) or "no solver reached the gap"
