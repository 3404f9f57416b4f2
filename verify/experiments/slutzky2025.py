"""The experiments of the ``slutzky2025-*`` claims (Slutzky, Alexander, Razin, Cohen 2025).

- Theory-faithful setting: teacher A* = diag(1, 0), B* = (1, √(d−1))ᵀ, C* = B*ᵀ; student A = diag(a),
  B = C = 1, only a trained from a small near-tied initialization, on the baseline example, with the
  special example (poisoned) and with a non-special second example (benign control). The gradient
  flow is integrated from the derived polynomial loss (``numerics.ssm``, LSODA, rerun at rtol/100)
  (:func:`gradient_flow`); torch GD trains the same SSM (:func:`gradient_descent`).
- Beyond the theory: teacher h* ≡ 1, all of (a, B, C) trained by Adam (:func:`adam_runs`), and the
  SSM inside a ReLU MLP (:func:`mlp_runs`, full profile); :func:`balanced_error` is the derived
  prediction for Adam's baseline-only fit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from verify.experiments.settings import Profiled, Settings


@dataclass(frozen=True)
class SSMConfig(Settings):
    """One of the paper's theory-faithful settings. ``gap`` = 0.05·exp(−c·log10(1/scale)) (c = 5, 10)
    is the tie between the top two initial entries used by the authors' code; ``paper`` holds their
    reported mean extrapolation errors (clean, poisoned) and ``half_unit`` half a unit in the last
    digit they report (0.0013 → 5e-5, 0.050 → 5e-4): the criterion of the prediction."""
    d: int
    k: int
    scale: float
    gap: float
    paper: tuple
    half_unit: tuple


CONFIGS = {
    "d10k7": SSMConfig(d=10, k=7, scale=1e-3, gap=0.05 * math.exp(-5 * math.log10(1 / 1e-3)),
                       paper=(0.0013, 0.050), half_unit=(5e-5, 5e-4)),
    "d20k9": SSMConfig(d=20, k=9, scale=5e-3, gap=0.05 * math.exp(-10 * math.log10(1 / 5e-3)),
                       paper=(0.0073, 0.035), half_unit=(5e-5, 5e-4)),
}


@dataclass(frozen=True)
class Slutzky2025Settings(Settings):
    configs: tuple = Profiled(quick=("d10k7",), full=("d10k7", "d20k9"))
    flow_seeds: int = Profiled(quick=3, full=4)
    gd_seeds: int = Profiled(quick=1, full=3)          # GD runs on the first configuration only
    method: str = "LSODA"
    rtol: float = 1e-10
    #: two-sided confidence of the interval for our mean over seeds (Student t with N − 1 degrees of
    #: freedom: with N = 3 seeds the standard deviation is estimated from 3 draws, and a fixed 3·SE
    #: would reject an honest mean ~10% of the time per number)
    paper_confidence: float = 0.99
    #: "extrapolates": max_{j ≤ 20} |h_j − h*_j| / max|h*| at most this (clean runs); the poisoned
    #: runs must exceed it
    extrapolates: float = 0.01
    extrapolation_length: int = 20
    #: Training losses the flows run to (checked at τ = 10³·10^m) and the preconditions then require.
    #: The control's second constraint h_(k+1) = 1 is met only as the runner-up state a_2 decays (its
    #: gradient ∝ a_2^(2k−3)): at d = 20, k = 9 (a_2 ≈ 0.11) its loss is still ~1e-16 at τ = 10⁹, so a
    #: lower target would only spend the step budget without moving the errors.
    fit_loss_clean: float = 1e-28
    fit_loss_poisoned: float = 1e-28
    fit_loss_benign: float = 1e-12
    #: GD step η_t = c/λ_max(∇²L(a_t)); c < 2 is locally stable, c → 0 is the flow (the GD errors
    #: depend on c: docs/claims/slutzky2025-ssm-clean-label-poisoning.md)
    gd_step_factor: float = 1.0
    gd_max_steps: int = 25_000


SETTINGS = Slutzky2025Settings()


@dataclass(frozen=True)
class BeyondSettings(Settings):
    """Adam without ε (the project's ``numerics.optim.adam``) on the full student; "as used": torch's
    ε = 1e-8."""
    d: int = 10
    k: int = 6
    scale: float = 1e-3
    gap: float = 1e-8
    steps: int = 4000
    lr: float = 1e-2
    lr_halflife: int = 200
    test_length: int = 40
    eps_as_used: float = 1e-8
    seeds: int = Profiled(quick=3, full=5)


BEYOND = BeyondSettings()


@dataclass(frozen=True)
class MLPSettings(Settings):
    """The SSM inside a ReLU MLP (full profile only, reported without a verdict)."""
    width: int = 15
    n_sequences: int = 20
    n_test: int = 1000
    steps: int = 4000


MLP = MLPSettings()


def datasets(k: int) -> dict:
    """The clean (baseline), poisoned (baseline + special) and benign-control data sets."""
    from theory.ssm import baseline_example, special_example

    return {"clean": (baseline_example(k),),
            "poisoned": (baseline_example(k), special_example(k)),
            # control: a second clean example that is *not* special (length k+1, 1 first: pins h_(k+1))
            "benign": (baseline_example(k), baseline_example(k + 1))}


def effective_rank(a: np.ndarray) -> float:
    p = np.abs(a) / np.sum(np.abs(a))
    p = p[p > 0]
    return float(np.exp(-np.sum(p * np.log(p))))


def gradient_flow(cfg: SSMConfig, seeds: list[int], settings: Slutzky2025Settings) -> dict:
    """Every (seed, dataset) run at rtol and rtol/100, plus the poisoned run from an untied init."""
    from numerics.ssm import (baseline_invariant_drift, baseline_limit, compile_flow, extrapolation_error,
                              integrate_gradient_flow, near_tied_init)
    from theory.ssm import SSMProblem

    d, k, method, rtol, length = cfg.d, cfg.k, settings.method, settings.rtol, settings.extrapolation_length
    fit_loss = {"clean": settings.fit_loss_clean, "poisoned": settings.fit_loss_poisoned,
                "benign": settings.fit_loss_benign}
    flows = {name: compile_flow(SSMProblem(d, k, ex)) for name, ex in datasets(k).items()}
    rows = []
    for seed in seeds:
        a0 = near_tied_init(d, k, cfg.scale, cfg.gap, seed)
        row = {"seed": seed}
        for name, flow in flows.items():
            run = integrate_gradient_flow(flow, a0, rtol, method, target_loss=fit_loss[name])
            tight = integrate_gradient_flow(flow, a0, rtol / 100, method, target_loss=fit_loss[name])
            err, err_tight = extrapolation_error(run.a, length), \
                extrapolation_error(tight.a, length)
            row[name] = {"error": err, "error_tight": err_tight, "loss": run.loss, "status": run.status,
                         "message": run.message, "steps": run.steps, "seconds": run.seconds,
                         "spectrum": np.sort(run.a)[::-1][:4].tolist(), "effective_rank": effective_rank(run.a),
                         "a": run.a.tolist()}
            if name == "clean":
                limit = baseline_limit(a0, k)
                row[name].update(invariant_drift=baseline_invariant_drift(a0, run.a, k),
                                 error_from_invariants=extrapolation_error(limit, length),
                                 runner_up_from_invariants=float(limit[1]))
        untied = a0.copy()
        untied[1] = a0[0] - 0.1 * cfg.scale
        run = integrate_gradient_flow(flows["poisoned"], untied, rtol, method)
        row["poisoned_untied_error"] = extrapolation_error(run.a, length)
        rows.append(row)
    return {"rows": rows}


def gradient_descent(cfg: SSMConfig, seeds: list[int], settings: Slutzky2025Settings, progress) -> dict:
    """Torch GD on the SSM (clean and poisoned, each seed) with η_t = c/λ_max(∇²L(a_t))."""
    from numerics.ssm import compile_flow, extrapolation_error, near_tied_init
    from numerics.ssm_train import train_gd
    from numerics.train import small_tensor_mode
    from theory.ssm import SSMProblem

    d, k, length = cfg.d, cfg.k, settings.extrapolation_length
    names = ("clean", "poisoned")
    flows, a0s, labels = [], [], []
    for seed in seeds:
        a0 = near_tied_init(d, k, cfg.scale, cfg.gap, seed)
        for name in names:
            flows.append(compile_flow(SSMProblem(d, k, datasets(k)[name])))
            a0s.append(a0)
            labels.append((seed, name))
    with small_tensor_mode():
        runs = train_gd(flows, a0s, settings.gd_step_factor, settings.gd_max_steps, progress=progress)
    rows = {}
    for (seed, name), run in zip(labels, runs):
        rows.setdefault(seed, {"seed": seed})[name] = {
            "error": extrapolation_error(run.a, length), "loss": run.loss,
            "steps": run.steps, "status": run.status, "message": run.message,
            "spectrum": np.sort(run.a)[::-1][:4].tolist(), "seconds": run.seconds}
    return {"rows": list(rows.values())}


def balanced_error(d: int, k: int, length: int) -> float:
    """max_{j ≤ length} |h_j − 1| of the derived balanced fit."""
    import sympy as sp

    from theory.ssm import balanced_solution_derivation, j

    der = balanced_solution_derivation()
    d_sym, k_sym = der.results["symbols"]
    h = sp.lambdify(j, der.results["balanced_impulse_response"].subs({d_sym: d, k_sym: k}), "numpy")
    return float(np.max(np.abs(h(np.arange(1, length + 1, dtype=float)) - 1.0)))


def small_init(rng, M: int, n_params: int, beyond: BeyondSettings = BEYOND) -> list[np.ndarray]:
    """Sorted scale·U[0, 1] entries, top two tied up to ``gap``, for each of (a, B, C)."""
    params = []
    for _ in range(n_params):
        v = np.sort(beyond.scale * rng.random((M, beyond.d)), axis=1)[:, ::-1].copy()
        v[:, 1] = v[:, 0] - beyond.gap
        params.append(v)
    return params


def adam_runs(seeds: list[int], eps: float, progress, beyond: BeyondSettings = BEYOND) -> list[dict]:
    """Adam on the standalone SSM (a, B, C trained), teacher h* ≡ 1, datasets clean / poisoned /
    benign per seed; error max_{j ≤ 40} |h_j − 1|."""
    import torch

    from numerics.optim import adam
    from numerics.ssm_train import kernel, ssm_outputs, stack_sequences, train_population
    from numerics.train import small_tensor_mode
    from theory.ssm import baseline_example, special_example

    k = beyond.k
    sets = {"clean": [baseline_example(k)], "poisoned": [baseline_example(k), special_example(k)],
            "benign": [baseline_example(k), baseline_example(k + 1)]}
    names, datasets, labels, inits = [], [], [], []
    for seed in seeds:
        init = small_init(np.random.default_rng(seed), 1, 3, beyond)
        for name, seqs in sets.items():
            seqs = [np.array(x, dtype=float) for x in seqs]
            names.append((seed, name))
            datasets.append(seqs)
            labels.append(np.array([x.sum() for x in seqs]))      # teacher output, h* ≡ 1
            inits.append(init)
    params0 = [np.concatenate([init[i] for init in inits]) for i in range(3)]
    X, y, w = stack_sequences(datasets, labels)
    lr, half = beyond.lr, beyond.lr_halflife
    with small_tensor_mode():
        run = train_population(ssm_outputs, params0, X, y, w, adam(lambda t: lr / (1 + t / half), eps=eps),
                               beyond.steps, progress=progress)
        h = kernel(*(torch.tensor(p) for p in run.params), beyond.test_length).numpy()
    errors = np.abs(h - 1.0).max(-1)
    return [{"seed": s, "dataset": nm, "error": float(e), "loss": float(l),
             "spectrum": np.sort(np.abs(run.params[0][i]))[::-1][:4].tolist()}
            for i, ((s, nm), e, l) in enumerate(zip(names, errors, run.losses))]


def mlp_runs(seeds: list[int], progress, beyond: BeyondSettings = BEYOND, settings: MLPSettings = MLP) -> list[dict]:
    """The SSM inside a width-15 ReLU MLP, Adam (ε = 0): Gaussian baseline sequences (entries at
    positions 1–2) ± special ones (entry at k−1); relative RMS test error on Gaussian sequences."""
    import torch

    from numerics.optim import adam
    from numerics.ssm_train import mlp_outputs, stack_sequences, train_population
    from numerics.train import small_tensor_mode

    k, m, width = beyond.k, settings.n_sequences, settings.width
    names, datasets, labels, inits = [], [], [], []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        base = np.zeros((m, k))
        base[:, :2] = rng.standard_normal((m, 2))
        special = np.zeros((m, k))
        special[:, k - 2] = rng.standard_normal(m)
        init = small_init(rng, 1, 3, beyond) + [rng.standard_normal((1, width)), 0.1 * np.ones((1, width)),
                                         rng.standard_normal((1, width)) / np.sqrt(width)]
        for name, seqs in (("clean", list(base)), ("poisoned", list(base) + list(special))):
            names.append((seed, name))
            datasets.append(seqs)
            labels.append(width * 0.5 * np.maximum([x.sum() for x in seqs], 0.0))
            inits.append(init)
    params0 = [np.concatenate([init[i] for init in inits]) for i in range(6)]
    X, y, w = stack_sequences(datasets, labels)
    lr, half = beyond.lr, beyond.lr_halflife
    with small_tensor_mode():
        run = train_population(mlp_outputs, params0, X, y, w, adam(lambda t: lr / (1 + t / half)),
                               settings.steps, progress=progress)
        Xt = torch.tensor(np.random.default_rng(seeds[0] + 12).standard_normal((settings.n_test, beyond.test_length)))
        with torch.no_grad():
            f = mlp_outputs([torch.tensor(p) for p in run.params], Xt.expand(len(names), *Xt.shape))
            f_star = width * 0.5 * torch.relu(Xt.sum(-1))
            errors = (((f - f_star) ** 2).mean(-1) / (f_star**2).mean()).sqrt().numpy()
    return [{"seed": s, "dataset": nm, "error": float(e), "loss": float(l)}
            for (s, nm), e, l in zip(names, errors, run.losses)]
