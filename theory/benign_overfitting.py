"""Benign overfitting of the maximum-margin classifier on sub-Gaussian mixtures (Cao, Gu, Belkin 2021).

Data x = yμ + ξ, y = ±1, ξ sub-Gaussian with covariance Σ, n samples in dimension d ≫ n. The
paper's risk bound for the hard-margin SVM has the form risk ≤ exp(−C·E) with the exponent
(as recalled from Cao, Gu, Belkin 2021, not derived here; the constant C is unspecified)

    E_Σ = n‖μ‖₂⁴ / (n‖μ‖_Σ² + ‖Σ‖_F² + n‖Σ‖₂²),

which for Σ = I_d and d ≫ n reduces to the exponent checked here, E = n‖μ‖⁴/(n‖μ‖² + d); benign
overfitting (risk → 0) needs E → ∞, i.e. ‖μ‖ ≫ (d/n)^{1/4}. Derived below:

- the isotropic reduction and its d ≫ n leading term (E depends on (n, d) only through d/n);
- the transition radius: E(r) = c solved exactly, r² = (c + √(c² + 4c d/n))/2, and its leading
  term r = (c d/n)^{1/4};
- the exact test error of any θ under Gaussian noise, P(y⟨θ, x⟩ < 0) = Φ(−⟨θ, μ⟩/‖θ‖₂);
- a leading-order estimate for the min-norm interpolator θ̂ = Xᵀ(XXᵀ)⁻¹y when d ≫ n (XXᵀ ≈ dI +
  r²yyᵀ, Sherman–Morrison): ⟨θ̂, μ⟩/‖θ̂‖ ≈ √E, so log risk ≈ −E/2 (the fitted constant's
  reference value, reported, not asserted);
- when every training point is a support vector the SVM equals the min-norm interpolator: the KKT
  conditions hold with λ = y ⊙ (XXᵀ)⁻¹y, so the regime is y ⊙ (XXᵀ)⁻¹y > 0 (checked symbolically on
  a generic 2 × 3 design).
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp
import sympy.stats as st

from theory.derivation import Derivation

n, d = sp.symbols("n d", positive=True)
r = sp.Symbol("‖μ‖", positive=True)
c = sp.Symbol("c", positive=True)           # a level of the exponent (unknown constant)


@lru_cache(maxsize=1)
def risk_exponent_derivation() -> Derivation:
    """Results: ``exponent`` E(n, d, ‖μ‖), ``control_exponent`` n‖μ‖²/d (mis-specified),
    ``transition_radius_exact`` and ``transition_radius`` (leading term) in the level c,
    ``snr_squared_min_norm`` (leading order, = E)."""
    der = Derivation("Risk exponent of the max-margin classifier on a sub-Gaussian mixture")
    mu_sig, sig_f, sig_2 = sp.symbols("‖μ‖_Σ² ‖Σ‖_F² ‖Σ‖₂²", positive=True)
    general = der.step("Recalled bound (Cao, Gu, Belkin 2021; form unverified): risk ≤ exp(−C·E_Σ), "
                       "E_Σ =", n * r**4 / (n * mu_sig + sig_f + n * sig_2))
    iso = der.step("Isotropic noise Σ = I_d: ‖μ‖_Σ² = ‖μ‖², ‖Σ‖_F² = d, ‖Σ‖₂² = 1:",
                   general.subs({mu_sig: r**2, sig_f: d, sig_2: 1}))
    E = n * r**4 / (n * r**2 + d)
    ratio = sp.limit((iso / E).subs(d, n * sp.Symbol("q", positive=True)), sp.Symbol("q", positive=True),
                     sp.oo)
    if ratio != 1:
        raise RuntimeError("the isotropic exponent does not reduce to n‖μ‖⁴/(n‖μ‖² + d) for d ≫ n")
    der.result("exponent", E, "Over-parameterized (d/n → ∞, ratio → 1) exponent checked here:")
    q = sp.Symbol("d/n", positive=True)
    der.step("E depends on (n, d) only through d/n:", sp.simplify(E.subs(d, q * n)))
    der.result("control_exponent", n * r**2 / d, "Mis-specified exponent (negative control):")
    roots = sp.solve(sp.Eq(E, c), r**2)
    exact = [s for s in roots if sp.simplify(s.subs({c: 1, n: 1, d: 1})) > 0]
    if len(exact) != 1:
        raise RuntimeError(f"E = c should have one positive root in ‖μ‖², got {roots}")
    der.result("transition_radius_exact", sp.sqrt(exact[0]), "Transition E(‖μ‖) = c, solved exactly:")
    lead = sp.limit(sp.sqrt(exact[0]) / (d / n) ** sp.Rational(1, 4), d, sp.oo)
    der.result("transition_radius", lead * (d / n) ** sp.Rational(1, 4),
               "leading term for d ≫ n: ‖μ‖ ~ (d/n)^(1/4), the harmful → benign transition:")
    der.extend(_test_error_derivation())
    der.extend(_min_norm_snr_derivation(E))
    der.extend(_all_support_vectors_derivation())
    der.results["snr_squared_min_norm"] = E
    return der


def _test_error_derivation() -> Derivation:
    der = Derivation("Exact test error under Gaussian noise")
    m, s = sp.Symbol("⟨θ, μ⟩", positive=True), sp.Symbol("‖θ‖", positive=True)
    Z = st.Normal("Z", 0, s)
    der.step("y⟨θ, yμ + ξ⟩ = ⟨θ, μ⟩ + y⟨θ, ξ⟩ and y⟨θ, ξ⟩ ~ N(0, ‖θ‖²) for ξ ~ N(0, I_d):")
    prob = sp.simplify(st.P(Z < -m))
    phi = (1 + sp.erf(sp.Symbol("z") / sp.sqrt(2))) / 2
    if sp.simplify((prob - phi.subs(sp.Symbol("z"), -m / s)).rewrite(sp.erf)) != 0:
        raise RuntimeError("P(⟨θ,μ⟩ + Z < 0) is not Φ(−⟨θ,μ⟩/‖θ‖)")
    der.result("test_error", prob, "P(y⟨θ, x⟩ < 0) = Φ(−⟨θ,μ⟩/‖θ‖):")
    der.results["test_error_symbols"] = (m, s)
    return der


def _min_norm_snr_derivation(E: sp.Expr) -> Derivation:
    der = Derivation("Leading-order signal-to-noise ratio of the min-norm interpolator (d ≫ n)")
    der.step("XXᵀ = r²yyᵀ + yμᵀΞᵀ + Ξμyᵀ + ΞΞᵀ ≈ d I + r² yyᵀ (cross terms O(r√n), ΞΞᵀ − dI "
             "O(√(nd)) neglected), and Sherman–Morrison with yᵀy = n gives",
             sp.Eq(sp.Symbol("(XXᵀ)⁻¹y"), sp.Symbol("y") / (d + n * r**2)))
    num, den = n * r**2, sp.sqrt(n**2 * r**2 + n * d)
    der.step("θ̂ ∝ Xᵀy = nμ + Ξᵀy: ⟨θ̂, μ⟩ ∝ n r², ‖θ̂‖² ∝ n² r² + ‖Ξᵀy‖² ≈ n² r² + n d; so "
             "⟨θ̂, μ⟩/‖θ̂‖ ≈", num / den)
    if sp.simplify((num / den) ** 2 - E) != 0:
        raise RuntimeError("the min-norm SNR² does not equal the exponent E")
    der.step("whose square is the exponent E: risk = Φ(−√E) ≈ exp(−E/2)/√(2πE), so C ≈ 1/2 "
             "asymptotically.", E)
    return der


def _all_support_vectors_derivation() -> Derivation:
    der = Derivation("When the SVM equals the min-norm interpolator")
    X = sp.Matrix(2, 3, lambda i, k: sp.Symbol(f"x_{i + 1}{k + 1}", real=True))
    y = sp.Matrix([1, -1])
    alpha = (X * X.T).inv() * y
    w = X.T * alpha
    lam = sp.Matrix([y[i] * alpha[i] for i in range(2)])
    stationarity = w - sum((lam[i] * y[i] * X[i, :].T for i in range(2)), sp.zeros(3, 1))
    if sp.simplify(X * w - y) != sp.zeros(2, 1) or sp.simplify(stationarity) != sp.zeros(3, 1):
        raise RuntimeError("the min-norm interpolator does not satisfy the SVM KKT conditions")
    der.step("Hard-margin SVM: min ‖w‖² s.t. y_i⟨w, x_i⟩ ≥ 1; KKT: w = Σ λ_i y_i x_i, λ ≥ 0. With every "
             "constraint active Xw = y, so w = Xᵀα, XXᵀα = y, λ_i = y_i α_i (verified on a generic "
             "2 × 3 X):", sp.Eq(sp.Symbol("w"), sp.Symbol("Xᵀ(XXᵀ)⁻¹y")))
    der.result("all_support_vectors", sp.Symbol("y ⊙ (XXᵀ)⁻¹y") > 0,
               "so the SVM is the min-norm interpolator iff (all-support-vector regime)")
    return der
