"""The Gauss–Newton Hessian at interpolation and the sharpness measures adaptive methods reduce.

Square loss L(θ) = (1/2n) Σ_i (⟨f(θ), z_i⟩ − y_i)² on a coordinate-separable model w = f(θ)
(:mod:`theory.parameterizations`). Its Hessian is (1/n) Σ_i J_iᵀ J_i + (1/n) Σ_i r_i ∇²⟨f(θ), z_i⟩;
at interpolation (r = 0) only the Gauss–Newton term remains, and its diagonal entry for the
parameter p_k of coordinate j is c_j (∂f/∂p_k(θ_j))², c_j = (1/n) Σ_i z_ij² (the derivation below
obtains this from the definitions on a symbolic instance).

Sharpness measures (Li, Wen, Lyu 2025): label-noise SGD reduces tr(H) (Blanc et al. 2020;
Li, Wang, Arora 2022), Adam reduces tr(Diag(H)^{1/2}); a preconditioner x −= η m/(v^e + ε) gives the
family M_e(θ) = Σ_k H_kk^{1−e} (e = 0: tr H; e = ½: tr Diag(H)^{1/2}). The exponent form of the
family is the project's derivation (:mod:`theory.slow_drift`), not a quotation of the paper.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import sympy as sp

from theory.derivation import Derivation
from theory.errors import UserInputError
from theory.parameterizations import Parameterization

c = sp.Symbol("c", positive=True)   # feature second moment (1/n) Σ_i z_ij²


class MeasureError(UserInputError):
    """A sharpness-measure string outside ``trace | adam | power:E`` (0 ≤ E < 1)."""


@dataclass(frozen=True)
class SharpnessMeasure:
    """M_e(θ) = Σ_k H_kk^{1−e}: the potential whose (semi-)gradient a preconditioner v^{−e} follows."""

    exponent: sp.Rational    # e

    @property
    def name(self) -> str:
        if self.exponent == 0:
            return "trace"
        if self.exponent == sp.Rational(1, 2):
            return "adam"
        return f"power:{sp.sstr(self.exponent)}"

    @property
    def power(self) -> sp.Rational:
        """a = 1 − e, the power applied to each Hessian diagonal entry."""
        return 1 - self.exponent

    def definition(self) -> sp.Expr:
        H, k = sp.IndexedBase("H"), sp.Symbol("k", integer=True)
        return sp.Sum(H[k, k] ** self.power, (k, 1, sp.Symbol("D")))

    def per_coordinate(self, param: Parameterization) -> sp.Expr:
        """The measure's contribution of one coordinate j: Σ_k (c_j (∂_k f)²)^{1−e}."""
        return sp.Add(*[(c * g**2) ** self.power for g in param.gradient])


_NUMBER = re.compile(r"^\d+(\.\d+)?$|^\d+/\d+$")


def parse_measure(text: str) -> SharpnessMeasure:
    """``trace`` (label-noise SGD), ``adam`` (tr Diag(H)^{1/2}) or ``power:E`` with 0 ≤ E < 1."""
    raw = text.strip().lower()
    if raw == "trace":
        return SharpnessMeasure(sp.Integer(0))
    if raw == "adam":
        return SharpnessMeasure(sp.Rational(1, 2))
    kind, _, value = raw.partition(":")
    if kind != "power" or not value:
        raise MeasureError(f"unknown sharpness measure {text!r}; expected trace, adam or power:E")
    if not _NUMBER.match(value):
        raise MeasureError(f"power exponent {value!r} is not a number (decimal or fraction)")
    if "/" in value and int(value.split("/")[1]) == 0:
        raise MeasureError(f"power exponent {value!r} has a zero denominator")
    e = sp.Rational(Fraction(value))
    if not 0 <= e < 1:
        raise MeasureError(f"power exponent E = {value} must satisfy 0 ≤ E < 1 (E = 1 is scale-free)")
    return SharpnessMeasure(e)


@lru_cache(maxsize=32)
def gauss_newton_derivation(param: Parameterization) -> Derivation:
    """Derive, on a symbolic instance with d = 2 coordinates and n = 2 samples, that the Hessian of
    the square loss at interpolation is (1/n) Σ J_iᵀ J_i with diagonal c_j (∂_k f)²."""
    d_, n_ = 2, 2
    D = Derivation(f"Gauss–Newton Hessian at interpolation for w = {param.text()}")
    theta = [[sp.Symbol(f"{p.name}_{j}", real=True) for j in range(1, d_ + 1)] for p in param.params]
    z = sp.Matrix(n_, d_, lambda i, j: sp.Symbol(f"z_{i + 1}{j + 1}", real=True))
    y = sp.symbols(f"y_1:{n_ + 1}", real=True)
    w = [param.expr.subs({p: theta[k][j] for k, p in enumerate(param.params)}, simultaneous=True)
         for j in range(d_)]
    flat = [theta[k][j] for j in range(d_) for k in range(param.m)]
    preds = [sum(z[i, j] * w[j] for j in range(d_)) for i in range(n_)]
    loss = sp.Rational(1, 2 * n_) * sum((preds[i] - y[i]) ** 2 for i in range(n_))
    D.step(f"Square loss on n = {n_} samples, d = {d_} coordinates, w_j = f(θ_j):", loss)
    hess = sp.hessian(loss, flat)
    at_interp = {y[i]: preds[i] for i in range(n_)}
    hess0 = hess.subs(at_interp)
    J = sp.Matrix([[sp.diff(preds[i], t) for t in flat] for i in range(n_)])
    gn = (J.T * J) / n_
    residual = (hess0 - gn).applyfunc(sp.simplify)
    D.step("At interpolation (y_i = ⟨f(θ), z_i⟩) the residual term vanishes: ∇²L − (1/n)JᵀJ =",
           residual)
    if residual != sp.zeros(*residual.shape):
        raise RuntimeError("Gauss–Newton identity failed: the residual term did not vanish")
    diag_formula = []
    for j in range(d_):
        cj = sum(z[i, j] ** 2 for i in range(n_)) / n_
        for k, g in enumerate(param.gradient):
            g_j = g.subs({p: theta[kk][j] for kk, p in enumerate(param.params)}, simultaneous=True)
            diag_formula.append(cj * g_j**2)
    diff = [sp.simplify(gn[i, i] - diag_formula[i]) for i in range(len(flat))]
    if any(x != 0 for x in diff):
        raise RuntimeError("Gauss–Newton diagonal does not match c_j (∂_k f)²")
    D.step("Its diagonal entries equal c_j (∂f/∂p_k(θ_j))² with c_j = (1/n) Σ_i z_ij² "
           "(checked entry by entry):", sp.Matrix(diag_formula))
    D.result("hessian_diagonal", sp.Matrix([c * g**2 for g in param.gradient]),
             "Per coordinate, the Gauss–Newton Hessian diagonal (one entry per parameter p_k):")
    return D
