"""Slutzky, Alexander, Razin, Cohen (2025): the implicit bias of structured state space models can be
poisoned with clean labels.

Theory-faithful setting (Slutzky et al. 2025): teacher A* = diag(1, 0), B* = (1, √(d−1))ᵀ, C* = B*ᵀ;
student A = diag(a), B = C = 1, only a trained, from a small initialization whose top two entries
are nearly tied. Trained on the baseline example (a single 1 at the first position of a length-k
sequence) the gradient flow extrapolates; adding the special example (a single 1 at position k−1,
labelled by the teacher) makes it fail. The flow is integrated from the derived polynomial loss
(``numerics.ssm``, LSODA, rtol ≤ 1e-10, rerun at rtol/100) and, separately, the SSM is trained as a
torch network by gradient descent (``numerics.ssm_train``).
"""
from __future__ import annotations

import math

import numpy as np

from theory.derivation import Derivation
from verify.figures import line_figure, series
from verify.numbers import nan_max, nan_mean, nan_min
from verify.outcome import Check, Outcome
from verify.registry import Claim, register

SECTION = "5 Other seed claims"
SOURCE = "Slutzky, Alexander, Razin, Cohen 2025"

#: The paper's two theory-faithful settings. ``gap`` = 0.05·exp(−c·log10(1/scale)) (c = 5, 10) is the
#: tie between the top two initial entries used by the authors' code; ``paper`` holds their reported
#: mean extrapolation errors (clean, poisoned) and ``half_unit`` half a unit in the last digit they
#: report (0.0013 → 5e-5, 0.050 → 5e-4): the criterion of the prediction.
CONFIGS = {
    "d10k7": dict(d=10, k=7, scale=1e-3, gap=0.05 * math.exp(-5 * math.log10(1 / 1e-3)),
                  paper=(0.0013, 0.050), half_unit=(5e-5, 5e-4)),
    "d20k9": dict(d=20, k=9, scale=5e-3, gap=0.05 * math.exp(-10 * math.log10(1 / 5e-3)),
                  paper=(0.0073, 0.035), half_unit=(5e-5, 5e-4)),
}
#: two-sided confidence of the interval for our mean over seeds (Student t with N − 1 degrees of
#: freedom: with N = 3 seeds the standard deviation is estimated from 3 draws, and a fixed 3·SE
#: would reject an honest mean ~10% of the time per number)
PAPER_CONFIDENCE = 0.99
#: "extrapolates": max_{j ≤ 20} |h_j − h*_j| / max|h*| at most this (clean runs); the poisoned runs
#: must exceed it
EXTRAPOLATES = 0.01
EXTRAPOLATION_LENGTH = 20
RTOL = 1e-10
#: Training losses the flows run to (checked at τ = 10³·10^m) and the preconditions then require. The
#: control's second constraint h_(k+1) = 1 is met only as the runner-up state a_2 decays (its gradient
#: ∝ a_2^(2k−3)): at d = 20, k = 9 (a_2 ≈ 0.11) its loss is still ~1e-16 at τ = 10⁹, so a lower
#: target would only spend the step budget without moving the errors.
FIT_LOSS = {"clean": 1e-28, "poisoned": 1e-28, "benign": 1e-12}
#: GD step η_t = c/λ_max(∇²L(a_t)); c < 2 is locally stable, c → 0 is the flow. The poisoned run sits
#: on a long saddle plateau (loss ≈ 1/2 while h_k escapes from ~scale^(k−1)), ~15k steps at c = 1.
#: The GD errors depend on c (c = 1.8: clean 0.0064, poisoned 0.058, ratio 9.1 on seed 0).
GD_STEP_FACTOR = 1.0


def _datasets(k: int) -> dict:
    from theory.ssm import baseline_example, special_example

    return {"clean": (baseline_example(k),),
            "poisoned": (baseline_example(k), special_example(k)),
            # control: a second clean example that is *not* special (length k+1, 1 first: pins h_(k+1))
            "benign": (baseline_example(k), baseline_example(k + 1))}


