"""The double-edged sword of implicit bias (Frei, Vardi, Bartlett, Srebro 2023), idealized and derived.

Idealization (an assumption of this derivation, not of the paper): k exactly orthogonal cluster means
μ_1..μ_k with ‖μ_j‖ = ρ, k₊ clusters labelled +1 and k₋ = k − k₊ labelled −1, and training points at
the means. For the two-layer ReLU network f(x) = Σ_j u_j ReLU(⟨w_j, x⟩):

1. The network with two neurons w_± = α_± Σ_{j: y_j = ±1} μ_j, u_± = ±β_± is a KKT point of
   min ½‖θ‖₂² s.t. y_j f(μ_j) ≥ 1 (the multipliers are solved for below and are positive). It
   generalizes (every cluster is classified correctly) yet is not robust: along the universal
   direction −Σ_j y_j μ_j the prediction at μ_1 reaches 0 at radius ρ/√k, whatever k₊ is.
2. The one-detector-per-cluster network f(x) = Σ_j y_j ReLU(⟨μ_j, x⟩ − b) fits the same data; an
   interval bound on every pre-activation (|⟨μ_j, z⟩| ≤ ρ‖z‖) certifies its prediction at μ_1 for
   ‖z‖ < min(ρ − b/ρ, b/ρ), maximized at b = ρ²/2: radius ρ/2, independent of k.

The claim checks the scaling exponents in k (−1/2 and 0) and in the dimension d through ρ = √d
(Frei et al.'s ‖μ‖ = √d convention; both exponents +1/2), not constants.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from theory.derivation import Derivation

RHO, K_POS, K_NEG, K, D = sp.symbols("rho k_+ k_- k d", positive=True)
R = sp.Symbol("r", positive=True)


@lru_cache(maxsize=1)
def double_edged_sword_derivation() -> Derivation:
    d = Derivation("KKT network vs robust network on orthogonal clusters (Frei et al. 2023, idealized)")
    a_p, a_n, b_p, b_n, l_p, l_n = sp.symbols("alpha_+ alpha_- beta_+ beta_- lambda_+ lambda_-", positive=True)
    d.step("Orthogonal means μ_j, ‖μ_j‖ = ρ; neurons w_± = α_± Σ_{y_j=±1} μ_j, u_± = ±β_±. At a positive "
           "mean ⟨w_+, μ_j⟩ = α_+ρ², ⟨w_−, μ_j⟩ = 0 (ReLU inactive), so every margin is β_±α_±ρ².")
    d.step("KKT of min ½‖θ‖² s.t. margins ≥ 1 with equal multipliers λ_± per class (by symmetry): "
           "w_+ = Σ λ_+ β_+ μ_j, u_+ = Σ λ_+ ReLU(⟨w_+, μ_j⟩), margins tight (and the same for −).")
    eqs = [sp.Eq(a_p, l_p * b_p), sp.Eq(b_p, K_POS * l_p * a_p * RHO**2), sp.Eq(b_p * a_p * RHO**2, 1),
           sp.Eq(a_n, l_n * b_n), sp.Eq(b_n, K_NEG * l_n * a_n * RHO**2), sp.Eq(b_n * a_n * RHO**2, 1)]
    d.step("Equations:", sp.And(*eqs))
    sols = sp.solve(eqs, [a_p, a_n, b_p, b_n, l_p, l_n], dict=True)
    if len(sols) != 1:
        raise RuntimeError(f"expected one positive KKT solution, got {sols}")
    sol = {k: sp.simplify(v) for k, v in sols[0].items()}
    d.result("kkt_solution", sp.Tuple(*[sp.Eq(s, sol[s]) for s in (a_p, b_p, l_p, a_n, b_n, l_n)]),
             "Solution (all positive, so a KKT point):")
    # Attack at μ_1 (label +1) along v = −Σ_j y_j μ_j / ‖·‖ = (Σ_− μ_j − Σ_+ μ_j)/(ρ√k).
    k_tot = K_POS + K_NEG
    pre_p = sol[a_p] * (RHO**2 - R * K_POS * RHO / sp.sqrt(k_tot))
    pre_n = sol[a_n] * (R * K_NEG * RHO / sp.sqrt(k_tot))
    f_line = sp.simplify(sol[b_p] * pre_p - sol[b_n] * pre_n)
    d.step("Along v = −Σ_j y_j μ_j/‖Σ_j y_j μ_j‖ (unit; ‖Σ y_j μ_j‖ = ρ√k), while both neurons' "
           "pre-activations keep their signs, f(μ_1 + r v) =", f_line)
    r_kkt = sp.solve(sp.Eq(f_line, 0), R)[0]
    d.result("kkt_attack_radius", sp.simplify(r_kkt.subs(k_tot, K)),
             "It vanishes at the attack radius (k = k₊ + k₋):")
    b = sp.Symbol("b", positive=True)
    d.step("Robust network f(x) = Σ_j y_j ReLU(⟨μ_j, x⟩ − b). For ‖z‖ ≤ r: |⟨μ_j, z⟩| ≤ ρr, so "
           "f(μ_1 + z) ≥ ReLU(ρ² − b − ρr) − k₋ ReLU(ρr − b) > 0 while", sp.And(R < RHO - b / RHO, R < b / RHO))
    b_best = sp.solve(sp.Eq(RHO - b / RHO, b / RHO), b)[0]
    d.result("robust_threshold", b_best,
             "The certified radius min(ρ − b/ρ, b/ρ) is largest when the two are equal, at b =")
    r_rob = sp.simplify((b / RHO).subs(b, b_best))
    d.result("robust_radius", r_rob, "Certified radius of the robust network:")
    d.step("Killing the detector, z = −(ρ/2)μ_1/ρ, puts μ_1 + z on the decision boundary: the certified "
           "radius is exact.")
    exps = {}
    for name, r in (("kkt", d.results["kkt_attack_radius"]), ("robust", r_rob)):
        exps[name + "_k_exponent"] = sp.simplify(K * sp.diff(sp.log(r), K))
        exps[name + "_d_exponent"] = sp.simplify(D * sp.diff(sp.log(r.subs(RHO, sp.sqrt(D))), D))
    for key, val in exps.items():
        d.result(key, val, f"Scaling exponent {key.replace('_', ' ')} (ρ = √d for the d exponent):")
    d.result("radius_ratio", sp.simplify(r_rob / d.results["kkt_attack_radius"]),
             "Robust radius / KKT attack radius:")
    return d
