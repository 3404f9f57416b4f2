"""Numeric fibre minimization r(w) = min { Σ_k |∂_k f(θ)|^{2(1−e)} : f(θ) = w } (labelled numeric).

The fallback of :mod:`theory.implied_regularizer` when no closed form is found, and the independent
numeric cross-check of a closed form when one is. Multi-start SLSQP on every face of R^m (each
subset of parameters pinned to 0, since fibre minimizers often sit on faces, e.g. v = 0 for
u² − v²); the best feasible value is returned. A numeric value is an upper bound on r(w) (a feasible
point attains it); it equals r(w) only if some start reaches the global minimizer.
"""
from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass

import numpy as np
import sympy as sp
from scipy.optimize import minimize

from theory.parameterizations import Parameterization
from theory.sharpness import SharpnessMeasure


@dataclass(frozen=True)
class FibreMinimum:
    w: float
    value: float          # best measure value found on the fibre (np.inf if no feasible point)
    theta: np.ndarray | None
    feasible_starts: int


def numeric_fibre_minimum(param: Parameterization, measure: SharpnessMeasure, w_values,
                          starts: int = 6, seed: int = 0, tol: float = 1e-9) -> list[FibreMinimum]:
    a = float(measure.power)
    f = sp.lambdify([param.params], param.expr, "numpy")
    grad_f = sp.lambdify([param.params], list(param.gradient), "numpy")
    hess_f = sp.lambdify([param.params], sp.hessian(param.expr, param.params).tolist(), "numpy")
    m = param.m
    rng = np.random.default_rng(seed)

    def objective(x):
        g = np.asarray(grad_f(x), dtype=float)
        return float(np.sum((g * g + 1e-300) ** a))

    def objective_grad(x):
        g = np.asarray(grad_f(x), dtype=float)
        Hf = np.asarray(hess_f(x), dtype=float)
        return Hf.T @ (2 * a * g * (g * g + 1e-300) ** (a - 1))

    out = []
    for w in np.atleast_1d(np.asarray(w_values, dtype=float)):
        best, feasible = (np.inf, None), 0
        for zeros in itertools.chain.from_iterable(itertools.combinations(range(m), r) for r in range(m)):
            free = [k for k in range(m) if k not in zeros]

            def full(z, free=free):
                x = np.zeros(m)
                x[free] = z
                return x

            for s in range(starts):
                z0 = rng.standard_normal(len(free)) * (0.3, 1.0, 3.0)[s % 3] * max(abs(w), 1e-3) ** 0.5
                cons = {"type": "eq", "fun": lambda z, full=full: float(f(full(z))) - w,
                        "jac": lambda z, full=full, free=free: np.asarray(grad_f(full(z)), float)[free]}
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    res = minimize(lambda z, full=full: objective(full(z)), z0,
                                   jac=lambda z, full=full, free=free: objective_grad(full(z))[free],
                                   constraints=[cons], method="SLSQP",
                                   options={"maxiter": 100, "ftol": 1e-13})
                x = full(res.x)
                with np.errstate(all="ignore"):
                    val, gap = objective(x), abs(float(f(x)) - w)
                if np.isfinite(val) and gap <= tol * (1 + abs(w)):
                    feasible += 1
                    if val < best[0]:
                        best = (val, x)
        out.append(FibreMinimum(float(w), best[0], best[1], feasible))
    return out
