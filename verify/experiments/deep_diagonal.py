"""The experiment of ``deep-diagonal-implied-regularizer``: depth-N diagonal networks w = u^N − v^N
(Woodworth et al. 2020) trained by label-noise GD, against the interpolators of the implied
regularizers derived by :mod:`theory.implied_regularizer`. The claim, its tests and any bench read
the settings, the data, the derived exponents and the training here.

Canonical scale. Label-noise GD on u^N − v^N has two symmetries: labels y → b·y (with δ → bδ,
α → b^{1/N}α, η → b^{−κ}η) and features Z → a·Z (w → w/a, α → a^{−1/N}α, η → a^{−2/N}η). Its
small-step limit, the interpolator minimizing Σ_j c_j K_N|w_j|^{κ_N}, is homogeneous (w*(bY, aZ) =
(b/a) w*(Y, Z)), so the relative distance to it does not depend on the scale of the draw, but the
finite-step bias does: it grows with η·λ*, λ* the top eigenvalue of the Gauss–Newton Hessian at the
predicted solution (the point of the fibre u_j^N − v_j^N = w*_j where the tr H minimum sits: one of
u_j, v_j zero), and λ* = eig_max((1/n) Z diag(N²|w*_j|^{κ_N}) Zᵀ) grows like |w*|^{κ_N}. Each depth's
instance is therefore put in its canonical scale before training: y and Z are rescaled so that
‖w*‖_∞ = 1 and λ* = ``sharpness``; then η is η·λ*, and δ, α, η²δ²·steps are measured against a
solution of unit size. Gaussian draws (d = 8) ranged over η·λ* = 0.02–0.85 at one fixed η.

Also the experiment of ``deep-diagonal-adam-implied-regularizer``: label-noise Adam on the same draws
(:data:`ADAM_SETTINGS`, :func:`train_adam_depth`) against the argmin of the derived Adam-implied
regularizer (``instance(..., measure="adam")``) and its two rivals (:func:`adam_rivals`).
:func:`adam_flow_landing` compares each Adam replica with the η → 0 Adam flow started from its own state
(a diagnostic: the replicas do not land where their flows land at the claim's η, see that claim's doc).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from verify.experiments.settings import Settings


@dataclass(frozen=True)
class DeepDiagonalSettings(Settings):
    """Settings of the experiment; per-depth fields list the values for N = 2, 3, 4."""
    # n Gaussian samples in d dimensions, Gaussian labels. d = 32 so that the ℓ_{4/3} and ℓ_{3/2}
    # interpolators (depths 3 and 4) differ by ≥ 3 × tolerance on nearly every draw: of 1000 draws
    # (seeds 20000–20999) the nearest rival's interpolator was < 0.15 away from the prediction on
    # 0.1 % (depth 3), 0 % (depth 4) and 0.6 % (depth 2); at d = 8, on 40 draws, the median was 0.11.
    n: int = 4
    d: int = 32
    sharpness: float = 1.0          # λ* of the canonical instance (so η below is η·λ*)
    alpha: float = 0.5              # u = v = α at the start (canonical units: ‖w*‖_∞ = 1)
    # warm-up: while η·λ(θ) > this (λ the Gauss–Newton sharpness; at u = v = α every coordinate adds
    # to it, so λ₀ ≫ λ* on some draws), steps of this/λ (half of GD's stability limit 2/λ)
    step_sharpness: float = 1.0
    delta: float = 1.0              # label noise ±δ
    # η·λ* per depth, chosen on seeds 10000–10004, 10010–10014 (docs/claims/deep-diagonal-implied-
    # regularizer.md). The rescaled time T = η²δ²·steps is derived per draw from the integrated
    # η → 0 slow flow (numerics.manifold_flow, from the noise-free limit of u = v = α): the smallest
    # of ``horizons`` at which the flow is within ``flow_margin`` × tolerance of the prediction, at
    # most ``max_horizon[N]`` (the quick budget). Depth 2's ℓ1 case converges at a rate set by the
    # slack of the ℓ1 dual certificate, which is small on many draws (T = 200 … > 1600 on tuning seeds).
    # Depth 2's cap 3200 (was 800; 2026-12-07, helper D): the flow reaches the prediction within
    # 0.003 by T = 3200 on tuning draws 10002, 10022, 10031, 10036 (not 10020: 0.027); draws that
    # arrive earlier keep their T (the rule picks the first candidate), so only slow draws pay for it.
    eta: tuple = (0.05, 0.05, 0.035)
    horizons: tuple = (200.0, 400.0, 800.0, 1600.0, 3200.0)
    max_horizon: tuple = (3200.0, 200.0, 200.0)
    flow_margin: float = 0.25
    flow_stage: float = 800.0       # the flow is integrated past this only for draws not arrived by it
    flow_reached: float = 0.5       # precondition: the flow at the run's T within this × tolerance
    # replicas (independent label-noise streams) per step size; the check reads their mean, whose
    # spread falls like (η/R)^{1/2} (each replica fluctuates about the stationary point by O(η^{1/2}))
    replicas: int = 8
    tolerance: float = 0.05         # relative distance of the replica mean to the predicted interpolator
    eta_stability: float = 0.5      # the η vs 2η change of the replica mean must be ≤ this × tolerance
    settled: float = 0.5            # its change over the last quarter of the run must be ≤ this × tolerance
    control_ratio: float = 3.0      # rival distance / own distance
    separation: float = 3.0         # the predictions must differ by ≥ this × tolerance
    projection_residual: float = 5e-2

    def eta_for(self, N: int) -> float:
        return self.eta[N - 2]

    def horizons_for(self, N: int) -> tuple:
        return tuple(T for T in self.horizons if T <= self.max_horizon[N - 2])


SETTINGS = DeepDiagonalSettings()
DEPTHS = (2, 3, 4)


def steps_for(T: float, eta: float, settings=None) -> int:
    """Steps of label-noise GD at step size η covering the rescaled time T = η²·δ²·steps."""
    s = SETTINGS if settings is None else settings
    return int(round(T / (eta**2 * s.delta**2)))


@lru_cache(maxsize=1)
def exponent_table():
    """{(form, measure): [(N, regularizer)]} from the derived closed forms, N = 2…8, for the
    product of N factors and for u^N − v^N, under tr H (``trace``) and tr Diag(H)^{1/2} (``adam``)."""
    from theory.implied_regularizer import derive_implied_regularizer
    from theory.parameterizations import depth, parse_parameterization
    from theory.sharpness import parse_measure

    table = {}
    for measure in ("trace", "adam"):
        for form in ("product", "difference"):
            rows = []
            for N in range(2, 9):
                param = (parse_parameterization("*".join(f"u{k}" for k in range(1, N + 1)))
                         if form == "product" else depth(N))
                rows.append((N, derive_implied_regularizer(param, parse_measure(measure))))
            table[(form, measure)] = rows
    return table


def forms(measure: str = "trace") -> dict:
    """{N: (K_N, κ_N)} of the derived regularizer K_N|w|^{κ_N} of u^N − v^N under ``measure``."""
    from numerics.interpolation import power_law_form

    return {N: power_law_form(reg) for N, reg in exponent_table()[("difference", measure)]}


def weight_power(measure: str = "trace") -> float:
    """1 − e: the derived regularizer of a coordinate with feature second moment c_j is
    c_j^{1−e} K|w_j|^κ (tr H: e = 0; Adam's tr Diag(H)^{1/2}: e = ½)."""
    return float(exponent_table()[("difference", measure)][0][1].measure.power)


def nearest_rival(N: int, depths=(2, 3, 4), measure: str = "trace") -> int:
    """The other depth (of ``depths``) whose derived exponent is nearest to depth N's."""
    f = forms(measure)
    return min((M for M in depths if M != N), key=lambda M: abs(f[M][1] - f[N][1]))


def draw(seed: int, settings=None):
    """The raw draw of one seed: Z (n × d) and y (n), standard Gaussian."""
    s = SETTINGS if settings is None else settings
    rng = np.random.default_rng(seed)
    return rng.standard_normal((s.n, s.d)), rng.standard_normal(s.n)


def fibre_minimum_point(w: np.ndarray, N: int) -> np.ndarray:
    """(u, v) with u^N − v^N = w and one of u_j, v_j zero: where tr H is least on the fibre of w
    among u, v ≥ 0 (the derived vertex minimum), shape (2, d)."""
    root = np.abs(w) ** (1.0 / N)
    return np.stack([np.where(w > 0, root, 0.0), np.where(w < 0, root, 0.0)])


@dataclass
class Instance:
    """One depth's canonical instance: the problem (rescaled data), the predicted interpolator of
    every depth's regularizer on it, and the rescaling (Z' = aZ, y' = by) with the raw λ*, ‖w*‖_∞."""
    N: int
    problem: object
    predictions: dict
    a: float
    b: float
    raw_sharpness: float
    raw_scale: float


def sharpness_at(problem, P: np.ndarray) -> float:
    """Top eigenvalue of the Gauss–Newton Hessian JᵀJ/n at parameters P (m, d)."""
    J = problem.jacobian(P)
    return float(np.linalg.eigvalsh(J @ J.T / problem.n).max())


def instance(seed: int, N: int, settings=None, measure: str = "trace") -> Instance:
    """Depth N's instance of ``seed`` in canonical scale (‖w*‖_∞ = 1, λ* = ``sharpness``), w* the
    argmin of ``measure``'s derived regularizer; ``predictions`` holds every depth's argmin (trace)
    or depth N's only (another measure)."""
    from numerics.deep_diagonal import DepthProblem, power_interpolator

    s = SETTINGS if settings is None else settings
    f = forms(measure)
    power = weight_power(measure)
    Z, y = draw(seed, s)
    raw = DepthProblem(N, Z, y)
    w = power_interpolator(Z, y, f[N][1], f[N][0] * raw.c**power).w
    scale = float(np.max(np.abs(w)))
    lam = sharpness_at(raw, fibre_minimum_point(w, N))
    # w* → (b/a) w*, λ* → a² (b/a)^(2(N−1)/N) λ* ((∂f)² = N²|w|^(2(N−1)/N) at the vertex point):
    # ‖w*‖_∞ = 1 and λ* = target.
    a = float(np.sqrt(s.sharpness * scale ** (2 * (N - 1) / N) / lam))
    b = a / scale
    problem = DepthProblem(N, a * Z, b * y)
    if measure == "trace":
        depths = sorted(set(DEPTHS) | {N, nearest_rival(N, measure=measure)})
        preds = {M: power_interpolator(problem.Z, problem.y, f[M][1], f[M][0] * problem.c**power).w
                 for M in depths}
    else:
        # κ < 1 is solved by support enumeration (seconds at d = 32): the argmin is homogeneous,
        # w* → (b/a) w* (the weights c^(1−e) all scale by a^(2(1−e)), leaving the argmin unchanged).
        preds = {N: w * (b / a)}
    got_scale = float(np.max(np.abs(preds[N])))
    got_lam = sharpness_at(problem, fibre_minimum_point(preds[N], N))
    if not (abs(got_scale - 1) < 1e-8 and abs(got_lam / s.sharpness - 1) < 1e-8):
        raise RuntimeError(f"canonical rescaling missed: ‖w*‖_∞ = {got_scale}, λ* = {got_lam}")
    return Instance(N, problem, preds, a, b, lam, scale)


def slow_flow(inst: Instance, settings=None) -> dict:
    """The η → 0 slow flow of label-noise GD (``numerics.manifold_flow``: gradient flow of tr H along
    Γ = {Zw = y}, derived constants) from the noise-free limit of u = v = α on Γ, at the candidate
    horizons of depth N; the derived horizon (the smallest at which the flow is within
    ``flow_margin`` × tolerance of the prediction, else the largest) and the flow's distance there."""
    from numerics.deep_diagonal import gauss_newton_sharpness
    from numerics.diagonal_nets import GD, balanced_init, train
    from numerics.interpolation import relative_distance
    from numerics.manifold_flow import Preconditioner, integrate_flow

    s = SETTINGS if settings is None else settings
    problem, N = inst.problem, inst.N
    start = balanced_init(problem, [s.alpha])
    lam0 = float(gauss_newton_sharpness(problem, start)[0])
    onto = train(problem, start, GD(), min(0.02, 1.0 / lam0), 20000)
    theta = onto.final[0]
    residual = float(np.linalg.norm(problem.residual(theta)) / np.linalg.norm(problem.y))
    if onto.status != "ok" or not residual <= 1e-8:
        raise RuntimeError(f"depth {N}: noise-free GD from u = v = α did not reach Zw = y "
                           f"(relative residual {residual:.2g})")
    horizons = s.horizons_for(N)
    # in stages: the candidates up to ``flow_stage`` in one integration, the later ones (from the state
    # at the stage's end) only when the flow has not arrived by then (CPU: most draws arrive early)
    dist, start_t, x0 = {}, 0.0, theta
    for stage in ([T for T in horizons if T <= s.flow_stage], [T for T in horizons if T > s.flow_stage]):
        if not stage or any(v <= s.flow_margin * s.tolerance for v in dist.values()):
            continue
        flow = integrate_flow(problem, x0, Preconditioner("sgd"), s.delta,
                              [0.0] + [(T - start_t) / s.delta**2 for T in stage], rtol=1e-6)
        dist |= {T: relative_distance(problem.w(x), inst.predictions[N]) for T, x in zip(stage, flow[1:])}
        start_t, x0 = stage[-1], flow[-1]
    T = next((T for T in dist if dist[T] <= s.flow_margin * s.tolerance), max(dist))
    return {"horizon": T, "distance": dist[T], "distances": dist, "initial_sharpness": lam0}


def train_depth(seed: int, N: int, settings=None, eta=None) -> dict:
    """Label-noise GD on depth N's canonical instance at η and at 2η for the same rescaled time
    (replicas from ``seed + 1``), then noise-free GD onto Zw = y from the end of each run and from
    the point at ¾ of the run at η. Plain data."""
    from numerics.deep_diagonal import train_deep
    from numerics.diagonal_nets import GD

    s = SETTINGS if settings is None else settings
    inst = instance(seed, N, s)
    flow = slow_flow(inst, s)
    T = flow["horizon"]
    eta = s.eta_for(N) if eta is None else eta
    runs = {}
    for label, e in (("eta", eta), ("2eta", 2 * eta)):
        steps = steps_for(T, e, s)
        runs[label] = train_deep(inst.problem, GD(), s.alpha, e, steps, s.delta,
                                 replicas=s.replicas, seed=seed + 1, step_sharpness=s.step_sharpness,
                                 checkpoints=(3 * steps // 4,) if label == "eta" else ())
    # A diverged 2η run means the η run is not shown to be in the small-step regime (its change is
    # then ∞); only a failure at η itself is an error.
    fine, coarse = runs["eta"], runs["2eta"]
    late = fine.W_at.get(3 * steps_for(T, eta, s) // 4, np.empty(0)) if fine.status == "ok" else np.empty(0)
    at_2eta = coarse.W if coarse.status == "ok" else np.full_like(fine.W, np.inf)
    return {"N": N, "eta": eta, "steps": steps_for(T, eta, s), "rescaled_time": T,
            "flow_distance": flow["distance"], "flow_distances": flow["distances"],
            "status": fine.status, "message": fine.message, "message_2eta": coarse.message,
            "predictions": inst.predictions, "trained": fine.W, "trained_at_2eta": at_2eta,
            "trained_at_three_quarters": late,
            "projection_residual": max(r.residual for r in runs.values() if r.status == "ok")
            if fine.status == "ok" else np.inf,
            "rescaling": {"a": inst.a, "b": inst.b, "raw_sharpness": inst.raw_sharpness,
                          "raw_scale": inst.raw_scale, "initial_sharpness": flow["initial_sharpness"]},
            "train_seconds": sum(r.seconds for r in runs.values())}


def run(settings, seed: int) -> dict:
    """Every depth's training on ``seed``."""
    return {N: train_depth(seed, N, settings) for N in DEPTHS}


# -- label-noise Adam (e = ½) at depth N: ``deep-diagonal-adam-implied-regularizer`` ------------------
@dataclass(frozen=True)
class AdamDepthSettings(Settings):
    """Label-noise Adam on u^N − v^N against the argmin of the derived Adam-implied regularizer
    Σ_j c_j^{1/2} K_N|w_j|^{(N−1)/N} (concave: a vertex, solved by support enumeration). Same draws
    (n, d) and canonical scale as :data:`SETTINGS` (‖w*‖_∞ = 1 for the Adam argmin, λ* = 1).
    Adam as ``li2025-adam-drift`` (no bias correction, β₁ = 0.9, 1 − β₂ = η^s with s derived,
    ε = 1e-8, second moment warm-started at the start point). η and the rescaled times
    T = η²δ²·steps chosen on seeds 10000–10011 (docs/claims/deep-diagonal-adam-implied-regularizer.md)."""
    n: int = 4
    d: int = 32
    sharpness: float = 1.0
    alpha: float = 0.5
    delta: float = 1.0
    eta: float = 0.02
    # T per depth N = 2, 3, 4. Depth 2: 64 (was 32; 2026-12-07 session 6): the smallest of 32, 48, 64
    # at which depth 2 is decided (replica mean settled, or a replica stopped ≥ elsewhere × tolerance
    # from the argmin) on every tuning seed 10000–10007 (32: 5 of 8, 48: 6 of 8, 64: 8 of 8); with the
    # windows ≈ 1.2× the previous CPU per seed (seed 0: 18.0 → 21.3 s at the same load). Depths 3–4: 16
    # (seeds 10000–10011).
    horizon: tuple = (64.0, 16.0, 16.0)
    beta1: float = 0.9
    replicas: int = 8
    tolerance: float = 0.05                  # relative distance of the replica mean to the argmin
    control_ratio: float = 3.0               # nearest rival's distance / own
    separation: float = 3.0                  # prediction and nearest rival ≥ this × tolerance apart
    settled: float = 0.5                     # last-quarter change of the replica mean ≤ this × tolerance
    # The run is read on its quarter windows: per replica, the iterate average θ̄ over ``window_points``
    # evenly spaced steps of the third quarter and of the last quarter of the run, projected onto
    # Zw = y (as numerics.label_noise_runs' ``average_last``, 50 points there too). At depth 2 a
    # replica fluctuates by O(η^½) ≈ 0.1–0.2 between checkpoints (tuning seeds 10000–10005) about a
    # point that no longer moves, so single checkpoints cannot tell that a run has stopped; at depths
    # 3–4 the replicas are frozen and θ̄ is their endpoint.
    window_points: int = 50
    # A replica that has stopped (its own last-quarter average within ``settled`` × tolerance of its
    # third-quarter average) at ≥ this × tolerance from the global argmin contradicts "reaches the
    # global argmin", on Zw = y or not (at its last-quarter speed it would need more than another full
    # run to come within the tolerance: (3 − 1)·tol = 4 quarters × 0.5·tol).
    elsewhere: float = 3.0
    projection_residual: float = 5e-2        # precondition of a run at the prediction only
    support_threshold: float = 1e-3          # |w_j| ≤ this × ‖w‖_∞ counts as zero (info: a vertex)

    def horizon_for(self, N: int) -> float:
        return self.horizon[N - 2]

    def window_steps(self, steps: int) -> tuple:
        """(third-quarter, last-quarter) steps of a run of ``steps`` steps: ``window_points`` evenly
        spaced steps in (½, ¾] and in (¾, 1] of the run."""
        k = self.window_points
        return (tuple(int(round(steps * (0.5 + 0.25 * i / k))) for i in range(1, k + 1)),
                tuple(int(round(steps * (0.75 + 0.25 * i / k))) for i in range(1, k + 1)))


ADAM_SETTINGS = AdamDepthSettings()


def adam_rivals(inst: Instance) -> dict:
    """The rivals of the Adam argmin on depth N's instance: label-noise SGD's (the derived tr H
    regularizer at the same depth, Σ c_j K|w_j|^{2(N−1)/N}) and the ℓ1 argmin with Adam's weights
    c_j^{1/2} (κ → 1: the N → ∞ limit of the Adam family's exponent)."""
    from numerics.deep_diagonal import power_interpolator

    Z, y, c, N = inst.problem.Z, inst.problem.y, inst.problem.c, inst.N
    K, kappa = forms("trace")[N]
    return {"trace": power_interpolator(Z, y, kappa, K * c).w,
            "l1": power_interpolator(Z, y, 1.0, np.sqrt(c)).w}


def train_adam_depth(seed: int, N: int, settings=None) -> dict:
    """Label-noise Adam (R replicas from u = v = α, replicas' noise from ``seed + 1``) on depth N's
    canonical Adam instance for T/(η²δ²) steps, then noise-free GD onto Zw = y from the end and from
    each replica's iterate average θ̄ over the third and over the last quarter of the run
    (``settings.window_steps``; ``third_quarter``, ``last_quarter``: w of the projected θ̄). Plain data."""
    from numerics.deep_diagonal import train_deep
    from numerics.diagonal_nets import AdamFamily, balanced_init
    from numerics.manifold_flow import warm_start
    from verify.experiments.li2025 import EPS, beta2_exponent

    s = ADAM_SETTINGS if settings is None else settings
    inst = instance(seed, N, s, measure="adam")
    rivals = adam_rivals(inst)
    steps = int(round(s.horizon_for(N) / (s.eta**2 * s.delta**2)))
    opt = AdamFamily(beta1=s.beta1, beta2=1.0 - s.eta ** beta2_exponent(), eps=EPS, exponent=0.5)
    opt = warm_start(opt, inst.problem, balanced_init(inst.problem, [s.alpha])[0], s.delta,
                     s.replicas, seed=seed + 5)
    third, last = s.window_steps(steps)
    run = train_deep(inst.problem, opt, s.alpha, s.eta, steps, s.delta, replicas=s.replicas,
                     seed=seed + 1, windows=(third, last))
    ok = run.status == "ok"
    return {"N": N, "eta": s.eta, "steps": steps, "rescaled_time": s.horizon_for(N),
            "status": run.status, "message": run.message, "problem": inst.problem,
            "prediction": inst.predictions[N], "rivals": rivals, "trained": run.W,
            "third_quarter": run.W_windows[0] if ok else np.empty(0),
            "last_quarter": run.W_windows[1] if ok else np.empty(0),
            "projection_residual": run.residual,
            "rescaling": {"a": inst.a, "b": inst.b, "raw_scale": inst.raw_scale},
            "train_seconds": run.seconds}


def adam_flow_landing(seed: int, N: int, settings=None, start_time: float = 1.0,
                      floor: float = 1e-3) -> dict:
    """Where each label-noise Adam replica ends against where the η → 0 Adam flow on Γ = {Zw = y}
    (``numerics.manifold_flow.integrate_flow_to_rest``: P = (σ² Diag H)^(−1/2), parameters frozen at
    ``floor`` when they collapse) ends when started from that replica's own state at rescaled time
    ``start_time`` (projected onto Γ by noise-free GD), run for the rest of the horizon. The runs are
    :func:`train_adam_depth`'s (same instance, optimizer and noise streams). Plain data; a diagnostic
    of docs/claims/deep-diagonal-adam-implied-regularizer.md (2026-12-07, helper F), not a claim."""
    from numerics.deep_diagonal import train_deep
    from numerics.diagonal_nets import AdamFamily, balanced_init
    from numerics.interpolation import relative_distance
    from numerics.manifold_flow import integrate_flow_to_rest, warm_start
    from verify.experiments.li2025 import EPS, beta2_exponent

    s = ADAM_SETTINGS if settings is None else settings
    T = s.horizon_for(N)
    steps = int(round(T / (s.eta**2 * s.delta**2)))
    k0 = int(round(start_time / (s.eta**2 * s.delta**2)))
    if not 0 < k0 < steps:
        raise ValueError(f"start_time {start_time:g} must lie inside the run (0, {T:g})")
    inst = instance(seed, N, s, measure="adam")
    problem = inst.problem
    opt = AdamFamily(beta1=s.beta1, beta2=1.0 - s.eta ** beta2_exponent(), eps=EPS, exponent=0.5)
    opt = warm_start(opt, problem, balanced_init(problem, [s.alpha])[0], s.delta, s.replicas,
                     seed=seed + 5)
    run = train_deep(problem, opt, s.alpha, s.eta, steps, s.delta, replicas=s.replicas,
                     seed=seed + 1, checkpoints=(k0,))
    if run.status != "ok":
        return {"status": run.status, "message": run.message}
    ynorm = float(np.linalg.norm(problem.y))
    start = run.P_at[k0]
    flows = [integrate_flow_to_rest(problem, P, AdamFamily(exponent=0.5), s.delta, T - start_time,
                                    floor=floor) for P in start]
    W_flow = np.array([problem.w(f.theta) for f in flows])
    return {"status": "ok", "N": N, "eta": s.eta, "rescaled_time": T, "start_time": start_time,
            "prediction": inst.predictions[N], "trained": run.W, "flow_end": W_flow,
            "start_residual": np.linalg.norm(problem.residual(start), axis=-1) / ynorm,
            "end_residual": np.linalg.norm(problem.residual(run.P), axis=-1) / ynorm,
            "flow_status": [f.status for f in flows], "flow_time": np.array([f.time for f in flows]),
            "flow_active": np.array([int(f.active.sum()) for f in flows]),
            "end_to_flow": np.array([relative_distance(w, v) for w, v in zip(run.W, W_flow)]),
            "end_to_global": np.array([relative_distance(w, inst.predictions[N]) for w in run.W]),
            "flow_to_global": np.array([relative_distance(v, inst.predictions[N]) for v in W_flow]),
            "train_seconds": run.seconds}
