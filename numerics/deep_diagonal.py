"""Depth-N diagonal networks w = u^N − v^N (Woodworth et al. 2020) trained to an interpolator, and
the interpolators their implied regularizers predict.

``power_interpolator`` solves argmin Σ_j ω_j |w_j|^κ s.t. Zw = y for any κ > 0: a weighted-ℓ1 LP
for κ = 1, damped Newton on the smooth concave dual for κ > 1 (duality gap and residual checked),
exact support enumeration (:mod:`numerics.interpolation`) for κ < 1.

``train_deep`` runs label-noise GD or Adam from the positive balanced initialization
u = v = α (which every step keeps positive: ∂f/∂v = −N v^{N−1} vanishes at v = 0) and then
noise-free GD onto the interpolation manifold, as :mod:`numerics.label_noise_runs` does.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from numerics.diagonal_nets import GD, DiagonalNetProblem, balanced_init, square_loss_gradient, train
from numerics.interpolation import Interpolator, interpolation_system, lp_interpolator_exact
from numerics.run_status import RunStatus, status_field


def power_interpolator(Z, y, kappa: float, weights=None) -> Interpolator:
    """argmin Σ_j ω_j |w_j|^κ s.t. Zw = y (κ > 0; convex for κ ≥ 1)."""
    if not kappa > 0:
        raise ValueError(f"κ must be > 0, got {kappa}")
    Z = np.asarray(Z, dtype=float)
    d = Z.shape[1]
    omega = np.ones(d) if weights is None else np.asarray(weights, dtype=float)
    if kappa < 1:
        return lp_interpolator_exact(Z, y, kappa, omega)
    Zr, yr = interpolation_system(Z, y)
    scale = max(float(np.linalg.norm(yr)), 1e-300)      # solve at unit scale (R is κ-homogeneous)
    yr = yr / scale
    if abs(kappa - 1) < 1e-12:
        from numerics.interpolation import weighted_l1_interpolator

        out = weighted_l1_interpolator(Zr, yr, omega)
        return Interpolator(out.w * scale, float(np.sum(omega * np.abs(out.w * scale))), out.method,
                            out.certificate)
    # κ > 1: damped Newton on the concave dual D(ν) = yᵀν − Σ_j ψ_j*((Zᵀν)_j), ψ_j = ω_j|w|^κ,
    # with the primal point w_j = sign(g_j)(|g_j|/(κω_j))^{1/(κ−1)} from stationarity (g = Zᵀν).
    q = 1.0 / (kappa - 1.0)

    def primal(g):
        a = np.abs(g) / (kappa * omega)
        return np.sign(g) * a**q, q * a ** (q - 1) / (kappa * omega)

    def dual(nu):
        g = Zr.T @ nu
        with np.errstate(over="ignore", invalid="ignore"):
            return float(yr @ nu - np.sum((kappa - 1) * omega * (np.abs(g) / (kappa * omega)) ** (kappa * q)))

    nu = np.linalg.solve(Zr @ Zr.T, yr)          # any start with Zᵀν ≠ 0 (the Hessian is then PD)
    current, it = dual(nu), 0
    for it in range(200):
        w, dw = primal(Zr.T @ nu)
        grad = yr - Zr @ w
        if np.linalg.norm(grad) <= 1e-13:
            break
        step = np.linalg.solve((Zr * dw) @ Zr.T + 1e-300 * np.eye(len(yr)), grad)
        t = 1.0
        while t > 1e-12:
            trial = dual(nu + t * step)
            if np.isfinite(trial) and trial >= current - 1e-14 * max(abs(current), 1.0):
                break
            t *= 0.5
        nu, current = nu + t * step, dual(nu + t * step)
    w, _ = primal(Zr.T @ nu)
    obj = float(np.sum(omega * np.abs(w) ** kappa))
    gap = abs(obj - current) / max(abs(obj), 1e-300)
    residual = float(np.linalg.norm(Zr @ w - yr))
    if not (np.isfinite(gap) and gap <= 1e-9 and residual <= 1e-9):
        raise RuntimeError(f"the ℓ_κ interpolator did not converge (relative gap {gap:.2g}, "
                           f"residual {residual:.2g})")
    return Interpolator(w * scale, obj * scale**kappa, f"dual Newton (κ = {kappa:g})",
                        {"relative_gap": gap, "residual": residual * scale, "newton_iterations": it + 1})


def gauss_newton_sharpness(problem: DiagonalNetProblem, P: np.ndarray) -> np.ndarray:
    """Top eigenvalue of the Gauss–Newton Hessian JᵀJ/n (that of JJᵀ/n, n × n) per replica of P
    (shape (..., m, d) → (...))."""
    J = problem.jacobian(P)
    return np.linalg.eigvalsh(J @ np.swapaxes(J, -1, -2) / problem.n)[..., -1]


class DepthProblem(DiagonalNetProblem):
    """:class:`DiagonalNetProblem` for w = u^N − v^N with the model and its first derivatives in
    closed form (w, ∂_u = N u^(N−1), ∂_v = −N v^(N−1)) instead of the lambdified, stacked generic
    ones: the same maths (``tests/numerics/test_deep_diagonal.py`` compares the two), about 2× fewer
    seconds per step at the experiment's sizes (numpy call overhead dominates there)."""

    def __init__(self, N: int, Z, y):
        from theory.parameterizations import depth

        super().__init__(depth(N), Z, y)
        self.N = int(N)

    def w(self, P: np.ndarray) -> np.ndarray:
        return P[..., 0, :] ** self.N - P[..., 1, :] ** self.N

    def jacobian_factor(self, P: np.ndarray) -> np.ndarray:
        out = np.empty_like(P)
        np.multiply(self.N, P[..., 0, :] ** (self.N - 1), out=out[..., 0, :])
        np.multiply(-self.N, P[..., 1, :] ** (self.N - 1), out=out[..., 1, :])
        return out

    def gradient(self, P: np.ndarray, noise: np.ndarray | None = None) -> np.ndarray:
        r = self.w(P) @ self.Z.T - self.y
        if noise is not None:
            r = r - noise
        gw = (r @ self.Z / self.n)[..., None, :]
        return self.jacobian_factor(P) * gw

    def gradient_on(self, P: np.ndarray):
        """``noise ↦ self.gradient(P, noise)`` for a buffer P updated in place by the trainer, with the
        same elementwise operations on u and v done as one operation on P (P**N and the ∂f factor
        (N, −N)·P**(N−1)): the same operations per entry, so the same bits (the base class's rule;
        ``tests/numerics/test_deep_diagonal.py``), about 2 fewer powers' worth of calls per step."""
        if type(self).gradient is not DepthProblem.gradient:
            return super().gradient_on(P)
        N = self.N
        sign = np.array([[N], [-N]], dtype=float)          # ∂_u = N u^(N−1), ∂_v = −N v^(N−1)

        def w():
            PN = P ** N
            return PN[..., 0, :] - PN[..., 1, :]

        return square_loss_gradient(w, lambda: sign * P ** (N - 1), self.Z, self.y, self.n)


