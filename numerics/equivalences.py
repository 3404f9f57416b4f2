"""Numbers for the equivalences derived in ``theory.equivalences`` (early stopping and dropout as
ridge penalties), and the independent computations they are checked against.

Conventions: L(θ) = (1/(2n))‖y − Xθ‖²; a generalized ridge minimizes L(θ) + ½θᵀΛθ, whose minimizer
is (XᵀX/n + Λ)⁻¹ Xᵀy/n.
"""
from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np
import sympy as sp
import torch

from numerics.optim import TransformOptimizer, gd
from theory import equivalences as eq


def generalized_ridge(X: np.ndarray, y: np.ndarray, Lambda: np.ndarray) -> np.ndarray:
    """argmin (1/(2n))‖y − Xθ‖² + ½θᵀΛθ."""
    n = X.shape[0]
    return np.linalg.solve(X.T @ X / n + Lambda, X.T @ y / n)


@lru_cache(maxsize=1)
def _mu():
    return sp.lambdify((eq.s, eq.eta, eq.t), eq.early_stopping_derivation().results["mu"], "numpy")


def early_stopping_penalty(X: np.ndarray, eta: float, t: int) -> np.ndarray:
    """Λ_t = V diag(μ_t(s)) Vᵀ from the derived μ_t (Ali, Kolter, Tibshirani 2019). Once
    (1 − ηs)^(−t) overflows, μ_t evaluates to its limit 0 (that direction has converged)."""
    s, V = np.linalg.eigh(X.T @ X / X.shape[0])
    if np.any(eta * s >= 1) or np.any(s <= 0):
        raise ValueError(f"the equivalence needs 0 < ηs < 1 for every eigenvalue s of XᵀX/n "
                         f"(η s_max = {eta * s.max():.3g}, s_min = {s.min():.3g})")
    with np.errstate(over="ignore"):
        return (V * _mu()(s, eta, t)) @ V.T


def gradient_descent_path(X: np.ndarray, y: np.ndarray, eta: float, steps: list[int]) -> dict[int, np.ndarray]:
    """θ_t of gradient descent from 0 with step η on L (torch autograd + the project's ``gd``),
    recorded at the requested steps."""
    Xt = torch.as_tensor(X, dtype=torch.float64)
    yt = torch.as_tensor(y, dtype=torch.float64)
    theta = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
    opt = TransformOptimizer([theta], gd(lambda k: eta), name="gd")
    wanted, out = set(steps), {}
    for k in range(1, max(steps) + 1):
        loss = 0.5 * ((yt - Xt @ theta) ** 2).mean()
        theta.grad = torch.autograd.grad(loss, theta)[0]
        opt.step()
        if k in wanted:
            out[k] = theta.detach().numpy().copy()
    return out


def sgd_epoch_iterates(X: np.ndarray, y: np.ndarray, eta: float, batch: int, epochs: list[int],
                       chains: int, seed: int) -> dict[int, np.ndarray]:
    """Minibatch SGD on L from θ = 0 with step η, organized in epochs (each epoch a fresh random
    permutation of the n examples cut into n/batch minibatches, sampling without replacement), for
    ``chains`` independent chains at once. Returns the (chains, d) iterates after each requested
    epoch; iteration count t = epoch·n/batch. ``batch`` must divide n."""
    n, d = X.shape
    if n % batch:
        raise ValueError(f"batch {batch} does not divide n = {n}")
    rng = np.random.default_rng(seed)
    theta = np.zeros((chains, d))
    wanted, out = set(epochs), {}
    per_epoch = n // batch
    for e in range(1, max(epochs) + 1):
        order = np.argsort(rng.random((chains, n)), axis=1).reshape(chains, per_epoch, batch)
        for b in range(per_epoch):
            idx = order[:, b]                                   # (chains, batch)
            Xb, yb = X[idx], y[idx]                             # (chains, batch, d), (chains, batch)
            resid = np.einsum("cbd,cd->cb", Xb, theta) - yb
            theta = theta - eta * np.einsum("cbd,cb->cd", Xb, resid) / batch
        if e in wanted:
            out[e] = theta.copy()
    return out


@lru_cache(maxsize=1)
def _kappa():
    return sp.lambdify(eq.p, eq.dropout_derivation().results["coefficient"], "numpy")


def dropout_coefficient(rate: float) -> float:
    """κ(p) = p/(1 − p), from the derived variance of the inverted-dropout factor (Wager et al. 2013)."""
    return float(_kappa()(rate))


def dropout_ridge(X: np.ndarray, y: np.ndarray, rate: float) -> np.ndarray:
    """w* = (XᵀX + κ(p) diag(XᵀX))⁻¹ Xᵀy: the derived minimizer of the expected dropout objective."""
    G = X.T @ X
    return np.linalg.solve(G + dropout_coefficient(rate) * np.diag(np.diag(G)), X.T @ y)


def enumerated_dropout_minimizer(X: np.ndarray, y: np.ndarray, rate: float) -> np.ndarray:
    """Minimizer of E_m (1/(2n)) Σ_i (y_i − (D_i⊙x_i)ᵀw)² computed by brute force: the expectation is
    a sum over all 2^d masks with their probabilities (independent of the derivation; d ≤ 16)."""
    d = X.shape[1]
    if d > 16:
        raise ValueError(f"enumerating 2^{d} masks is too many")
    G, b = X.T @ X, X.T @ y
    A, rhs = np.zeros((d, d)), np.zeros(d)
    keep = 1.0 - rate
    for bits in itertools.product((0, 1), repeat=d):
        m = np.array(bits, dtype=float)
        prob = np.prod(np.where(m == 1, keep, rate))
        D = m / keep
        A += prob * (D[:, None] * G * D[None, :])
        rhs += prob * D * b
    return np.linalg.solve(A, rhs)
