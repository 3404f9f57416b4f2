"""Max-margin problems of linear classifiers as symbolic objects, with their Lagrange duals.

Binary (vector model, labels y_i = ±1):   margin_i(w) = y_i ⟨w, x_i⟩.
Multiclass (matrix model W ∈ R^{k×d}):     margin_{ic}(W) = (e_{y_i} − e_c)ᵀ W x_i, c ≠ y_i.
Both are linear maps A of the parameters; with A* the adjoint the primal and dual read

    1/γ* = min ‖W‖  s.t. A(W) ≥ 1              (primal, min-norm form)
         = max Σ λ   s.t. λ ≥ 0, ‖A*(λ)‖_* ≤ 1  (Lagrange dual)

(Gunasekar et al. 2018 for the binary case; Fan, Schmidt, Thrampoulidis 2025 for the multiclass
case.) Weak duality makes any primal W (rescaled to be feasible) and any λ ≥ 0 (rescaled to be dual
feasible) a certificate bracketing γ*; ``numerics.certificate`` evaluates exactly the two scaled
values derived here.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from theory.derivation import Derivation
from theory.norms import Norm


@dataclass(frozen=True)
class MarginProblem:
    model: str  # "binary" | "multiclass"
    norm: Norm

    def derivation(self) -> Derivation:
        return margin_duality_derivation(self.model, self.norm.name, self.norm.dual.name)


@lru_cache(maxsize=None)
def margin_duality_derivation(model: str, norm_name: str, dual_name: str) -> Derivation:
    d = Derivation(f"Max-margin problem ({model}, norm {norm_name}) and its Lagrange dual")
    lam, t, s = sp.symbols("lambda t s", positive=True)
    nrm, nrm_dual, total, mmin = sp.symbols("‖W‖ ‖A*λ‖_* Σλ m_min", positive=True)
    if model == "binary":
        d.step("Margin of sample i: y_i ⟨w, x_i⟩ (labels ±1). The margin map A(w)_i = y_i⟨x_i, w⟩ "
               "has adjoint A*(λ) = Σ_i λ_i y_i x_i.")
    else:
        d.step("Margin of sample i against class c ≠ y_i: (e_{y_i} − e_c)ᵀ W x_i. The margin map "
               "A(W)_{ic} has adjoint A*(λ) = Σ_{i,c≠y_i} λ_{ic} (e_{y_i} − e_c) x_iᵀ.")
    d.step(f"Primal (min-norm form): minimize ‖W‖ ({norm_name}) subject to A(W) ≥ 1; γ* = 1/‖W*‖.")
    d.step("Lagrangian with multipliers λ ≥ 0:  ℒ(W, λ) = ‖W‖ − ⟨λ, A(W) − 1⟩ = ‖W‖ − ⟨A*(λ), W⟩ + Σλ.")
    d.step(f"Dual function: inf_W ‖W‖ − ⟨A*λ, W⟩ is 0 if ‖A*λ‖_* ≤ 1 and −∞ otherwise (definition "
           f"of the dual norm, here {dual_name}; along W = tΔ with ⟨A*λ, Δ⟩ = ‖A*λ‖_*, ‖Δ‖ = 1):",
           sp.Eq(sp.Symbol("ℒ(tΔ, λ)"), t * (1 - nrm_dual) + total))
    d.step(f"Dual: maximize Σλ subject to λ ≥ 0 and ‖A*λ‖_* ≤ 1 ({dual_name}). Weak duality: "
           "every dual-feasible value ≤ every primal-feasible value.")
    d.step("Certificate from arbitrary (W, λ): W/m_min is primal feasible (m_min = min A(W) > 0) and "
           "λ/‖A*λ‖_* is dual feasible, so")
    upper = d.result("primal_value", nrm / mmin, "primal value P = ‖W/m_min‖ =")
    lower = d.result("dual_value", total / nrm_dual, "dual value D = Σ(λ/‖A*λ‖_*) =")
    d.result("bracket", sp.And(sp.Le(1 / upper, sp.Symbol("γ*")), sp.Le(sp.Symbol("γ*"), 1 / lower)),
             "and the max margin is bracketed:")
    d.result("relative_gap", (upper - lower) / upper, "relative duality gap:")
    d.step("Minimax form (Sion): γ* = max_{‖W‖≤1} min_{λ∈Δ} ⟨λ, A(W)⟩ = min_{λ∈Δ} ‖A*λ‖_*, Δ the "
           "probability simplex over the margin constraints.")
    return d
