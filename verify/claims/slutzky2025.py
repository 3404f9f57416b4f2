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

from dataclasses import asdict

import numpy as np

from theory.derivation import Derivation
from verify.experiments import slutzky2025 as experiment
from verify.experiments.slutzky2025 import BEYOND, CONFIGS, MLP, SETTINGS, balanced_error, datasets
from verify.figures import line_figure, series
from verify.numbers import nan_max, nan_min
from verify.outcome import Check, Outcome
from verify.paper_numbers import paper_number_checks
from verify.registry import Claim, register

SECTION = "5 Other seed claims"
_A, _B = CONFIGS["d10k7"], CONFIGS["d20k9"]
SOURCE = "Slutzky, Alexander, Razin, Cohen 2025"

def _derivation() -> Derivation:
    from theory.ssm import baseline_invariant_derivation, poisoning_derivation

    cfg = CONFIGS["d10k7"]
    d, k = cfg.d, cfg.k
    der = Derivation("Clean-label poisoning of a diagonal SSM (theory-faithful setting)")
    der.step(f"Shown for d = {d}, k = {k}: baseline example {datasets(k)['clean'][0]} and special "
             f"example {datasets(k)['poisoned'][1]}, both labelled by the teacher.")
    der.extend(poisoning_derivation(d, k, datasets(k)["poisoned"]), prefix="poisoned_")
    der.extend(baseline_invariant_derivation(k), prefix="baseline_")
    der.step(f"Extrapolation error: max_{{j ≤ {SETTINGS.extrapolation_length}}} |h_j − h*_j| / max_j |h*_j| "
             "(h_j from result [1]).")
    return der


