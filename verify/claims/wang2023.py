"""Wang et al. (2023, NeurIPS), "Transformed low-rank parameterization can help robust generalization
for tensor neural networks": the implicit bias of adversarial training of t-NNs.

What the paper proves (its implicit-bias theorem, Theorem 10 in the numbering of the authors' code
release github.com/pingzaiwang/Analysis4TNN, which also shows their MNIST experiment for it): for a
t-NN of J t-product layers with ReLU and a fully connected last layer (their eq. (5)), trained by
*gradient flow* on an exponential-type loss of the *adversarial* margins y f(x + δ(θ)), with a
*scale-invariant* perturbation (δ(aθ) = δ(θ): FGSM and PGD with a fixed radius on a homogeneous f),
once the adversarial loss falls below ℓ(0)/n (every perturbed training point classified correctly),
the flow converges in direction to a KKT point of the adversarial margin problem (the route of Lyu &
Li 2020); and when the network is *highly over-parameterized in depth*, J much larger than the depth
of some t-NN that robustly separates the data, the t-product weights at that limit are approximately
of transformed low rank: the layer average of ‖W_l‖_sp/‖W_l‖_F (tensor spectral over Frobenius norm)
is bounded below by a quantity that tends to 1 as J grows. This lifts Timor, Vardi & Shamir (2023,
ALT) from matrices to t-products (the authors' experiment "follows the setting on fully connected
layers" of that paper); for depth-2 ReLU networks Timor et al. show the bias may be absent.
[The statement is taken from the paper's abstract, the authors' README/code, and Timor et al.; its
constants were not available to this project, so no bound is evaluated, only the trend it predicts.]

Consequences for a check, and how the previous version departed from them:
- the theorem is about depth (J t-product layers + FC), not a two-layer net: the check trains J = 1
  and J = 3 (the depth of the authors' experiment) and predicts a higher layer-mean ratio at J = 3;
- it speaks about the limit direction: the flow is discretized as normalized GD (a time change of
  gradient flow, same path) run until the ratio has stopped moving and the robust loss is below
  ℓ(0)/n (both preconditions); plain GD on L had stopped at losses ~e^-1;
- its statistic is ‖W‖_sp/‖W‖_F per t-product layer, averaged over layers (the authors' code computes
  the same ratio), not the max-slice stable rank of the first layer alone (kept as information);
- the radius is tied to the data: ε = half the robust-separability radius of the training set;
- it holds for ε = 0 as well (standard training is the case δ = 0; the robust-separability
  condition is then weaker), so it does *not* predict that adversarial training ends closer to low
  rank than standard training. That comparison is the issue's reading of the claim; it is kept as a
  claim of its own (``wang2023-adversarial-vs-standard-rank``), at J = 3 and from the same init,
  sharing the runs.
- data: a multi-channel XOR mixture (±μ_a → +1, ±μ_b → −1), which no single direction separates, so
  the first layer cannot be trivially rank one under either training.
"""
from __future__ import annotations

from dataclasses import asdict, replace

import numpy as np

from theory.derivation import Derivation
from verify.experiments import wang2023 as experiment
from verify.experiments.wang2023 import SETTINGS
from verify.figures import line_figure, series
from verify.numbers import nan_max, nan_min
from verify.outcome import Check, Outcome
from verify.registry import Claim, register

_S = SETTINGS


def _derivation() -> Derivation:
    from theory.tproduct import tproduct_derivation

    der = Derivation("Transformed low rank of adversarially trained t-NNs (Wang et al. 2023)")
    der.extend(tproduct_derivation())
    der.step("t-NN (Wang et al. eq. (5)): f(x) = ⟨w, h_J⟩, h_l = ReLU(W_l ∗_M h_(l−1)), h_0 = x ∈ "
             "ℝ^(d×1×c); positively homogeneous of degree J + 1. Adversarial gradient flow: dθ/dt = "
             "−∇_θ L(θ; δ(θ)) with δ from FGSM (ℓ2: δ = −ε y∇ₓf/‖∇ₓf‖), scale invariant: δ(aθ) = δ(θ).")
    der.step("Theorem (as stated by the paper; constants not reproduced): once L_adv < ℓ(0)/n the flow "
             "converges in direction to a KKT point of the adversarial margin problem, and for depth J "
             "large relative to a robustly separating t-NN, (1/J) Σ_l ‖W_l‖_sp/‖W_l‖_F is bounded below "
             "by a quantity → 1 as J → ∞ (‖W‖_sp = max_k ‖M(W)_k‖₂).")
    der.step(f"Predictions checked: (i) depth trend, mean ratio(J = {_S.shallow}) ≤ {_S.rank_ratio} × mean "
             f"ratio(J = {_S.deep}) after adversarial training; (ii) the issue's reading, mean ratio "
             f"(standard) ≤ {_S.rank_ratio} × mean ratio(adversarial) at J = {_S.deep} from the same init — "
             "not implied by the theorem, which also covers ε = 0.")
    return der


