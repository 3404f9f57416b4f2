"""Fast label-noise training of coordinate-separable (diagonal) networks w = f(θ) on square loss.

Model and loss: L(θ) = (1/2n) Σ_i (⟨f(θ), z_i⟩ − y_i)² with f from :mod:`theory.parameterizations`
(lambdified, so any parsed parameterization trains). Label noise (Blanc et al. 2020; HaoChen et al.
2021; the setting of Li, Wen, Lyu 2025's code): every step draws fresh ξ_i ∈ {±δ} for every sample
and takes the full-batch gradient of (1/2n) Σ_i (⟨f(θ), z_i⟩ − y_i − ξ_i)², whose noise covariance
at interpolation is (δ²/n) H (derived in :mod:`theory.slow_drift`).

Speed: gradients are closed form, ∂L/∂θ_kj = ∂_k f(θ_j) · (1/n) Σ_i r_i z_ij, and R independent
replicas (seeds) are trained in one vectorized numpy pass (parameters of shape (R, m, d)). The
update rules are those of ``numerics.optim`` (GD, and Adam with ``bias_correction=False`` and
exponent e, i.e. x −= η m/(v^e + ε)) and of :mod:`numerics.block_preconditioners` (Adam-mini /
Adalayer block second moments, order-1 Shampoo); ``tests/numerics/test_diagonal_nets.py`` checks
step for step that the fast path equals those transformations run through ``TransformOptimizer``.

A run whose parameters become non-finite stops with status ``error`` and the step it happened.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from numerics.interpolation import interpolation_system
from theory.errors import UserInputError
from theory.parameterizations import Parameterization


@dataclass
class DiagonalNetProblem:
    """Square-loss regression on w = f(θ) (per coordinate) with features Z (n × d)."""

    param: Parameterization
    Z: np.ndarray
    y: np.ndarray

    def __post_init__(self):
        self.Z = np.asarray(self.Z, dtype=float)
        self.y = np.asarray(self.y, dtype=float)
        interpolation_system(self.Z, self.y)           # raises when no interpolator exists
        self.n, self.d = self.Z.shape
        self.c = np.mean(self.Z**2, axis=0)             # feature second moments c_j
        self._f, self._grad, self._curv = self.param.lambdified

    def _apply(self, fns, P: np.ndarray) -> np.ndarray:
        """Stack [fn(θ_1, ..., θ_m) for fn in fns] along axis −2 (shape (..., len(fns), d))."""
        parts = [P[..., k, :] for k in range(P.shape[-2])]
        out = [fn(*parts) for fn in fns]
        shape = P.shape[:-2] + P.shape[-1:]
        return np.stack([o if np.shape(o) == shape else np.broadcast_to(o, shape) for o in out],
                        axis=-2)

    def w(self, P: np.ndarray) -> np.ndarray:
        """P of shape (..., m, d) → w of shape (..., d)."""
        out = self._f(*[P[..., k, :] for k in range(P.shape[-2])])
        return out if np.shape(out) == P.shape[:-2] + P.shape[-1:] else \
            np.broadcast_to(out, P.shape[:-2] + P.shape[-1:])

    def residual(self, P: np.ndarray) -> np.ndarray:
        return self.w(P) @ self.Z.T - self.y

    def loss(self, P: np.ndarray) -> np.ndarray:
        return 0.5 * np.mean(self.residual(P) ** 2, axis=-1)

    def jacobian_factor(self, P: np.ndarray) -> np.ndarray:
        """∂_k f(θ_j), shape (..., m, d)."""
        return self._apply(self._grad, P)

    def gradient(self, P: np.ndarray, noise: np.ndarray | None = None) -> np.ndarray:
        """∇L (with labels y + noise when given), shape (..., m, d)."""
        r = self.residual(P)
        if noise is not None:
            r = r - noise
        gw = r @ self.Z / self.n
        return self.jacobian_factor(P) * gw[..., None, :]

    def gauss_newton_diagonal(self, P: np.ndarray) -> np.ndarray:
        """c_j (∂_k f(θ_j))²: the Hessian diagonal at interpolation, shape (..., m, d)."""
        return self.c * self.jacobian_factor(P) ** 2

    def hessian_diagonal(self, P: np.ndarray) -> np.ndarray:
        """Exact diagonal of ∇²L: Gauss–Newton part + (1/n) Σ_i r_i z_ij ∂²_k f(θ_j)."""
        r = self.residual(P)
        curv = self._apply(self._curv, P)
        return self.gauss_newton_diagonal(P) + curv * (r @ self.Z / self.n)[..., None, :]

    def jacobian(self, P: np.ndarray) -> np.ndarray:
        """J (n × m·d) of the predictions ⟨f(θ), z_i⟩ w.r.t. the flattened (m, d) parameters."""
        J = self.jacobian_factor(P)[..., None, :, :] * self.Z[:, None, :]
        return J.reshape(*J.shape[:-2], -1)


# -- update rules (the maths of numerics.optim / numerics.block_preconditioners, vectorized) -------
@dataclass(frozen=True)
class GD:
    """x −= η g (``numerics.optim.gd``)."""

    name: str = "SGD"

    def init(self, shape):
        return None

    def direction(self, G, state, step):
        return G, state


def _initial_second_moment(v0, shape) -> np.ndarray | None:
    """A writable float copy of ``v0`` broadcast to the second-moment state's ``shape`` (None: None)."""
    if v0 is None:
        return None
    v0 = np.asarray(v0, dtype=float)
    try:
        out = np.array(np.broadcast_to(v0, shape), copy=True)
    except ValueError:
        raise UserInputError(f"v0 of shape {v0.shape} does not fit the second moment of shape "
                             f"{tuple(shape)}") from None
    if not np.all(np.isfinite(out)):
        raise UserInputError("v0 has non-finite entries")
    return out


