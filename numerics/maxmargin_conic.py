"""Conic constructions of max-margin problems (cvxpy, solved by Clarabel).

On a working set of margin constraints (rows of A, acting on vec W):

- :func:`solve_primal`: min ‖W‖ s.t. A vec(W) ≥ 1 with the norm's cvxpy atom; λ are the
  multipliers of the margin constraints.
- :func:`solve_nuclear_dual`: the nuclear norm through its Lagrange dual max Σλ s.t.
  ‖A*λ‖_spectral ≤ 1, written as the LMI [[I, G], [Gᵀ, I]] ⪰ 0 with G = A*λ (Fazel 2002). W is read
  off the LMI's multiplier Z: stationarity in λ_j gives A_j(−2 Z₁₂) ≥ 1, so W = −2 Z₁₂. This LMI
  needs no auxiliary matrices, unlike the nuclear-norm one, and Clarabel solves it faster and more
  accurately than the primal ``normNuc`` problem.
- :func:`solve_dual`: max Σλ s.t. ‖A*λ‖_* ≤ 1 with the dual norm's atom (multipliers only), used to
  refine the multipliers of an accurate primal point on its active constraints.
- :func:`solve_lp`: the entrywise 1- and ∞-norms as linear programs, solved by HiGHS
  (``scipy.optimize.linprog``): a simplex vertex is exact to round-off, unlike an interior point.

:func:`cvxpy_atom` is the norm-kind → atom table. Entrywise norms go through ``cp.vec`` and
``pnorm``: ``cp.norm(W, 1)`` and ``cp.norm(W, "inf")`` on a matrix are *induced* norms. cvxpy has
no Schatten-p atom except ``normNuc`` (p = 1) and ``sigma_max`` (p = ∞).
"""
from __future__ import annotations

import warnings
from fractions import Fraction
from typing import Callable

import cvxpy as cp
import numpy as np
import scipy.optimize
import scipy.sparse
import sympy as sp

from theory.norms import Entrywise, Norm, Schatten

Atom = Callable[[cp.Expression], cp.Expression]


class ConicError(RuntimeError):
    """The conic solver returned no usable point (infeasible, unbounded, or crashed)."""


def _entrywise(norm: Entrywise) -> Atom:
    p = "inf" if norm.p == sp.oo else Fraction(int(sp.numer(norm.p)), int(sp.denom(norm.p)))
    return lambda W: cp.pnorm(cp.vec(W, order="C"), p)


_ATOMS: dict[type, Callable[[Norm], Atom | None]] = {
    Entrywise: _entrywise,
    Schatten: lambda norm: {1: cp.normNuc, sp.oo: cp.sigma_max}.get(norm.p),
}


def cvxpy_atom(norm: Norm) -> Atom | None:
    """The cvxpy expression of ‖W‖ for a cvxpy matrix or vector W, or None if cvxpy has none."""
    entry = _ATOMS.get(type(norm))
    return None if entry is None else entry(norm)


# Clarabel's default tolerances (1e-8) leave relative duality gaps near 1e-8, so close to the default
# target that a perturbation of the data in the last bit (X/s for cX and for X) moves the answer by
# as much; tighter ones are used, the defaults are the fallback where they stall (measurements:
# docs/claims/maxmargin-solvers.md).
_TIGHT = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10, "tol_ktratio": 1e-8}


def _solve(problem: cp.Problem) -> str:
    for settings in (_TIGHT, {}):
        try:
            with warnings.catch_warnings():   # "solution may be inaccurate": the status says so
                warnings.simplefilter("ignore", UserWarning)
                problem.solve(solver=cp.CLARABEL, max_threads=1, **settings)   # threads only cost here
        except (cp.error.SolverError, cp.error.DCPError) as exc:   # DCPError: an exponent cvxpy cannot model
            failure = f"clarabel failed: {str(exc).splitlines()[0]}"
            continue
        if problem.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) and problem.value is not None:
            return problem.status
        failure = f"clarabel returned status {problem.status!r}"
    raise ConicError(failure)