def _derivation() -> Derivation:
    from theory.ssm import baseline_invariant_derivation, poisoning_derivation

    cfg = CONFIGS["d10k7"]
    d, k = cfg["d"], cfg["k"]
    der = Derivation("Clean-label poisoning of a diagonal SSM (theory-faithful setting)")
    der.step(f"Shown for d = {d}, k = {k}: baseline example {_datasets(k)['clean'][0]} and special "
             f"example {_datasets(k)['poisoned'][1]}, both labelled by the teacher.")
    der.extend(poisoning_derivation(d, k, _datasets(k)["poisoned"]), prefix="poisoned_")
    der.extend(baseline_invariant_derivation(k), prefix="baseline_")
    der.step("Extrapolation error: max_{j ≤ 20} |h_j − h*_j| / max_j |h*_j| (h_j from result [1]).")
    return der


def _effective_rank(a: np.ndarray) -> float:
    p = np.abs(a) / np.sum(np.abs(a))
    p = p[p > 0]
    return float(np.exp(-np.sum(p * np.log(p))))


def _gradient_flow(cfg: dict, seeds: list[int], method: str) -> dict:
    """Every (seed, dataset) run at rtol and rtol/100, plus the poisoned run from an untied init."""
    from numerics.ssm import (baseline_invariant_drift, baseline_limit, compile_flow, extrapolation_error,
                              integrate_gradient_flow, near_tied_init)
    from theory.ssm import SSMProblem

    d, k = cfg["d"], cfg["k"]
    flows = {name: compile_flow(SSMProblem(d, k, ex)) for name, ex in _datasets(k).items()}
    rows = []
    for seed in seeds:
        a0 = near_tied_init(d, k, cfg["scale"], cfg["gap"], seed)
        row = {"seed": seed}
        for name, flow in flows.items():
            run = integrate_gradient_flow(flow, a0, RTOL, method, target_loss=FIT_LOSS[name])
            tight = integrate_gradient_flow(flow, a0, RTOL / 100, method, target_loss=FIT_LOSS[name])
            err, err_tight = extrapolation_error(run.a, EXTRAPOLATION_LENGTH), \
                extrapolation_error(tight.a, EXTRAPOLATION_LENGTH)
            row[name] = {"error": err, "error_tight": err_tight, "loss": run.loss, "status": run.status,
                         "message": run.message, "steps": run.steps, "seconds": run.seconds,
                         "spectrum": np.sort(run.a)[::-1][:4].tolist(), "effective_rank": _effective_rank(run.a),
                         "a": run.a.tolist()}
            if name == "clean":
                limit = baseline_limit(a0, k)
                row[name].update(invariant_drift=baseline_invariant_drift(a0, run.a, k),
                                 error_from_invariants=extrapolation_error(limit, EXTRAPOLATION_LENGTH),
                                 runner_up_from_invariants=float(limit[1]))
        untied = a0.copy()
        untied[1] = a0[0] - 0.1 * cfg["scale"]
        run = integrate_gradient_flow(flows["poisoned"], untied, RTOL, method)
        row["poisoned_untied_error"] = extrapolation_error(run.a, EXTRAPOLATION_LENGTH)
        rows.append(row)
    return {"rows": rows}


def _gradient_descent(cfg: dict, seeds: list[int], max_steps: int, progress) -> dict:
    from numerics.ssm import compile_flow, extrapolation_error, near_tied_init
    from numerics.ssm_train import train_gd
    from numerics.train import small_tensor_mode
    from theory.ssm import SSMProblem

    d, k = cfg["d"], cfg["k"]
    names = ("clean", "poisoned")
    flows, a0s, labels = [], [], []
    for seed in seeds:
        a0 = near_tied_init(d, k, cfg["scale"], cfg["gap"], seed)
        for name in names:
            flows.append(compile_flow(SSMProblem(d, k, _datasets(k)[name])))
            a0s.append(a0)
            labels.append((seed, name))
    with small_tensor_mode():
        runs = train_gd(flows, a0s, GD_STEP_FACTOR, max_steps, progress=progress)
    rows = {}
    for (seed, name), run in zip(labels, runs):
        rows.setdefault(seed, {"seed": seed})[name] = {
            "error": extrapolation_error(run.a, EXTRAPOLATION_LENGTH), "loss": run.loss,
            "steps": run.steps, "status": run.status, "message": run.message,
            "spectrum": np.sort(run.a)[::-1][:4].tolist(), "seconds": run.seconds}
    return {"rows": list(rows.values())}


