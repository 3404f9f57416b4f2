"""The transform-based t-product of third-order tensors (Kernfeld, Kilmer, Aeron 2015), as used by the
t-NNs of Wang et al. (2023), derived on tubes (1 × 1 × c tensors) where everything is explicit.

- A ∗_M B = M⁻¹(M(A) △ M(B)) with M acting along the third mode and △ the slice-wise product; on tubes
  △ is the entrywise product, so for M = the DFT matrix F the t-product is the circular convolution
  (a ∗ b)_t = Σ_s a_s b_{(t−s) mod c} (the t-product of Kilmer & Martin 2011), checked symbolically;
- the orthonormal DCT-II matrix C_kn = √(2/c) α_k cos(π(2n+1)k/(2c)) (α_0 = 1/√2) satisfies C Cᵀ = I,
  so M⁻¹ = Cᵀ (checked symbolically);
- the transformed (tubal) rank of W ∈ ℝ^{m×d×c} is max_k rank(M(W)_k); its continuous surrogates
  used by the check are the stable rank Σσ²/σ_max² and the effective rank exp(H(σ/Σσ)) of each slice.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from theory.derivation import Derivation


def dft_matrix(c: int) -> sp.Matrix:
    w = sp.exp(-2 * sp.pi * sp.I / c)
    return sp.Matrix(c, c, lambda k, n: w ** (k * n))


def dct_matrix(c: int) -> sp.Matrix:
    def entry(k, n):
        alpha = 1 / sp.sqrt(2) if k == 0 else 1
        return sp.sqrt(sp.Rational(2, c)) * alpha * sp.cos(sp.pi * (2 * n + 1) * k / (2 * c))
    return sp.Matrix(c, c, entry)


@lru_cache(maxsize=None)
def tproduct_derivation(c: int = 4) -> Derivation:
    """Results: ``dft_tube_product`` (the t-product of two symbolic tubes under the DFT),
    ``circular_convolution`` (equal to it), ``dct_gram`` (C Cᵀ, the identity)."""
    der = Derivation(f"The t-product A ∗_M B = M⁻¹(M(A) △ M(B)) on tubes of length c = {c}")
    a, b = sp.symbols(f"a_0:{c}", real=True), sp.symbols(f"b_0:{c}", real=True)
    F = dft_matrix(c)
    va, vb = sp.Matrix(a), sp.Matrix(b)
    product = (F.inv() * sp.Matrix([x * y for x, y in zip(F * va, F * vb)])).applyfunc(sp.expand)
    conv = sp.Matrix([sum(a[s] * b[(t - s) % c] for s in range(c)) for t in range(c)])
    if sp.simplify(product - conv) != sp.zeros(c, 1):
        raise RuntimeError("the DFT t-product of tubes is not the circular convolution")
    der.result("dft_tube_product", product, "M = DFT: F⁻¹(Fa ⊙ Fb) =")
    der.result("circular_convolution", conv, "which is the circular convolution Σ_s a_s b_(t−s mod c):")
    C = dct_matrix(c)
    gram = sp.simplify(C * C.T)
    if gram != sp.eye(c):
        raise RuntimeError("the DCT-II matrix is not orthonormal")
    der.result("dct_gram", gram, "M = orthonormal DCT-II: C Cᵀ = I, so M⁻¹ = Cᵀ:")
    der.step("Transformed rank of W ∈ ℝ^(m×d×c): max_k rank(M(W)_k); surrogates per slice: stable rank "
             "Σσ²/σ_max² and effective rank exp(−Σ p log p), p = σ/Σσ (Roy & Vetterli 2007), both in "
             "[1, rank], reported as the max over the c transformed slices.")
    return der
