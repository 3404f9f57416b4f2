"""The experiment of ``woodworth2020-kernel-rich`` (Woodworth et al. 2020): GD on w = u²−v² from
u₀ = v₀ = α·1 for several α in one vectorized batch (a fitting phase at a small step, then a second
phase in chunks until every α has converged; both steps capped by the stability bound
0.5/(8α²λ_max(ZᵀZ/n))), and the interpolators it is compared with: argmin Q_α (dual Newton with a
duality gap), the weighted-ℓ1 and the min-norm ℓ2 interpolators."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from verify.experiments.settings import Profiled, Settings


@dataclass(frozen=True)
class Woodworth2020Settings(Settings):
    n: int = Profiled(quick=10, full=20)
    d: int = Profiled(quick=30, full=60)
    support: tuple = (1.0, -0.8, 0.6)                       # w*'s nonzero entries
    alphas: tuple = Profiled(quick=(0.01, 0.1, 0.3, 1.0, 3.0), full=(0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0))
    intermediate: tuple = (0.1, 0.3)                        # the α where the control is read
    eta1: float = Profiled(quick=1e-3, full=5e-4)           # phase 1 (fitting): step and steps
    steps1: int = Profiled(quick=20_000, full=40_000)
    eta2: float = 5e-2                                      # phase 2: step and steps per chunk
    steps2: int = Profiled(quick=8_000, full=60_000)
    chunks: int = 4                                         # at most 4 × the phase-2 steps
    converged: float = 1e-7                                 # phase 2 stops at this relative residual
    tolerance: float = 1e-3                                 # relative distance to argmin Q_α


SETTINGS = Woodworth2020Settings()


def run(settings: Woodworth2020Settings, seed: int) -> dict:
    """The experiment under resolved ``settings``. Returns a dict: ``status``/``message`` of the
    training, and when ``ok`` the per-α ``rows`` (relative distances of GD's solution to argmin Q_α,
    ℓ1, ℓ2; argmin Q_α to w*), GD's relative ``residual``, the worst Q_α ``certificate``, the ℓ1
    LP's ``l1_gap``, the ``step_sizes`` and ``train_seconds``."""
    from numerics.diagonal_nets import GD, DiagonalNetProblem, balanced_init, train
    from numerics.interpolation import (min_l2_interpolator, q_alpha_interpolator, relative_distance,
                                        weighted_l1_interpolator)
    from numerics.sparse_regression import sparse_instance
    from theory.parameterizations import quadratic_difference
    from verify.numbers import nan_max

    s = settings
    n, d = s.n, s.d
    alphas = np.array(list(s.alphas))
    eta1, steps1, eta2, steps2 = s.eta1, s.steps1, s.eta2, s.steps2
    Z, y, w_star = sparse_instance(n, d, s.support, "gaussian", seed=seed)
    problem = DiagonalNetProblem(quadratic_difference(), Z, y)
    lam = float(np.linalg.eigvalsh(Z.T @ Z / n).max())
    stable = 0.5 / (8 * alphas**2 * lam)
    trained = train(problem, balanced_init(problem, alphas), GD(), np.minimum(eta1, stable), steps1)
    seconds, phase2 = trained.seconds, 0

    def rel_residual(P):
        return float(np.max(np.linalg.norm(problem.residual(P), axis=1)) / np.linalg.norm(y))

    # Phase 2 runs in chunks of steps2 until every α has converged (relative residual ≤ 1e-7, 100×
    # below the precondition's tolerance) or `chunks` chunks have run: the slowest α sets the length.
    while trained.status == "ok" and phase2 < s.chunks and (phase2 == 0 or rel_residual(trained.final) > s.converged):
        trained = train(problem, trained.final, GD(), np.minimum(eta2, stable), steps2)
        seconds += trained.seconds
        phase2 += 1
    if trained.status != "ok":
        return {"status": trained.status, "message": trained.message}
    W = problem.w(trained.final)
    residual = rel_residual(trained.final)
    l1 = weighted_l1_interpolator(Z, y)
    l2 = min_l2_interpolator(Z, y)
    rows, gaps = [], []
    for a, w in zip(alphas, W):
        q = q_alpha_interpolator(Z, y, float(a))
        # two-sided: a negative duality gap is a broken certificate, not a better one
        gaps += [abs(q.certificate["duality_gap"]), q.certificate["relative_residual"]]
        rows.append({"alpha": float(a), "to_Q_alpha": relative_distance(w, q.w),
                     "to_l1": relative_distance(w, l1.w), "to_l2": relative_distance(w, l2.w),
                     "Q_alpha_to_w_star": relative_distance(q.w, w_star),
                     "Q_alpha_signed_duality_gap": q.certificate["duality_gap"]})
    return {"status": "ok", "message": "", "alphas": alphas, "rows": rows, "residual": residual,
            "certificate": nan_max(gaps), "l1_gap": l1.certificate["relative_gap"],
            "step_sizes": {"phase1": np.minimum(eta1, stable).tolist(), "phase1_steps": steps1,
                           "phase2": np.minimum(eta2, stable).tolist(), "phase2_steps": steps2 * phase2},
            "train_seconds": seconds}
