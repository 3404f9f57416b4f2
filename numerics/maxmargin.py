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
``inaccurate`` if its gap is still above tol.
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
from numerics.maxmargin_conic import (ConicError, cvxpy_atom, solve_dual, solve_lp, solve_nuclear_dual,
                                      solve_primal)
from numerics.maxmargin_dual import solve_dual_newton
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
    status: str                # "optimal" (gap ≤ tol) | "inaccurate" (best found, gap > tol)
    seconds: float

    @property
    def margin(self) -> float:
        """γ attained by W (a certified lower bound on γ*)."""
        return self.certificate.margin_lower

    @property
    def direction(self) -> np.ndarray:
        return self.W / self.norm.value(self.W)


# A restricted solver: (A_S, parameter shape, warm-start λ_S or None) -> (vec W, λ_S).
Restricted = Callable[[np.ndarray, tuple, "np.ndarray | None"], tuple[np.ndarray, np.ndarray]]


def _clarabel(norm: Norm) -> tuple[str, Restricted]:
    atom = cvxpy_atom(norm)
    return "clarabel", lambda A, shape, lam0: solve_primal(A, shape, atom)[:2]


def _highs(norm: Entrywise) -> tuple[str, Restricted]:
    return "highs-lp", lambda A, shape, lam0: solve_lp(A, shape, norm.p)[:2]


def _nuclear_dual(norm: Schatten) -> tuple[str, Restricted]:
    return "clarabel-dual", lambda A, shape, lam0: solve_nuclear_dual(A, shape)[:2]


# Norm kind -> its constructions, in the order tried.
REGISTRY: dict[type, Callable[[Norm], list[tuple[str, Restricted]]]] = {
    Entrywise: lambda norm: ([_highs(norm)] if norm.p in (1, sp.oo) else []) + [_clarabel(norm)],
    Schatten: lambda norm: {1: [_nuclear_dual(norm), _clarabel(norm)],
                            sp.oo: [_clarabel(norm)]}.get(norm.p, []),
}


def restricted_solvers(norm: Norm) -> list[tuple[str, Restricted]]:
    """The solvers tried for ``norm``: the generic dual method first when the norm is strictly
    convex (it needs only the norm's oracles and reaches machine precision), then the conic
    constructions of :data:`REGISTRY`."""
    if type(norm) not in REGISTRY:
        raise NormError(f"no max-margin solver is registered for the norm {norm.name}")
    smooth = [("dual-newton", lambda A, shape, lam0: solve_dual_newton(A, shape, norm, lam0))]
    return (smooth if norm.strictly_convex else []) + REGISTRY[type(norm)](norm)


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


def _separating(problem: Classification, max_rounds: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """(w, S): a W with A(W) > 0 and the working set S that produced it. W is the class-centroid
    classifier A*(1) if it separates (S empty), else the ℓ2 min-norm classifier of S
    (:func:`_separating_restricted`), grown by constraint generation until W separates (rounds as
    in :func:`_constraint_generation`). An infeasible working set proves the full problem
    infeasible (it has more constraints)."""
    per_sample = 1 if problem.model == "binary" else problem.k - 1
    w = problem.adjoint(np.ones((problem.n, per_sample))).ravel()
    margins = _flat_margins(problem, w)
    if margins.min() > 0:
        return w, np.empty(0, dtype=np.int64)
    working = _WorkingSet(problem, _initial_working_set(problem, margins))
    for round_ in range(max_rounds):
        w = _separating_restricted(problem, working.rows)
        margins = _flat_margins(problem, w)
        if margins.min() > 0:
            return w, working.index
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
                           index: np.ndarray, tol: float, max_rounds: int = 50):
    """Best certified (W, λ, certificate) of a restricted solver over constraint-generation rounds.
    Round r adds up to 2^r of the most violated constraints of each violating sample
    (:func:`_most_violated`): a sample whose support has s constraints (up to k − 1 with many
    classes) is covered after O(log s) rounds."""
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
        if cert.relative_gap <= tol or not scale > 0:
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
    return dataclasses.replace(problem, X=scale.unit(problem.X)), scale


