"""The slow drift of label-noise SGD and of preconditioned (Adam-type) methods along the manifold Γ.

Near the manifold of interpolators Γ, SGD x ← x − η(∇L + ζ) with noise covariance Σ follows, in
rescaled time t = η²·steps, the limit dX = ∂Φ Σ^{1/2} dW + ½ ∂²Φ(X)[Σ] dt (Katzenberger 1991;
Li, Wang, Arora 2022), Φ the gradient-flow limit map. With label noise Σ is proportional to H on Γ
and the diffusion term vanishes (Σ's range is normal to Γ), leaving a deterministic drift. The
derivation below establishes, by symbolic computation rather than by quotation:

1. the noise scale: fresh ±δ labels on every sample of a full batch give Cov(ζ) = (δ²/n) H_GN;
2. the constant of the drift, ½ ∂²Φ[σ² H] = κ σ² P_T ∇ tr H, by implicit differentiation of the
   *exact* limit map Φ of gradient flow on w = u² − v² (one sample, two coordinates: Φ moves u_j,
   v_j multiplicatively, u_j e^{z_j τ}, v_j e^{−z_j τ}, with τ fixed by the constraint) at a point
   of Γ; κ is solved for, not assumed (−1/4 is the value usually recalled; it is derived here, not assumed);
3. for a fixed preconditioner P (x ← x − ηP(∇L + ζ)), the same computation with Φ_P, the limit
   map of dx/dt = −P∇L, gives ½ ∂²Φ_P[P Σ P] = κ σ² (P − PJᵀ(JPJᵀ)⁻¹JP) ∇_x tr(S H)|_{S = P}:
   a semi-gradient of tr(SH) with S held fixed (Li, Wen, Lyu 2025);
4. for S = Diag(H)^{−e}: ∇tr(SH)|_S = ∇ Σ_k H_kk^{1−e} / (1 − e), so the adaptive method with
   exponent e follows (a P-projected) gradient of M_e = Σ_k H_kk^{1−e}; for e = ½ the semi-gradient
   is 2∇tr(Diag(H)^{1/2}) (derived here).

:func:`second_moment_time_scales` adds the condition under which Adam's *estimated* preconditioner
v^{−1/2} (an average of g² with memory 1/(1−β₂) steps) acts as the quasi-static P(θ) of item 3, for
1 − β₂ = η^s: an order-of-magnitude time-scale argument (not a theorem), checked by simulation in
``verify.claims.li2025`` (``li2025-adam-drift``).
"""
from __future__ import annotations

import itertools
from functools import lru_cache

import sympy as sp

from theory.derivation import Derivation

delta = sp.Symbol("delta", positive=True)
sigma2 = sp.Symbol("σ²", positive=True)
_e = sp.Symbol("e", nonnegative=True)


def _noise_covariance(d: Derivation) -> sp.Expr:
    """Exact covariance of the label-noise gradient for n = 2 and n = 3 samples (3 parameters)."""
    m = 3
    nsym = sp.Symbol("n", positive=True, integer=True)
    constants = []
    for n in (2, 3):
        J = sp.Matrix(n, m, lambda i, k: sp.Symbol(f"J_{i + 1}{k + 1}", real=True))
        r = sp.symbols(f"r_1:{n + 1}", real=True)
        patterns = list(itertools.product((1, -1), repeat=n))
        grads = [sum(((r[i] - s[i] * delta) * J[i, :] for i in range(n)), sp.zeros(1, m)) / n
                 for s in patterns]
        mean = sum(grads, sp.zeros(1, m)) / len(patterns)
        cov = sum(((g - mean).T * (g - mean) for g in grads), sp.zeros(m, m)) / len(patterns)
        H = (J.T * J) / n
        ratio = sp.cancel(cov[0, 0] / H[0, 0])          # polynomials: cancel/expand decide exactly
        if (cov - ratio * H).applyfunc(sp.expand) != sp.zeros(m, m):
            raise RuntimeError("label-noise covariance is not proportional to the Gauss–Newton H")
        d.step(f"Label noise, n = {n}: g = (1/n) Σ_i (r_i − ξ_i) J_i with ξ_i = ±δ fair and "
               f"independent; the exact covariance over the {len(patterns)} sign patterns equals "
               f"ratio · (1/n)JᵀJ with ratio =", ratio)
        constants.append(sp.cancel(ratio * n / delta**2))
    if constants[0] != constants[1]:
        raise RuntimeError(f"ratio·n/δ² differs between n = 2 and n = 3: {constants}")
    return constants[0] * delta**2 / nsym