def paper_number_checks(tag: str, cfg: dict, clean: np.ndarray, poisoned: np.ndarray) -> list[Check]:
    """The paper's own numbers as the criterion: our mean clean and poisoned errors over the seeds
    within half a unit of the paper's last reported digit plus the half-width of the t interval
    (confidence PAPER_CONFIDENCE) of our mean. The paper's own sampling error is not counted."""
    from scipy import stats
    checks = []
    for label, errs, paper, half in (("clean", clean, cfg["paper"][0], cfg["half_unit"][0]),
                                     ("poisoned", poisoned, cfg["paper"][1], cfg["half_unit"][1])):
        errs = np.asarray(errs, dtype=float)
        mean = nan_mean(errs)
        se = float(np.std(errs, ddof=1) / np.sqrt(len(errs))) if len(errs) > 1 else math.nan
        quantile = float(stats.t.ppf(0.5 + PAPER_CONFIDENCE / 2, len(errs) - 1)) if len(errs) > 1 else math.nan
        tol = half + quantile * se
        checks.append(Check(
            f"{tag}_gf_{label}_error_vs_paper", abs(mean - paper), "<=", tol if math.isfinite(tol) else 0.0,
            note=f"|our mean − the paper's {paper:g}|: mean {mean:.4g} over {len(errs)} seeds (per seed "
                 f"{', '.join(f'{e:.4g}' for e in errs)}); tolerance {half:g} (the paper's rounding) + "
                 f"{quantile:.3g} SE ({se:.2g}; the {PAPER_CONFIDENCE:.0%} t interval)"))
    return checks


