"""Convergence rates of margin gaps as symbolic expressions, and the decay exponents they imply.

The rates are upper bounds with unspecified constants (the papers leave the constants unspecified);
what a check can test is the *exponent*: lim_{t→∞} log(rate(t)) / log t, derived here.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from theory.derivation import Derivation

t, n, d = sp.symbols("t n d", positive=True)

RATES = {
    # Fan, Schmidt, Thrampoulidis (2025), η_t = Θ(1/√t); multiclass, n samples, d features.
    "nsd": ((sp.log(t) + n) / sp.sqrt(t), "Fan, Schmidt, Thrampoulidis 2025 (NSD)"),
    "nmd": ((d * sp.log(t) + d * n) / sp.sqrt(t), "Fan, Schmidt, Thrampoulidis 2025 (NMD)"),
    "adam": ((d * sp.log(t) + n * d) / t ** sp.Rational(1, 3), "Fan, Schmidt, Thrampoulidis 2025 (Adam)"),
    # Soudry et al. (2018): gradient descent with a fixed step, margin gap O(1/log t).
    "gd": (1 / sp.log(t), "Soudry, Hoffer, Nacson, Gunasekar, Srebro 2018 (GD)"),
}


@lru_cache(maxsize=None)
def rate_derivation(name: str) -> Derivation:
    rate, source = RATES[name]
    d_ = Derivation(f"Margin-gap rate: {source}")
    d_.step("Upper bound on the relative margin gap (constants unspecified):", rate)
    exponent = sp.limit(sp.log(rate) / sp.log(t), t, sp.oo)
    d_.result("exponent", exponent, "Decay exponent lim log(bound)/log t:")
    return d_


def decay_exponent(name: str) -> float:
    return float(rate_derivation(name).results["exponent"])


@lru_cache(maxsize=1)
def step_size_derivation() -> Derivation:
    """The η₀ of η_t = η₀/√t that minimizes the NSD margin-gap bound at a horizon T.

    Descent lemma for log L with ‖∇² log L‖ ≤ R² in the norm (R = max_i ‖A_i‖_*, A_i the rows of the
    margin map) and ‖∇ log L‖_* ≥ γ* on separable data: log L(W_T) ≤ log N − γ*Σ η_t + (R²/2)Σ η_t²,
    N the number of margin constraints; with min_i A_i(W) ≥ −log(N L(W)) and ‖W_T‖ ≤ Σ η_t this bounds
    the relative gap by ((R²/2)Σ η² + log N) / (γ* Σ η). With Σ η ≈ 2η₀√T and Σ η² ≈ η₀² log T:
    """
    eta0, R, N, T, gamma = sp.symbols("eta_0 R N T gamma", positive=True)
    d_ = Derivation("Step size η₀ minimizing the NSD gap bound (η_t = η₀/√t, horizon T)")
    d_.step("Relative margin gap ≤ ((R²/2)Σ_t η_t² + log N) / (γ* Σ_t η_t), with R = max_i ‖A_i‖_* and "
            "N the number of margin constraints (descent lemma on log L).")
    bound = (R**2 * eta0**2 * sp.log(T) / 2 + sp.log(N)) / (gamma * 2 * eta0 * sp.sqrt(T))
    d_.step("With Σ η_t ≈ 2η₀√T and Σ η_t² ≈ η₀² log T:", bound)
    # N, T > 1 in every use (log N, log T > 0): keep the root that is positive there.
    (best,) = [s for s in sp.solve(sp.diff(bound, eta0), eta0) if s.subs({R: 1, N: 2, T: 2}) > 0]
    d_.result("eta0", best, "Minimizer over η₀:")
    d_.result("gap_at_best", sp.simplify(bound.subs(eta0, best)), "Bound at the minimizer:")
    d_.step("The bound is loose by a data-dependent constant; the catalogue uses κ·η₀* with one κ "
            "for every norm (declared in the claim settings).")
    return d_


def optimal_eta0(R: float, constraints: int, horizon: int) -> float:
    """η₀* of :func:`step_size_derivation` evaluated numerically."""
    expr = step_size_derivation().results["eta0"]
    values = {sp.Symbol("R", positive=True): R, sp.Symbol("N", positive=True): constraints,
              sp.Symbol("T", positive=True): horizon}
    return float(expr.subs(values))


@lru_cache(maxsize=1)
def momentum_lag_derivation() -> Derivation:
    """The largest η₀ for which an exponential moving average of gradients stays current.

    An EMA with factor β of the gradients g_s = L(W_s) ∇ log L(W_s) (or of g_s², power 2) weighs the
    gradient of j steps ago by β^j L_{t−j}^power. Late in training log L falls by η_t ‖∇ log L‖_* ≈
    η_t γ* per step (‖∇ log L‖_* → γ* on separable data), so the weights *grow* with j — the average
    is dominated by stale gradients — unless power · η_t γ* < −log β. Requiring it from step t₀ on:
    """
    eta0, gamma, beta, t0, k = sp.symbols("eta_0 gamma beta t_0 k", positive=True)
    d_ = Derivation("Momentum lag: step size for which an EMA of gradients tracks the current one")
    d_.step("Weight of the gradient j steps back (power k = 1 for momentum, 2 for Adam's v):",
            sp.Symbol("beta") ** sp.Symbol("j") * sp.exp(k * sp.Symbol("j") * eta0 * gamma / sp.sqrt(t0)))
    (cap,) = sp.solve(sp.Eq(k * eta0 * gamma / sp.sqrt(t0), -sp.log(beta)), eta0)
    d_.result("eta0_max", cap, "Weights decay in j for t ≥ t₀ iff η₀ ≤")
    return d_


def lag_free_eta0(beta: float, gamma: float, t0: float, power: int = 1) -> float:
    expr = momentum_lag_derivation().results["eta0_max"]
    sym = {s.name: s for s in expr.free_symbols}
    return float(expr.subs({sym["beta"]: beta, sym["gamma"]: gamma, sym["t_0"]: t0, sym["k"]: power}))
