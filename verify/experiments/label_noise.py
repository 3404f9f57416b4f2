"""The experiments of the label-noise claims (``blanc2020-label-noise-trace``,
``li2022-label-noise-drift``) and the sparse-regression instance the ``li2025-*`` claims share.

- The separating instance (``numerics.sparse_regression.separating_instance``): Gaussian features,
  w* 2-sparse and a planted decoy column, so that the argmins of the weighted-ℓ1 (tr H) and ℓ_½-type
  (tr Diag(H)^½) implied regularizers differ; :func:`rival_argmins` solves both exactly.
- :func:`trace_run`: label-noise GD on w = u²−v² to an interpolator (replicas), and
  :func:`gd_without_noise`, the noise-free control from the same init.
- :func:`drift_run`: label-noise GD at the derived step sizes (:func:`drift_step_sizes`) tracked
  against the integrated slow flow (``numerics.manifold_flow``) and against the flow with twice its
  constant.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from verify.experiments.settings import Profiled, Settings


@dataclass(frozen=True)
class SparseSettings(Settings):
    """The separating instance and the label-noise runs on it (n, d, α, δ as in the seed-0-era
    settings, not re-chosen on reported seeds)."""
    n: int = 8
    d: int = 16
    support: tuple = (1.0, -0.8)
    alpha: float = 0.5                 # init u₀ = v₀ = α·1
    delta: float = 2.0                 # label noise ±δ


SPARSE = SparseSettings()
#: fraction of the noisy phase over which θ is averaged before the projection onto Γ (chosen on seeds
#: 10000–10004, docs/claims/blanc2020-label-noise-trace.md)
AVERAGE_LAST = 0.25


@dataclass(frozen=True)
class TraceSettings(Settings):
    """``blanc2020-label-noise-trace``: label-noise GD on the separating instance."""
    eta: float = 0.05
    steps: int = Profiled(quick=24_000, full=40_000)
    replicas: int = Profiled(quick=3, full=8)
    tolerance: float = Profiled(quick=5e-2, full=2e-2)     # relative distance to the predicted argmin
    gd_steps: int = Profiled(quick=20_000, full=50_000)    # the noise-free GD control
    seed_offset: int = 1


TRACE = TraceSettings()


@dataclass(frozen=True)
class DriftSettings(Settings):
    """``li2022-label-noise-drift``: label-noise GD near Γ against the derived slow flow."""
    box: tuple = (0.5, 1.5)            # θ₀'s entries (li2025's drift claims start in [1, 2])
    delta: float = 1.0
    horizon: float = 1.0               # in rescaled time t = η²·steps
    points: int = 6                    # flow times compared, 0..horizon
    step_sizes: int = Profiled(quick=3, full=4)     # η₁, η₁/2, η₁/4, ...
    replicas: int = Profiled(quick=64, full=256)
    tolerance: float = Profiled(quick=0.05, full=0.03)      # tracking error at the smallest η / ‖θ₀‖
    seed_offset: int = 7


DRIFT = DriftSettings()
DRIFT_BOX = DRIFT.box


def sparse_problem(seed: int, settings: SparseSettings = SPARSE):
    """The shared sparse-regression instance: (problem, w*, w_decoy), the decoy planted so that the
    ℓ1-type and ℓ_½-type implied regularizers have different argmins."""
    from numerics.diagonal_nets import DiagonalNetProblem
    from numerics.sparse_regression import separating_instance
    from theory.parameterizations import quadratic_difference

    Z, y, w_star, w_decoy = separating_instance(settings.n, settings.d, settings.support, seed=seed)
    return DiagonalNetProblem(quadratic_difference(), Z, y), w_star, w_decoy


def rival_argmins(problem):
    """The exact argmins of the two rival implied regularizers on ``problem``: label-noise SGD's
    (tr H: weighted ℓ1, an LP) and Adam's (tr Diag(H)^½: ℓ_½-type, support enumeration)."""
    from numerics.interpolation import predicted_interpolator
    from theory.implied_regularizer import derive_implied_regularizer
    from theory.parameterizations import quadratic_difference
    from theory.sharpness import parse_measure

    regs = {name: derive_implied_regularizer(quadratic_difference(), parse_measure(name))
            for name in ("trace", "adam")}
    return regs, {name: predicted_interpolator(problem.Z, problem.y, reg) for name, reg in regs.items()}