def _check(ctx) -> Outcome:
    from numerics.ssm import impulse_response, teacher_impulse_response

    tags = ctx.pick(quick=["d10k7"], full=["d10k7", "d20k9"])
    seeds = [ctx.seed + i for i in range(ctx.pick(quick=3, full=4))]
    gd_seeds = [ctx.seed + i for i in range(ctx.pick(quick=1, full=3))]
    method = "LSODA"
    checks, details, figures = [], {"configs": {}}, []
    for tag in tags:
        cfg = CONFIGS[tag]
        gf = _gradient_flow(cfg, seeds, method)["rows"]
        clean = np.array([r["clean"]["error"] for r in gf])
        poisoned = np.array([r["poisoned"]["error"] for r in gf])
        benign = np.array([r["benign"]["error"] for r in gf])
        from_invariants = np.array([r["clean"]["error_from_invariants"] for r in gf])
        moved = nan_max(abs(r[n]["error_tight"] - r[n]["error"]) / r[n]["error"]
                    for r in gf for n in ("clean", "poisoned", "benign"))
        fit = nan_max(r[n]["loss"] for r in gf for n in ("clean", "poisoned"))
        checks += [
            *paper_number_checks(tag, cfg, clean, poisoned),
            Check(f"{tag}_gf_max_clean_error", nan_max(clean), "<=", EXTRAPOLATES,
                  note="gradient flow on the baseline example extrapolates (max over seeds)"),
            Check(f"{tag}_gf_min_poisoned_error", nan_min(poisoned), ">=", EXTRAPOLATES,
                  note="with the special example it does not, by the same criterion (min over seeds)"),
            Check(f"{tag}_gf_min_poisoned_over_clean", nan_min(poisoned / clean), ">=", 0.0, role="info",
                  note="poisoned/clean error ratio, min over seeds (the paper states the two errors, not a "
                       "ratio)"),
            Check(f"{tag}_gf_control_max_benign_over_clean", nan_max(benign / clean), "<=", 2.0,
                  role="control", note="a non-special clean example (length k+1, 1 first) leaves it "
                                       "within 2× of the clean error"),
            Check(f"{tag}_gf_max_training_loss", fit, "<=", FIT_LOSS["clean"], role="precondition",
                  note="clean and poisoned runs fit to near machine precision"),
            Check(f"{tag}_gf_max_benign_loss", nan_max(r["benign"]["loss"] for r in gf), "<=", FIT_LOSS["benign"],
                  role="precondition", note="the control fits too (its second constraint converges slowly)"),
            Check(f"{tag}_gf_tightening_relative_change", moved, "<=", 1e-5, role="precondition",
                  note=f"max relative change of the errors from rtol {RTOL:g} to {RTOL / 100:g}"),
            Check(f"{tag}_gf_invariant_drift", nan_max(r["clean"]["invariant_drift"] for r in gf), "<=", 1e-4,
                  role="precondition", note="derived invariants a_i^(3−k) − a_1^(3−k) of the clean flow"),
            Check(f"{tag}_gf_clean_error_from_invariants", float(np.mean(from_invariants)), ">=", 0.0,
                  role="info", note=f"mean clean error of the limit fixed by the derived invariants and the "
                                    f"fit Σ a_i^(k−1) = 1 (max relative deviation from the flow "
                                    f"{np.max(np.abs(clean / from_invariants - 1)):.2g}): the near-tied "
                                    f"runner-up ends at a_2 ≈ {np.mean([r['clean']['runner_up_from_invariants'] for r in gf]):.3g}, "
                                    f"and it sets the clean error (worst at h_2) and so the poisoned/clean ratio"),
            Check(f"{tag}_gf_poisoned_error_untied_init", float(np.median([r["poisoned_untied_error"] for r in gf])),
                  ">=", 0.0, role="info", note="poisoned run when the top-two gap is widened to 10% of "
                                               "the scale (median): the theorem's near-tie matters"),
        ]
        details["configs"][tag] = {
            "setting": {k: v for k, v in cfg.items() if k != "paper"},
            "paper_reported": {"clean": cfg["paper"][0], "poisoned": cfg["paper"][1]},
            "ours_mean": {"clean": float(clean.mean()), "poisoned": float(poisoned.mean()),
                          "benign": float(benign.mean())},
            "gradient_flow": gf, "integrator": {"method": method, "rtol": RTOL, "atol": 1e-6 * RTOL}}
        js = np.arange(1, EXTRAPOLATION_LENGTH + 1)
        h_star = teacher_impulse_response(cfg["d"], EXTRAPOLATION_LENGTH)
        figures.append(line_figure(
            f"{tag}_impulse_error", f"|h_j − h*_j| / max|h*| after gradient flow (d={cfg['d']}, k={cfg['k']}, "
                                    f"seed {seeds[0]})", "j", "relative error",
            [series(name, js, np.abs(impulse_response(np.array(gf[0][name]["a"]), EXTRAPOLATION_LENGTH)
                                     - h_star) / np.max(np.abs(h_star)), style)
             for name, style in (("clean", "o-"), ("poisoned", "s-"), ("benign", "^--"))],
            logx=False, logy=True))
    # gradient descent on the torch network (first configuration: the paper's d = 10, k = 7)
    tag = tags[0]
    gd = _gradient_descent(CONFIGS[tag], gd_seeds, 25_000,
                           lambda t, total: ctx.progress(t, total, "gradient descent"))["rows"]
    gd_clean = np.array([r["clean"]["error"] for r in gd])
    gd_poisoned = np.array([r["poisoned"]["error"] for r in gd])
    checks += [
        Check(f"{tag}_gd_max_clean_error", float(gd_clean.max()), "<=", EXTRAPOLATES,
              note=f"torch GD, η_t = {GD_STEP_FACTOR:g}/λ_max(∇²L): the clean run extrapolates"),
        Check(f"{tag}_gd_min_poisoned_error", float(gd_poisoned.min()), ">=", EXTRAPOLATES,
              note="torch GD: with the special example it does not"),
        Check(f"{tag}_gd_errors", float(gd_poisoned.mean()), ">=", 0.0, role="info",
              note=f"mean poisoned GD error; clean {', '.join(f'{e:.4g}' for e in gd_clean)}, poisoned "
                   f"{', '.join(f'{e:.4g}' for e in gd_poisoned)}; steps {[r['poisoned']['steps'] for r in gd]}"),
        Check(f"{tag}_gd_max_training_loss", nan_max(r[n]["loss"] for r in gd for n in ("clean", "poisoned")),
              "<=", 1e-28, role="precondition", note="GD fits to near machine precision"),
    ]
    details["gradient_descent"] = {"config": tag, "step_factor": GD_STEP_FACTOR, "runs": gd}
    details["seeds"] = {"gradient_flow": seeds, "gradient_descent": gd_seeds}
    return Outcome.from_checks(checks, details=details, figures=figures)


