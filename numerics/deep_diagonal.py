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

from numerics.diagonal_nets import GD, DiagonalNetProblem, balanced_init, train
from numerics.interpolation import Interpolator, interpolation_system, lp_interpolator_exact


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


@dataclass
class DeepRun:
    P: np.ndarray            # (R, 2, d) parameters after the projection onto Zw = y
    W: np.ndarray            # (R, d)
    residual: float          # max relative residual ‖Zw − y‖/‖y‖ (over the final point and checkpoints)
    status: str
    message: str
    seconds: float
    W_at: dict = field(default_factory=dict)     # step → (R, d): each checkpoint, projected likewise


def train_deep(problem: DiagonalNetProblem, optimizer, alpha: float, eta: float, steps: int,
               delta: float, replicas: int = 2, seed: int = 0,
               projection_steps: int = 4000, checkpoints=()) -> DeepRun:
    """Label-noise training from u = v = α, then ``projection_steps`` of noise-free GD onto Zw = y
    from the final parameters and from each of ``checkpoints`` (step numbers)."""
    marks = sorted(set(int(c) for c in checkpoints if 0 < c < steps))
    run = train(problem, balanced_init(problem, [alpha] * replicas), optimizer, eta, steps,
                label_noise=delta, seed=seed, checkpoints=marks)
    if run.status != "ok":
        return DeepRun(np.empty(0), np.empty(0), np.inf, run.status, run.message, run.seconds)
    lam = float(np.linalg.eigvalsh(problem.Z.T @ problem.Z / problem.n).max())
    seconds, projected = run.seconds, []
    for P in [*run.params, run.final]:
        top = float(np.max(np.sum(problem.jacobian_factor(P) ** 2, axis=-2)))
        proj = train(problem, P, GD(), min(0.02, 1.0 / (lam * max(top, 1e-12))), projection_steps)
        seconds += proj.seconds
        if proj.status != "ok":
            return DeepRun(np.empty(0), np.empty(0), np.inf, proj.status, proj.message, seconds)
        projected.append(proj.final)
    residual = max(float(np.max(np.linalg.norm(problem.residual(P), axis=-1))) for P in projected)
    residual /= float(np.linalg.norm(problem.y))
    final = projected[-1]
    return DeepRun(final, problem.w(final), residual, "ok", "", seconds,
                   {step: problem.w(P) for step, P in zip(run.steps, projected[:-1])})
