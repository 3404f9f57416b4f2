"""Steepest-ascent directions of p-norms, derived symbolically.

The linear maximization oracle of a norm, ``Δ = argmax_{‖Δ‖ ≤ 1} ⟨G, Δ⟩``, is what every
normalized steepest-descent method (Gunasekar et al. 2018; Fan, Schmidt, Thrampoulidis 2025) applies
to the gradient. For the entrywise p-norm it follows from the equality case of Hölder's inequality,
for the Schatten p-norm from the equality case of von Neumann's trace inequality, which reduces the
matrix problem to the vector one on singular values.

The derivation below is run, not transcribed: its result is lambdified and *is* the numeric
implementation used by :mod:`theory.norms` (and hence by every optimizer in ``numerics``). The hot
path evaluates the derived monomial S^{e_S} g^{e_g} with its two exponents lambdified once per p
(``_holder_constants``), not the whole lambdified function on every call: the same operations on the
same numbers (tests/theory/test_steepest.py compares the two bit for bit).
Assumptions: 1 < p < ∞ for the Lagrangian derivation; p = 1 and p = ∞ are obtained as limits.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from theory.derivation import Derivation

p = sp.Symbol("p", positive=True)
q = sp.Symbol("q", positive=True)
g = sp.Symbol("g", positive=True)       # |G_i| for one coordinate
delta = sp.Symbol("delta", positive=True)
mu = sp.Symbol("mu", positive=True)     # Lagrange multiplier of Σ δ_i^p = 1
S = sp.Symbol("S", positive=True)       # Σ_j |G_j|^{p/(p-1)}, the aggregate that appears


def _split_powers(expr: sp.Expr) -> sp.Expr:
    """(a b)^e → a^e b^e and (a^e)^f → a^{ef}: valid here because every symbol is positive."""
    return sp.expand_power_base(sp.powdenest(expr, force=True), force=True)


@lru_cache(maxsize=1)
def holder_derivation() -> Derivation:
    """Derive Δ_i = sign(G_i)|G_i|^{q-1}/‖G‖_q^{q-1} and ⟨G, Δ⟩ = ‖G‖_q with q = p/(p-1)."""
    d = Derivation("Steepest direction of the entrywise p-norm (Hölder equality), 1 < p < ∞")
    d.step("Maximize Σ_i G_i Δ_i subject to Σ_i |Δ_i|^p = 1. By symmetry sign(Δ_i) = sign(G_i), so "
           "work with g = |G_i| > 0, δ = |Δ_i| ≥ 0. Per-coordinate part of the Lagrangian:")
    lag = d.step("ℒ_i =", g * delta - mu * delta**p)
    station = d.step("Stationarity ∂ℒ_i/∂δ = 0:", sp.Eq(sp.diff(lag, delta), 0))
    (delta_mu,) = sp.solve(station, delta, check=False, simplify=False)  # unique: all symbols > 0
    delta_mu = sp.powsimp(sp.powdenest(sp.expand_power_base(delta_mu, force=True), force=True), force=True)
    d.step("Solve for δ:", sp.Eq(delta, delta_mu, evaluate=False))
    coef, g_power = _split_powers(delta_mu**p).as_independent(g)
    d.step("Each δ_i^p factors as", sp.Eq(delta**p, coef * g_power, evaluate=False))
    d.step("Summing over i, with S = Σ_j g_j^(exponent of g above), the constraint Σ_i δ_i^p = 1 "
           "reads", sp.Eq(coef * S, 1, evaluate=False))
    (mu_sol,) = sp.solve(sp.Eq(coef * S, 1), mu, check=False, simplify=False)
    d.step("so", sp.Eq(mu, mu_sol, evaluate=False))
    delta_sol = sp.simplify(sp.powdenest(_split_powers(delta_mu.subs(mu, mu_sol)), force=True))
    d.result("direction", delta_sol, "Steepest direction, coordinate magnitude δ_i(g_i, S, p):")
    inner_coef, inner_g = _split_powers(g * delta_sol).as_independent(g)
    assert sp.simplify(inner_g / g_power) == 1, "g_i δ_i is not proportional to the summand of S"
    value = sp.simplify(_split_powers(inner_coef * S))
    d.step("Attained value Σ_i g_i δ_i (each g_i δ_i is a multiple of the summand of S):", value)
    q_derived = sp.simplify(g_power.as_base_exp()[1])
    assert sp.simplify(value.as_base_exp()[1] - 1 / q_derived) == 0, "value is not ‖g‖_q"
    d.result("dual_exponent", q_derived,
             "The value is (Σ_j g_j^q)^{1/q} = ‖G‖_q, so the dual exponent is q =")
    d.result("value", value, "Value of the maximization (the dual norm ‖G‖_q, in terms of S):")
    big_n = sp.Symbol("N", positive=True)
    d.step("With N = ‖G‖_q (S = N^q) the direction reads δ_i = g_i^{q-1} / N^{q-1}:",
           sp.simplify(sp.powdenest(delta_sol.subs(S, big_n**q_derived), force=True)))
    lim_inf = sp.limit(delta_sol, p, sp.oo)
    d.result("limit_p_inf", lim_inf,
             "p → ∞ (max norm): δ_i → 1 for every g_i > 0, i.e. Δ = sign(G):")
    m = sp.Symbol("m", positive=True)
    d.step("p → 1 (sum norm): q → ∞. Write r_i = g_i / max_j g_j ≤ 1; then r_i^{q-1} → 0 for "
           "r_i < 1, e.g.", sp.Eq(sp.Limit(sp.Rational(1, 2) ** (q - 1), q, sp.oo),
                                  sp.limit(sp.Rational(1, 2) ** (q - 1), q, sp.oo), evaluate=False))
    d.step("and with m tied maxima ‖r‖_q^{q-1} = (m + o(1))^{(q-1)/q}, whose limit is m; so "
           "δ_i → [r_i = 1]/m: the mass is split equally over the maximal entries.",
           sp.Eq(sp.Limit(m ** ((q - 1) / q) / m, q, sp.oo), sp.limit(m ** ((q - 1) / q) / m, q, sp.oo),
                 evaluate=False))
    return d


@lru_cache(maxsize=1)
def von_neumann_derivation() -> Derivation:
    """Reduce the Schatten-p oracle to the vector oracle on singular values (von Neumann 1937)."""
    d = Derivation("Steepest direction of the Schatten p-norm (von Neumann trace inequality)")
    sig_g, sig_d = sp.IndexedBase("sigma_G"), sp.IndexedBase("sigma_Delta")
    i, r = sp.symbols("i r", integer=True, positive=True)
    d.step("For any Δ: ⟨G, Δ⟩ = tr(Gᵀ Δ) ≤ Σ_i σ_i(G) σ_i(Δ) (von Neumann), with equality when Δ "
           "shares the singular vectors of G = U diag(σ_G) Vᵀ in the same order.",
           sp.Sum(sig_g[i] * sig_d[i], (i, 1, r)))
    d.step("Since ‖Δ‖_{S_p} = ‖σ(Δ)‖_p, maximizing over Δ reduces to the entrywise problem for the "
           "vector σ(Δ) given σ(G) ≥ 0; the Hölder solution gives")
    hd = holder_derivation()
    d.result("direction", hd.results["direction"], "σ_i(Δ) = δ(σ_i(G), S, p) with S = Σ σ_j(G)^q:")
    d.step("Hence Δ = U diag(δ(σ_G)) Vᵀ, and the attained value is ‖σ(G)‖_q = ‖G‖_{S_q}. "
           "p = ∞ (spectral) gives Δ = U Vᵀ on the nonzero singular values; p = 1 (nuclear) gives "
           "u₁v₁ᵀ (split over ties of σ_max).")
    d.result("dual_exponent", hd.results["dual_exponent"], "Dual exponent q =")
    return d


@lru_cache(maxsize=1)
def _compiled_direction():
    expr = holder_derivation().results["direction"]
    return sp.lambdify((g, S, p), expr, modules="numpy")


@lru_cache(maxsize=None)
def _holder_constants(p_value: float) -> tuple[float, float, float, float]:
    """(q, floor, e_S, e_g) for one exponent 1 < p < ∞, computed once per p: the derived direction
    is a monomial S^{e_S} g^{e_g} (checked here), and its two exponents are the derivation's,
    lambdified and evaluated at p — the same floating-point numbers the lambdified direction
    computes on every call (``_compiled_direction``; tests/theory/test_steepest.py checks the two
    bitwise). q = p/(p − 1) and the weight floor of :func:`holder_direction`."""
    expr = holder_derivation().results["direction"]
    powers = dict(expr.as_powers_dict())
    if set(powers) != {g, S}:
        raise AssertionError(f"the derived direction is not a monomial in g and S: {expr}")
    e_s = float(sp.lambdify(p, powers[S], modules="numpy")(p_value))
    e_g = float(sp.lambdify(p, powers[g], modules="numpy")(p_value))
    qv = p_value / (p_value - 1.0)
    return qv, max(1e-280, 1e-20 ** (1.0 / (qv - 1.0))), e_s, e_g


def dual_exponent(p_value: sp.Expr) -> sp.Expr:
    """q with 1/p + 1/q = 1, from the derived dual exponent (limits at p = 1 and p = ∞)."""
    if p_value == sp.oo:
        return sp.Integer(1)
    if p_value == 1:
        return sp.oo
    return sp.nsimplify(holder_derivation().results["dual_exponent"].subs(p, p_value))


def holder_direction(v: np.ndarray, p_value: float, tie_rtol: float = 1e-12) -> np.ndarray:
    """argmax of ⟨v, δ⟩ over ‖δ‖_p ≤ 1 for a real array ``v`` (all entries form one vector).

    Evaluates the derived closed form on the scale-normalized |v| (the direction is invariant under
    positive rescaling of v, which keeps |v|^{q-1} from overflowing); p = ∞ and p = 1 use the derived
    limits. Zero entries get zero weight; v = 0 returns 0. Entries whose weight (|v_i|/max|v|)^{q-1}
    would be below 1e-20 (invisible next to the largest weight, 1, in float64) are set to 0 before
    powering, which keeps subnormal numbers — and their ~100× slower arithmetic — out of the loop.
    """
    v = np.asarray(v)
    return holder_directions(v.reshape(1, -1), p_value, tie_rtol).reshape(v.shape)


def holder_directions(v: np.ndarray, p_value: float, tie_rtol: float = 1e-12) -> np.ndarray:
    """:func:`holder_direction` of every row of ``v`` (the last axis is one vector, the leading axes
    index independent vectors): the same arithmetic, row by row, in one pass."""
    if p_value == np.inf:
        return np.sign(v)
    a = np.abs(v)
    top = a.max(axis=-1, keepdims=True, initial=0.0)
    if p_value == 1:
        ties = a >= top * (1.0 - tie_rtol)            # a zero row: every entry ties, its sign is 0
        return np.sign(v) * ties / ties.sum(axis=-1, keepdims=True)
    # The derived closed form S^{e_S}·g^{e_g} (``_compiled_direction``), evaluated with the same
    # operations on the same numbers, without the per-call lambdify dispatch; p = 2 (e_g = 1) skips
    # the power g^1 = g, which IEEE pow returns exactly.
    qv, floor, e_s, e_g = _holder_constants(float(p_value))
    zero = top == 0.0
    if zero.any():
        a = np.where(a > top * floor, a / np.where(zero, 1.0, top), 0.0)
        total = np.where(zero, 1.0, np.sum(a**qv, axis=-1, keepdims=True))   # a zero row stays 0
    else:
        a = np.where(a > top * floor, a / top, 0.0)
        total = np.sum(a**qv, axis=-1, keepdims=True)
    if e_g != 1.0:
        a = a**e_g
    a *= total**e_s
    a *= np.sign(v)
    return a
