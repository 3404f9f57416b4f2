"""Numeric fibre minimization r(w) = min { Σ_k |∂_k f(θ)|^{2(1−e)} : f(θ) = w } (labelled numeric).

The fallback of :mod:`theory.implied_regularizer` when no closed form is found, and the independent
numeric cross-check of a closed form when one is (it uses nothing of the derivation: only f, its
derivatives and the measure). Multi-start SLSQP from feasible starts (a random direction scaled
onto the fibre by a bracketed root search along its ray), on faces of R^m (subsets of parameters
pinned to 0, since fibre minimizers often sit on faces, e.g. v = 0 for u² − v²): every face for
m ≤ ``ALL_FACES_UP_TO`` parameters; for more, the open orthant, the faces with one zero, and
the faces suggested by the runs themselves (coordinates that went to ≈ 0 are pinned and the run
repeated). The best feasible value is polished by a last SLSQP run and returned. A numeric value is
an upper bound on r(w) (a feasible point attains it); it equals r(w) only if some start reaches
the global minimizer.
"""
from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass

import numpy as np
import sympy as sp
from scipy.optimize import brentq, minimize

from theory.parameterizations import Parameterization
from theory.sharpness import SharpnessMeasure

ALL_FACES_UP_TO = 3


@dataclass(frozen=True)
class FibreMinimum:
    w: float
    value: float          # best measure value found on the fibre (np.inf if no feasible point)
    theta: np.ndarray | None
    feasible_starts: int


def _faces(m: int) -> list[tuple[int, ...]]:
    """Zero sets to try (as tuples of pinned indices), the open orthant first."""
    if m <= ALL_FACES_UP_TO:
        sizes = range(m)
    else:
        sizes = (0, 1)
    return [z for r in sizes for z in itertools.combinations(range(m), r)]


def numeric_fibre_minimum(param: Parameterization, measure: SharpnessMeasure, w_values,
                          starts: int = 6, seed: int = 0, tol: float = 1e-9) -> list[FibreMinimum]:
    a = float(measure.power)
    f = sp.lambdify([param.params], param.expr, "numpy")
    grad_f = sp.lambdify([param.params], list(param.gradient), "numpy")
    hess_f = sp.lambdify([param.params], sp.hessian(param.expr, param.params).tolist(), "numpy")
    m = param.m
    rng = np.random.default_rng(seed)

    def value(x):
        with np.errstate(all="ignore"):
            return float(np.real_if_close(f(x)))

    def objective(x):
        with np.errstate(all="ignore"):
            g = np.asarray(grad_f(x), dtype=float)
            return float(np.sum((g * g + 1e-300) ** a))

    def objective_grad(x):
        g = np.asarray(grad_f(x), dtype=float)
        Hf = np.asarray(hess_f(x), dtype=float)
        return Hf.T @ (2 * a * g * (g * g + 1e-300) ** (a - 1))

    def onto_fibre(x, w):
        """t·x with f(t·x) = w for the smallest bracketed t > 0 on a log grid, or None."""
        ts = np.geomspace(1e-3, 1e3, 61)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            vals = np.array([value(t * x) for t in ts]) - w
        ok = np.isfinite(vals)
        for i in range(len(ts) - 1):
            if ok[i] and ok[i + 1] and np.sign(vals[i]) * np.sign(vals[i + 1]) <= 0:
                try:
                    with np.errstate(all="ignore"):
                        t = brentq(lambda s: value(s * x) - w, ts[i], ts[i + 1], xtol=1e-15,
                                   rtol=1e-15)
                except (ValueError, RuntimeError):
                    continue
                return t * x
        return None

    def solve(x0, free, w, maxiter=150):
        def full(z):
            x = np.zeros(m)
            x[free] = z
            return x

        cons = {"type": "eq", "fun": lambda z: value(full(z)) - w,
                "jac": lambda z: np.asarray(grad_f(full(z)), float)[free]}
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            res = minimize(lambda z: objective(full(z)), x0[free],
                           jac=lambda z: objective_grad(full(z))[free],
                           constraints=[cons], method="SLSQP",
                           options={"maxiter": maxiter, "ftol": 1e-15})
            x = full(res.x)
            # Put the point on the fibre to round-off (a scaling along its ray), so that its value
            # is a true upper bound: SLSQP's constraint slack would otherwise let it dip below.
            lo, hi = 1 - 1e-6, 1 + 1e-6
            flo, fhi = value(lo * x) - w, value(hi * x) - w
            if np.isfinite(flo) and np.isfinite(fhi) and np.sign(flo) * np.sign(fhi) <= 0:
                try:
                    x = brentq(lambda t: value(t * x) - w, lo, hi, xtol=1e-300, rtol=1e-15) * x
                except (ValueError, RuntimeError):
                    pass
            val, gap = objective(x), abs(value(x) - w)
        if np.isfinite(val) and gap <= tol * (1 + abs(w)):
            return val, x
        return None

    out = []
    for w in np.atleast_1d(np.asarray(w_values, dtype=float)):
        best, feasible = (np.inf, None), 0
        tried = set()

        def attempt(zeros, x0):
            nonlocal best, feasible
            free = [k for k in range(m) if k not in zeros]
            x0 = x0.copy()
            x0[list(zeros)] = 0.0
            start = onto_fibre(x0, w)
            if start is None and free:          # f(t·x) may have the wrong sign along this ray
                x0[free[0]] = -x0[free[0]]
                start = onto_fibre(x0, w)
            if start is None:
                return None
            res = solve(start, free, w)
            if res is not None:
                feasible += 1
                if res[0] < best[0]:
                    best = res
            return res

        for zeros in _faces(m):
            tried.add(zeros)
            for s in range(starts * (3 if not zeros else 1)):    # the open orthant gets more
                x0 = rng.standard_normal(m) * (0.3, 1.0, 3.0)[s % 3]
                res = attempt(zeros, x0)
                if res is None or m <= ALL_FACES_UP_TO:
                    continue
                x = res[1]
                small = tuple(k for k in range(m) if abs(x[k]) < 1e-2 * np.max(np.abs(x)))
                if small and small not in tried and len(small) < m:   # a face the run points to
                    tried.add(small)
                    attempt(small, x)
        if best[1] is not None:   # polish the best point on its own face
            free = [k for k in range(m) if best[1][k] != 0.0]
            res = solve(best[1], free, w, maxiter=400)
            if res is not None and res[0] < best[0]:
                best = res
        out.append(FibreMinimum(float(w), best[0], best[1], feasible))
    return out


