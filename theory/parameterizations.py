"""Coordinate-separable parameterizations of a linear predictor: w_j = f(θ_j), θ_j ∈ R^m.

The diagonal linear network of Woodworth et al. (2020) is ``f(u, v) = u² − v²``; HaoChen et al.
(2021) study the quadratically parameterized model ``u ⊙ v`` (equivalently u² − v² after a
rotation); depth-D networks use ``u^D − v^D``. A user may type any expression of the restricted
grammar in :mod:`theory.expression_grammar`; the same f is applied to every coordinate j, so
the model is ⟨f(θ), z⟩ with f acting entrywise on the m parameter vectors (u_j, v_j, ...).

Everything numeric (the fast trainers, Hessian diagonals) lambdifies the sympy objects defined here,
so the derivation a user reads and the numbers the checker computes come from the same expression.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Callable

import numpy as np
import sympy as sp

from theory.expression_grammar import ExpressionError, parse_expression

u, v = sp.symbols("u v", real=True)


@dataclass(frozen=True)
class Parameterization:
    """w = f(θ) per coordinate; ``params`` orders the m parameter vectors (u, v, ...)."""

    name: str
    expr: sp.Expr
    params: tuple[sp.Symbol, ...]

    @property
    def m(self) -> int:
        return len(self.params)

    @cached_property
    def gradient(self) -> tuple[sp.Expr, ...]:
        """(∂f/∂p_1, ..., ∂f/∂p_m)."""
        return tuple(sp.diff(self.expr, p) for p in self.params)

    @cached_property
    def second_derivatives(self) -> tuple[sp.Expr, ...]:
        """(∂²f/∂p_k², k = 1..m): the residual term of the exact Hessian diagonal."""
        return tuple(sp.diff(self.expr, p, 2) for p in self.params)

    @cached_property
    def lambdified(self) -> tuple[Callable, tuple[Callable, ...], tuple[Callable, ...]]:
        """(f, (∂_k f), (∂²_k f)) as numpy functions of the m parameter arrays (θ_1, ..., θ_m);
        a constant derivative comes back as a scalar (callers broadcast)."""
        def lam(e):
            return sp.lambdify(self.params, e, "numpy")

        return (lam(self.expr), tuple(lam(g) for g in self.gradient),
                tuple(lam(g) for g in self.second_derivatives))

    @cached_property
    def numpy_hessian(self) -> Callable:
        """∇²f as a numpy function of P (m, ...) → array (m, m, ...) (mixed partials included)."""
        hess = [[sp.lambdify(self.params, sp.diff(self.expr, a, b), "numpy") for b in self.params]
                for a in self.params]

        def hessian(P):
            return np.stack([np.stack([np.broadcast_to(h(*P), P.shape[1:]) for h in row])
                             for row in hess]).astype(float)

        return hessian

    def text(self) -> str:
        return sp.sstr(self.expr)


def quadratic_difference() -> Parameterization:
    """w = u ⊙ u − v ⊙ v (Woodworth et al. 2020; Li, Wen, Lyu 2025)."""
    return Parameterization("u**2 - v**2", u**2 - v**2, (u, v))


def product() -> Parameterization:
    """w = u ⊙ v (HaoChen et al. 2021's quadratically parameterized model)."""
    return Parameterization("u*v", u * v, (u, v))


def depth(D: int) -> Parameterization:
    """w = u^D − v^D (depth-D diagonal network; Woodworth et al. 2020)."""
    if int(D) != D or D < 2:
        raise ExpressionError(f"depth D must be an integer ≥ 2, got {D}")
    return Parameterization(f"u**{D} - v**{D}", u**D - v**D, (u, v))


def parse_parameterization(text: str) -> Parameterization:
    """A user's parameterization string, parsed by the restricted grammar (never evaluated)."""
    expr, params = parse_expression(text)
    if not params:
        raise ExpressionError(f"{text!r} has no parameters (use names such as u, v)")
    if all(sp.diff(expr, p) == 0 for p in params):
        raise ExpressionError(f"{text!r} does not depend on its parameters")
    return Parameterization(text.strip(), expr, params)