def gd_without_noise(ctx, problem, settings: TraceSettings = TRACE):
    """The negative control: plain GD from the same init (no label noise), to convergence; computed
    once per task (``ctx.shared``), with the step budget of ``settings`` under ``ctx.profile``."""
    def compute():
        from numerics.diagonal_nets import GD, balanced_init, train
        from verify.numbers import nan_min

        lam = float(np.linalg.eigvalsh(problem.Z.T @ problem.Z / problem.n).max())
        eta = nan_min((0.05, 0.5 / (8 * SPARSE.alpha ** 2 * lam)))
        run = train(problem, balanced_init(problem, SPARSE.alpha), GD(), eta,
                    ctx.settings(settings).gd_steps)
        return problem.w(run.final)[0], run.status, run.message

    return ctx.shared(("diag-gd-no-noise-separating",), compute)


def trace_run(problem, settings: TraceSettings, seed: int):
    """Label-noise GD (fresh ±δ noise per sample and step) from u₀ = v₀ = α·1 to an interpolator:
    ``settings.replicas`` replicas, θ averaged over the last :data:`AVERAGE_LAST` of the run and
    projected onto Γ (``numerics.label_noise_runs.run_to_interpolator``). ``settings`` resolved."""
    from numerics.diagonal_nets import GD
    from numerics.label_noise_runs import run_to_interpolator

    return run_to_interpolator(problem, GD(), SPARSE.alpha, settings.eta, settings.steps, SPARSE.delta,
                               0.0, replicas=settings.replicas, seed=seed + settings.seed_offset,
                               average_last=AVERAGE_LAST)


def drift_step_sizes(problem, theta0, count: int) -> list[float]:
    """η₁, η₁/2, η₁/4, ...: η₁ = min(0.1, 1/λ_max(H(θ₀))), half of GD's linear-stability bound
    2/λ_max at the start on Γ (H the Gauss–Newton Hessian JᵀJ/n), leaving room for the label-noise
    fluctuation; 0.1 caps the well-conditioned draws at the previous largest step."""
    from verify.numbers import nan_min

    J = problem.jacobian(theta0)
    lam = float(np.linalg.eigvalsh(J.T @ J / problem.n).max())
    eta1 = nan_min((0.1, 1.0 / lam))
    return [eta1 / 2**i for i in range(count)]


def drift_run(settings: DriftSettings, seed: int, kappa: float, progress=lambda done, total, info="": None):
    """The drift experiment (``settings`` resolved): the instance and θ₀ on Γ
    (``numerics.label_noise_runs.drift_setting``), the slow flow with the derived constant ``kappa``
    and with 2·kappa, and label-noise GD tracked against both at each derived step size. Returns a
    dict with ``problem``, ``theta0``, ``times``, ``flows``, ``etas`` and the tracking ``results``
    (one per η; stops at the first whose status is not ``ok``)."""
    from numerics.diagonal_nets import GD
    from numerics.label_noise_runs import drift_setting
    from numerics.manifold_flow import Preconditioner, integrate_flow, track

    problem, theta0 = drift_setting(seed, box=settings.box)
    times = np.linspace(0, settings.horizon, settings.points)
    flows = {"derived": integrate_flow(problem, theta0, Preconditioner("sgd"), settings.delta, times),
             "double_constant": integrate_flow(problem, theta0, Preconditioner("sgd"), settings.delta,
                                               times, kappa=2 * kappa)}
    etas = drift_step_sizes(problem, theta0, settings.step_sizes)
    results = []
    for i, eta in enumerate(etas):
        progress(i, len(etas), f"η = {eta:g}")
        tr = track(problem, theta0, GD(), eta, settings.horizon, settings.delta, flows,
                   replicas=settings.replicas, seed=seed + settings.seed_offset)
        results.append(tr)
        if tr.status != "ok":
            break
    return {"problem": problem, "theta0": theta0, "times": times, "flows": flows, "etas": etas,
            "results": results}
