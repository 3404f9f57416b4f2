"""Label-noise runs to an interpolator: train from a balanced initialization, then project onto Γ.

The slow-drift theory (Blanc et al. 2020; Li, Wang, Arora 2022; Li, Wen, Lyu 2025) describes
Φ(θ_k), the gradient-flow limit of the iterate, not the noisy iterate itself. After the label-noise
phase the run therefore continues with noise-free GD (a numerical Φ, capped by the stability bound)
and the interpolator reported is w(Φ(θ̄)). With ``average_last`` = 0, θ̄ is the last iterate θ_K; with
``average_last`` = f > 0 it is the mean of θ over ``average_points`` evenly spaced iterates of the last
fraction f of the noisy phase: at finite η the iterate keeps an O(η)-dependent stationary fluctuation
along Γ around the drift's limit (for Adam, whose step does not shrink with a coordinate's size, it
is large on the near-zero coordinates), and the tail mean removes most of it. ``movement`` compares
that mean with the mean over the window just before it (a drift still under way moves it; a
converged one only by the fluctuation's average). Sharpness measures
M_e = Σ H_kk^{1−e} (Gauss–Newton diagonal) are recorded along the noisy phase.

:func:`drift_setting` is the start on Γ shared by the slow-drift claims and the sharpness
fingerprint (one definition).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from numerics.diagonal_nets import GD, DiagonalNetProblem, balanced_init, square_loss_gradient, train
from numerics.run_status import RunStatus, status_field


@dataclass
class LabelNoiseResult:
    W: np.ndarray                 # (R, d) interpolators, one per replica (after projection)
    residual: float               # max relative residual ‖Zw − y‖/‖y‖ after projection
    steps: list                   # checkpoints of the noisy phase
    measure: np.ndarray           # (len(steps), R): M_e along the noisy phase
    status: RunStatus = status_field()   # the noisy run's or the projection's (OK when both are)
    message: str
    seconds: float
    movement: float = float("nan")   # max over replicas of ‖w(θ̄_last) − w(θ̄_previous)‖/‖w(θ̄_last)‖


def run_to_interpolator(problem: DiagonalNetProblem, optimizer, alpha: float, eta: float, steps: int,
                        delta: float, exponent: float, replicas: int = 3, seed: int = 0,
                        projection_steps: int = 4000, projection_eta: float = 0.02,
                        points: int = 25, average_last: float = 0.0, average_points: int = 50,
                        projection_chunks: int = 4,
                        projection_residual: float = 1e-3, instances: int = 1) -> LabelNoiseResult:
    """``problem`` may be a stack of ``instances`` independent instances
    (:mod:`numerics.instance_stack`); ``projection_residual`` then bounds every instance's own
    relative residual (and ``projection_eta`` is the stack's step, S × each instance's)."""
    if not 0.0 <= average_last < 1.0:
        raise ValueError(f"average_last must be in [0, 1), got {average_last}")
    marks = np.unique(np.concatenate([[0], np.geomspace(1, steps, points).astype(int)]))
    tail = (np.unique(np.linspace((1.0 - average_last) * steps, steps, average_points).astype(int))
            if average_last > 0 else np.empty(0, dtype=int))
    previous = (np.unique(np.linspace((1.0 - 2 * average_last) * steps, (1.0 - average_last) * steps,
                                      average_points).astype(int))
                if 0 < average_last <= 0.5 else np.empty(0, dtype=int))
    run = train(problem, balanced_init(problem, [alpha] * replicas), optimizer, eta, steps,
                label_noise=delta, seed=seed,
                checkpoints=np.union1d(np.union1d(marks, tail), previous))
    if run.status != RunStatus.OK:
        return LabelNoiseResult(np.empty(0), np.inf, [], np.empty(0), run.status, run.message,
                                run.seconds)
    recorded = dict(zip(run.steps, run.params))
    start = np.mean([recorded[k] for k in tail], axis=0) if tail.size else run.final
    movement = float("nan")
    if previous.size:
        w_last = problem.w(start)
        w_prev = problem.w(np.mean([recorded[k] for k in previous], axis=0))
        movement = float(np.max(np.linalg.norm(w_last - w_prev, axis=-1)
                                / np.linalg.norm(w_last, axis=-1)))
    measured = [k for k in run.steps if k in set(marks.tolist())]
    proj = _project(problem, start, projection_eta, projection_steps, projection_chunks,
                    projection_residual, instances)
    seconds = run.seconds + proj.seconds
    if proj.status != RunStatus.OK:
        return LabelNoiseResult(np.empty(0), np.inf, [], np.empty(0), proj.status, proj.message,
                                seconds)
    measure = np.array([np.sum(problem.gauss_newton_diagonal(recorded[k]) ** (1.0 - exponent),
                               axis=(-2, -1)) for k in measured])
    return LabelNoiseResult(problem.w(proj.final), _relative_residual(problem, proj.final, instances),
                            measured, measure, RunStatus.OK, "", seconds, movement)


def _relative_residual(problem: DiagonalNetProblem, P: np.ndarray, instances: int = 1) -> float:
    """max over replicas (and over the ``instances`` stacked instances) of ‖Z_s w_s − y_s‖/‖y_s‖
    (NaN-propagating: np.max)."""
    from numerics.instance_stack import instance_residuals

    return float(np.max(instance_residuals(problem, P, instances)))


def _projection_eta(problem: DiagonalNetProblem, P: np.ndarray, cap: float) -> float:
    """GD step for the projection: ``cap``, or 1/(λ_max(ZᵀZ/n) · max_j Σ_k (∂_k f(θ_j))²) at P when
    that is smaller (the stability bound of the loss's curvature at P)."""
    lam = float(np.linalg.eigvalsh(problem.Z.T @ problem.Z / problem.n).max())
    top = float(np.max(np.sum(problem.jacobian_factor(P) ** 2, axis=-2)))
    return min(cap, 1.0 / (lam * max(top, 1e-12)))


def _project(problem: DiagonalNetProblem, start: np.ndarray, cap: float, steps: int, chunks: int,
             target: float, instances: int = 1):
    """Noise-free GD from ``start`` towards Γ: one chunk of ``steps`` on the whole problem (one step
    size, its curvature at ``start``), then every instance of the stack (``instances`` = S) whose
    residual ‖Z_s w_s − y_s‖/‖y_s‖ still exceeds ``target`` on some replica continues ALONE, with the
    step size of its own curvature, for up to ``chunks`` − 1 more chunks, stopping once every replica
    is within ``target`` (a tail average of a run that hops between basins starts farther, and an
    instance with small curvature is slow under the stack's shared step). Returns the Run of the
    first chunk with ``final`` holding the result and ``seconds`` the total."""
    from numerics.instance_stack import instance_problem, instance_residuals

    proj = train(problem, start, GD(), _projection_eta(problem, start, cap), steps)
    if proj.status != RunStatus.OK:
        return proj
    S = instances
    P = proj.final
    d = problem.d // S
    late = np.flatnonzero(np.max(instance_residuals(problem, P, S), axis=0) > target)
    if S == 1:                       # the whole problem continues alone (at most one "instance")
        subs = [problem] * len(late)
    else:
        subs = [instance_problem(problem, s, S) for s in late]
    cols = [slice(s * d, (s + 1) * d) for s in late]
    etas = [_projection_eta(sub, start[..., c], cap / S) for sub, c in zip(subs, cols)]
    Ps = [P[..., c] for c in cols]
    active = list(range(len(late)))
    for _ in range(chunks - 1):
        active = [i for i in active if not np.max(instance_residuals(subs[i], Ps[i], 1)) <= target]
        if not active:
            break
        finals, seconds, broken = gd_instances([subs[i] for i in active], [Ps[i] for i in active],
                                               [etas[i] for i in active], steps)
        proj.seconds += seconds
        if broken is not None:
            proj.status = RunStatus.ERROR
            proj.message = (f"instance {late[active[broken[0]]]}: GD diverged (non-finite parameters) by step "
                            f"{broken[1]} with η = {[etas[active[broken[0]]]]}")
            return proj
        for i, Pi in zip(active, finals):
            Ps[i] = Pi
    for c, Pi in zip(cols, Ps):
        P[..., c] = Pi
    proj.final = P
    return proj


def gd_instances(subs: list, starts: list, etas: list, steps: int):
    """``steps`` noise-free GD steps on each of K independent problems of one shape at once (problem
    ``subs[k]`` from ``starts[k]`` at step ``etas[k]``), with the floating-point operations of
    ``train(subs[k], starts[k], GD(), etas[k], steps)`` on each: the same elementwise maps and, per
    problem, matrix products of the same shapes (numpy's matmul runs a stack slice by slice), so each
    result equals the separate run's bit for bit (``tests/numerics/test_label_noise_runs.py``); one
    Python step for all K instead of K. Returns (finals, seconds, None) or, when a problem's parameters
    become non-finite (checked every 256 steps and at the end, as ``train``), (…, (k, step))."""
    import time

    if not subs:
        return [], 0.0, None
    t0 = time.perf_counter()
    first = subs[0]
    Z = np.stack([sub.Z for sub in subs])                     # (K, n, d)
    y = np.stack([sub.y for sub in subs])[:, None, :]          # (K, 1, n)
    P = np.stack([np.array(s, dtype=float, copy=True).reshape(-1, *np.shape(s)[-2:]) for s in starts])
    eta = np.reshape(np.asarray(etas, dtype=float), (-1, 1, 1, 1))
    gradient = square_loss_gradient(*first.model_on(P), Z, y, first.n)   # bound to P, updated in place
    broken = None
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(1, steps + 1):
            P -= eta * gradient()
            if step % 256 == 0 or step == steps:
                finite = np.all(np.isfinite(P), axis=(1, 2, 3))
                if not np.all(finite):
                    broken = (int(np.flatnonzero(~finite)[0]), step)
                    break
    return list(P), time.perf_counter() - t0, broken


def drift_setting(seed: int, n: int = 2, d: int = 4, box: tuple[float, float] = (1.0, 2.0)):
    """(problem, θ₀): Gaussian features (n × d) on w = u²−v² and a start θ₀ ∈ Γ with entries drawn
    uniformly in ``box`` (:func:`numerics.sparse_regression.manifold_point`), seeded."""
    from numerics.sparse_regression import manifold_point
    from theory.parameterizations import quadratic_difference

    Z, y, theta0 = manifold_point(n, d, box[0], box[1], seed=seed)
    return DiagonalNetProblem(quadratic_difference(), Z, y), theta0
