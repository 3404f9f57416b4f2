"""The experiments of the ``li2025-*`` claims (Li, Wen, Lyu 2025: Adam reduces a unique form of
sharpness, tr(Diag(H)^{1/2})), on the diagonal network w = u⊙u − v⊙v:

- Adam without bias correction (:func:`adam`: x −= η m/(v^e + ε), 1 − β₂ = η^s, optionally with the
  second moment averaged over blocks) and the derived β₂–η exponent s (:func:`beta2_exponent`).
- The label-noise Adam run to an interpolator on the shared separating instance
  (``verify.experiments.label_noise.sparse_problem``): :data:`SHARPNESS`, :func:`sharpness_run`.
- The sparse-regression comparison: label-noise Adam, label-noise SGD and noise-free GD on S
  instances drawn per seed, trained in block-diagonal stacks of ≤ :data:`CHUNK` (``numerics.instance_stack``):
  :data:`SPARSER`, :func:`sparse_experiment`.
- The slow-drift experiments: a start θ₀ on Γ (:func:`drift_setting`), the integrated flows of the
  derived measures (``numerics.manifold_flow``) and label-noise runs tracked against them, with the
  second moment warm-started at θ₀ (:func:`warm`): :data:`DRIFT`, :func:`flows`, :func:`warm_tracking`,
  :func:`regular_horizon`, :func:`adaptive_methods`, the designed
  block instance of the adaptive family (:func:`block_instance`) and its designed Shampoo instance
  (:func:`shampoo_instance`).

The β₂–η scaling and the measurements behind these settings are in ``docs/claims/li2025-*.md``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from verify.experiments.settings import Profiled, Settings

EPS = 1e-8


def adam(eta: float, e: float = 0.5, beta1: float = 0.9, block: int = 1, beta2_exponent: float = 1.0):
    """Adam without bias correction, 1 − β₂ = η^``beta2_exponent``, preconditioner exponent ``e``,
    second moment averaged over blocks of ``block`` coordinates (0: each whole parameter vector)."""
    from numerics.diagonal_nets import AdamFamily

    return AdamFamily(beta1=beta1, beta2=1.0 - eta**beta2_exponent, eps=EPS, exponent=e, block=block)


def beta2_exponent() -> float:
    """s in 1 − β₂ = η^s, derived (``theory.slow_drift.second_moment_time_scales``)."""
    from theory.slow_drift import second_moment_time_scales

    return float(second_moment_time_scales().results["beta2_exponent"])


# -- label-noise Adam to an interpolator ------------------------------------------------------------
@dataclass(frozen=True)
class SharpnessSettings(Settings):
    """``li2025-adam-sharpness``: the label-noise Adam run on the separating instance (quick η and
    steps chosen on seeds 10000–10004, docs/claims/li2025-adam-sharpness.md)."""
    eta: float = Profiled(quick=0.014, full=0.01)
    steps: int = Profiled(quick=40_000, full=80_000)
    replicas: int = Profiled(quick=3, full=8)
    tolerance: float = Profiled(quick=5e-2, full=2e-2)    # relative distance to the predicted argmin
    projection_steps: int = 8000
    seed_offset: int = 2


SHARPNESS = SharpnessSettings()


def sharpness_run(problem, settings: SharpnessSettings, seed: int):
    """Label-noise Adam (1 − β₂ = η) from u₀ = v₀ = α·1 on ``problem``, θ averaged over the last
    quarter and projected onto Γ (``numerics.label_noise_runs.run_to_interpolator``)."""
    from numerics.label_noise_runs import run_to_interpolator
    from verify.experiments.label_noise import AVERAGE_LAST, SPARSE

    return run_to_interpolator(problem, adam(settings.eta), SPARSE.alpha, settings.eta, settings.steps,
                               SPARSE.delta, 0.5, replicas=settings.replicas,
                               seed=seed + settings.seed_offset,
                               projection_steps=settings.projection_steps, average_last=AVERAGE_LAST)


# -- sparse regression: Adam vs SGD over instances ------------------------------------------------
#: Measured on the quick runs of seeds 10000–10005 (63 instances per seed, 378 in all;
#: docs/claims/li2025-adam-sparser-than-sgd.md, 2026-12-07): Adam and SGD ended at the same
#: interpolator (within ``SparserSettings.same_interpolator``) on 89 instances (ties); of the others
#: Adam's test error is lower on 219 of 289 and its effective support smaller on 191 of 289.
TIE_FRACTION = 0.235
TEST_ERROR_EFFECT = 0.758
SPARSITY_EFFECT = 0.661
#: The verdict over seeds is "verified on every seed" (verify.aggregate), so the per-seed power is
#: sized for all the quick profile's default seeds together: P(every one clears ½) ≥ ALL_SEEDS_POWER.
QUICK_SEEDS = 3
ALL_SEEDS_POWER = 0.8
#: = verify.paired_tests.instances_for_power(min effect, ALL_SEEDS_POWER ** (1 / QUICK_SEEDS),
#: tie_fraction=TIE_FRACTION); the sparsity half (the weaker effect) sets it (a test checks the value).
QUICK_INSTANCES = 156
#: instances stacked into one problem (``sparse_experiment``): a stack's step costs O(S²)
CHUNK = 40


@dataclass(frozen=True)
class SparserSettings(Settings):
    """``li2025-adam-sparser-than-sgd`` and the reading ``li2025-adam-global-l-half-argmin``.
    Quick: Gaussian features, n = 5 below the ℓ1 recovery threshold for a 2-sparse w* in d = 16 (the
    global ℓ_½ argmin is enumerable); full: d = 1000, k = 3 (the authors' code defaults), n = 20 (our
    choice, below the ℓ1 threshold ≈ 2k·ln(d/k) ≈ 35), trained only (no enumeration)."""
    n: int = Profiled(quick=5, full=20)
    d: int = Profiled(quick=16, full=1000)
    features: str = "gaussian"
    support: tuple = Profiled(quick=(1.0, -0.8), full=(1.0, -0.8, 0.6))
    instances: int = Profiled(quick=QUICK_INSTANCES, full=64)
    replicas: int = 1             # one run per instance: fresh instances carry more of the comparison
    eta_adam: float = Profiled(quick=0.02, full=0.01)
    steps_adam: int = Profiled(quick=10_000, full=40_000)
    eta_sgd: float = 0.05
    steps_sgd: int = Profiled(quick=12_000, full=40_000)
    steps_gd: int = Profiled(quick=20_000, full=50_000)
    projection_steps: int = Profiled(quick=8000, full=20_000)
    exact: bool = Profiled(quick=True, full=False)
    #: two endpoints within this relative distance are the same interpolator (a tie in the paired
    #: comparison): the interpolator tolerance of ``li2025-adam-sharpness`` (and of the reading).
    same_interpolator: float = SHARPNESS.tolerance


SPARSER = SparserSettings()


def instance_seeds(seed: int, S: int) -> list:
    """S instance seeds drawn afresh for each run seed (independent streams, no overlap between the
    instances of run seeds k and k + 1)."""
    return [np.random.SeedSequence((seed, s)) for s in range(S)]


def stacked_run(problem, optimizer, eta, steps, S, exponent, replicas, seed, projection_steps):
    """Label-noise runs on S stacked instances (exactly S separate runs: numerics.instance_stack);
    returns (run, W of shape (replicas, S, d) or None). The projection onto Γ stops on EVERY
    instance's own residual ‖Z_s w_s − y_s‖/‖y_s‖ ≤ 1e-3 (the unstacked runs' target); an instance
    the stack's shared step leaves above it is projected alone at the step of its own curvature
    (``numerics.label_noise_runs.run_to_interpolator`` with ``instances=S``)."""
    from numerics.instance_stack import blocks, stacked_optimizer
    from numerics.label_noise_runs import run_to_interpolator
    from verify.experiments.label_noise import AVERAGE_LAST, SPARSE

    opt, eta_stack = stacked_optimizer(optimizer, eta, S)
    res = run_to_interpolator(problem, opt, SPARSE.alpha, eta_stack, steps, SPARSE.delta,
                              exponent, replicas=replicas, seed=seed,
                              projection_steps=projection_steps, projection_eta=0.02 * S,
                              average_last=AVERAGE_LAST, projection_chunks=8,
                              projection_residual=1e-3, instances=S)
    return res, (blocks(res.W, S) if res.status == "ok" else None)


def sparse_experiment(settings: SparserSettings, seed: int,
                      progress=lambda done, total, info="": None) -> dict:
    """Label-noise Adam, label-noise SGD and noise-free GD on the same ``settings.instances``
    instances (``settings`` resolved). Returns the instances, the derived regularizers, their exact
    argmins (when ``settings.exact``), the runs (name → W of shape (replicas, S, d)) and GD's η; or
    ``{"error": message}``."""
    from numerics.diagonal_nets import GD, balanced_init, train
    from numerics.instance_stack import blocks, stack_instances
    from numerics.interpolation import predicted_interpolator
    from numerics.sparse_regression import sparse_instance
    from theory.implied_regularizer import derive_implied_regularizer
    from theory.parameterizations import quadratic_difference
    from theory.sharpness import parse_measure
    from verify.experiments.label_noise import SPARSE
    from verify.numbers import nan_min

    S = settings.instances
    instances = [sparse_instance(settings.n, settings.d, settings.support, settings.features, seed=sd)
                 for sd in instance_seeds(seed, S)]
    regs = {name: derive_implied_regularizer(quadratic_difference(), parse_measure(name))
            for name in ("trace", "adam")}
    pred = ({name: [predicted_interpolator(Z, y, reg) for Z, y, _ in instances]
             for name, reg in regs.items()} if settings.exact else None)
    # the instances are trained in chunks of at most CHUNK stacked instances: a stack's step costs
    # O(S²) (its feature matrix is block-diagonal but dense), chunks make the experiment linear in S
    chunks = [list(range(a, min(a + CHUNK, S))) for a in range(0, S, CHUNK)]
    stacks = [stack_instances(quadratic_difference(), [instances[s][:2] for s in c]) for c in chunks]
    lam = float(np.max([np.linalg.eigvalsh(Z.T @ Z / settings.n).max() for Z, _, _ in instances]))
    eta_gd = nan_min((0.05, 0.5 / (8 * SPARSE.alpha ** 2 * lam)))
    parts = {"adam": [], "trace": [], "gd": []}
    for j, (c, stack) in enumerate(zip(chunks, stacks)):
        for i, (name, opt, eta, steps, e) in enumerate([
                ("adam", adam(settings.eta_adam), settings.eta_adam, settings.steps_adam, 0.5),
                ("trace", GD(), settings.eta_sgd, settings.steps_sgd, 0.0)]):
            progress(3 * j + i, 3 * len(chunks), name)
            noise_seed = int(np.random.SeedSequence((seed + 3 + i, j)).generate_state(1)[0])
            res, W = stacked_run(stack, opt, eta, steps, len(c), e, settings.replicas, noise_seed,
                                 settings.projection_steps)
            if res.status != "ok":
                return {"error": f"label-noise {'Adam' if name == 'adam' else 'SGD'}: {res.message}"}
            parts[name].append(W)                                     # (replicas, |c|, d)
        progress(3 * j + 2, 3 * len(chunks), "GD without label noise")
        gd = train(stack, balanced_init(stack, SPARSE.alpha), GD(), len(c) * eta_gd, settings.steps_gd)
        if gd.status != "ok":
            return {"error": f"GD without label noise: {gd.message}"}
        parts["gd"].append(blocks(stack.w(gd.final), len(c)))
    runs = {name: np.concatenate(Ws, axis=-2) for name, Ws in parts.items()}   # (replicas, S, d)
    return {"seeds": [f"{seed}/{s}" for s in range(S)], "instances": instances, "regs": regs,
            "pred": pred, "runs": runs, "eta_gd": eta_gd, "replicas": settings.replicas}


# -- slow drift along Γ -------------------------------------------------------------------------------
@dataclass(frozen=True)
class DriftSettings(Settings):
    """The drift-tracking claims (``li2025-adam-drift``, ``li2025-exponent-family``,
    ``li2025-adaptive-family``): horizon in rescaled time t = η²·steps, label noise ±δ, flow times
    compared (``points`` from 0 to the horizon)."""
    horizon: float = 0.3
    delta: float = 1.0
    points: int = 6


DRIFT = DriftSettings()
HORIZON, DELTA, POINTS = DRIFT.horizon, DRIFT.delta, DRIFT.points


def drift_setting(seed: int, n: int = 2, d: int = 4):
    """The start on Γ (``numerics.label_noise_runs.drift_setting``, θ₀ ∈ [1, 2]) for this seed."""
    from numerics.label_noise_runs import drift_setting as setting

    return setting(seed, n, d)


def flows(problem, theta0, preconds: dict, horizon: float = HORIZON) -> dict:
    """name → the integrated flow of each preconditioner (array (POINTS, m, d) at the times
    ``linspace(0, horizon, POINTS)``)."""
    from numerics.manifold_flow import integrate_flow

    times = np.linspace(0, horizon, POINTS)
    return {name: integrate_flow(problem, theta0, pre, DELTA, times) for name, pre in preconds.items()}


def flow_separation(flow_a, flow_b, theta0) -> float:
    """max_t ‖θ_a(t) − θ_b(t)‖ / ‖θ₀‖ between two integrated flows (arrays (points, m, d))."""
    diff = (np.asarray(flow_a) - np.asarray(flow_b)).reshape(len(flow_a), -1)
    return float(np.max(np.linalg.norm(diff, axis=1)) / np.linalg.norm(theta0))


def displacement(flow, theta0) -> float:
    """‖θ(horizon) − θ₀‖ / ‖θ₀‖ of an integrated flow."""
    return float(np.linalg.norm(flow[-1] - theta0) / np.linalg.norm(theta0))


def warm(opt, problem, theta0, replicas: int, seed: int):
    """``opt`` with its second moment warm-started at θ₀ (one estimate per replica)."""
    from numerics.manifold_flow import warm_start

    return warm_start(opt, problem, theta0, DELTA, replicas, seed=seed)


def warm_tracking(problem, theta0, flow_dict, eta, beta2_exp, replicas, seed: int):
    """Label-noise Adam (1 − β₂ = η^s) from θ₀ with v warm-started at θ₀, tracked against
    ``flow_dict`` (the warm-up seeded seed + 12, the run seed + 11)."""
    from numerics.manifold_flow import track

    opt = warm(adam(eta, beta2_exponent=beta2_exp), problem, theta0, replicas, seed + 12)
    return track(problem, theta0, opt, eta, HORIZON, DELTA, flow_dict, replicas=replicas,
                 seed=seed + 11)


@dataclass(frozen=True)
class AdamDriftSettings(Settings):
    """``li2025-adam-drift``: the step sizes, replicas and tracking tolerance (at the smallest η,
    relative to the flow's displacement)."""
    etas: tuple = Profiled(quick=(0.01, 0.005, 0.0025), full=(0.01, 0.005, 0.0025, 0.00125))
    replicas: int = Profiled(quick=128, full=256)
    tolerance: float = Profiled(quick=0.15, full=0.1)


ADAM_DRIFT = AdamDriftSettings()

FAMILY = ("0", "0.25", "0.5", "0.75")   # preconditioner exponents e, derived and checked by training
# Quasi-static window: the drift on a coordinate scales like |θ_k|^{1−4e}, so for e > ¼ a shrinking
# coordinate collapses in finite time (e = ¾: |θ_k|³ falls linearly), where the preconditioner
# P_kk = (σ²H_kk)^{−e} ∝ |θ_k|^{−2e} blows up and a finite-η run cannot follow the flow. Each exponent
# is tracked up to the last time (≤ HORIZON) at which its own flow keeps every P_kk(t)/P_kk(0)
# ≤ P_GROWTH (for e = 0, P = I: the whole horizon).
P_GROWTH = 1.4


@dataclass(frozen=True)
class TrackingSettings(Settings):
    """A drift-tracking claim at one step size: η, replicas, and the tracking tolerance (relative to
    the flow's displacement)."""
    eta: float
    replicas: int
    tolerance: float


EXPONENT_FAMILY = TrackingSettings(eta=Profiled(quick=0.005, full=0.0025),
                                   replicas=Profiled(quick=128, full=256),
                                   tolerance=Profiled(quick=0.25, full=0.15))


def regular_horizon(problem, theta0, precond, e: float, grid: int = 31) -> float:
    """The last grid time ≤ HORIZON at which the flow of ``precond`` keeps every P_kk(t)/P_kk(0)
    ≤ :data:`P_GROWTH` (P_kk ∝ |θ_k|^{−2e})."""
    from numerics.manifold_flow import integrate_flow

    times = np.linspace(0.0, HORIZON, grid)
    flow = integrate_flow(problem, theta0, precond, DELTA, times)
    growth = np.max((np.abs(flow) / np.abs(theta0)).reshape(grid, -1) ** (-2 * e), axis=1)
    ok = growth <= P_GROWTH
    if ok.all():
        return HORIZON
    return float(times[max(int(np.argmin(ok)) - 1, 1)])          # the last grid time still inside


def exponent_preconditioners(es) -> dict:
    """e → P = (σ²Diag H)^{−e} (e = 0: SGD's identity)."""
    from numerics.manifold_flow import Preconditioner

    return {e: Preconditioner("sgd") if e == 0 else Preconditioner("adam", e) for e in es}


#: The designed block instance of ``li2025-adaptive-family`` (n = 2, d = 4; 2026-12-07). The feature
#: second moments c_j = mean_i Z_ij² are set to BLOCK_SCALE·(1, 1/r, 1/r, 1/r²), r = BLOCK_SPREAD, so
#: that each of Adam-mini's blocks of 2 has one coordinate dominating its second moment (the extreme of
#: ``theory.adaptive_measures.nested_block_drift_cap``: the RMSProp–Adam-mini factor |ρ − 1| =
#: (x₁ − x₂)/(x₁ + x₂) with x_j = c_j u_j², ≥ (r/4 − 1)/(r/4 + 1) = 0.76 for u ∈ [1, 2]) and the two
#: blocks' means differ by the same factor r (Adam-mini against Adalayer, the same bound). RMSProp's
#: drift (∝ 1/u_j) and the block methods' do not depend on the overall scale of c, SGD's grows with it:
#: BLOCK_SCALE puts SGD's flow ≥ 1 displacement away from each adaptive flow. r and the scale were
#: chosen on seeds 10000–10039 (flows only, docs/claims/li2025-adaptive-family.md).
BLOCK_SPREAD = 30.0
BLOCK_SCALE = 10.8
BLOCK_SIZE = (2, 4)


#: The designed Shampoo instance of ``li2025-adaptive-family`` (n = d = 3; 2026-12-07, later). On
#: n = d the interpolation manifold fixes w (Z is invertible) and every flow moves along the fibres
#: u_j² − v_j² = w_j; in the fibre coordinates s (du_j/ds_j = v_j, dv_j/ds_j = u_j) a method with
#: preconditioner P moves as ds/dt = κσ²·(TᵀP⁻¹T)⁻¹Tᵀ∇tr(SH)|_{S=P} (T the fibre tangents). Derived
#: (``tests/verify/test_li2025_shampoo.py`` checks each on integrated flows):
#: - RMSProp: d(u_j²)/dt = d(v_j²)/dt = 4κ for every j, whatever Z: its flow does not see C = ZᵀZ/n;
#: - Shampoo: P = blockdiag((σ²D C D)^(−1/2)), D = diag(∂f/∂θ) per parameter vector; its flow depends
#:   on C only through Q = (D C D)^½, so it is invariant under C → λC, and for a DIAGONAL C
#:   (orthogonal columns) Q = |D|·diag(√c) and it is RMSProp's flow exactly;
#: - SGD's speed grows with the scale of C, Adalayer's (a scalar per layer) does not.
#: So Shampoo separates from RMSProp only through the feature correlations, which a Gaussian 3 × 3
#: draw leaves random (near-orthogonal draws: flows 0.11–0.80 displacements apart on the reported
#: seeds before this design). The designed instance keeps the draw of θ₀ (and Z's column space) and
#: sets C to the equicorrelation matrix (1 − ρ)I + ρ11ᵀ (unit second moments, ρ =
#: SHAMPOO_CORRELATION): Z = √n·Q·C^½, Q the orthonormal factor of the drawn Gaussian Z. Shampoo's
#: separation from its nearest rival grows with ρ (min over seeds 10000–10299: 0.73 / 0.79 / 0.85 /
#: 0.94 / 1.04 at ρ = 0.90 / 0.92 / 0.94 / 0.96 / 0.98) and so does its tracking error (the run's
#: noise along the weak eigendirection of C; largest error / standard error at 256 replicas, seeds
#: 10000–10002: 0.108 / 0.039, 0.157 / 0.050, 0.228 / 0.061 at ρ = 0.92 / 0.96 / 0.98); ρ = 0.92 has
#: the largest margin min separation / (3 × derived tolerance) (0.79 / 0.6) of those measured, and no
#: stiff flow on the 300 draws (one at ρ = 0.96). Chosen on seeds ≥ 10000 only.
SHAMPOO_CORRELATION = 0.92
SHAMPOO_SIZE = (3, 3)


#: Measured on the designed instances (2026-12-07): method → (η, the largest own-flow tracking error /
#: displacement, the largest Monte-Carlo standard error / displacement). Block methods: the block
#: instance, seeds 10000–10003, 64 replicas; Adalayer at η = 0.005 / 0.0025: errors up to 0.208 /
#: 0.158 (3 × 1.5 × those exceed its nearest separation, ≥ 0.569 on 10000–10039), hence 0.00125.
#: Shampoo: the Shampoo instance, seeds 10000–10005, 256 replicas (at 64 the standard error was
#: 0.070–0.080, which would set the tolerance at 5 × that = 0.4 > the separations).
ADAPTIVE_ERRORS = {"RMSProp": (0.005, 0.041, 0.020), "Adalayer": (0.00125, 0.121, 0.004),
                   "Adam-mini": (0.005, 0.114, 0.014), "Shampoo": (0.005, 0.118, 0.039)}
#: The derived tolerance: ERROR_MARGIN × the largest measured error, at least SE_MARGIN × the largest
#: standard error (the standard-error precondition is tol/4), rounded to two decimals.
ERROR_MARGIN, SE_MARGIN = 1.5, 5.0


def derived_tolerance(error: float, standard_error: float) -> float:
    """The quick tracking tolerance of a method from its measured error and standard error."""
    return round(max(ERROR_MARGIN * error, SE_MARGIN * standard_error), 2)


@dataclass(frozen=True)
class AdaptiveSettings(Settings):
    """``li2025-adaptive-family``: per method (name → value tuples) the step size, the replicas and
    the tracking tolerance (relative to the own flow's displacement). The tolerance is derived from
    the method's discretization error: 1.5 × the largest own-flow tracking error measured on seeds
    ≥ 10000 at that η (:data:`ADAPTIVE_ERRORS`; floored at 5 × the largest Monte-Carlo standard error
    there, so that the standard-error precondition tol/4 has a margin); η is the largest of 0.005,
    0.0025, 0.00125 at which 3 × that tolerance is below the nearest rival flow's separation on seeds
    10000–10039 (Shampoo: 10000–10299). The error shrinks like η^½
    (``theory.slow_drift.second_moment_time_scales``): full halves η and divides the tolerance by √2.
    Shampoo runs 256 replicas: its flow's displacement on the Shampoo instance is small (0.02–0.05 of
    ‖θ₀‖), so at 64 its standard error alone (0.07–0.08 of it) would set a tolerance of 0.4."""
    replicas: tuple = Profiled(quick=(("RMSProp", 64), ("Adalayer", 64), ("Adam-mini", 64),
                                      ("Shampoo", 256)),
                               full=(("RMSProp", 128), ("Adalayer", 128), ("Adam-mini", 128),
                                     ("Shampoo", 512)))
    etas: tuple = Profiled(quick=(("RMSProp", 0.005), ("Adalayer", 0.00125), ("Adam-mini", 0.005),
                                  ("Shampoo", 0.005)),
                           full=(("RMSProp", 0.0025), ("Adalayer", 0.000625), ("Adam-mini", 0.0025),
                                 ("Shampoo", 0.0025)))
    tolerances: tuple = Profiled(quick=(("RMSProp", 0.1), ("Adalayer", 0.18), ("Adam-mini", 0.17),
                                        ("Shampoo", 0.2)),
                                 full=(("RMSProp", 0.07), ("Adalayer", 0.13), ("Adam-mini", 0.12),
                                       ("Shampoo", 0.14)))


ADAPTIVE = AdaptiveSettings()


def adaptive_methods(eta: float, s: float) -> dict:
    """name → (optimizer, its quasi-static preconditioner, instance size (n, d)) for RMSProp,
    Adalayer (whole-vector blocks), Adam-mini (blocks of 2) and Shampoo, each with 1 − β₂ = η^s.
    Shampoo needs H_BB invertible on each parameter vector (n ≥ d): its flow moves along fibres."""
    from numerics.diagonal_nets import Shampoo
    from numerics.manifold_flow import Preconditioner

    return {
        "RMSProp": (adam(eta, beta1=0.0, beta2_exponent=s), Preconditioner("adam", 0.5), (2, 4)),
        "Adalayer": (adam(eta, block=0, beta2_exponent=s), Preconditioner("block", 0.5, block=0),
                     (2, 4)),
        "Adam-mini": (adam(eta, block=2, beta2_exponent=s), Preconditioner("block", 0.5, block=2),
                      (2, 4)),
        "Shampoo": (Shampoo(0.9, 1.0 - eta**s, EPS), Preconditioner("shampoo"), SHAMPOO_SIZE),
    }


def adaptive_rivals(methods: dict, size: tuple) -> dict:
    """The flows compared on an instance of ``size`` = (n, d): SGD's tr(H) flow and the derived flow
    of every method of ``methods`` (name → (optimizer, preconditioner, size)) defined there (Shampoo
    needs n ≥ d, Adam-mini's blocks of 2 need an even d)."""
    from numerics.manifold_flow import Preconditioner

    n, d = size
    out = {"SGD": Preconditioner("sgd")}
    for name, (_, pre, _) in methods.items():
        if pre.kind == "shampoo" and n < d or pre.kind == "block" and pre.block > 1 and d % pre.block:
            continue
        out[name] = pre
    return out


def separation_caps(preconds: dict, own: str, d: int) -> dict:
    """rival → the derived first-order cap on how far the rival's flow can be from ``own``'s, in
    displacements of ``own``'s flow (``theory.adaptive_measures.nested_block_drift_cap``), or None
    where no cap follows (not nested block methods, or ``own`` is the coarser one)."""
    from theory.adaptive_measures import nested_block_drift_cap

    def size(pre):
        if pre.kind == "adam":
            return 1
        if pre.kind == "block":
            return d if pre.block == 0 else pre.block
        return None

    a = size(preconds[own])
    out = {}
    for rival, pre in preconds.items():
        if rival == own:
            continue
        b = size(pre)
        out[rival] = None if a is None or b is None else nested_block_drift_cap(a, b)
    return out


def block_instance(seed: int, n: int = 2, d: int = 4, spread: float = BLOCK_SPREAD,
                   scale: float = BLOCK_SCALE):
    """(problem, θ₀): the start on Γ of :func:`drift_setting` (θ₀ ∈ [1, 2], same draw) with the feature
    columns rescaled so that c_j = mean_i Z_ij² = scale · spread^(−b₀(j) − b₁(j)), b₀/b₁ the low/high
    bit of j (for d = 4: scale·(1, 1/r, 1/r, 1/r²)); labels recomputed so that θ₀ ∈ Γ."""
    from numerics.diagonal_nets import DiagonalNetProblem

    problem, theta0 = drift_setting(seed, n, d)
    j = np.arange(d)
    c = scale * float(spread) ** -((j & 1) + ((j >> 1) & 1)).astype(float)
    Z = problem.Z / np.sqrt(np.mean(problem.Z**2, axis=0)) * np.sqrt(c)
    w0 = problem.w(theta0)
    return DiagonalNetProblem(problem.param, Z, Z @ w0), theta0


def equicorrelation(d: int, correlation: float) -> np.ndarray:
    """(1 − ρ)I + ρ11ᵀ: unit second moments, every pair of columns correlated ρ."""
    return (1.0 - correlation) * np.eye(d) + correlation * np.ones((d, d))


def shampoo_instance(seed: int, n: int = 3, d: int = 3, correlation: float = SHAMPOO_CORRELATION):
    """(problem, θ₀): the start on Γ of :func:`drift_setting` (θ₀ ∈ [1, 2], same draw) with the
    features replaced by Z = √n·Q·C^½, Q the orthonormal factor of the drawn Gaussian Z (n ≥ d) and C
    the equicorrelation matrix of ``correlation`` (so ZᵀZ/n = C exactly); labels recomputed so that
    θ₀ ∈ Γ. See :data:`SHAMPOO_CORRELATION` for why."""
    from numerics.diagonal_nets import DiagonalNetProblem

    if n < d:
        raise ValueError(f"the Shampoo instance needs n ≥ d, got n = {n}, d = {d}")
    problem, theta0 = drift_setting(seed, n, d)
    Q, _ = np.linalg.qr(problem.Z)                                        # (n, d), QᵀQ = I
    lam, V = np.linalg.eigh(equicorrelation(d, correlation))
    Z = np.sqrt(n) * Q @ (V * np.sqrt(lam)) @ V.T
    return DiagonalNetProblem(problem.param, Z, Z @ problem.w(theta0)), theta0


def adaptive_instance(seed: int, n: int, d: int):
    """(problem, θ₀) of ``li2025-adaptive-family`` for an instance of size (n, d): the designed block
    instance (:func:`block_instance`) for the block methods' size :data:`BLOCK_SIZE`, the designed
    Shampoo instance (:func:`shampoo_instance`) for :data:`SHAMPOO_SIZE`, the random start of
    :func:`drift_setting` otherwise."""
    if (n, d) == BLOCK_SIZE:
        return block_instance(seed, n, d)
    if (n, d) == SHAMPOO_SIZE:
        return shampoo_instance(seed, n, d)
    return drift_setting(seed, n, d)