register(Claim(
    id="slutzky2025-ssm-clean-label-poisoning",
    title="Diagonal SSM: a clean-label special example makes the gradient flow fail to extrapolate",
    source=SOURCE,
    section=SECTION,
    statement=("Teacher A* = diag(1, 0), B* = (1, √(d−1))ᵀ, C* = B*ᵀ; student A = diag(a), B = C = 1, "
               "a trained from a small init (sorted scale·U[0,1], top two entries tied up to the "
               "authors' gap). Prediction (the paper's numbers): trained on the baseline example (1 at "
               "position 1 of a length-k sequence) gradient flow fits to ~1e-30 and its extrapolation "
               "error max_{j≤20} |h_j − h*_j|/max|h*| averages the paper's 0.0013 (d = 10, k = 7; 0.0073 "
               "at d = 20, k = 9); with the special example (1 at position k−1, teacher label) it averages "
               "0.050 (0.035) — each within half a unit of the paper's last digit plus the 99% Student-t "
               "half-width of our mean over seeds (wide with 3 seeds: the quick check mainly pins the "
               "poisoned number); and for every seed the clean error is ≤ 0.01 (extrapolates) and "
               "the poisoned one ≥ 0.01 (does not). The poisoned/clean ratio is reported only. Control: a non-special clean example "
               "(1 first in a length-(k+1) sequence) keeps it within 2× of the clean error. Gradient "
               "flow: derived polynomial loss, LSODA with the derived Jacobian in the time τ "
               "(dτ = ‖a‖^(k−3) dt, same trajectory), rtol 1e-10, rerun at 1e-12 (the errors must not "
               "move by more than 1e-5 relative); torch GD with η_t = 1/λ_max(∇²L) (clean ≤ 0.01, poisoned "
               "≥ 0.01; GD's errors depend on the step, so the paper's numbers are not its criterion). "
               "Quick: d = 10, k = 7, scale 1e-3, 3 seeds (GD 1 seed) — the paper's numbers for that "
               "setting only; full: also d = 20, k = 9, scale 5e-3, 4 seeds (GD 3 seeds, d = 10 only)."),
    check=_check, derivation=_derivation, tags=("ssm", "poisoning", "gradient-flow")))


# -- beyond the theory: Adam, and an SSM inside a ReLU MLP -------------------------------------------
#: Adam without ε (the project's ``numerics.optim.adam``) on the full student; "as used": torch's ε = 1e-8.
BEYOND = dict(d=10, k=6, scale=1e-3, gap=1e-8, steps=4000, lr=1e-2, lr_halflife=200, test_length=40,
              eps_as_used=1e-8)
#: The SSM inside a ReLU MLP (full profile only, reported without a verdict).
MLP = dict(width=15, n_sequences=20, n_test=1000, steps=4000)