@dataclass(frozen=True)
class AdamFamily:
    """m = β₁m + (1−β₁)g, v = β₂v + (1−β₂)g², x −= η m/(v^e + ε) without bias correction
    (``numerics.optim.adam(..., bias_correction=False, exponent=e)``; β₁ = 0 is RMSProp).
    ``block`` > 1 averages g² over contiguous blocks of that many coordinates of each parameter
    vector (Adam-mini); ``block = 0`` averages over the whole vector (Adalayer).

    ``v0``: the second moment's initial value (broadcast to the parameters' shape (R, m, d); entries
    ≥ 0), e.g. an estimate of E[:meth:`second_moment`] at the start point
    (``numerics.manifold_flow.second_moment_warmup``); None (default) starts v at 0, the usual rule.
    The first moment always starts at 0."""

    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-6
    exponent: float = 0.5
    block: int = 1
    name: str = "Adam"
    v0: np.ndarray | None = field(default=None, compare=False, repr=False)

    def init(self, shape):
        v = _initial_second_moment(self.v0, shape)
        if v is not None and np.any(v < 0):
            raise UserInputError("v0 has negative entries (a second moment is ≥ 0)")
        return (np.zeros(shape), v)

    def _block_mean(self, G2):
        if self.block == 1:
            return G2
        size = G2.shape[-1] if self.block == 0 else self.block
        if G2.shape[-1] % size:
            raise ValueError(f"block size {size} does not divide d = {G2.shape[-1]}")
        B = G2.reshape(*G2.shape[:-1], -1, size).mean(axis=-1, keepdims=True)
        return np.broadcast_to(B, (*B.shape[:-1], size)).reshape(G2.shape)

    def second_moment(self, G):
        """The statistic v averages: g² (its block means when ``block`` ≠ 1), same shape as G."""
        return self._block_mean(G * G)

    def direction(self, G, state, step):
        m, v = state
        m = self.beta1 * m + (1 - self.beta1) * G
        g2 = self.second_moment(G)
        v = (1 - self.beta2) * g2 if v is None else self.beta2 * v + (1 - self.beta2) * g2
        return m / (v**self.exponent + self.eps), (m, v)


@dataclass(frozen=True)
class Shampoo:
    """Order-1 Shampoo per parameter vector: L = β₂L + (1−β₂) g gᵀ, x −= η (L^{1/2} + εI)⁻¹ m
    (full-matrix Adam on each vector; ``numerics.block_preconditioners.shampoo_preconditioner``).

    ``v0``: L's initial value (broadcast to (R, m, d, d); symmetric), e.g. an estimate of
    E[:meth:`second_moment`] = E[g gᵀ] at the start point; None (default) starts L at 0."""

    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-6
    name: str = "Shampoo"
    v0: np.ndarray | None = field(default=None, compare=False, repr=False)

    def init(self, shape):
        L = _initial_second_moment(self.v0, (*shape, shape[-1]))
        if L is not None and not np.allclose(L, np.swapaxes(L, -1, -2), rtol=1e-12, atol=0.0):
            raise UserInputError("v0 (Shampoo's initial L) is not symmetric")
        return (np.zeros(shape), L)

    def second_moment(self, G):
        """The statistic L averages: g gᵀ per parameter vector, shape (..., d, d)."""
        return G[..., :, None] * G[..., None, :]

    def direction(self, G, state, step):
        m, L = state
        m = self.beta1 * m + (1 - self.beta1) * G
        outer = self.second_moment(G)
        L = (1 - self.beta2) * outer if L is None else self.beta2 * L + (1 - self.beta2) * outer
        lam, V = np.linalg.eigh(L)
        root = 1.0 / (np.sqrt(np.clip(lam, 0.0, None)) + self.eps)
        Vm = np.einsum("...ji,...j->...i", V, m)
        return np.einsum("...ij,...j->...i", V, root * Vm), (m, L)