def _limit_map_drift(precond: list[sp.Rational]):
    """½ ∂²Φ_P[P Σ P] and (P − PJᵀ(JPJᵀ)⁻¹JP) ∇tr(SH)|_{S=P} for w = u² − v², n = 1, d = 2, at a
    rational point of Γ, with Σ = σ² JᵀJ and P = diag(precond)."""
    z = [sp.Integer(1), sp.Integer(2)]
    point = [sp.Integer(1), sp.Rational(1, 2), sp.Rational(1, 3), sp.Rational(1, 4)]   # u1 u2 v1 v2
    x = sp.symbols("u1 u2 v1 v2", real=True)
    tau = sp.Symbol("tau", real=True)
    Pd = sp.diag(*precond)
    # Gradient flow x' = −P ∇L, L = ½ r², r = Σ z_j (u_j² − v_j²) − y: u_j' = −2 P_uj z_j u_j r, so
    # u_j(t) = u_j(0) exp(P_uj z_j τ), v_j(t) = v_j(0) exp(−P_vj z_j τ), τ = −2∫r dt.
    rates = [precond[0] * z[0], precond[1] * z[1], -precond[2] * z[0], -precond[3] * z[1]]
    y = sum(z[j] * (point[j] ** 2 - point[2 + j] ** 2) for j in range(2))
    phi = [x[a] * sp.exp(rates[a] * tau) for a in range(4)]
    F = sum(z[j] * (phi[j] ** 2 - phi[2 + j] ** 2) for j in range(2)) - y
    at = dict(zip(x, point))
    # Implicit derivatives of τ(x) at the point (τ = 0 there since the point is on Γ).
    Ft = sp.diff(F, tau)
    tau1 = [(-sp.diff(F, xa) / Ft).subs(at).subs(tau, 0) for xa in x]
    tau2 = sp.zeros(4, 4)
    for a, b in itertools.product(range(4), repeat=2):
        num = (sp.diff(F, x[a], x[b]) + sp.diff(F, x[a], tau) * tau1[b]
               + sp.diff(F, x[b], tau) * tau1[a] + sp.diff(F, tau, 2) * tau1[a] * tau1[b])
        tau2[a, b] = (-num / Ft).subs(at).subs(tau, 0)
    # Second derivatives of Φ_k(x, τ(x)) by the chain rule.
    d2phi = []
    for k in range(4):
        h = sp.zeros(4, 4)
        for a, b in itertools.product(range(4), repeat=2):
            val = (sp.diff(phi[k], x[a], x[b]) + sp.diff(phi[k], x[a], tau) * tau1[b]
                   + sp.diff(phi[k], x[b], tau) * tau1[a] + sp.diff(phi[k], tau, 2) * tau1[a] * tau1[b]
                   + sp.diff(phi[k], tau) * tau2[a, b])
            h[a, b] = val.subs(at).subs(tau, 0)
        d2phi.append(h)
    J = sp.Matrix([[sp.diff(F, xa).subs(at).subs(tau, 0) for xa in x]])     # 1 × 4
    H = J.T * J
    noise = Pd * (sigma2 * H) * Pd
    lhs = sp.Matrix([sp.Rational(1, 2) * sum(d2phi[k][a, b] * noise[a, b]
                                             for a in range(4) for b in range(4)) for k in range(4)])
    # ∇_x tr(S H(x)) with S = P held fixed; H(x) = J(x)ᵀJ(x) for the one sample.
    Jx = sp.Matrix([[sp.diff(F.subs(tau, 0), xa) for xa in x]])
    trSH = (Jx * Pd * Jx.T)[0, 0]
    semi = sp.Matrix([sp.diff(trSH, xa).subs(at) for xa in x])
    proj = Pd - Pd * J.T * (J * Pd * J.T).inv() * J * Pd
    return lhs, sigma2 * proj * semi