def _beyond_derivation() -> Derivation:
    import sympy as sp

    from theory.ssm import balanced_solution_derivation, impulse_response, sequence_output

    der = Derivation("Beyond the theory: teacher with h* ≡ 1, all of (a, B, C) trained by Adam")
    one = sp.Matrix([[1]])
    der.result("teacher_impulse_response", impulse_response(one, one, one, sp.Symbol("j", positive=True)),
               "Teacher A* = B* = C* = 1 (state dimension 1): h*_j =")
    x = sp.symbols("x_1:4")
    der.step("so the teacher's label of a sequence is y* = Σ_t x_t (k = 3 shown):", sequence_output(one, one, one, x))
    der.extend(balanced_solution_derivation())
    der.step(f"Extrapolation error max_(j ≤ {BEYOND['test_length']}) |h_j − 1| of the balanced fit: the "
             "prediction for the baseline-only Adam run. With the special example too (h_2 = h_k = 1) "
             "no balanced state fits (d u³ = d u^(k+1) = 1 forces d = 1), nor with a second baseline "
             "example of length k+1 (h_k = h_(k+1) = 1): the control.")
    return der


def _balanced_error(d: int, k: int, length: int) -> float:
    """max_{j ≤ length} |h_j − 1| of the derived balanced fit."""
    import sympy as sp

    from theory.ssm import balanced_solution_derivation, j

    der = balanced_solution_derivation()
    d_sym, k_sym = der.results["symbols"]
    h = sp.lambdify(j, der.results["balanced_impulse_response"].subs({d_sym: d, k_sym: k}), "numpy")
    return float(np.max(np.abs(h(np.arange(1, length + 1, dtype=float)) - 1.0)))


def _small_init(rng, M: int, n_params: int) -> list[np.ndarray]:
    """Sorted scale·U[0, 1] entries, top two tied up to ``gap``, for each of (a, B, C)."""
    params = []
    for _ in range(n_params):
        v = np.sort(BEYOND["scale"] * rng.random((M, BEYOND["d"])), axis=1)[:, ::-1].copy()
        v[:, 1] = v[:, 0] - BEYOND["gap"]
        params.append(v)
    return params


def _adam_runs(seeds: list[int], eps: float, progress) -> list[dict]:
    """Adam on the standalone SSM (a, B, C trained), teacher h* ≡ 1, datasets clean / poisoned /
    benign per seed; error max_{j ≤ 40} |h_j − 1|."""
    import torch

    from numerics.optim import adam
    from numerics.ssm_train import kernel, ssm_outputs, stack_sequences, train_population
    from numerics.train import small_tensor_mode
    from theory.ssm import baseline_example, special_example

    k = BEYOND["k"]
    sets = {"clean": [baseline_example(k)], "poisoned": [baseline_example(k), special_example(k)],
            "benign": [baseline_example(k), baseline_example(k + 1)]}
    names, datasets, labels, inits = [], [], [], []
    for seed in seeds:
        init = _small_init(np.random.default_rng(seed), 1, 3)
        for name, seqs in sets.items():
            seqs = [np.array(x, dtype=float) for x in seqs]
            names.append((seed, name))
            datasets.append(seqs)
            labels.append(np.array([x.sum() for x in seqs]))      # teacher output, h* ≡ 1
            inits.append(init)
    params0 = [np.concatenate([init[i] for init in inits]) for i in range(3)]
    X, y, w = stack_sequences(datasets, labels)
    lr, half = BEYOND["lr"], BEYOND["lr_halflife"]
    with small_tensor_mode():
        run = train_population(ssm_outputs, params0, X, y, w, adam(lambda t: lr / (1 + t / half), eps=eps),
                               BEYOND["steps"], progress=progress)
        h = kernel(*(torch.tensor(p) for p in run.params), BEYOND["test_length"]).numpy()
    errors = np.abs(h - 1.0).max(-1)
    return [{"seed": s, "dataset": nm, "error": float(e), "loss": float(l),
             "spectrum": np.sort(np.abs(run.params[0][i]))[::-1][:4].tolist()}
            for i, ((s, nm), e, l) in enumerate(zip(names, errors, run.losses))]