def solve_primal(A: np.ndarray, shape: tuple[int, ...], atom: Atom) -> tuple[np.ndarray, np.ndarray, str]:
    """(vec W, λ, status); raises ConicError unless the status is optimal or optimal_inaccurate."""
    w = cp.Variable(A.shape[1])
    margins = scipy.sparse.csr_array(A) @ w >= 1
    status = _solve(cp.Problem(cp.Minimize(atom(cp.reshape(w, shape, order="C"))), [margins]))
    return w.value, np.asarray(margins.dual_value, dtype=float), status


def solve_nuclear_dual(A: np.ndarray, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, str]:
    """(vec W, λ, status) for the nuclear norm on a k×d model, through the spectral-norm dual."""
    k, d = shape
    lam = cp.Variable(A.shape[0], nonneg=True)
    G = cp.reshape(scipy.sparse.csr_array(A).T @ lam, shape, order="C")
    lmi = cp.bmat([[np.eye(k), G], [G.T, np.eye(d)]]) >> 0
    status = _solve(cp.Problem(cp.Maximize(cp.sum(lam)), [lmi]))
    return (-2.0 * lmi.dual_value[:k, k:]).ravel(), lam.value, status


def solve_dual(A: np.ndarray, shape: tuple[int, ...], dual_atom: Atom) -> tuple[np.ndarray, str]:
    """(λ, status) maximizing Σλ s.t. ‖A*λ‖_* ≤ 1, λ ≥ 0; ``dual_atom`` is the dual norm's atom."""
    lam = cp.Variable(A.shape[0], nonneg=True)
    G = cp.reshape(scipy.sparse.csr_array(A).T @ lam, shape, order="C")
    status = _solve(cp.Problem(cp.Maximize(cp.sum(lam)), [dual_atom(G) <= 1]))
    return lam.value, status


def solve_lp(A: np.ndarray, shape: tuple[int, ...], p,
             time_limit: float | None = None) -> tuple[np.ndarray, np.ndarray, str]:
    """(vec W, λ, status) for min ‖W‖_p s.t. A vec(W) ≥ 1 with p = 1 or ∞ (entrywise), as an LP:
    p = ∞ in the max-margin form max γ s.t. A w ≥ γ, −1 ≤ w_j ≤ 1 (bounds, no extra rows), then
    W = w/γ; p = 1: w = u − v, u, v ≥ 0, min Σ(u + v). λ are the HiGHS marginals of the margin
    constraints (the certificate rescales them). Raises ConicError unless HiGHS reports optimal
    (e.g. when it stops at ``time_limit`` seconds)."""
    m, q = A.shape
    if p == sp.oo:
        c = np.zeros(q + 1)
        c[-1] = -1.0
        A_ub = scipy.sparse.hstack([-scipy.sparse.csr_array(A), np.ones((m, 1))]).tocsr()
        b_ub = np.zeros(m)
        bounds = [(-1.0, 1.0)] * q + [(None, None)]
    elif p == 1:
        c = np.ones(2 * q)
        A_ub = scipy.sparse.hstack([-scipy.sparse.csr_array(A), scipy.sparse.csr_array(A)]).tocsr()
        b_ub = -np.ones(m)
        bounds = [(0, None)] * (2 * q)
    else:
        raise ValueError(f"solve_lp handles p = 1 or inf, got {p}")
    options = {} if time_limit is None else {"time_limit": max(time_limit, 1e-3)}
    result = scipy.optimize.linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs", options=options)
    if result.status != 0:
        raise ConicError(f"highs returned status {result.status}: {result.message}")
    x = result.x
    if p == sp.oo and not x[-1] > 0:
        raise ConicError("highs: the working set has no positive margin")
    w = x[:q] / x[-1] if p == sp.oo else x[:q] - x[q:]
    return w, -np.asarray(result.ineqlin.marginals[:m], dtype=float), "optimal"