@dataclass
class Run:
    """Recorded checkpoints of a batched run: ``params[i]`` has shape (R, m, d)."""

    optimizer: str
    steps: list[int] = field(default_factory=list)
    params: list[np.ndarray] = field(default_factory=list)
    status: str = "ok"
    message: str = ""
    seconds: float = 0.0
    final: np.ndarray | None = None


def train(problem: DiagonalNetProblem, P0: np.ndarray, optimizer, eta, steps: int,
          label_noise: float = 0.0, seed: int = 0, checkpoints=(), noise_chunk: int = 512) -> Run:
    """Run ``steps`` updates from P0 (shape (R, m, d) or (m, d)) with fresh ±δ label noise per step
    and sample (δ = ``label_noise``); records P at the given step numbers (0 = initial). ``eta`` is a
    number or one step size per replica (shape (R,))."""
    P = np.array(P0, dtype=float, copy=True)
    if P.ndim == 2:
        P = P[None]
    if P.shape[-2:] != (problem.param.m, problem.d):
        raise UserInputError(f"initial parameters must have shape (R, {problem.param.m}, "
                             f"{problem.d}), got {P.shape}")
    eta_r = np.reshape(np.asarray(eta, dtype=float), (-1, 1, 1))
    if eta_r.shape[0] not in (1, P.shape[0]):
        raise UserInputError(f"{eta_r.shape[0]} step sizes for {P.shape[0]} replicas")
    rng = np.random.default_rng(seed)
    marks = sorted(set(int(s) for s in checkpoints if 0 <= s <= steps))
    run = Run(getattr(optimizer, "name", type(optimizer).__name__))
    state = optimizer.init(P.shape)
    t0 = time.perf_counter()
    mi = 0
    if marks and marks[0] == 0:
        run.steps.append(0)
        run.params.append(P.copy())
        mi = 1
    noise = None
    # Overflow is not an exception here: divergence is detected and reported with its step.
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(1, steps + 1):
            if label_noise:
                k = (step - 1) % noise_chunk
                if k == 0:
                    noise = label_noise * (2.0 * rng.integers(0, 2, size=(noise_chunk, P.shape[0],
                                                                          problem.n)) - 1.0)
                G = problem.gradient(P, noise[k])
            else:
                G = problem.gradient(P)
            D, state = optimizer.direction(G, state, step)
            P -= eta_r * D
            if (step % 256 == 0 or step == steps) and not np.all(np.isfinite(P)):
                run.status = "error"
                run.message = (f"{run.optimizer} diverged (non-finite parameters) by step {step} "
                               f"with η = {np.ravel(eta_r).tolist()}")
                break
            if mi < len(marks) and step == marks[mi]:
                run.steps.append(step)
                run.params.append(P.copy())
                mi += 1
    run.seconds = time.perf_counter() - t0
    run.final = P
    return run


def balanced_init(problem: DiagonalNetProblem, scale) -> np.ndarray:
    """Every parameter equal to α (Woodworth et al. 2020: u₀ = v₀ = α·1); one replica per α given."""
    scale = np.atleast_1d(np.asarray(scale, dtype=float))
    return np.ones((scale.size, problem.param.m, problem.d)) * scale[:, None, None]


def torch_loss(problem: DiagonalNetProblem):
    """The same loss as a torch function of the parameter tensors (θ_1, ..., θ_m) and the label noise,
    for autograd reference loops (tests and bench)."""
    import sympy as sp
    import torch

    f = sp.lambdify(problem.param.params, problem.param.expr,
                    [{"sqrt": torch.sqrt, "exp": torch.exp, "log": torch.log, "tanh": torch.tanh}])
    Z = torch.from_numpy(problem.Z)
    y = torch.from_numpy(problem.y)

    def loss(params, noise=None):
        r = Z @ f(*params) - y
        if noise is not None:
            r = r - torch.as_tensor(noise)
        return 0.5 * torch.mean(r**2)

    return loss
