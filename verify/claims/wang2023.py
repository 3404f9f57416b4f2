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

from dataclasses import replace

import numpy as np

from theory.derivation import Derivation
from verify.figures import line_figure, series
from verify.numbers import nan_max, nan_min
from verify.outcome import Check, Outcome
from verify.registry import Claim, register

#: Task (both profiles): x = s·μ_k + σξ ∈ ℝ^{d×c}, k ∈ {a, b} uniform, s = ±1, y = +1 for k = a,
#: ‖μ_a‖_F = ‖μ_b‖_F = 1, ⟨μ_a, μ_b⟩ = 0, ξ ~ N(0, I). t-NN width D, He-type init (numerics.tnn).
TASK = dict(n=32, d=8, c=4, D=16, sigma=0.15, init_scale=1.0)
#: Normalized-GD step: each update moves this fraction of ‖θ‖.
REL_STEP = 0.02
#: Depths compared (J = number of t-product layers; the authors' experiment uses 3).
SHALLOW, DEEP = 1, 3
#: The attack radius as a fraction of the training set's robust-separability radius
#: r_sep = ½ min_{y_i ≠ y_j} ‖x_i − x_j‖_F (above r_sep no classifier is robust on the training set),
#: and the control's radius (1% of the attack's).
RADIUS_FRACTION = 0.5
CONTROL_FRACTION = 0.01
#: "measurably closer": the farther configuration's ratio at most this fraction of the closer one's.
RANK_RATIO = 0.9
#: directional convergence: over the second half of training the layer-mean ratio of every run moves
#: by at most half the gap the predictions require (the same tolerance as the control).
SETTLED = (1 - RANK_RATIO) / 2
#: normalized-GD steps per profile. Full is inconclusive: one run (DFT, seed 4, J = 3, FGSM) climbs
#: through plateaus of its ratio, 0.52 → 0.60 → 0.72, and is still climbing at 6000 steps (measured;
#: 1104 s CPU for both claims), so doubling the steps only doubles the cost.
STEPS = {"quick": 2000, "full": 3000}


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
    der.step(f"Predictions checked: (i) depth trend, mean ratio(J = {SHALLOW}) ≤ {RANK_RATIO} × mean "
             f"ratio(J = {DEEP}) after adversarial training; (ii) the issue's reading, mean ratio "
             f"(standard) ≤ {RANK_RATIO} × mean ratio(adversarial) at J = {DEEP} from the same init — "
             "not implied by the theorem, which also covers ε = 0.")
    return der


def _task(seed: int):
    n, d, c, sigma = TASK["n"], TASK["d"], TASK["c"], TASK["sigma"]
    rng = np.random.default_rng(10_000 + seed)
    mu = rng.standard_normal((2, d * c))
    mu[1] -= (mu[0] @ mu[1]) / (mu[0] @ mu[0]) * mu[0]
    mu /= np.linalg.norm(mu, axis=1, keepdims=True)
    k = rng.integers(0, 2, size=n)
    y = np.where(k == 0, 1.0, -1.0)
    X = rng.choice(np.array([-1.0, 1.0]), size=n)[:, None] * mu[k] + sigma * rng.standard_normal((n, d * c))
    return X.reshape(n, d, c), y


def separability_radius(X: np.ndarray, y: np.ndarray) -> float:
    """½ min over opposite-label pairs of ‖x_i − x_j‖_F: the largest ℓ2 radius at which the training
    set can still be classified robustly (by any classifier)."""
    flat = X.reshape(len(X), -1)
    dist = np.linalg.norm(flat[:, None] - flat[None], axis=-1)
    return 0.5 * float(dist[y[:, None] != y[None]].min())


