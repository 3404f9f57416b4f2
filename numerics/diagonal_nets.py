"""Fast label-noise training of coordinate-separable (diagonal) networks w = f(θ) on square loss.

Model and loss: L(θ) = (1/2n) Σ_i (⟨f(θ), z_i⟩ − y_i)² with f from :mod:`theory.parameterizations`
(lambdified, so any parsed parameterization trains). Label noise (Blanc et al. 2020; HaoChen et al.
2021; the setting of Li, Wen, Lyu 2025's code): every step draws fresh ξ_i ∈ {±δ} for every sample
and takes the full-batch gradient of (1/2n) Σ_i (⟨f(θ), z_i⟩ − y_i − ξ_i)², whose noise covariance
at interpolation is (δ²/n) H (derived in :mod:`theory.slow_drift`).

Speed: gradients are closed form, ∂L/∂θ_kj = ∂_k f(θ_j) · (1/n) Σ_i r_i z_ij, and R independent
replicas (seeds) are trained in one vectorized numpy pass (parameters of shape (R, m, d)). The
update rules are the declarations of ``numerics.optim`` (``GD``; ``AdamFamily``: Adam without bias
correction and with exponent e, x −= η m/(v^e + ε), RMSProp, Adam-mini / Adalayer block second
moments; ``Shampoo`` of order 1), run through their array back end;
``tests/numerics/test_diagonal_nets.py`` checks step for step that it equals their torch back end
run through ``TransformOptimizer``.

A run whose parameters become non-finite stops with status ``RunStatus.ERROR`` and the step it
happened.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from numerics.interpolation import interpolation_system
from numerics.optim import GD, AdamFamily, Shampoo  # noqa: F401  (the update rules train runs)
from numerics.run_status import RunStatus, status_field
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

    def model_on(self, P: np.ndarray):
        """(``w()``, ``jacobian_factor()``): zero-argument functions returning :meth:`w` and
        :meth:`jacobian_factor` at the CURRENT value of the buffer P, which the caller updates in place
        (the trainers). The parameter views P[..., k, :] are taken once and ∂f is written into one
        preallocated array (returned each time: copy it to keep it) instead of a per-call list and
        ``np.stack``; a constant derivative is filled once. The same floating-point operations as the
        methods, so the same bits (``tests/numerics/test_diagonal_nets.py``). A subclass that overrides
        :meth:`w` or :meth:`jacobian_factor` gets its own methods unless it defines ``model_on``."""
        base = DiagonalNetProblem
        if type(self).w is not base.w or type(self).jacobian_factor is not base.jacobian_factor:
            return (lambda: self.w(P)), (lambda: self.jacobian_factor(P))
        parts = [P[..., k, :] for k in range(P.shape[-2])]
        shape = P.shape[:-2] + P.shape[-1:]
        f = self._f
        jf = np.empty(P.shape)
        varying = []
        for k, fn in enumerate(self._grad):
            out = fn(*parts)
            if np.shape(out) == shape:
                varying.append((k, fn))
            else:                      # a constant derivative: broadcast once, it never changes
                jf[..., k, :] = np.broadcast_to(out, shape)

        def w():
            out = f(*parts)
            return out if np.shape(out) == shape else np.broadcast_to(out, shape)

        def jacobian_factor():
            for k, fn in varying:
                jf[..., k, :] = fn(*parts)
            return jf

        return w, jacobian_factor

    def gradient_on(self, P: np.ndarray):
        """``noise ↦ self.gradient(P, noise)`` for the buffer P that the caller updates IN PLACE (the
        trainers), through :meth:`model_on`: each call performs the floating-point operations of
        :meth:`gradient`, so it returns the same bits (``tests/numerics/test_diagonal_nets.py``); a
        subclass that overrides :meth:`gradient` or :meth:`residual` gets :meth:`gradient` itself
        unless it defines its own."""
        base = DiagonalNetProblem
        if type(self).gradient is not base.gradient or type(self).residual is not base.residual:
            return lambda noise=None: self.gradient(P, noise)
        return square_loss_gradient(*self.model_on(P), self.Z, self.y, self.n)

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


def square_loss_gradient(w, jacobian_factor, Z: np.ndarray, y: np.ndarray, n: int):
    """``noise ↦ ∇L`` from the bound ``w()`` / ``jacobian_factor()`` of :meth:`DiagonalNetProblem.model_on`:
    r = w Zᵀ − y (− noise), ∂f · (r Z)/n, the operations of :meth:`DiagonalNetProblem.gradient`. ``Z``
    (n × d) and ``y`` (n,) for one problem, or stacked (K, n, d) and (K, 1, n) for K problems of one shape
    whose parameters are stacked along a leading axis (numpy's matmul runs the stack slice by slice, so
    each problem gets its own products' bits)."""
    ZT = np.swapaxes(Z, -1, -2)

    def gradient(noise=None):
        r = w() @ ZT - y
        if noise is not None:
            r = r - noise
        gw = r @ Z / n
        return jacobian_factor() * gw[..., None, :]

    return gradient


# -- update rules: the declarations of numerics.optim (GD, AdamFamily, Shampoo), whose array back end
# (init / direction on arrays of shape (R, m, d)) this trainer runs.


@dataclass
class Run:
    """Recorded checkpoints of a batched run: ``params[i]`` has shape (R, m, d)."""

    optimizer: str
    steps: list[int] = field(default_factory=list)
    params: list[np.ndarray] = field(default_factory=list)
    status: RunStatus = status_field(RunStatus.OK)
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
    gradient = problem.gradient_on(P)          # P is updated in place below
    # Overflow is not an exception here: divergence is detected and reported with its step.
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(1, steps + 1):
            if label_noise:
                k = (step - 1) % noise_chunk
                if k == 0:
                    noise = label_noise * (2.0 * rng.integers(0, 2, size=(noise_chunk, P.shape[0],
                                                                          problem.n)) - 1.0)
                G = gradient(noise[k])
            else:
                G = gradient()
            D, state = optimizer.direction(G, state, step)
            P -= eta_r * D
            if (step % 256 == 0 or step == steps) and not np.all(np.isfinite(P)):
                run.status = RunStatus.ERROR
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