@dataclass(frozen=True)
class CrossCheck:
    """A closed form r(w) against numeric fibre minima (upper bounds) at the same w."""

    rows: list            # dicts {w, closed_form, numeric, relative_difference}
    above_upper_bound: bool   # the closed form exceeds a feasible value by more than ``rel``: wrong
    agrees: bool              # |closed − numeric| ≤ rel·|numeric| at every w
    max_relative_excess: float
    max_relative_difference: float


def cross_check(closed_form, minima: list[FibreMinimum], rel: float = 1e-8) -> CrossCheck:
    """Compare ``closed_form`` (a function of w) with :func:`numeric_fibre_minimum`'s values.

    A numeric value is attained by a feasible point, so a closed form above it (beyond ``rel``) is a
    wrong minimum; a closed form below it means the numeric search did not reach the minimum, or the
    closed form is too small (``agrees`` is False either way). Infinite values (w outside the range
    of f) agree only with infinite values. Aggregation propagates NaN."""
    rows, excess, diff = [], [], []
    for r in minima:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # numpy scalars: a negative base to a fractional power is NaN in an unused Piecewise
            # branch, not a Python complex number.
            raw = complex(closed_form(np.float64(r.w)))
            cf = raw.real if raw.imag == 0 else float("nan")
        num = float(r.value)
        if np.isinf(cf) and np.isinf(num):
            e = d = 0.0
        else:
            scale = abs(num) if np.isfinite(num) and num != 0 else 1.0
            e = (cf - num) / scale if np.isfinite(num) else -np.inf
            d = abs(cf - num) / scale
        rows.append({"w": r.w, "closed_form": cf, "numeric": num, "relative_difference": d})
        excess.append(e)
        diff.append(d)
    max_excess = float(np.max(excess)) if excess else float("nan")
    max_diff = float(np.max(diff)) if diff else float("nan")
    return CrossCheck(rows, bool(not max_excess <= rel), bool(max_diff <= rel), max_excess, max_diff)