def _mlp_runs(seeds: list[int], progress) -> list[dict]:
    """The SSM inside a width-15 ReLU MLP, Adam (ε = 0): Gaussian baseline sequences (entries at
    positions 1–2) ± special ones (entry at k−1); relative RMS test error on Gaussian sequences."""
    import torch

    from numerics.optim import adam
    from numerics.ssm_train import mlp_outputs, stack_sequences, train_population
    from numerics.train import small_tensor_mode

    k, m, width = BEYOND["k"], MLP["n_sequences"], MLP["width"]
    names, datasets, labels, inits = [], [], [], []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        base = np.zeros((m, k))
        base[:, :2] = rng.standard_normal((m, 2))
        special = np.zeros((m, k))
        special[:, k - 2] = rng.standard_normal(m)
        init = _small_init(rng, 1, 3) + [rng.standard_normal((1, width)), 0.1 * np.ones((1, width)),
                                         rng.standard_normal((1, width)) / np.sqrt(width)]
        for name, seqs in (("clean", list(base)), ("poisoned", list(base) + list(special))):
            names.append((seed, name))
            datasets.append(seqs)
            labels.append(width * 0.5 * np.maximum([x.sum() for x in seqs], 0.0))
            inits.append(init)
    params0 = [np.concatenate([init[i] for init in inits]) for i in range(6)]
    X, y, w = stack_sequences(datasets, labels)
    lr, half = BEYOND["lr"], BEYOND["lr_halflife"]
    with small_tensor_mode():
        run = train_population(mlp_outputs, params0, X, y, w, adam(lambda t: lr / (1 + t / half)),
                               MLP["steps"], progress=progress)
        Xt = torch.tensor(np.random.default_rng(seeds[0] + 12).standard_normal((MLP["n_test"], BEYOND["test_length"])))
        with torch.no_grad():
            f = mlp_outputs([torch.tensor(p) for p in run.params], Xt.expand(len(names), *Xt.shape))
            f_star = width * 0.5 * torch.relu(Xt.sum(-1))
            errors = (((f - f_star) ** 2).mean(-1) / (f_star**2).mean()).sqrt().numpy()
    return [{"seed": s, "dataset": nm, "error": float(e), "loss": float(l)}
            for (s, nm), e, l in zip(names, errors, run.losses)]