def _fmt(values) -> str:
    return ", ".join(f"{v:.3f}" for v in values)


def _preconditions(tname: str, exp: dict, st, keys: list) -> list[Check]:
    """The theorem's separability condition and directional convergence, read on ``keys``: the runs
    (seed, arm, depth) whose ratios the claim's prediction and control use (a run the claim does not
    read cannot make its verdict inconclusive)."""
    runs, drift = exp[tname]["runs"], exp[tname]["drift"]
    settled = nan_max(drift[k] for k in keys)
    worst = max(keys, key=lambda k: -np.inf if np.isnan(drift[k]) else drift[k])
    horizons = sorted({exp[tname]["horizon"][k] for k in keys})
    span = " or ".join(f"{h // 2}–{h}" for h in horizons)
    read = sorted({f"{name} J = {depth}" for _, name, depth in keys})
    return [
        Check(f"{tname}_max_final_robust_log_loss", nan_max(runs[k]["log_loss"][-1] for k in keys), "<=",
              float(np.log(np.log(2) / st.task.n)), role="precondition",
              note="the theorem's separability condition: every run's (attacked) logistic loss is below "
                   f"ℓ(0)/n, i.e. every perturbed training point is classified correctly (runs read: "
                   f"{', '.join(read)})"),
        Check(f"{tname}_max_ratio_drift_second_half", settled, "<=", st.settled, role="precondition",
              note="directional convergence (proxy): the layer-mean ratio of every run the claim reads "
                   f"({', '.join(read)}) changes by at most a fraction {st.settled:g} over the second half "
                   f"(steps {span}; a batch still drifting at {st.steps} steps continued by {st.extend_steps} at a "
                   f"time up to {st.max_steps}), read as the least-squares trend through the records there "
                   "(normalized GD's step-to-step jitter averaged out). Largest: "
                   f"{worst[1]} J = {worst[2]}, run {exp['seeds'].index(worst[0])} ({drift[worst]:.3f} at "
                   f"{exp[tname]['horizon'][worst]} steps)" + (
                       "; above the bound at the cap, that run is still climbing between plateaus (its deeper "
                       "layers still aligning, the margin still rising): the flow has not reached the limit "
                       "direction the theorem speaks about" if not settled <= st.settled else "")),
    ]


def _in_unit(checks: list[Check], tname: str) -> list[Check]:
    """Each transform is a unit: its preconditions decide only its own predictions and controls."""
    return [replace(c, unit=tname) for c in checks]


def _trend_figures(tname: str, exp: dict, arms: list[str], st) -> list:
    runs, seeds, figures = exp[tname]["runs"], exp["seeds"], []
    for depth in (st.shallow, st.deep):
        figures.append(line_figure(
            f"{tname}_J{depth}_ratio_trend",
            f"layer-mean ‖W‖_sp/‖W‖_F, M = {tname.upper()}, J = {depth} (mean over seeds)",
            "normalized-GD step", "mean_l ‖W_l‖_sp / ‖W_l‖_F",
            [series(name, runs[(seeds[0], name, depth)]["step"], np.mean([runs[(s, name, depth)]["mean_spectral_frobenius"]
                                               for s in seeds], axis=0), style)
             for name, style in [("standard", "o-")] + [(a, "s-") for a in arms]],
            logx=False, logy=False))
    return figures


def _details(exp: dict, st) -> dict:
    details = {"task": asdict(st.task), "radius_fraction": st.radius_fraction, "rel_step": st.rel_step,
               "seeds": exp["seeds"], "steps": exp["steps"], "depths": [st.shallow, st.deep]}
    for tname in ("dct", "dft"):
        details[tname] = {f"J{depth}/{s}/{name}": r for (s, name, depth), r in exp[tname]["runs"].items()}
    return details