def check_separable(problem: Classification) -> None:
    """Raise :class:`NotSeparableError` unless some W has a positive margin on every sample
    (decided on X/s, so the verdict does not depend on the scale of X)."""
    unit, _ = _unit_problem(problem)
    _separating(unit)


MAX_CONSTRAINT_ENTRIES = 500_000_000   # nonzeros of a working set's sparse rows (6 GB)


def max_margin(problem: Classification, norm: Norm, tol: float = 1e-6) -> MaxMarginSolution:
    """The max-margin classifier of ``problem`` under ``norm``, certified to relative gap ``tol``.

    The problem is solved and certified on X/s (s the largest row norm of X, :class:`DataScale`):
    γ*(X) = s γ*(X/s), the min-norm classifier and the dual-feasible multipliers of X are those of
    X/s divided by s, and the relative gap is unchanged, so every answer and the separability
    verdict follow from the unit-scale problem whatever the scale of X.

    Raises NotSeparableError (non-separable data), NormError (no solver for this norm and model),
    DataError (no features, a working set too large, or an answer outside the float64 range at
    this scale),
    ValueError (tol not in (0, 1)) or SolverError (every solver failed outright)."""
    start = time.perf_counter()
    if not 0.0 < tol < 1.0:
        raise ValueError(f"tol must be a relative gap in (0, 1), got {tol!r}")
    if problem.model == "binary" and not isinstance(norm, Entrywise):
        raise NormError(f"{norm.name} needs a matrix model; the binary model has a vector w")
    solvers = restricted_solvers(norm)
    unit, scale = _unit_problem(problem)
    W, lam, name = _solve_unit(unit, norm, solvers, tol)
    cert = certify(unit, norm, W, lam)
    W, lam = scale.down(W), scale.down(lam)
    lower, upper = (float(scale.up(m)) for m in (cert.margin_lower, cert.margin_upper))
    if not (np.all(np.isfinite(W)) and np.isfinite(lower) and lower > 0 and upper > 0):
        raise DataError(f"the max-margin answer for X at scale {float(scale.up(1.0)):.3g} (largest row "
                        f"norm) is outside the float64 range (margin {lower:.3g}); rescale X")
    cert = Certificate(float(scale.down(cert.primal_value)), float(scale.down(cert.dual_value)),
                       cert.relative_gap, lower, upper)
    return MaxMarginSolution(norm, problem.model, W, lam, cert, name,
                             "optimal" if cert.relative_gap <= tol else "inaccurate",
                             time.perf_counter() - start)


def _solve_unit(problem: Classification, norm: Norm, solvers, tol: float):
    """(W, λ, solver name) on the unit-scale problem: W in min-norm form (min A(W) = 1), λ dual
    feasible (‖A*λ‖_* = 1)."""
    with threadpool_limits(limits=1, user_api="blas"):   # small dense algebra: threads only cost
        W0, needed = _separating(problem)   # the constraints ℓ2 needed: a start for every norm
        working = np.union1d(_initial_working_set(problem, _flat_margins(problem, W0)), needed)
        best, failures = None, []
        for name, solve in solvers:
            try:
                W, lam, cert = _constraint_generation(problem, norm, solve, working, tol)
            except (ConicError, np.linalg.LinAlgError) as exc:
                failures.append(f"{name}: {exc}")
                continue
            if best is None or cert.relative_gap < best[2].relative_gap:
                best = (W, lam, cert, name)
            if cert.relative_gap <= tol:
                break
        if best is not None and np.isfinite(best[2].relative_gap) and best[2].relative_gap > tol:
            best = _refine_multipliers(problem, norm, *best)
    if best is None or not np.isfinite(best[2].relative_gap):
        raise SolverError(f"no max-margin solver found a classifier for {norm.name}: "
                          + ("; ".join(failures) or "no positive margins"))
    W, lam, _, name = best
    W = W / problem.margins(W).min()
    lam = lam.reshape(problem.n, -1)
    dual_norm = norm.dual.value(problem.adjoint(lam))
    lam = lam / dual_norm if dual_norm > 0 else lam
    return W, lam, name