def _beyond_check(ctx) -> Outcome:
    from verify.figures import bar_figure

    seeds = [ctx.seed + i for i in range(ctx.pick(quick=3, full=5))]
    rows = _adam_runs(seeds, 0.0, lambda t, total: ctx.progress(t, total, "Adam (ε = 0)"))

    def errors(name, runs=rows):
        return np.array([r["error"] for r in runs if r["dataset"] == name])

    predicted = _balanced_error(BEYOND["d"], BEYOND["k"], BEYOND["test_length"])
    clean, poisoned, benign = errors("clean"), errors("poisoned"), errors("benign")
    deviation = np.abs(clean / predicted - 1.0)
    benign_dev = np.abs(benign / predicted - 1.0)
    fit_tol = 1e-6
    checks = [
        Check("adam_clean_deviation_from_balanced", float(deviation.max()), "<=", 0.01,
              note=f"Adam (ε = 0), baseline example only: max_(j≤40)|h_j − 1| vs the derived balanced fit "
                   f"d^((k−1)/(k+1)) − 1 = {predicted:.4g} (max relative deviation over seeds; measured "
                   f"{', '.join(f'{e:.4g}' for e in clean)}): the clean run does NOT extrapolate"),
        Check("adam_control_benign_deviation_from_balanced", float(benign_dev.min()), ">=", 0.05,
              role="control", note="on baseline + a length-(k+1) baseline example no balanced state fits; "
                                   "the same comparison must miss there (min over seeds)"),
        Check("adam_max_training_loss", nan_max(r["loss"] for r in rows if r["dataset"] != "poisoned"), "<=",
              fit_tol, role="precondition", note="clean and control runs fit their examples"),
        Check("adam_poisoned_over_clean_error", float(np.median(poisoned / clean)), ">=", 0.0, role="info",
              note=f"median over seeds; poisoned errors {', '.join(f'{e:.3g}' for e in poisoned)} (losses ≤ "
                   f"{nan_max(r['loss'] for r in rows if r['dataset'] == 'poisoned'):.2g}): under Adam the "
                   "special example does not poison an extrapolating solution (there is none); it pins h_2"),
    ]
    details = {"settings": BEYOND, "seeds": seeds, "adam_eps0": rows, "balanced_error": predicted}
    if ctx.profile == "full":
        as_used = _adam_runs(seeds, BEYOND["eps_as_used"], lambda t, total: ctx.progress(t, total, "Adam ε=1e-8"))
        mlp = _mlp_runs(seeds, lambda t, total: ctx.progress(t, total, "MLP"))
        details.update(adam_eps_as_used=as_used, mlp=mlp, mlp_settings=MLP)
        checks.append(Check("adam_eps_1e-8_median_clean_loss",
                            float(np.median([r["loss"] for r in as_used if r["dataset"] == "clean"])), ">=", 0.0,
                            role="info", note="Adam as used (ε = 1e-8): the initial gradients (~scale^k) are "
                                              "far below ε, so the run is GD with step η/ε; median clean "
                                              "error " + f"{np.median(errors('clean', as_used)):.3g}, "
                                              f"poisoned {np.median(errors('poisoned', as_used)):.3g}"))
        fitted = [r for r in mlp if r["loss"] <= 1e-4]
        med = {nm: float(np.median([r["error"] for r in fitted if r["dataset"] == nm] or [np.nan]))
               for nm in ("clean", "poisoned")}
        checks.append(Check("mlp_runs_fitted", float(len(fitted)), ">=", 0.0, role="info",
                            note=f"SSM in a ReLU MLP (Adam ε = 0): {len(fitted)}/{len(mlp)} runs reach loss "
                                 f"≤ 1e-4; median relative test error of those: clean {med['clean']:.3g}, "
                                 f"poisoned {med['poisoned']:.3g}"))
    fig = bar_figure("adam_errors", "Adam-trained SSM (h* ≡ 1): extrapolation error per run",
                     "max_{j≤40} |h_j − 1|", [f"{r['dataset']} s{r['seed']}" for r in rows],
                     [r["error"] for r in rows], reference=predicted)
    return Outcome.from_checks(checks, details=details, figures=[fig])


register(Claim(
    id="slutzky2025-poisoning-beyond-gradient-flow",
    title="SSM poisoning under Adam: the baseline fit is the balanced one, so there is nothing to poison (the project's extension)",
    source=SOURCE,
    section=SECTION,
    statement=("One step beyond the paper's theory (the prediction is the project's derivation, not the "
               "paper's). Teacher A* = B* = C* = 1 (h* ≡ 1); student d = 10, all of (a, B, C) trained by "
               "Adam without ε (lr 1e-2/(1 + t/200), 4000 full-batch steps) from a small init (scale "
               "1e-3, top two entries tied up to 1e-8); k = 6; baseline example 1 at position 1, special "
               "example 1 at position k−1. Prediction: sign-like updates grow every coordinate alike, so "
               "the baseline-only run converges to the balanced fit a_i = b_i = c_i = d^(−1/(k+1)) and "
               "its extrapolation error max_(j≤40)|h_j − 1| equals the derived d^((k−1)/(k+1)) − 1 "
               "within 1% on every seed: Adam does not extrapolate where gradient flow does, so the "
               "poisoning question is moot (the poisoned/clean error ratio is reported). Control: with "
               "baseline + a length-(k+1) baseline example no balanced state fits, and the comparison "
               "misses by ≥ 5%. Quick: 3 seeds; full: 5 seeds, plus (no verdict) Adam as used (ε = "
               "1e-8) and the SSM inside a width-15 ReLU MLP (teacher 7.5·ReLU(Σx), 20 Gaussian "
               "baseline sequences ± 20 special ones, relative RMS test error on 1000 length-40 "
               "sequences)."),
    check=_beyond_check, derivation=_beyond_derivation, tags=("ssm", "poisoning", "adam"), kind="extension"))