def _check_depth_trend(ctx) -> Outcome:
    """The theorem's prediction: adversarially trained deeper t-NNs end closer to transformed low rank."""
    st = ctx.settings(experiment.SETTINGS)
    shallow, deep, rank_ratio = st.shallow, st.deep, st.rank_ratio
    exp = experiment.experiment(ctx, st)
    seeds, checks, figures = exp["seeds"], [], []
    for tname in ("dct", "dft"):
        first = len(checks)
        start, final = exp[tname]["start"], exp[tname]["final"]
        for adv in exp["adversarial"]:
            depth_ratio = [final[(s, adv, shallow)] / final[(s, adv, deep)] for s in seeds]
            checks.append(Check(
                f"{tname}_{adv}_depth_trend", nan_max(depth_ratio), "<=", rank_ratio,
                note=f"M = {tname.upper()}: max over seeds of [layer-mean ‖W‖_sp/‖W‖_F at J = {shallow}] / "
                     f"[the same at J = {deep}] after {adv}; per seed {_fmt(depth_ratio)} (J = {shallow}: "
                     f"{_fmt(final[(s, adv, shallow)] for s in seeds)}; J = {deep}: "
                     f"{_fmt(final[(s, adv, deep)] for s in seeds)})"))
        init_depth = [start[(s, "fgsm", shallow)] / start[(s, "fgsm", deep)] for s in seeds]
        std_depth = [final[(s, "standard", shallow)] / final[(s, "standard", deep)] for s in seeds]
        checks += [
            Check(f"{tname}_depth_ratio_at_init", nan_min(init_depth), ">=", rank_ratio, role="control",
                  note=f"the same statistic at step 0 (the same inits): the untrained nets do not show the "
                       f"trend, so the prediction measures training, not the architecture; per seed "
                       f"{_fmt(init_depth)}"),
            Check(f"{tname}_standard_depth_trend", nan_max(std_depth), ">=", 0.0, role="info",
                  note="the same depth ratio after standard training (the theorem's ε = 0 case), per seed "
                       + _fmt(std_depth)),
            *_preconditions(tname, exp, st, [(s, adv, depth) for s in seeds for adv in exp["adversarial"]
                                             for depth in (shallow, deep)]),
        ]
        checks[first:] = _in_unit(checks[first:], tname)
        figures += _trend_figures(tname, exp, exp["adversarial"], st)
    return Outcome.from_checks(checks, details=_details(exp, st), figures=figures)


def _check_vs_standard(ctx) -> Outcome:
    """The issue's reading: adversarial training ends closer to transformed low rank than standard
    training from the same init (not a consequence of the theorem, which covers ε = 0 as well)."""
    st = ctx.settings(experiment.SETTINGS)
    shallow, deep, rank_ratio = st.shallow, st.deep, st.rank_ratio
    exp = experiment.experiment(ctx, st)
    seeds, checks, figures = exp["seeds"], [], []
    for tname in ("dct", "dft"):
        first = len(checks)
        runs, final = exp[tname]["runs"], exp[tname]["final"]
        for adv in exp["adversarial"]:
            vs_std = [final[(s, "standard", deep)] / final[(s, adv, deep)] for s in seeds]
            checks.append(Check(
                f"{tname}_{adv}_vs_standard", nan_max(vs_std), "<=", rank_ratio,
                note=f"J = {deep}, same init: max over seeds of [standard layer-mean ratio] / [{adv} layer-mean "
                     f"ratio]; per seed {_fmt(vs_std)} (standard {_fmt(final[(s, 'standard', deep)] for s in seeds)})"))
        for depth in (shallow, deep):
            vs_std = [final[(s, "standard", depth)] / final[(s, "fgsm", depth)] for s in seeds]
            sr = [nan_max(runs[(s, "fgsm", depth)]["max_stable_rank"][-1]) / nan_max(runs[(s, "standard", depth)]
                                                                            ["max_stable_rank"][-1]) for s in seeds]
            checks.append(Check(f"{tname}_J{depth}_fgsm_over_standard_max_slice_stable_rank", nan_max(sr), ">=", 0.0,
                                role="info", note=f"J = {depth}: [fgsm] / [standard] of the largest max-slice "
                                                  f"stable rank over layers, per seed {_fmt(sr)}; standard/fgsm "
                                                  f"layer-mean ratio per seed {_fmt(vs_std)}"))
        control = {depth: [abs(final[(s, "control", depth)] / final[(s, "standard", depth)] - 1) for s in seeds]
                   for depth in (shallow, deep)}
        checks += [
            Check(f"{tname}_J{deep}_control_small_radius_deviation", nan_max(control[deep]), "<=",
                  (1 - rank_ratio) / 2, role="control",
                  note=f"J = {deep}, the depth where the prediction is read: an attack of {st.control_fraction:g}× "
                       f"the radius through the same pipeline ends within half the required gap of standard; "
                       f"per seed {_fmt(control[deep])}. Where it does not, a 1% perturbation already sends "
                       "the flow to a different limit direction, and a standard-vs-adversarial difference at "
                       "that depth is not attributable to the attack"),
            Check(f"{tname}_J{shallow}_small_radius_deviation", nan_max(control[shallow]), ">=", 0.0,
                  role="info", note=f"the same at J = {shallow}, per seed {_fmt(control[shallow])}"),
            *_preconditions(tname, exp, st, [(s, name, deep) for s in seeds
                                             for name in ["standard", "control", *exp["adversarial"]]]),
        ]
        checks[first:] = _in_unit(checks[first:], tname)
        figures += _trend_figures(tname, exp, ["control"] + exp["adversarial"], st)
    return Outcome.from_checks(checks, details=_details(exp, st), figures=figures)