def _runs(transform_name: str, seeds: list[int], depth: int, arms: dict, steps: int, progress) -> dict:
    """All (seed, arm) members of one depth trained in lockstep for one transform; per-member
    histories (radii in units of each seed's separability radius)."""
    from numerics.tnn import tnn_init, transform
    from numerics.tnn_train import Attack, train_tnn
    from numerics.train import small_tensor_mode

    out = {}
    widths = (TASK["d"],) + (TASK["D"],) * depth
    for attack, names in arms.values():
        members, layers, W, X, Y, radii = [], [], [], [], [], []
        for seed in seeds:
            x, y = _task(seed)
            r_sep = separability_radius(x, y)
            ls, w = tnn_init(widths, TASK["c"], TASK["init_scale"], seed)
            for name, fraction in names.items():
                members.append((seed, name))
                layers.append(ls), W.append(w), X.append(x), Y.append(y), radii.append(fraction * r_sep)
        record = tuple(range(0, steps + 1, max(1, steps // 10)))
        with small_tensor_mode():
            run = train_tnn([np.stack([ls[l] for ls in layers]) for l in range(depth)], np.stack(W),
                            np.stack(X), np.stack(Y), transform(transform_name, TASK["c"]), steps, REL_STEP,
                            Attack(*attack), np.array(radii), record=record, progress=progress)
        for p, key in enumerate(members):
            out[key] = {k: [h["step"] if k == "step" else h[k][p] for h in run.history]
                        for k in ("step", "mean_spectral_frobenius", "spectral_frobenius", "max_stable_rank",
                                  "log_loss", "clean_log_loss", "min_clean_margin", "normalized_margin")}
            out[key]["radius"] = radii[p]
    return out


def _fmt(values) -> str:
    return ", ".join(f"{v:.3f}" for v in values)


def _experiment(ctx) -> dict:
    """Every run of both claims (cached per transform and depth for the whole `verify` run): per
    transform, the runs keyed (seed, arm, depth) and the layer-mean ratio at step 0, at half time and
    at the end."""
    seeds = [ctx.seed + i for i in range(ctx.pick(quick=2, full=5))]
    steps = ctx.pick(quick=STEPS["quick"], full=STEPS["full"])
    arms = {"l2": (("l2", 1), {"standard": 0.0, "control": CONTROL_FRACTION * RADIUS_FRACTION,
                               "fgsm": RADIUS_FRACTION})}
    if ctx.profile == "full":
        arms["pgd"] = (("l2", 5), {"pgd": RADIUS_FRACTION})
    out = {"seeds": seeds, "steps": steps, "adversarial": ["fgsm"] + (["pgd"] if ctx.profile == "full" else [])}
    for tname in ("dct", "dft"):
        runs = {}
        for depth in (SHALLOW, DEEP):
            got = ctx.shared(("wang2023", tname, depth, tuple(seeds), steps),
                             lambda: _runs(tname, seeds, depth, arms, steps,
                                           lambda t, total: ctx.progress(t, total, f"t-NN {tname} J={depth}")))
            runs.update({(s, name, depth): r for (s, name), r in got.items()})
        ratio = {key: r["mean_spectral_frobenius"] for key, r in runs.items()}
        out[tname] = {"runs": runs, "start": {k: v[0] for k, v in ratio.items()},
                      "half": {k: v[len(v) // 2] for k, v in ratio.items()},
                      "final": {k: v[-1] for k, v in ratio.items()}}
    return out


def _preconditions(tname: str, exp: dict) -> list[Check]:
    runs, final, half = exp[tname]["runs"], exp[tname]["final"], exp[tname]["half"]
    settled = nan_max(abs(final[k] / half[k] - 1) for k in runs)
    steps = exp["steps"]
    return [
        Check(f"{tname}_max_final_robust_log_loss", nan_max(r["log_loss"][-1] for r in runs.values()), "<=",
              float(np.log(np.log(2) / TASK["n"])), role="precondition",
              note="the theorem's separability condition: every run's (attacked) logistic loss is below "
                   "ℓ(0)/n, i.e. every perturbed training point is classified correctly"),
        Check(f"{tname}_max_ratio_drift_second_half", settled, "<=", SETTLED, role="precondition",
              note="directional convergence (proxy): the layer-mean ratio of every run moves by at most "
                   f"a fraction {SETTLED:g} between step {steps // 2} and step {steps}"),
    ]


def _in_unit(checks: list[Check], tname: str) -> list[Check]:
    """Each transform is a unit: its preconditions decide only its own predictions and controls."""
    return [replace(c, unit=tname) for c in checks]


def _trend_figures(tname: str, exp: dict, arms: list[str]) -> list:
    runs, seeds, figures = exp[tname]["runs"], exp["seeds"], []
    for depth in (SHALLOW, DEEP):
        steps_axis = runs[(seeds[0], "standard", depth)]["step"]
        figures.append(line_figure(
            f"{tname}_J{depth}_ratio_trend",
            f"layer-mean ‖W‖_sp/‖W‖_F, M = {tname.upper()}, J = {depth} (mean over seeds)",
            "normalized-GD step", "mean_l ‖W_l‖_sp / ‖W_l‖_F",
            [series(name, steps_axis, np.mean([runs[(s, name, depth)]["mean_spectral_frobenius"]
                                               for s in seeds], axis=0), style)
             for name, style in [("standard", "o-")] + [(a, "s-") for a in arms]],
            logx=False, logy=False))
    return figures


def _details(exp: dict) -> dict:
    details = {"task": TASK, "radius_fraction": RADIUS_FRACTION, "rel_step": REL_STEP, "seeds": exp["seeds"],
               "steps": exp["steps"], "depths": [SHALLOW, DEEP]}
    for tname in ("dct", "dft"):
        details[tname] = {f"J{depth}/{s}/{name}": r for (s, name, depth), r in exp[tname]["runs"].items()}
    return details


def _check_depth_trend(ctx) -> Outcome:
    """The theorem's prediction: adversarially trained deeper t-NNs end closer to transformed low rank."""
    exp = _experiment(ctx)
    seeds, checks, figures = exp["seeds"], [], []
    for tname in ("dct", "dft"):
        first = len(checks)
        start, final = exp[tname]["start"], exp[tname]["final"]
        for adv in exp["adversarial"]:
            depth_ratio = [final[(s, adv, SHALLOW)] / final[(s, adv, DEEP)] for s in seeds]
            checks.append(Check(
                f"{tname}_{adv}_depth_trend", nan_max(depth_ratio), "<=", RANK_RATIO,
                note=f"M = {tname.upper()}: max over seeds of [layer-mean ‖W‖_sp/‖W‖_F at J = {SHALLOW}] / "
                     f"[the same at J = {DEEP}] after {adv}; per seed {_fmt(depth_ratio)} (J = {SHALLOW}: "
                     f"{_fmt(final[(s, adv, SHALLOW)] for s in seeds)}; J = {DEEP}: "
                     f"{_fmt(final[(s, adv, DEEP)] for s in seeds)})"))
        init_depth = [start[(s, "fgsm", SHALLOW)] / start[(s, "fgsm", DEEP)] for s in seeds]
        std_depth = [final[(s, "standard", SHALLOW)] / final[(s, "standard", DEEP)] for s in seeds]
        checks += [
            Check(f"{tname}_depth_ratio_at_init", nan_min(init_depth), ">=", RANK_RATIO, role="control",
                  note=f"the same statistic at step 0 (the same inits): the untrained nets do not show the "
                       f"trend, so the prediction measures training, not the architecture; per seed "
                       f"{_fmt(init_depth)}"),
            Check(f"{tname}_standard_depth_trend", nan_max(std_depth), ">=", 0.0, role="info",
                  note="the same depth ratio after standard training (the theorem's ε = 0 case), per seed "
                       + _fmt(std_depth)),
            *_preconditions(tname, exp),
        ]
        checks[first:] = _in_unit(checks[first:], tname)
        figures += _trend_figures(tname, exp, exp["adversarial"])
    return Outcome.from_checks(checks, details=_details(exp), figures=figures)


def _check_vs_standard(ctx) -> Outcome:
    """The issue's reading: adversarial training ends closer to transformed low rank than standard
    training from the same init (not a consequence of the theorem, which covers ε = 0 as well)."""
    exp = _experiment(ctx)
    seeds, checks, figures = exp["seeds"], [], []
    for tname in ("dct", "dft"):
        first = len(checks)
        runs, final = exp[tname]["runs"], exp[tname]["final"]
        for adv in exp["adversarial"]:
            vs_std = [final[(s, "standard", DEEP)] / final[(s, adv, DEEP)] for s in seeds]
            checks.append(Check(
                f"{tname}_{adv}_vs_standard", nan_max(vs_std), "<=", RANK_RATIO,
                note=f"J = {DEEP}, same init: max over seeds of [standard layer-mean ratio] / [{adv} layer-mean "
                     f"ratio]; per seed {_fmt(vs_std)} (standard {_fmt(final[(s, 'standard', DEEP)] for s in seeds)})"))
        for depth in (SHALLOW, DEEP):
            vs_std = [final[(s, "standard", depth)] / final[(s, "fgsm", depth)] for s in seeds]
            sr = [nan_max(runs[(s, "fgsm", depth)]["max_stable_rank"][-1]) / nan_max(runs[(s, "standard", depth)]
                                                                            ["max_stable_rank"][-1]) for s in seeds]
            checks.append(Check(f"{tname}_J{depth}_fgsm_over_standard_max_slice_stable_rank", nan_max(sr), ">=", 0.0,
                                role="info", note=f"J = {depth}: [fgsm] / [standard] of the largest max-slice "
                                                  f"stable rank over layers, per seed {_fmt(sr)}; standard/fgsm "
                                                  f"layer-mean ratio per seed {_fmt(vs_std)}"))
        control = {depth: [abs(final[(s, "control", depth)] / final[(s, "standard", depth)] - 1) for s in seeds]
                   for depth in (SHALLOW, DEEP)}
        checks += [
            Check(f"{tname}_J{DEEP}_control_small_radius_deviation", nan_max(control[DEEP]), "<=",
                  (1 - RANK_RATIO) / 2, role="control",
                  note=f"J = {DEEP}, the depth where the prediction is read: an attack of {CONTROL_FRACTION:g}× "
                       f"the radius through the same pipeline ends within half the required gap of standard; "
                       f"per seed {_fmt(control[DEEP])}. Where it does not, a 1% perturbation already sends "
                       "the flow to a different limit direction, and a standard-vs-adversarial difference at "
                       "that depth is not attributable to the attack"),
            Check(f"{tname}_J{SHALLOW}_small_radius_deviation", nan_max(control[SHALLOW]), ">=", 0.0,
                  role="info", note=f"the same at J = {SHALLOW}, per seed {_fmt(control[SHALLOW])}"),
            *_preconditions(tname, exp),
        ]
        checks[first:] = _in_unit(checks[first:], tname)
        figures += _trend_figures(tname, exp, ["control"] + exp["adversarial"])
    return Outcome.from_checks(checks, details=_details(exp), figures=figures)


SETTING = (f"t-NNs of Wang et al. eq. (5): J t-product layers (ReLU, width D = {TASK['D']}) and a fully "
           f"connected layer, J = {SHALLOW} and {DEEP}, M = DFT or orthonormal DCT along c = {TASK['c']} "
           f"channels, d = {TASK['d']}; XOR task x = ±μ_a (y = +1) or ±μ_b (y = −1) + {TASK['sigma']}ξ, "
           f"‖μ‖_F = 1, n = {TASK['n']}; logistic loss, gradient flow discretized as normalized GD (relative "
           f"step {REL_STEP}). Standard vs FGSM-ℓ2 adversarial training (full: also PGD-5) at radius "
           f"{RADIUS_FRACTION} × the training set's robust-separability radius, from the same init. Statistic "
           f"(the paper's): layer mean of ‖W_l‖_sp/‖W_l‖_F, ‖W‖_sp = max_k ‖M(W)_k‖₂. Preconditions: robust "
           f"loss < ℓ(0)/n; ratio settled (relative change ≤ {SETTLED:g} over the second half). Quick: 2 seeds, "
           f"{STEPS['quick']} steps; full: 5 seeds, {STEPS['full']} steps. The paper's experiments are "
           "MNIST-scale (28×28×28 tensors, D = 128/256, 3 layers); these sizes are far smaller.")

register(Claim(
    id="wang2023-tnn-adversarial-low-rank",
    title="Adversarially trained deeper ReLU t-NNs end closer to transformed low rank",
    source="Wang et al. 2023",
    section="5 Other seed claims",
    statement=(f"{SETTING} Prediction (the theorem's trend), every seed and both transforms: after adversarial "
               f"training, layer-mean ratio(J = {SHALLOW}) ≤ {RANK_RATIO} × ratio(J = {DEEP}). Control: the "
               f"same depth ratio at initialization is ≥ {RANK_RATIO} (the untrained nets show no trend)."),
    check=_check_depth_trend, derivation=_derivation, tags=("t-nn", "adversarial", "low-rank")))

register(Claim(
    id="wang2023-adversarial-vs-standard-rank",
    title="Adversarial training ends closer to transformed low rank than standard training (the issue's reading)",
    source="Wang et al. 2023",
    section="5 Other seed claims",
    statement=(f"{SETTING} Prediction (the issue's reading of Wang et al.; not implied by the theorem, which "
               f"covers ε = 0 as well), every seed and both transforms: at J = {DEEP} and from the same init, "
               f"ratio(standard) ≤ {RANK_RATIO} × ratio(adversarial). Control, at the same depth J = {DEEP}: "
               f"an attack of radius × {CONTROL_FRACTION:g} ends within 5% of standard. A reading tested on "
               "purpose (the theorem is about depth and covers ε = 0): expected to fail."),
    check=_check_vs_standard, derivation=_derivation, tags=("t-nn", "adversarial", "low-rank"),
    kind="reading", expected="failed"))