def _check(ctx) -> Outcome:
    from numerics.ssm import impulse_response, teacher_impulse_response

    st = ctx.settings(SETTINGS)
    tags = st.configs
    seeds = [ctx.seed + i for i in range(st.flow_seeds)]
    gd_seeds = [ctx.seed + i for i in range(st.gd_seeds)]
    method, rtol, length, extrapolates = st.method, st.rtol, st.extrapolation_length, st.extrapolates
    checks, details, figures = [], {"configs": {}}, []
    for tag in tags:
        cfg = CONFIGS[tag]
        gf = experiment.gradient_flow(cfg, seeds, st)["rows"]
        clean = np.array([r["clean"]["error"] for r in gf])
        poisoned = np.array([r["poisoned"]["error"] for r in gf])
        benign = np.array([r["benign"]["error"] for r in gf])
        from_invariants = np.array([r["clean"]["error_from_invariants"] for r in gf])
        moved = nan_max(abs(r[n]["error_tight"] - r[n]["error"]) / r[n]["error"]
                    for r in gf for n in ("clean", "poisoned", "benign"))
        fit = nan_max(r[n]["loss"] for r in gf for n in ("clean", "poisoned"))
        checks += [
            *paper_number_checks(tag, cfg, clean, poisoned, st.paper_confidence),
            Check(f"{tag}_gf_max_clean_error", nan_max(clean), "<=", extrapolates,
                  note="gradient flow on the baseline example extrapolates (max over seeds)"),
            Check(f"{tag}_gf_min_poisoned_error", nan_min(poisoned), ">=", extrapolates,
                  note="with the special example it does not, by the same criterion (min over seeds)"),
            Check(f"{tag}_gf_min_poisoned_over_clean", nan_min(poisoned / clean), ">=", 0.0, role="info",
                  note="poisoned/clean error ratio, min over seeds (the paper states the two errors, not a "
                       "ratio)"),
            Check(f"{tag}_gf_control_max_benign_over_clean", nan_max(benign / clean), "<=", 2.0,
                  role="control", note="a non-special clean example (length k+1, 1 first) leaves it "
                                       "within 2× of the clean error"),
            Check(f"{tag}_gf_max_training_loss", fit, "<=", st.fit_loss_clean, role="precondition",
                  note="clean and poisoned runs fit to near machine precision"),
            Check(f"{tag}_gf_max_benign_loss", nan_max(r["benign"]["loss"] for r in gf), "<=", st.fit_loss_benign,
                  role="precondition", note="the control fits too (its second constraint converges slowly)"),
            Check(f"{tag}_gf_tightening_relative_change", moved, "<=", 1e-5, role="precondition",
                  note=f"max relative change of the errors from rtol {rtol:g} to {rtol / 100:g}"),
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
            "setting": {"d": cfg.d, "k": cfg.k, "scale": cfg.scale, "gap": cfg.gap, "half_unit": cfg.half_unit},
            "paper_reported": {"clean": cfg.paper[0], "poisoned": cfg.paper[1]},
            "ours_mean": {"clean": float(clean.mean()), "poisoned": float(poisoned.mean()),
                          "benign": float(benign.mean())},
            "gradient_flow": gf, "integrator": {"method": method, "rtol": rtol, "atol": 1e-6 * rtol}}
        js = np.arange(1, length + 1)
        h_star = teacher_impulse_response(cfg.d, length)
        figures.append(line_figure(
            f"{tag}_impulse_error", f"|h_j − h*_j| / max|h*| after gradient flow (d={cfg.d}, k={cfg.k}, "
                                    f"seed {seeds[0]})", "j", "relative error",
            [series(name, js, np.abs(impulse_response(np.array(gf[0][name]["a"]), length)
                                     - h_star) / np.max(np.abs(h_star)), style)
             for name, style in (("clean", "o-"), ("poisoned", "s-"), ("benign", "^--"))],
            logx=False, logy=True))
    # gradient descent on the torch network (first configuration: the paper's d = 10, k = 7)
    tag = tags[0]
    gd = experiment.gradient_descent(CONFIGS[tag], gd_seeds, st,
                                     lambda t, total: ctx.progress(t, total, "gradient descent"))["rows"]
    gd_clean = np.array([r["clean"]["error"] for r in gd])
    gd_poisoned = np.array([r["poisoned"]["error"] for r in gd])
    checks += [
        Check(f"{tag}_gd_max_clean_error", float(gd_clean.max()), "<=", extrapolates,
              note=f"torch GD, η_t = {st.gd_step_factor:g}/λ_max(∇²L): the clean run extrapolates"),
        Check(f"{tag}_gd_min_poisoned_error", float(gd_poisoned.min()), ">=", extrapolates,
              note="torch GD: with the special example it does not"),
        Check(f"{tag}_gd_errors", float(gd_poisoned.mean()), ">=", 0.0, role="info",
              note=f"mean poisoned GD error; clean {', '.join(f'{e:.4g}' for e in gd_clean)}, poisoned "
                   f"{', '.join(f'{e:.4g}' for e in gd_poisoned)}; steps {[r['poisoned']['steps'] for r in gd]}"),
        Check(f"{tag}_gd_max_training_loss", nan_max(r[n]["loss"] for r in gd for n in ("clean", "poisoned")),
              "<=", 1e-28, role="precondition", note="GD fits to near machine precision"),
    ]
    details["gradient_descent"] = {"config": tag, "step_factor": st.gd_step_factor, "runs": gd}
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
               f"error max_{{j≤{SETTINGS.extrapolation_length}}} |h_j − h*_j|/max|h*| averages the paper's "
               f"{_A.paper[0]:g} (d = {_A.d}, k = {_A.k}; {_B.paper[0]:g} at d = {_B.d}, k = {_B.k}); with "
               f"the special example (1 at position k−1, teacher label) it averages {_A.paper[1]:.3f} "
               f"({_B.paper[1]:.3f}) — each within half a unit of the paper's last digit plus the "
               f"{SETTINGS.paper_confidence:.0%} Student-t half-width of our mean over seeds (wide with 3 "
               "seeds: the quick check mainly pins the poisoned number); and for every seed the clean "
               f"error is ≤ {SETTINGS.extrapolates:g} (extrapolates) and the poisoned one ≥ "
               f"{SETTINGS.extrapolates:g} (does not). The poisoned/clean ratio is reported only. Control: a "
               "non-special clean example (1 first in a length-(k+1) sequence) keeps it within 2× of the "
               "clean error. Gradient flow: derived polynomial loss, "
               f"{SETTINGS.method} with the derived Jacobian in the time τ (dτ = ‖a‖^(k−3) dt, same "
               f"trajectory), rtol {SETTINGS.rtol:g}, rerun at {SETTINGS.rtol / 100:g} (the errors must not "
               "move by more than 1e-5 relative); torch GD with η_t = "
               f"{SETTINGS.gd_step_factor:g}/λ_max(∇²L) (clean ≤ {SETTINGS.extrapolates:g}, poisoned ≥ "
               f"{SETTINGS.extrapolates:g}; GD's errors depend on the step, so the paper's numbers are not "
               f"its criterion). Settings {SETTINGS.values('configs')} (scale {_A.scale:g} and {_B.scale:g}), "
               f"{SETTINGS.values('flow_seeds')} seeds, GD {SETTINGS.values('gd_seeds')} seeds on "
               f"{SETTINGS.quick.configs[0]} only."),
    check=_check, derivation=_derivation, tags=("ssm", "poisoning", "gradient-flow")))


