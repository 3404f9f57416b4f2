"""Which norm's steepest descent is a blockwise update rule? (the weighting of hybrid optimizers)

Gronich & Vardi (2026) show that momentum steepest descent under a decaying schedule tracks normalized
steepest descent, whose limit directions are KKT points of the margin problem in that norm. A hybrid
optimizer updates each parameter block b by its own rule,

    θ_b ← θ_b − η_t ℓ_b D_b,     D_b = LMO_b(statistic_b),   ‖D_b‖_b = 1,

with a common schedule shape η_t, a block learning rate ℓ_b (base lr × per-layer multiplier × shape
factor) and the linear maximization oracle of the block's norm (spectral for Muon, ℓ∞ for Signum).
This module derives, from the update rule alone:

1. Normalized momentum: under a stationary gradient g the momentum is M_t = (1 − β^t) g, and the LMO
   is scale-invariant, so D_b = LMO_b(g).
2. Adam with ε = 0: m̂_t/√v̂_t = g/|g| = sign(g), the LMO of the ℓ∞ ball; an Adam block acts as a
   Signum block with its own learning rate.
3. The LMO of the weighted block max  ‖θ‖ = max_b c_b ‖θ_b‖_b  is (LMO_b(g_b)/c_b)_b.
4. Matching η_t ℓ_b D_b = κ_t D_b / c_b for all blocks gives c_b ∝ 1/ℓ_b; normalizing the
   reference block to weight 1, c_b = ℓ_ref/ℓ_b. For Muon (η^M) on matrices with Adam (η^A) on the
   rest: max{(η^A/η^M) max_k ‖W_k‖_sp, ‖u‖_∞}.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping, Sequence

import sympy as sp

from theory.derivation import Derivation
from theory.errors import UserInputError
from theory.norms import BlockMax, Entrywise, Norm

RULES = ("steepest", "momentum_steepest", "adam")


class UpdateRuleError(UserInputError):
    """A blockwise update rule outside what the derivation covers."""


@dataclass(frozen=True)
class BlockRule:
    """One block's update: ``rule`` in :data:`RULES`, its ``norm`` (ignored for ``adam``, whose
    norm is derived to be ℓ∞) and its learning rate ``lr`` (a sympy expression or number)."""

    block: str
    rule: str
    lr: sp.Expr
    norm: Norm | None = None

    def __post_init__(self):
        if self.rule not in RULES:
            raise UpdateRuleError(f"unknown update rule {self.rule!r} for block {self.block}; expected one of {RULES}")
        if self.rule != "adam" and self.norm is None:
            raise UpdateRuleError(f"block {self.block}: rule {self.rule!r} needs the norm of its LMO")


_T = sp.Symbol("t", integer=True, positive=True)
_K = sp.Symbol("k", integer=True, nonnegative=True)


@lru_cache(maxsize=None)
def _ema_of_constant(beta: sp.Symbol, value: sp.Expr) -> sp.Expr:
    """Σ_{s≤t} (1−β)β^{t−s}·value = (1−β)·value·Σ_{k<t} β^k: the exponential moving average of a
    constant after t steps (the β ≠ 1 branch of the geometric sum; β < 1 for momentum)."""
    geometric = sp.summation(beta**_K, (_K, 0, _T - 1))
    generic = [expr for expr, cond in geometric.args if cond == True][0]  # noqa: E712 (sympy true)
    return sp.simplify((1 - beta) * value * generic)


def momentum_scale_derivation(d: Derivation) -> sp.Expr:
    beta, g = sp.symbols("beta g", positive=True)
    m_t = _ema_of_constant(beta, g)
    d.step("Momentum of a stationary gradient g: M_t = Σ_{s≤t} (1−β)β^{t−s} g =", m_t)
    d.step("a positive multiple of g; the LMO is invariant under positive scaling, so LMO(M_t) = LMO(g).")
    return m_t


def adam_direction_derivation(d: Derivation) -> sp.Expr:
    b1, b2 = sp.symbols("beta1 beta2", positive=True)
    g = sp.Symbol("g", real=True, nonzero=True)
    m, v = _ema_of_constant(b1, g), _ema_of_constant(b2, g**2)
    d.step("Adam (ε = 0) on one coordinate with a stationary gradient g: m_t =", m)
    d.step("v_t =", v)
    ratio = sp.simplify((m / (1 - b1**_T)) / sp.sqrt(v / (1 - b2**_T)))
    d.result("adam_direction", ratio, "bias-corrected direction m̂_t/√v̂_t =")
    d.step("m̂_t/√v̂_t − sign(g) = (below): the direction is sign(g) coordinatewise, the LMO of the ℓ∞ "
           "unit ball, so an Adam block is a Signum block (norm ℓ∞) with its own learning rate. With "
           "ε > 0 it is g/(|g| + ε), which drifts to ℓ2 as g → 0.", sp.simplify(ratio - sp.sign(g)))
    return ratio


def implied_norm_derivation(rules: Sequence[BlockRule], reference: str | None = None) -> Derivation:
    """Derive the weights c_b of the block max whose steepest descent the hybrid rule is."""
    return _implied_norm_derivation(tuple(rules), reference)


@lru_cache(maxsize=None)
def _implied_norm_derivation(rules: tuple[BlockRule, ...], reference: str | None) -> Derivation:
    if not rules:
        raise UpdateRuleError("no parameter blocks given")
    names = [r.block for r in rules]
    if len(set(names)) != len(names):
        raise UpdateRuleError(f"block names must be distinct, got {names}")
    reference = reference or names[-1]
    if reference not in names:
        raise UpdateRuleError(f"reference block {reference!r} is not one of {names}")
    d = Derivation("Norm implied by a blockwise update rule (Gronich & Vardi 2026)")
    if any(r.rule == "momentum_steepest" for r in rules):
        momentum_scale_derivation(d)
    if any(r.rule == "adam" for r in rules):
        adam_direction_derivation(d)
    norms = [Entrywise(sp.oo, vector=True) if r.rule == "adam" else r.norm for r in rules]
    for r, n in zip(rules, norms):
        d.step(f"Block {r.block}: θ_{r.block} ← θ_{r.block} − η_t ℓ_{r.block} D_{r.block}, D the LMO of "
               f"{n.name}, with ℓ_{r.block} =", sp.sympify(r.lr))
    c = sp.symbols(" ".join(f"c_{n}" for n in names), positive=True, seq=True)
    radius = sp.symbols(" ".join(f"r_{n}" for n in names), positive=True, seq=True)
    d.step("LMO of max_b c_b‖θ_b‖_b: maximize Σ_b r_b ‖g_b‖_{b,*} over Δ_b = r_b D_b subject to "
           "c_b r_b ≤ 1; the objective increases in every r_b, so each constraint is active:")
    r_sol = [sp.solve(sp.Eq(cb * rb, 1), rb)[0] for cb, rb in zip(c, radius)]
    for rb, val in zip(radius, r_sol):
        d.step("", sp.Eq(rb, val))
    kappa, eta = sp.symbols("kappa_t eta_t", positive=True)
    equations = [sp.Eq(eta * sp.sympify(r.lr), kappa * val) for r, val in zip(rules, r_sol)]
    d.step("The update equals κ_t times that LMO when, block by block,", sp.And(*equations))
    ref = names.index(reference)
    solution = sp.solve(equations + [sp.Eq(c[ref], 1)], list(c) + [kappa], dict=True)
    if len(solution) != 1:
        raise UpdateRuleError(f"the block weights are not determined uniquely ({len(solution)} solutions)")
    weights = tuple(sp.simplify(solution[0][cb]) for cb in c)
    d.result("weights", sp.Tuple(*weights),
             f"Weights c_b (block {reference} normalized to 1; a positive rescaling of the norm "
             f"leaves its KKT directions unchanged):")
    d.result("norms", sp.Tuple(*[sp.Symbol(n.name) for n in norms]), "Block norms:")
    return d


def implied_norm(rules: Sequence[BlockRule], values: Mapping[sp.Symbol, float] | None = None,
                 reference: str | None = None) -> Norm:
    """The norm of the derivation, with the symbols in the learning rates replaced by ``values``: the
    rule's own norm for a single rule over all parameters, else a :class:`BlockMax`."""
    if len(rules) == 1:
        r = rules[0]
        return Entrywise(sp.oo, vector=True) if r.rule == "adam" else r.norm
    d = implied_norm_derivation(rules, reference)
    weights = []
    for w in d.results["weights"]:
        value = sp.sympify(w).subs(dict(values or {}))
        if value.free_symbols:
            raise UpdateRuleError(f"weight {w} needs values for {sorted(map(str, value.free_symbols))}")
        weights.append(float(value))
    norms = tuple(Entrywise(sp.oo, vector=True) if r.rule == "adam" else r.norm for r in rules)
    return BlockMax(norms, tuple(weights))
