"""Gradient flow on w = u ⊙ u − v ⊙ v is a mirror flow; its potential is Q_α (Woodworth et al. 2020).

Assumptions: square loss L(w) with ∇_w L = g(t) = (1/n) Zᵀ(Zw − y) ∈ range(Zᵀ); gradient flow (not
GD) on (u, v) from u₀ = v₀ = α·1 (so w₀ = 0); the flow converges to an interpolator. The derivation
below runs the argument symbolically per coordinate:

1. u' = −g ∂f/∂u = −2ug, v' = −g ∂f/∂v = 2vg, hence d(uv)/dt = 0: u v = α² for all t;
2. (u² + v²)² = w² + 4u²v², so u² + v² = √(w² + 4α⁴) and w' = −4 √(w² + 4α⁴) g;
3. this is the mirror flow d∇ψ(w)/dt = −g with ψ'' = 1/(4√(w² + 4α⁴)), ψ'(0) = ψ(0) = 0;
4. ∇ψ(w_∞) = −∫g dt ∈ range(Zᵀ) and Zw_∞ = y are the KKT conditions of min ψ s.t. Zw = y.

Q_α = 4ψ is compared with the closed form of Woodworth et al. 2020 (α² q(w/α²) with
q(z) = 2 − √(4 + z²) + z·arcsinh(z/2)), and its limits α → 0 (ℓ1, rich regime) and α → ∞ (ℓ2,
kernel regime) are computed. The lambdified ``q_alpha_gradient`` is what the numeric solver uses.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from theory.derivation import Derivation
from theory.parameterizations import quadratic_difference

alpha = sp.Symbol("alpha", positive=True)
w = sp.Symbol("w", real=True)
g, t = sp.Symbol("g", real=True), sp.Symbol("t", nonnegative=True)


@lru_cache(maxsize=1)
def woodworth_derivation() -> Derivation:
    param = quadratic_difference()
    u, v = param.params
    d = Derivation("Mirror-flow potential of gradient flow on w = u² − v² (Woodworth et al. 2020)")
    du, dv = (-g * gr for gr in param.gradient)
    d.step("Gradient flow per coordinate, with g = ∂L/∂w: (u', v') = −g ∇f(u, v) =",
           sp.Matrix([du, dv]))
    d_uv = sp.simplify(du * v + u * dv)
    d.step("d(uv)/dt = u'v + uv' =", d_uv)
    if d_uv != 0:
        raise RuntimeError("uv is not conserved: the mirror-flow argument does not apply")
    d.step("so u v = u₀ v₀ = α² along the flow.")
    s = sp.Symbol("s", positive=True)   # u² + v²
    identity = sp.expand((u**2 + v**2) ** 2 - (u**2 - v**2) ** 2 - 4 * u**2 * v**2)
    if identity != 0:
        raise RuntimeError("(u²+v²)² ≠ w² + 4u²v²")
    s_of_w = [r for r in sp.solve(sp.Eq(s**2, w**2 + 4 * alpha**4), s) if r.is_positive is not False]
    if len(s_of_w) != 1:
        raise RuntimeError(f"expected one positive root for u² + v², got {s_of_w}")
    s_of_w = s_of_w[0]
    d.step("(u² + v²)² = w² + 4u²v² gives u² + v² =", s_of_w)
    dw = sp.expand(param.gradient[0] * du + param.gradient[1] * dv)
    d.step("w' = ∂f/∂u u' + ∂f/∂v v' =", dw)
    dw_of_w = sp.factor(dw.subs(u**2, s_of_w - v**2))
    d.step("in terms of w:", dw_of_w)
    hess_psi = sp.cancel(-g / dw_of_w)
    d.step("Mirror flow d/dt ψ'(w) = −g requires ψ''(w) w' = −g, i.e. ψ''(w) =", hess_psi)
    x = sp.Symbol("x", real=True)
    dpsi = sp.simplify(sp.integrate(hess_psi.subs(w, x), (x, 0, w)))
    d.step("ψ'(w) = ∫₀^w ψ'' (ψ'(w₀ = 0) = 0 because the flow starts at w₀ = 0):", dpsi)
    psi = sp.simplify(sp.integrate(dpsi.subs(w, x), (x, 0, w)))
    d.step("ψ(w) = ∫₀^w ψ':", psi)
    d.step("KKT: ψ'(w_∞) = −∫₀^∞ g dt ∈ range(Zᵀ) and Z w_∞ = y, so w_∞ = argmin Σ_j ψ(w_j) "
           "s.t. Zw = y (ψ is strictly convex).")
    Q = sp.simplify(4 * psi)
    d.result("Q_alpha", Q, "Per-coordinate potential Q_α(w) = 4ψ(w) (the scale is immaterial):")
    d.result("Q_alpha_gradient", sp.simplify(sp.diff(Q, w)), "Its derivative Q_α'(w):")
    if sp.simplify(d.results["Q_alpha_gradient"] - 4 * dpsi) != 0:
        raise RuntimeError("Q_α' ≠ 4ψ'")
    z = sp.Symbol("z", real=True)
    q_recalled = 2 - sp.sqrt(4 + z**2) + z * sp.asinh(z / 2)
    gap = sp.simplify(Q - alpha**2 * q_recalled.subs(z, w / alpha**2))
    d.step("Difference from Woodworth et al. 2020's α² q(w/α²), q(z) = 2 − √(4+z²) + z·asinh(z/2):", gap)
    d.result("matches_recalled_form", sp.Integer(int(gap == 0)),
             "1 if the derived potential equals the recalled closed form:")
    sv = sp.Symbol("s", real=True)
    inverse = sp.solve(sp.Eq(d.results["Q_alpha_gradient"], sv), w, check=False)
    if len(inverse) != 1:
        raise RuntimeError(f"the mirror map is not uniquely invertible: {inverse}")
    inverse = sp.simplify(inverse[0])
    d.result("mirror_inverse", inverse, "Inverse mirror map w = (Q_α')⁻¹(s) (KKT: s = (Zᵀν)_j):")
    conj = sv * inverse - Q.subs(w, inverse)
    conj = sp.simplify(conj.subs(sp.asinh(sp.sinh(sv)), sv))   # asinh∘sinh = id on the reals
    # cosh s − 1 = 2 sinh²(s/2): same value, without cancellation for small s (kernel regime).
    conj = conj.subs(sp.cosh(sv) - 1, 2 * sp.sinh(sv / 2) ** 2)
    d.result("Q_alpha_conjugate", conj, "Convex conjugate Q_α*(s) = s w(s) − Q_α(w(s)) (dual "
                                          "objective of the interpolation problem):")
    wp = sp.Symbol("w", positive=True)
    rich = sp.limit(Q.subs(w, wp) / sp.log(1 / alpha**2), alpha, 0)
    kernel = sp.limit(Q.subs(w, wp) * alpha**2, alpha, sp.oo)
    d.result("rich_limit", rich, "Rich regime: lim_{α→0} Q_α(w)/log(1/α²) for w > 0 (ℓ1):")
    d.result("kernel_limit", kernel, "Kernel regime: lim_{α→∞} α² Q_α(w) (ℓ2 up to a constant):")
    return d


def q_alpha_gradient():
    """Q_α'(w) as a numpy function (w, alpha) ↦ asinh-type mirror map (from the derivation)."""
    expr = woodworth_derivation().results["Q_alpha_gradient"]
    return sp.lambdify((w, alpha), expr, "numpy")


_s = sp.Symbol("s", real=True)


def q_alpha_mirror_inverse():
    """(w(s), dw/ds) as numpy functions of (s, alpha): the derived inverse mirror map."""
    expr = woodworth_derivation().results["mirror_inverse"]
    return (sp.lambdify((_s, alpha), expr, "numpy"),
            sp.lambdify((_s, alpha), sp.diff(expr, _s), "numpy"))


def q_alpha_conjugate():
    return sp.lambdify((_s, alpha), woodworth_derivation().results["Q_alpha_conjugate"], "numpy")


def q_alpha_value():
    expr = woodworth_derivation().results["Q_alpha"]
    return sp.lambdify((w, alpha), expr, "numpy")
