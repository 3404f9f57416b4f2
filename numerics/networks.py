"""Two-layer homogeneous networks f(x; W, u) = Σ_j u_j σ(⟨w_j, x⟩) with σ = ReLU^k, in closed form.

Compiled from the symbolic model of :mod:`theory.homogeneous`: the activation degree k is the model's
derived degree in the first layer, and the network's degree L = k + 1 is the model's derived degree
(Lyu & Li 2020: ReLU gives L = 2, squared ReLU L = 3). Parameters are the tuple (W, u) with W of
shape (m, d) and u of shape (1, m) (a row matrix, so that the spectral norm of the output layer is
its ℓ2 norm, as Muon treats it).

Everything a margin-based check needs is here, batched over a population of parameter sets where it
matters for training speed: margins, ∇_θ log L in closed form from the stable log-space loss
(``numerics.losses``), the margin Jacobian ∇_θ q_i with the ReLU kinks reported separately (their
Clarke subdifferential is an interval). float64.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp
import torch

from numerics.losses import log_loss_and_margin_gradient
from theory.homogeneous import HomogeneousModel, NonHomogeneousModelError, two_layer_network

Params = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class TwoLayerNetwork:
    """f(x; W, u) = Σ_j u_j ReLU(⟨w_j, x⟩)^k, k = ``power`` (1: ReLU, 2: squared ReLU)."""

    width: int
    dim: int
    power: int
    degree: int

    @classmethod
    def from_model(cls, model: HomogeneousModel, width: int, dim: int) -> "TwoLayerNetwork":
        """The network of a symbolic two-layer model (degrees taken from the derivation)."""
        k, one, L = model.block_degrees.get("W"), model.block_degrees.get("u"), model.degree
        if k is None or one != 1 or not (k.is_Integer and k >= 1) or sp.simplify(L - k - 1) != 0:
            raise NonHomogeneousModelError(
                f"{model.name}: expected degree k ≥ 1 (integer) in W and 1 in u, got {model.block_degrees}")
        return cls(int(width), int(dim), int(k), int(L))

    @classmethod
    def build(cls, activation: str, width: int, dim: int) -> "TwoLayerNetwork":
        return cls.from_model(two_layer_network(activation), width, dim)

    # -- parameters -------------------------------------------------------------------------
    @property
    def shapes(self) -> tuple[tuple[int, int], tuple[int, int]]:
        return (self.width, self.dim), (1, self.width)

    @property
    def num_params(self) -> int:
        return self.width * self.dim + self.width

    @property
    def smooth(self) -> bool:
        """C¹ in θ (squared ReLU and higher); ReLU has kinks at zero pre-activation."""
        return self.power >= 2

    def init(self, seed: int, scale: float = 0.1) -> Params:
        """W ~ scale·N(0, 1/d), u ~ scale·N(0, 1/m) (small initialization)."""
        rng = np.random.default_rng(seed)
        W = scale * rng.standard_normal(self.shapes[0]) / math.sqrt(self.dim)
        u = scale * rng.standard_normal(self.shapes[1]) / math.sqrt(self.width)
        return W, u

    @staticmethod
    def flatten(params) -> np.ndarray:
        return np.concatenate([np.asarray(p, dtype=float).ravel() for p in params])

    def unflatten(self, vector: np.ndarray) -> Params:
        m, d = self.shapes[0]
        return vector[: m * d].reshape(m, d), vector[m * d:].reshape(1, m)

    # -- numpy evaluation (one parameter set) ----------------------------------------------------
    def _act(self, z):
        return np.maximum(z, 0.0) ** self.power

    def _act_prime(self, z):
        if self.power == 1:
            return (z > 0).astype(float)
        return self.power * np.maximum(z, 0.0) ** (self.power - 1)

    def forward(self, params, X) -> np.ndarray:
        W, u = params
        return self._act(np.asarray(X) @ W.T) @ u[0]

    def margins(self, params, X, y) -> np.ndarray:
        return np.asarray(y) * self.forward(params, X)

    def margin_jacobian(self, params, X, y, kink_tolerance: float = 0.0):
        """(J, kinks): J[i] = ∇_θ q_i (flattened like :meth:`flatten`), with σ'(z) = 0 at the kink
        pairs; ``kinks`` = (sample indices i, rows y_i u_j x_i at the W_j slot, largest relative
        |⟨w_j, x_i⟩|/(‖w_j‖‖x_i‖) included) for the pairs within ``kink_tolerance`` (ReLU only), whose
        Clarke derivative is any s ∈ [0, 1]."""
        W, u = params
        X, y = np.asarray(X, float), np.asarray(y, float)
        Z = X @ W.T                                            # (n, m)
        dA = self._act_prime(Z)
        kink_rows, kink_cols, gap = [], [], 0.0
        if self.power == 1 and kink_tolerance > 0:
            scale = np.linalg.norm(X, axis=1)[:, None] * np.linalg.norm(W, axis=1)[None, :]
            ratio = np.abs(Z) / np.where(scale > 0, scale, 1.0)
            mask = (ratio <= kink_tolerance) & (scale > 0)
            gap = float(ratio[mask].max(initial=0.0))
            dA = np.where(mask, 0.0, dA)
            m, d = W.shape
            for i, j in zip(*np.nonzero(mask)):
                col = np.zeros(self.num_params)
                col[j * d:(j + 1) * d] = y[i] * u[0, j] * X[i]
                kink_rows.append(int(i))
                kink_cols.append(col)
        JW = (y[:, None, None] * (u[0][None, :, None] * dA[:, :, None]) * X[:, None, :])
        Ju = y[:, None] * self._act(Z)
        J = np.concatenate([JW.reshape(len(y), -1), Ju], axis=1)
        kinks = (np.array(kink_rows, dtype=int), np.array(kink_cols).reshape(len(kink_cols), self.num_params), gap)
        return J, kinks

    # -- torch, batched over a population (training) ---------------------------------------------
    def log_loss_gradients(self, W: torch.Tensor, u: torch.Tensor, X: torch.Tensor, y: torch.Tensor,
                           loss: str = "cross_entropy"):
        """(log L, min margin, ∇_W log L, ∇_u log L) for populations W (P, m, d), u (P, 1, m).

        ∂ log L/∂q comes in closed form from the log-space loss (exact at any scale); the chain rule
        through the network is written out (tested against autograd)."""
        Z = torch.matmul(X, W.transpose(1, 2))                  # (P, n, m)
        R = torch.relu(Z)
        # R·R is R**2 to the bit (torch's pow special-cases 2) and one kernel cheaper; likewise 2·R
        A = R if self.power == 1 else R * R if self.power == 2 else R**self.power
        q = y * torch.matmul(A, u.transpose(1, 2))[..., 0]      # (P, n)
        log_l, g = log_loss_and_margin_gradient(q.unsqueeze(-1), loss)
        gf = g[..., 0] * y                                     # ∂ log L / ∂ f_i, (P, n)
        grad_u = torch.matmul(gf.unsqueeze(1), A)               # (P, 1, m)
        dA = (Z > 0).to(Z.dtype) if self.power == 1 else 2.0 * R if self.power == 2 else \
            self.power * R ** (self.power - 1)
        grad_W = torch.matmul((gf.unsqueeze(-1) * dA * u).transpose(1, 2), X)
        return log_l, q.min(dim=1).values, grad_W, grad_u