# -- beyond the theory: Adam, and an SSM inside a ReLU MLP -------------------------------------------
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
    der.step(f"Extrapolation error max_(j ≤ {BEYOND.test_length}) |h_j − 1| of the balanced fit: the "
             "prediction for the baseline-only Adam run. With the special example too (h_2 = h_k = 1) "
             "no balanced state fits (d u³ = d u^(k+1) = 1 forces d = 1), nor with a second baseline "
             "example of length k+1 (h_k = h_(k+1) = 1): the control.")
    return der


def _beyond_check(ctx) -> Outcome:
    from verify.figures import bar_figure

    b = ctx.settings(BEYOND)
    seeds = [ctx.seed + i for i in range(b.seeds)]
    rows = experiment.adam_runs(seeds, 0.0, lambda t, total: ctx.progress(t, total, "Adam (ε = 0)"), b)

    def errors(name, runs=rows):
        return np.array([r["error"] for r in runs if r["dataset"] == name])

    predicted = balanced_error(b.d, b.k, b.test_length)
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
    details = {"settings": asdict(b), "seeds": seeds, "adam_eps0": rows, "balanced_error": predicted}
    if ctx.profile == "full":
        as_used = experiment.adam_runs(seeds, b.eps_as_used, lambda t, total: ctx.progress(t, total, "Adam ε=1e-8"), b)
        mlp = experiment.mlp_runs(seeds, lambda t, total: ctx.progress(t, total, "MLP"), b, MLP)
        details.update(adam_eps_as_used=as_used, mlp=mlp, mlp_settings=asdict(MLP))
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
               f"paper's). Teacher A* = B* = C* = 1 (h* ≡ 1); student d = {BEYOND.d}, all of (a, B, C) "
               f"trained by Adam without ε (lr {BEYOND.lr:g}/(1 + t/{BEYOND.lr_halflife}), {BEYOND.steps} "
               f"full-batch steps) from a small init (scale {BEYOND.scale:g}, top two entries tied up to "
               f"{BEYOND.gap:g}); k = {BEYOND.k}; baseline example 1 at position 1, special "
               "example 1 at position k−1. Prediction: sign-like updates grow every coordinate alike, so "
               "the baseline-only run converges to the balanced fit a_i = b_i = c_i = d^(−1/(k+1)) and "
               f"its extrapolation error max_(j≤{BEYOND.test_length})|h_j − 1| equals the derived "
               "d^((k−1)/(k+1)) − 1 within 1% on every seed: Adam does not extrapolate where gradient "
               "flow does, so the poisoning question is moot (the poisoned/clean error ratio is "
               "reported). Control: with baseline + a length-(k+1) baseline example no balanced state "
               f"fits, and the comparison misses by ≥ 5%. {BEYOND.values('seeds')} seeds; full also "
               f"reports (no verdict) Adam as used (ε = {BEYOND.eps_as_used:g}) and the SSM inside a "
               f"width-{MLP.width} ReLU MLP (teacher {MLP.width * 0.5:g}·ReLU(Σx), {MLP.n_sequences} "
               f"Gaussian baseline sequences ± {MLP.n_sequences} special ones, relative RMS test error on "
               f"{MLP.n_test} length-{BEYOND.test_length} sequences)."),
    check=_beyond_check, derivation=_beyond_derivation, tags=("ssm", "poisoning", "adam"), kind="extension"))
