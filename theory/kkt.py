"""KKT conditions of the margin problem of a homogeneous model, under any norm, as symbolic objects.

Problem (Lyu & Li 2020 for ℓ2; Tsilivis, Gronich, Vardi, Kempe 2024 and Gronich & Vardi 2026 for
other norms): with margins q_i(θ) = y_i f(x_i; θ) of an L-homogeneous model,

    minimize ½‖θ‖²  subject to  q_i(θ) ≥ 1  (i = 1..n).

KKT at θ: there are λ ≥ 0 and u ∈ ∂(½‖θ‖²) with u = Σ_i λ_i ∇q_i(θ) (Clarke gradients for ReLU),
and λ_i (q_i(θ) − 1) = 0. The subdifferential is derived from ∂‖θ‖ = {g : ‖g‖_* ≤ 1, ⟨g, θ⟩ = ‖θ‖}:

    ∂(½‖θ‖²) = ‖θ‖ ∂‖θ‖ = {u : ‖u‖_* = ‖θ‖, ⟨u, θ⟩ = ‖θ‖²},

a single point (the gradient) for smooth norms, derived below for ℓp, 1 < p < ∞. Euler's identity
⟨∇q_i(θ), θ⟩ = L q_i(θ) turns ⟨u, θ⟩ = ‖θ‖² into ‖θ‖² = L Σ_i λ_i q_i = L Σ_i λ_i at a KKT point:
the natural scale for the complementary-slackness violation. Homogeneity gives the normalization
θ̂ = θ / q_min(θ)^{1/L} (then min_i q_i(θ̂) = 1) and the scale-free normalized margin
γ(θ) = q_min(θ) / ‖θ‖^L.

The residual that ``numerics.kkt_residual`` computes from these objects, for fitted multipliers:

    stationarity = ‖u − Σ_i λ_i ∇q_i(θ̂)‖_* / ‖θ̂‖,   complementary slackness = L Σ_i λ_i (q_i − 1) / ‖θ̂‖²,

and the KKT residual is their Euclidean combination, minimized over λ ≥ 0 and u in the
subdifferential (exactly zero at a KKT point).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from theory.derivation import Derivation
from theory.homogeneous import ALPHA, HomogeneousModel
from theory.norms import Norm

_L = sp.Symbol("L", positive=True)
NORM, DUAL_U = sp.symbols("‖θ‖ ‖u‖_*", positive=True)
INNER = sp.Symbol("⟨u,θ⟩", real=True)
Q_MIN, SCALE = sp.symbols("q_min s", positive=True)
LAMBDA_SUM, LAMBDA_Q = sp.symbols("Σλ_i Σλ_iq_i", positive=True)


@lru_cache(maxsize=None)
def lp_gradient_derivation() -> Derivation:
    """∂/∂θ_i ½‖θ‖_p² = ‖θ‖_p^{2−p} |θ_i|^{p−1} sign(θ_i) for 1 < p < ∞ (the smooth case), and the
    checks that it lies in {u : ‖u‖_q = ‖θ‖_p, ⟨u, θ⟩ = ‖θ‖_p²}."""
    p, a, S = sp.symbols("p a S", positive=True)          # a = |θ_i| > 0, S = Σ_j |θ_j|^p
    d = Derivation("Gradient of ½‖θ‖_p² (1 < p < ∞)")
    half_sq = d.step("½‖θ‖_p² = ½ S^{2/p} with S = Σ_j |θ_j|^p:", S ** (2 / p) / 2)
    dS = d.step("∂S/∂|θ_i| =", sp.powsimp(sp.diff(a**p, a)))
    grad = sp.simplify(sp.diff(half_sq, S) * dS)
    d.result("gradient_magnitude", grad, "|∂/∂θ_i ½‖θ‖_p²| (times sign θ_i) =")
    q = p / (p - 1)
    # ‖u‖_q^q = Σ grad_i^q: each term is S^{q(2/p−1)} a^{q(p−1)} = S^{q(2/p−1)} a^p.
    term_q = sp.powsimp(sp.expand_power_base(grad**q, force=True), force=True)
    dual_q = sp.simplify(term_q.subs(a**p, 1) * S)           # Σ_i a_i^p = S
    dual = sp.simplify(sp.powdenest(dual_q ** (1 / q), force=True))
    d.result("dual_norm_of_gradient", dual, "‖u‖_q with q = p/(p−1) (equals ‖θ‖_p = S^{1/p}):")
    inner = sp.simplify(sp.powsimp(grad * a, force=True).subs(a**p, 1) * S)
    d.result("inner_product", inner, "⟨u, θ⟩ = Σ_i |u_i||θ_i| (equals ‖θ‖_p² = S^{2/p}):")
    d.step("p = 2: u = θ (the ℓ2 case of Lyu & Li 2020):", sp.simplify(grad.subs(p, 2)))
    return d


@dataclass(frozen=True)
class HomogeneousMarginProblem:
    """min ½‖θ‖² s.t. y_i f(x_i; θ) ≥ 1 for an L-homogeneous model and a norm."""

    model: HomogeneousModel
    norm: Norm

    @property
    def degree(self) -> sp.Expr:
        return self.model.degree

    def derivation(self) -> Derivation:
        return kkt_derivation(self.model.degree, self.norm.name, self.norm.dual.name,
                              self.norm.strictly_convex)


@lru_cache(maxsize=None)
def kkt_derivation(degree: sp.Expr, norm_name: str, dual_name: str, smooth: bool) -> Derivation:
    L = degree
    d = Derivation(f"KKT conditions of the {norm_name} margin problem of a {L}-homogeneous model")
    d.step(f"Problem: minimize ½‖θ‖² ({norm_name}) subject to q_i(θ) = y_i f(x_i; θ) ≥ 1.")
    d.step("Lagrangian with λ ≥ 0:  ℒ(θ, λ) = ½‖θ‖² − Σ_i λ_i (q_i(θ) − 1).")
    d.step(f"∂‖θ‖ = {{g : ‖g‖_* ≤ 1, ⟨g, θ⟩ = ‖θ‖}} (dual norm {dual_name}); by the chain rule "
           "∂(½‖θ‖²) = ‖θ‖·∂‖θ‖. Writing u = ‖θ‖ g:")
    d.result("subdifferential", sp.And(sp.Eq(DUAL_U, NORM), sp.Eq(INNER, NORM**2)), "u ∈ ∂(½‖θ‖²)  ⇔")
    if smooth:
        d.step("The norm is smooth here: the subdifferential is the single gradient below.")
        d.extend(lp_gradient_derivation())
    else:
        d.step("The norm is not smooth: the subdifferential is a face of the dual ball scaled by ‖θ‖ "
               "(supported on the maximal entries, singular values or blocks).")
    d.step("KKT: u = Σ_i λ_i ∇q_i(θ) (Clarke gradients where f has kinks), λ_i ≥ 0, q_i(θ) ≥ 1, "
           "λ_i (q_i(θ) − 1) = 0.")
    d.extend(homogeneity_derivation(L))
    d.step("Residual of fitted (λ, u): stationarity ‖u − Σλ_i∇q_i‖_*/‖θ̂‖ and complementary slackness "
           "L Σλ_i(q_i − 1)/‖θ̂‖², combined as √(stationarity² + slackness²), minimized over λ ≥ 0 and u in "
           "the subdifferential; zero exactly at a KKT point.")
    return d


@lru_cache(maxsize=None)
def homogeneity_derivation(degree: sp.Expr) -> Derivation:
    """What L-homogeneity gives the margin problem in any norm: Σλ_i at a KKT point (the slackness
    normalizer), the normalizing scale s = q_min^{1/L} and the scale-free normalized margin."""
    L = sp.sympify(degree)
    d = Derivation(f"Consequences of {L}-homogeneity for the margin problem")
    d.step(f"Euler's identity for the {L}-homogeneous margins: ⟨∇q_i(θ), θ⟩ = L q_i(θ). Pairing the "
           "stationarity condition with θ:", sp.Eq(INNER, L * LAMBDA_Q))
    lam_sum = sp.solve(sp.Eq(NORM**2, L * LAMBDA_SUM), LAMBDA_SUM)[0]
    d.result("lambda_sum", lam_sum, "so with ⟨u,θ⟩ = ‖θ‖² and complementary slackness (Σλ_iq_i = Σλ_i):"
             " Σλ_i =")
    d.result("cs_normalizer", sp.simplify(1 / lam_sum),
             "Complementary slackness is measured relative to Σλ_i q_i, i.e. L Σλ_i (q_i − 1)/‖θ‖², "
             "with the factor")
    q_scaled = d.step("Homogeneity: q_i(θ/s) = q_i(θ)/s^L. Choosing s so that the smallest margin is 1:",
                      sp.Eq(Q_MIN / SCALE**L, 1))
    s_sol = [s for s in sp.solve(q_scaled, SCALE) if s.is_positive is not False]
    d.result("normalizing_scale", s_sol[0], "θ̂ = θ/s with s =")
    gamma = Q_MIN / NORM**L
    scaled_gamma = gamma.subs({Q_MIN: ALPHA**L * Q_MIN, NORM: ALPHA * NORM})
    d.result("normalized_margin", gamma, "Normalized margin γ(θ) = q_min(θ)/‖θ‖^L, scale-free:")
    d.step("γ(αθ) − γ(θ) =", sp.simplify(scaled_gamma - gamma))
    return d