SETTING = (f"t-NNs of Wang et al. eq. (5): J t-product layers (ReLU, width D = {_S.task.D}) and a fully "
           f"connected layer, J = {_S.shallow} and {_S.deep}, M = DFT or orthonormal DCT along c = {_S.task.c} "
           f"channels, d = {_S.task.d}; XOR task x = ±μ_a (y = +1) or ±μ_b (y = −1) + {_S.task.sigma}ξ, "
           f"‖μ‖_F = 1, n = {_S.task.n}; logistic loss, gradient flow discretized as normalized GD (relative "
           f"step {_S.rel_step}). Standard vs FGSM-ℓ2 adversarial training (full: also PGD-5) at radius "
           f"{_S.radius_fraction} × the training set's robust-separability radius, from the same init. Statistic "
           f"(the paper's): layer mean of ‖W_l‖_sp/‖W_l‖_F, ‖W‖_sp = max_k ‖M(W)_k‖₂. Preconditions: robust "
           f"loss < ℓ(0)/n; ratio settled (relative change ≤ {_S.settled:g} over the second half, read as the fitted trend of the runs each claim reads). "
           f"{_S.values('seeds')} independently drawn runs (data and init) per seed, {_S.values('steps')} steps; a batch whose "
           f"runs read by a claim still drift is continued by half that at a time, up to {_S.max_horizon_factor}× the steps "
           "(a cap chosen on tuning claim seeds 10015–10054; drift still above the bound there: inconclusive). The paper's experiments are "
           "MNIST-scale (28×28×28 tensors, D = 128/256, 3 layers); these sizes are far smaller.")

register(Claim(
    id="wang2023-tnn-adversarial-low-rank",
    title="Adversarially trained deeper ReLU t-NNs end closer to transformed low rank",
    source="Wang et al. 2023",
    section="5 Other seed claims",
    statement=(f"{SETTING} Prediction (the theorem's trend), every seed and both transforms: after adversarial "
               f"training, layer-mean ratio(J = {_S.shallow}) ≤ {_S.rank_ratio} × ratio(J = {_S.deep}). Control: the "
               f"same depth ratio at initialization is ≥ {_S.rank_ratio} (the untrained nets show no trend)."),
    check=_check_depth_trend, derivation=_derivation, tags=("t-nn", "adversarial", "low-rank")))

register(Claim(
    id="wang2023-adversarial-vs-standard-rank",
    title="Adversarial training ends closer to transformed low rank than standard training (the issue's reading)",
    source="Wang et al. 2023",
    section="5 Other seed claims",
    statement=(f"{SETTING} Prediction (the issue's reading of Wang et al.; not implied by the theorem, which "
               f"covers ε = 0 as well), every seed and both transforms: at J = {_S.deep} and from the same init, "
               f"ratio(standard) ≤ {_S.rank_ratio} × ratio(adversarial). Control, at the same depth J = {_S.deep}: "
               f"an attack of radius × {_S.control_fraction:g} ends within {(1 - _S.rank_ratio) / 2:.0%} of standard. A reading tested on "
               "purpose (the theorem is about depth and covers ε = 0): expected to fail."),
    check=_check_vs_standard, derivation=_derivation, tags=("t-nn", "adversarial", "low-rank"),
    kind="reading", expected="failed"))