@lru_cache(maxsize=1)
def slow_drift_derivation() -> Derivation:
    d = Derivation("Slow drift of label-noise SGD and Adam along the interpolation manifold")
    noise = _noise_covariance(d)
    d.result("noise_scale", noise, "σ² such that Cov(ζ) = σ² H on Γ (full batch, fresh ±δ labels):")
    kappa = sp.Symbol("kappa")
    lhs, rhs = _limit_map_drift([sp.Integer(1)] * 4)
    d.step("SGD: ½ ∂²Φ(x)[σ²H] from the exact limit map of the diagonal net (implicit "
           "differentiation, n = 1, z = (1, 2), x = (u, v) = (1, ½, ⅓, ¼) ∈ Γ):", lhs)
    d.step("and σ² P_T ∇tr H at the same point:", rhs)
    sol = sp.solve(list(lhs - kappa * rhs), kappa, dict=True)
    if len(sol) != 1:
        raise RuntimeError(f"½∂²Φ[Σ] is not a multiple of P_T ∇tr H: {sol}")
    k_sgd = sol[0][kappa]
    d.result("drift_constant", k_sgd, "κ with ½ ∂²Φ[σ²H] = κ σ² P_T ∇tr H, so "
                                      "dθ/dt = κ σ² P_T ∇ tr H(θ) in time t = η²·steps:")
    P = [sp.Integer(2), sp.Rational(1, 3), sp.Integer(1), sp.Rational(5, 2)]
    lhs_p, rhs_p = _limit_map_drift(P)
    sol_p = sp.solve(list(lhs_p - kappa * rhs_p), kappa, dict=True)
    if len(sol_p) != 1:
        raise RuntimeError(f"preconditioned drift is not a multiple of the semi-gradient: {sol_p}")
    d.step(f"Fixed preconditioner P = diag{tuple(P)}: ½ ∂²Φ_P[P σ²H P] =", lhs_p)
    d.step("and σ² (P − PJᵀ(JPJᵀ)⁻¹JP) ∇tr(SH)|_{S=P} =", rhs_p)
    d.result("preconditioned_drift_constant", sol_p[0][kappa],
             "κ for the preconditioned method (semi-gradient of tr(SH), S = P held fixed):")
    h = sp.Function("h")(sp.Symbol("theta"))
    semi = h ** (-_e) * sp.diff(h, sp.Symbol("theta"))           # ∂ tr(S H)|_S, S = h^{-e}
    full = sp.diff(h ** (1 - _e), sp.Symbol("theta"))
    ratio = sp.simplify(semi / full)
    d.step("For S = Diag(H)^{−e}: each diagonal term contributes S_kk ∂H_kk = H_kk^{−e} ∂H_kk, while "
           "∂(H_kk^{1−e}) = (1−e) H_kk^{−e} ∂H_kk; ratio semi-gradient / gradient of Σ H_kk^{1−e}:",
           ratio)
    d.result("semi_gradient_factor", ratio, "∇tr(SH)|_{S=Diag(H)^{−e}} = factor · ∇ Σ_k H_kk^{1−e}:")
    d.result("adam_factor", ratio.subs(_e, sp.Rational(1, 2)),
             "Adam (e = ½): ∇tr(SH)|_S = factor · ∇ tr(Diag(H)^{1/2}):")
    return d


@lru_cache(maxsize=1)
def second_moment_time_scales() -> Derivation:
    """Time scales of Adam's second-moment average near Γ for 1 − β₂ = η^s (a scaling argument).

    Assumptions: the preconditioner makes PH = O(1) on the normal space (Adam's (σ² Diag H)^{−1/2};
    the argument uses nothing else, so it applies to any exponent e and to the block and Shampoo
    statistics as well), so the fluctuation normal to Γ relaxes in O(1/η) steps; the drift needs O(1/η²) steps per unit of rescaled time.
    The derivation of :func:`slow_drift_derivation` (item 3) holds P fixed while the fluctuation
    equilibrates, and P = P(θ) at the current point of Γ. An average of g² over 1/(1−β₂) steps meets
    both only when the memory lies strictly between the two time scales; its relative errors are the
    ratios of the time scales (lag behind the drift; correlation of each run's v with its own
    fluctuation). Other errors (Euler steps, fixed β₁ momentum, the Jensen bias E[v^{−1/2}] − E[v]^{−1/2}
    of relative size O(1−β₂)) are O(η) or smaller.
    """
    eta, s = sp.Symbol("eta", positive=True), sp.Symbol("s", positive=True)
    d = Derivation("Adam's second-moment average: the β₂–η scaling under which v^(−1/2) is P(θ)")
    relax = d.step("Steps for the fluctuation normal to Γ to relax (x ← x − ηPHx, PH = O(1)):", 1 / eta)
    memory = d.step("Memory of v = β₂v + (1−β₂)g² in steps, 1/(1−β₂) with 1 − β₂ = η^s:", eta ** (-s))
    slow = d.step("Steps per unit of rescaled time t = η²·steps:", eta ** (-2))

    def exponent(expr):
        return sp.simplify(sp.expand_log(sp.log(expr), force=True) / sp.log(eta))

    lag = d.step("Lag: v averages g² over the last η²/(1−β₂) units of rescaled time, so P trails "
                 "P(θ(t)) by a relative drift error η^a, a =", exponent(memory / slow))
    follow = d.step("Following: v co-varies with each run's own normal fluctuation (the semi-gradient "
                    "needs S = P held fixed while it relaxes), relative error η^b with b =",
                    exponent(relax / memory))
    window = sp.reduce_inequalities([lag > 0, follow > 0], s)
    d.result("quasi_static_window", window, "Both errors vanish as η → 0 exactly when")
    best = sp.solve(sp.Eq(lag, follow), s)
    if len(best) != 1:
        raise RuntimeError(f"the two error exponents do not balance at one s: {best}")
    s_star = best[0]
    d.result("beta2_exponent", s_star, "The slower of the two errors vanishes fastest where they "
                                       "balance (a = b), at s =")
    error = sp.Min(lag, follow, 1)
    d.result("tracking_error_exponent", error.subs(s, s_star),
             "Predicted tracking error ∝ η^c, c = min(a, b, 1) (1: the O(η) terms) at that s:")
    d.result("coupled_error_exponent", error.subs(s, 1),
             "With 1 − β₂ = η (s = 1) v's memory equals the relaxation time: c =")
    return d
