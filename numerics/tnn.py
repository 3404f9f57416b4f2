"""Tensor neural networks built on the transform-based t-product (Kernfeld, Kilmer, Aeron 2015;
Wang et al. 2023, "Transformed low-rank parameterization can help robust generalization for tensor
neural networks").

A third-order tensor A ∈ ℝ^{m×d×c} has c frontal slices; a transform M acts along the third (channel)
mode. The t-product is A ∗_M B = M⁻¹(M(A) △ M(B)), △ the slice-wise matrix product in the transformed
domain, and the transformed (tubal) rank of W is max_k rank(M(W)_k) over the transformed slices.

- ``DFT``: M = the discrete Fourier transform along the channels (complex slices; with M the t-product
  is the circular-convolution t-product of Kilmer & Martin 2011, A ∗ B = bcirc(A)·unfold(B)).
- ``DCT``: M = the orthonormal DCT-II matrix C (C Cᵀ = I), real slices.
- Rank measures of a slice S with singular values σ: stable rank ‖S‖_F²/‖S‖₂² = Σσ²/σ_max² and
  effective rank exp(H(σ/Σσ)) (Roy & Vetterli 2007); both lie in [1, rank S] and are continuous, so
  they measure *approximate* low rank. Reported per slice and as the max over slices (the continuous
  surrogate of the transformed rank).
- The whole-tensor measure of Wang et al.'s implicit-bias result (and of their code, ``ratio_spec2frob``):
  ‖W‖_sp/‖W‖_F with the tensor spectral norm ‖W‖_sp = max_k ‖M(W)_k‖₂ (the operator norm of
  x ↦ W ∗_M x up to the scale of M), taken here with both norms in the transformed domain,
  max_k ‖M(W)_k‖₂ / ‖M(W)‖_F ∈ (0, 1], so that it does not depend on the scale of M (for the
  orthonormal DCT it is their ratio). It is 1 exactly when one transformed slice is nonzero and of
  rank one, and 1/√(Σ_k rank M(W)_k) for equal singular values. For the DFT of a *real* W the slices
  k and c − k are complex conjugates, so unless W lives in the self-conjugate slices (k = 0, c/2) the
  ratio is at most 1/√2.
- The t-NN (Wang et al. 2023, eq. (5)): f(x) = ⟨w, h_J⟩ with h_0 = x ∈ ℝ^{d×1×c},
  h_l = ReLU(W_l ∗_M h_{l−1}), W_1 ∈ ℝ^{D×d×c}, W_l ∈ ℝ^{D×D×c} (l ≥ 2) and a fully connected last
  layer w ∈ ℝ^{D×c}: J t-product layers, positively homogeneous of degree J + 1 in (W_1, …, W_J, w).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np
import torch

from theory import tproduct
from theory.errors import UserInputError


class TransformError(UserInputError):
    """An unknown transform name."""


@dataclass(frozen=True)
class Transform:
    """An invertible linear transform M along the last (channel) axis: M(X) = X ×₃ M, i.e. every
    tube x ∈ ℝ^c becomes M x (the matrices of ``theory.tproduct``, evaluated; for c this small a
    matrix product is faster than an FFT call)."""

    name: str
    channels: int

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """M(X) along the last axis (complex for the DFT)."""
        if self.name == "dft":
            return X.to(torch.complex128) @ _right_factors(self.name, self.channels, torch.complex128)[0]
        return X @ _right_factors(self.name, self.channels, X.dtype)[0]

    def inverse(self, Y: torch.Tensor) -> torch.Tensor:
        """M⁻¹(Y); for the DFT the real part (exact up to rounding for M of real tensors)."""
        if self.name == "dft":
            return (Y @ _right_factors(self.name, self.channels, torch.complex128)[1]).real
        return Y @ _right_factors(self.name, self.channels, Y.dtype)[1]


TRANSFORMS = ("dft", "dct")


@lru_cache(maxsize=None)
def _matrices(name: str, c: int) -> tuple[np.ndarray, np.ndarray]:
    """(M, M⁻¹): the DFT matrix F and F^H/c, or the orthonormal DCT-II matrix C and Cᵀ."""
    if name == "dft":
        F = np.array(tproduct.dft_matrix(c).evalf(20), dtype=complex)
        return F, F.conj().T / c
    C = np.array(tproduct.dct_matrix(c).evalf(20), dtype=float)
    return C, C.T


@lru_cache(maxsize=None)
def _right_factors(name: str, c: int, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """(Mᵀ, M⁻ᵀ) as torch tensors of ``dtype``, made once (X ×₃ M = X @ Mᵀ on the last axis)."""
    M, Minv = _matrices(name, c)
    return torch.tensor(M.T, dtype=dtype), torch.tensor(Minv.T, dtype=dtype)


def dct_matrix(c: int) -> np.ndarray:
    """The orthonormal DCT-II matrix of ``theory.tproduct`` (C Cᵀ = I derived there), evaluated."""
    return _matrices("dct", c)[0].copy()


def transform(name: str, channels: int) -> Transform:
    if name not in TRANSFORMS:
        raise TransformError(f"unknown transform {name!r}; expected one of {TRANSFORMS}")
    if int(channels) != channels or channels < 1:
        raise TransformError(f"the number of channels must be a positive integer, got {channels}")
    return Transform(name, int(channels))


def slice_product(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """The slice-wise product △ of (…, m, d, c) and (…, d, p, c) tensors: (…, m, p, c)."""
    return torch.einsum("...mdk,...dpk->...mpk", A, B)


def t_product(A: torch.Tensor, B: torch.Tensor, M: Transform) -> torch.Tensor:
    """A ∗_M B = M⁻¹(M(A) △ M(B))."""
    return M.inverse(slice_product(M.forward(A), M.forward(B)))


def transformed_slices(W: torch.Tensor, M: Transform) -> torch.Tensor:
    """The frontal slices M(W)_k of W ∈ ℝ^{m×d×c}, stacked as (c, m, d)."""
    return M.forward(W).permute(2, 0, 1)


# -- rank measures -------------------------------------------------------------------------------
def stable_rank(singular_values: np.ndarray) -> float:
    s = np.asarray(singular_values, dtype=float)
    return float(np.sum(s**2) / np.max(s) ** 2) if np.max(s) > 0 else 0.0


def effective_rank(singular_values: np.ndarray) -> float:
    s = np.asarray(singular_values, dtype=float)
    total = np.sum(s)
    if total <= 0:
        return 0.0
    p = s[s > 0] / total
    return float(np.exp(-np.sum(p * np.log(p))))


@dataclass(frozen=True)
class RankMeasures:
    stable: np.ndarray          # per transformed slice
    effective: np.ndarray
    spectral_frobenius: float   # max_k ‖M(W)_k‖₂ / ‖M(W)‖_F of the whole tensor

    @property
    def max_stable(self) -> float:
        return float(self.stable.max())

    @property
    def max_effective(self) -> float:
        return float(self.effective.max())


def rank_measures(W: torch.Tensor | np.ndarray, M: Transform) -> RankMeasures:
    """Stable and effective rank of every transformed slice of W (m × d × c), and the tensor's
    spectral-to-Frobenius ratio max_k σ_max(M(W)_k) / ‖M(W)‖_F."""
    S = torch.linalg.svdvals(transformed_slices(torch.as_tensor(W), M)).detach().numpy()
    total = math.sqrt(float(np.sum(S**2)))
    return RankMeasures(np.array([stable_rank(s) for s in S]), np.array([effective_rank(s) for s in S]),
                        float(S.max() / total) if total > 0 else 0.0)


# -- the t-NN ------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def product_tensor(name: str, c: int) -> np.ndarray:
    """T ∈ ℝ^{c×c×c} with (A ∗_M B)_{::k} = Σ_{s,t} T[s, t, k] A_{::s} B_{::t}: T[s, t, k] =
    Σ_j M_js M_jt (M⁻¹)_kj (the t-product is bilinear in the tubes). For the DFT this is the circular
    convolution, T[s, t, k] = [s + t ≡ k mod c], exact 0/1 (built so, not rounded); for the DCT the
    evaluated sum (real: C is)."""
    if name == "dft":
        s, t, k = np.ogrid[:c, :c, :c]
        return ((s + t) % c == k).astype(float)
    M, Minv = _matrices(name, c)
    return np.einsum("js,jt,kj->stk", M, M, Minv)


@lru_cache(maxsize=None)
def _product_tensor_torch(name: str, c: int, dtype: torch.dtype) -> torch.Tensor:
    return torch.tensor(product_tensor(name, c), dtype=dtype)


def unfolded(W: torch.Tensor, M: Transform) -> torch.Tensor:
    """The t-product x ↦ W ∗_M x of W ∈ ℝ^{(…,) m×d×c} as a real matrix (…, m·c, d·c) acting on x
    flattened as (d, c) → d·c (row index (i, k), column (j, t)): A[i, k, j, t] = Σ_s W[i, j, s] T[s, t, k]
    (:func:`product_tensor`). Equal to ``t_product`` up to rounding, without the complex transforms
    (for the DFT, A is W's block-circulant matrix with its rows and columns interleaved)."""
    c = W.shape[-1]
    T = _product_tensor_torch(M.name, M.channels, W.dtype).reshape(c, c * c)
    A = (W @ T).unflatten(-1, (c, c)).transpose(-1, -2).transpose(-3, -2)      # (…, i, k, j, t)
    return A.reshape(*W.shape[:-3], W.shape[-3] * c, W.shape[-2] * c)


def folded_gradient(G: torch.Tensor, M: Transform, d: int) -> torch.Tensor:
    """The adjoint of :func:`unfolded`: from ∂/∂A (…, m·c, d·c) the gradient ∂/∂W (…, m, d, c),
    ∂W[i, j, s] = Σ_{k,t} ∂A[i, k, j, t] T[s, t, k]."""
    c = M.channels
    T = _product_tensor_torch(M.name, M.channels, G.dtype).reshape(c, c * c)
    m = G.shape[-2] // c
    G = G.reshape(*G.shape[:-2], m, c, d, c).transpose(-3, -2).transpose(-1, -2)   # (…, i, j, t, k)
    return G.flatten(-2) @ T.T


def tnn_outputs_unfolded(matrices: Sequence[torch.Tensor], w: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """f(x_i) from the unfolded layers (:func:`unfolded`, (…, D_l·c, D_{l−1}·c)), the fully connected
    w (…, D_J, c) and X (…, n, d, c): the t-NN as the ReLU MLP it is over ℝ^{d·c}."""
    h = X.flatten(-2)                                                         # (…, n, d·c)
    for A in matrices:
        h = torch.relu(h @ A.transpose(-1, -2))                               # (…, n, D·c)
    return (h @ w.flatten(-2).unsqueeze(-1)).squeeze(-1)


def tnn_outputs(layers: Sequence[torch.Tensor], w: torch.Tensor, X: torch.Tensor, M: Transform) -> torch.Tensor:
    """f(x_i) = ⟨w, h_J(x_i)⟩, h_l = ReLU(W_l ∗_M h_{l−1}), for X of shape (…, n, d, c) (each x_i is
    d × 1 × c), t-product layers W_l of shapes (…, D_l, D_{l−1}, c) and the fully connected layer w of
    shape (…, D_J, c), all with matching leading (member) dimensions; returns (…, n). Computed with
    the layers unfolded to real matrices (:func:`unfolded`; ``t_product`` is the definition it is
    tested against)."""
    return tnn_outputs_unfolded([unfolded(W, M) for W in layers], w, X)


def tnn_init(widths: Sequence[int], c: int, scale: float, seed: "int | Sequence[int]") -> tuple[list[np.ndarray], np.ndarray]:
    """Layers W_l ~ scale·N(0, 2/(D_{l−1} c)) of shapes (D_l, D_{l−1}, c) for widths = (d, D_1, …, D_J)
    (He-type: keeps the hidden scale of the circular-convolution product roughly constant) and the
    fully connected w ~ scale·N(0, 1/(D_J c)) (float64, seeded; ``seed`` is any entropy
    ``np.random.default_rng`` takes, e.g. a tuple (run seed, stream))."""
    rng = np.random.default_rng(seed)
    layers = [scale * rng.standard_normal((widths[l + 1], widths[l], c)) * math.sqrt(2 / (widths[l] * c))
              for l in range(len(widths) - 1)]
    return layers, scale * rng.standard_normal((widths[-1], c)) / math.sqrt(widths[-1] * c)
