"""Sharpness measures induced by adaptive preconditioners (project-derived; Li, Wen, Lyu 2025 state
that their framework covers RMSProp, Adam-mini, Adalayer and Shampoo but the exact forms below were
not read in the paper: they are derived here from the semi-gradient rule of ``theory.slow_drift``).

Rule: a method whose preconditioner near Γ is P = S(θ) follows −(σ²/4)·(P-projection)·∇tr(SH)|_S.
If ∇tr(SH)|_{S=S(θ)} = λ ∇M(θ) for some function M, the method decreases M ("its sharpness measure").

- RMSProp: same S as Adam (second moments per coordinate, no momentum) → M = tr Diag(H)^{1/2}, λ = 2.
- Adam-mini / Adalayer: one second moment per block B, v_B ≈ σ² mean_{k∈B} H_kk, S = v_B^{−1/2} on B
  → M = Σ_B √(|B| Σ_{k∈B} H_kk), λ = 2/σ.
- Shampoo (vector parameter): S = (σ² H_BB)^{−1/2} on each parameter block → M = Σ_B tr(H_BB^{1/2}),
  λ = 2/σ, from d tr(A^{1/2}) = ½ tr(A^{−1/2} dA).

Each identity is verified below symbolically (block of two coordinates with arbitrary functions
h_k(θ); a 2×2 symmetric positive definite H(θ) with the closed-form square root).

How far apart two block methods' flows can be (:func:`block_drift_cap_derivation`): where H_kk depends
on θ_k only (the diagonal network), the preconditioned semi-gradient of a block method on coordinate
k is ∂_k H_kk / (σ² mean_B H). A method whose blocks R are unions of ``A/a`` blocks b of another's
moves each coordinate of b by the factor ρ_b = mean_b H / mean_R H of the finer method's drift, with
ρ_b ≥ 0 and Σ_{b ⊂ R} ρ_b = A/a, so |ρ_b − 1| ≤ max(1, A/a − 1): before the tangent projection the
coarser method's drift differs from the finer one's by at most that multiple of the finer one's. For
RMSProp (a = 1) against Adam-mini (A = 2), and Adam-mini against Adalayer on d = 4 (A/a = 2), the cap
is 1: the two flows differ by about one displacement of the finer method's flow at most.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from theory.derivation import Derivation

theta = sp.Symbol("theta", real=True)
sigma = sp.Symbol("sigma", positive=True)


@lru_cache(maxsize=1)
def adaptive_measures_derivation() -> Derivation:
    d = Derivation("Sharpness measures of RMSProp, Adam-mini/Adalayer and Shampoo (project-derived)")
    h1, h2 = sp.Function("h1", positive=True)(theta), sp.Function("h2", positive=True)(theta)
    # Block second moment.
    size = 2
    S_block = (sigma**2 * (h1 + h2) / size) ** sp.Rational(-1, 2)
    semi = S_block * sp.diff(h1 + h2, theta)
    M_block = sp.sqrt(size * (h1 + h2))
    lam = sp.simplify(semi / sp.diff(M_block, theta))
    d.step("Block B = {1, 2} with one second moment v_B = σ² (H_11 + H_22)/|B|, S = v_B^(−1/2): "
           "semi-gradient ∂tr(SH)|_S =", sp.simplify(semi))
    d.step("ratio to ∂M for M = √(|B| Σ_{k∈B} H_kk):", lam)
    if lam.has(theta):
        raise RuntimeError("the block semi-gradient is not a gradient of √(|B| Σ H_kk)")
    d.result("block_measure", M_block, "Adam-mini / Adalayer measure of one block (|B| = 2 shown):")
    d.result("block_factor", lam, "λ with ∂tr(SH)|_S = λ ∂M:")
    # Shampoo on a 2×2 block H(θ) = [[a, b], [b, c]]; derivatives by the chain rule in (a, b, c).
    a, b, c = sp.symbols("a b c", positive=True)
    H = sp.Matrix([[a, b], [b, c]])
    det, tr = a * c - b**2, a + c
    root = (H + sp.sqrt(det) * sp.eye(2)) / sp.sqrt(tr + 2 * sp.sqrt(det))
    check_root = (root * root - H).applyfunc(lambda e: sp.simplify(sp.expand(e)))
    d.step("Square root of a 2×2 SPD matrix, H^(1/2) = (H + √det H·I)/√(tr H + 2√det H); "
           "H^(1/2)·H^(1/2) − H =", check_root)
    if check_root != sp.zeros(2, 2):
        raise RuntimeError("the 2×2 square-root formula failed")
    point = {a: 3, b: sp.Rational(1, 2), c: 2}
    dH = {a: sp.Rational(1, 3), b: -1, c: sp.Rational(5, 7)}           # H'(θ) at the point
    S = (sigma * root.subs(point)).inv()
    dHm = sp.Matrix([[dH[a], dH[b]], [dH[b], dH[c]]])
    semi_sh = (S * dHm).trace()
    dM = sum(sp.diff(root.trace(), x).subs(point) * dH[x] for x in (a, b, c))
    lam_sh = sp.nsimplify(sp.simplify(semi_sh / dM))
    d.result("shampoo_measure", sp.Symbol("tr(H_BB^(1/2))"), "Shampoo measure per parameter block:")
    d.result("shampoo_factor", lam_sh, "λ with ∂tr(SH)|_S = λ ∂ tr(H^(1/2)):")
    return d


@lru_cache(maxsize=1)
def block_drift_cap_derivation() -> Derivation:
    """The factor between two nested block methods' drifts (see the module docstring)."""
    d = Derivation("How far a coarser block second moment can move a finer method's drift")
    h1, h2 = sp.symbols("h_1 h_2", positive=True)          # the finer method's two block means of H
    rho = h1 / ((h1 + h2) / 2)                               # ρ_b = mean_b H / mean_R H, A/a = 2
    d.step("Coarser block R = b₁ ∪ b₂ (A/a = 2): the drift on b₁ is ρ = mean_b₁H / mean_RH times the "
           "finer method's, ρ =", rho)
    gap = sp.factor(sp.simplify(1 - (rho - 1) ** 2))
    d.step("1 − (ρ − 1)² =", gap)
    if sp.simplify(gap - 4 * h1 * h2 / (h1 + h2) ** 2) != 0:
        raise RuntimeError("the nested-block factor identity failed")
    d.result("nested_block_cap_two", sp.Integer(1),
             "1 − (ρ − 1)² = 4h₁h₂/(h₁ + h₂)² ≥ 0, so |ρ − 1| ≤ 1: with two finer blocks per coarse "
             "block the coarser drift differs from the finer one's by at most the finer drift itself "
             "(coordinatewise, before the tangent projection); in general ρ_b ≥ 0 with Σ_b ρ_b = A/a "
             "gives |ρ_b − 1| ≤ max(1, A/a − 1):")
    return d


def nested_block_drift_cap(fine: int, coarse: int) -> float | None:
    """max |ρ_b − 1| for a method with blocks of ``coarse`` coordinates against one with blocks of
    ``fine`` coordinates (1: per coordinate, RMSProp), relative to the FINER method's drift, when every
    coarse block is a union of fine blocks; None when the blocks are not nested that way (no cap: the
    coarse method's drift can vanish where the finer one's does not, and vice versa)."""
    if fine < 1 or coarse < fine or coarse % fine:
        return None
    k = coarse // fine
    if k == 1:
        return 0.0                                           # the same blocks: the same drift
    if k == 2:
        return float(block_drift_cap_derivation().results["nested_block_cap_two"])
    return float(max(1, k - 1))