@dataclass
class DeepRun:
    P: np.ndarray            # (R, 2, d) parameters after the projection onto Zw = y
    W: np.ndarray            # (R, d)
    residual: float          # max relative residual ‖Zw − y‖/‖y‖ (over the final point and checkpoints)
    status: RunStatus = status_field()   # OK | ERROR (the noisy run's or a projection's; what: ``message``)
    message: str
    seconds: float
    W_at: dict = field(default_factory=dict)     # step → (R, d): each checkpoint, projected likewise
    warmup_steps: int = 0                        # equivalent steps at η covered by the warm-up
    P_at: dict = field(default_factory=dict)     # step → (R, m, d): the projected parameters there
    W_windows: list = field(default_factory=list)  # per ``windows`` entry: w of the projected θ̄, (R, d)


def train_deep(problem: DiagonalNetProblem, optimizer, alpha: float, eta: float, steps: int,
               delta: float, replicas: int = 2, seed: int = 0,
               projection_steps: int = 4000, checkpoints=(), init=None,
               step_sharpness: float | None = None, warmup_chunk: int = 256, windows=()) -> DeepRun:
    """Label-noise training from u = v = α (or from ``init``, shape (R, m, d)), then
    ``projection_steps`` of noise-free GD onto Zw = y from the final parameters and from each of
    ``checkpoints`` (step numbers).

    ``step_sharpness`` = s caps η·λ during a warm-up: while η·λ(θ) > s for some replica (λ the top
    eigenvalue of the Gauss–Newton Hessian JJᵀ/n), chunks of ``warmup_chunk`` steps run at s/λ. A
    chunk of k steps at η' covers the rescaled time of k(η'/η)² steps at η, which are deducted from
    ``steps`` (and the checkpoints are counted in the same equivalent steps), so the run still
    covers the rescaled time η²δ²·steps. Without it the first steps from u = v = α, where every
    coordinate adds to the sharpness, can diverge at a step size that is stable at the end.

    ``windows``: step lists; for each, the per-replica mean θ̄ of the parameters at those steps (the
    iterate average of :mod:`numerics.label_noise_runs`) is projected likewise and its w returned in
    ``W_windows`` (in order): a stationary run's O(η^½) fluctuation averages out of θ̄."""
    start = balanced_init(problem, [alpha] * replicas) if init is None else np.array(init, dtype=float)
    equivalent, warm_seconds, chunk_index = 0.0, 0.0, 0
    while step_sharpness is not None and equivalent < steps:
        lam = float(np.max(gauss_newton_sharpness(problem, start)))
        if not np.isfinite(lam):
            return DeepRun(np.empty(0), np.empty(0), np.inf, RunStatus.ERROR,
                           f"non-finite sharpness during the warm-up (chunk {chunk_index})", warm_seconds)
        if eta * lam <= step_sharpness:
            break
        e = step_sharpness / lam
        chunk = train(problem, start, optimizer, e, warmup_chunk, label_noise=delta,
                      seed=seed + 7919 * (chunk_index + 1))
        warm_seconds += chunk.seconds
        if chunk.status != RunStatus.OK:
            return DeepRun(np.empty(0), np.empty(0), np.inf, chunk.status, chunk.message, warm_seconds)
        start, equivalent, chunk_index = chunk.final, equivalent + warmup_chunk * (e / eta) ** 2, chunk_index + 1
    done = int(round(equivalent))
    main_steps = max(steps - done, 1)
    marks = sorted(set(int(c) - done for c in checkpoints if done < c < steps))
    window_marks = [[int(c) - done for c in w if done < c <= steps] for w in windows]
    recorded = sorted(set(marks).union(*window_marks)) if windows else marks
    run = train(problem, start, optimizer, eta, main_steps,
                label_noise=delta, seed=seed, checkpoints=recorded)
    run.seconds += warm_seconds
    if run.status != RunStatus.OK:
        return DeepRun(np.empty(0), np.empty(0), np.inf, run.status, run.message, run.seconds)
    averages = []
    if windows:
        at = dict(zip(run.steps, run.params))
        averages = [np.mean([at[k] for k in w], axis=0) if w else np.full_like(run.final, np.nan)
                    for w in window_marks]
        keep = [i for i, k in enumerate(run.steps) if k in set(marks)]
        run.steps, run.params = [run.steps[i] for i in keep], [run.params[i] for i in keep]
    run.steps = [step + done for step in run.steps]
    lam = float(np.linalg.eigvalsh(problem.Z.T @ problem.Z / problem.n).max())
    seconds, projected = run.seconds, []
    for i, P in enumerate([*averages, *run.params, run.final]):
        if i < len(averages) and not np.all(np.isfinite(P)):       # an empty window
            projected.append(P)
            continue
        top = float(np.max(np.sum(problem.jacobian_factor(P) ** 2, axis=-2)))
        proj = train(problem, P, GD(), min(0.02, 1.0 / (lam * max(top, 1e-12))), projection_steps)
        seconds += proj.seconds
        if proj.status != RunStatus.OK:
            return DeepRun(np.empty(0), np.empty(0), np.inf, proj.status, proj.message, seconds)
        projected.append(proj.final)
    window_W = [problem.w(P) for P in projected[:len(averages)]]
    projected = projected[len(averages):]
    residual = max(float(np.max(np.linalg.norm(problem.residual(P), axis=-1))) for P in projected)
    residual /= float(np.linalg.norm(problem.y))
    final = projected[-1]
    return DeepRun(final, problem.w(final), residual, RunStatus.OK, "", seconds,
                   {step: problem.w(P) for step, P in zip(run.steps, projected[:-1])}, done,
                   dict(zip(run.steps, projected[:-1])), window_W)


@dataclass
class BasicSolutions:
    """Every basic solution of Zw = y (Z: n × d of rank n): for each support S of n columns with
    Z_S non-singular, the unique w with supp w ⊆ S and Zw = y. These are the local minima on
    {Zw = y} of a concave separable Σ_j ω_j|w_j|^κ (0 < κ < 1, ω_j > 0): a dependent support has a
    strictly concave direction inside Zw = y, an independent one is a strict local minimum (|t|^κ has
    infinite slope at 0). Used by the measurements of docs/claims/deep-diagonal-adam-local-minimum.md."""
    supports: np.ndarray     # (B, n) column indices, lexicographic order
    W: np.ndarray            # (B, d)
    singular: int            # supports skipped as (numerically) singular

    def nearest(self, w: np.ndarray) -> tuple[int, float]:
        """(index, Euclidean distance) of the basic solution nearest to ``w``; (−1, NaN) when ``w``
        is not finite."""
        w = np.asarray(w, dtype=float)
        if not np.all(np.isfinite(w)):
            return -1, float("nan")
        dist = np.linalg.norm(self.W - w, axis=1)
        i = int(np.argmin(dist))
        return i, float(dist[i])


def basic_solutions(Z, y, singular_ratio: float = 1e-10, chunk: int = 20_000) -> BasicSolutions:
    """All basic solutions of Zw = y by enumerating the C(d, n) supports (the enumeration of
    ``numerics.interpolation.lp_interpolator_exact``, which keeps only the argmin; here every solution
    is kept: C(32, 4) = 35 960 at the depth-N claims' size, 9 MB). A support is skipped when the
    Hadamard ratio |det Z_S| / Π‖z_k‖ ≤ ``singular_ratio`` (numerically dependent columns)."""
    import itertools
    import math

    Z, y = interpolation_system(Z, y)
    n, d = Z.shape
    if math.comb(d, n) > 2_000_000:
        raise ValueError(f"C({d}, {n}) supports exceeds the enumeration limit 2 000 000")
    supports = itertools.combinations(range(d), n)
    kept_S, kept_W, singular = [], [], 0
    while True:
        block = np.array(list(itertools.islice(supports, chunk)), dtype=np.int64)
        if block.size == 0:
            break
        A = Z[:, block].transpose(1, 0, 2)
        ratio = np.abs(np.linalg.det(A)) / np.prod(np.linalg.norm(A, axis=1), axis=1)
        ok = ratio > singular_ratio
        singular += int(np.sum(~ok))
        if not np.any(ok):
            continue
        sol = np.linalg.solve(A[ok], np.broadcast_to(y, (int(ok.sum()), n))[..., None])[..., 0]
        W = np.zeros((sol.shape[0], d))
        np.put_along_axis(W, block[ok], sol, axis=1)
        kept_S.append(block[ok])
        kept_W.append(W)
    if not kept_W:
        raise RuntimeError("no non-singular support: Z has no n independent columns")
    return BasicSolutions(np.concatenate(kept_S), np.concatenate(kept_W), singular)
