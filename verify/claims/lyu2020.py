"""Lyu & Li (2020), "Gradient Descent Maximizes the Margin of Homogeneous Neural Networks": for an
L-homogeneous network trained by gradient descent (flow) on the logistic loss, once the data are fit
the smoothed normalized margin increases, and limit directions are KKT points of
min ½‖θ‖₂² s.t. y_i f(x_i; θ) ≥ 1 (Clarke gradients for ReLU).

Setting: two-layer networks without biases, squared ReLU (L = 3) and ReLU (L = 2), the degree derived
from the symbolic model; k Gaussian clusters in R^d (labels alternating by cluster) and, in the full
profile, scikit-learn's digits (odd vs even). Two gradient-descent runs in lockstep from the same small
initialization (float64, log-space loss), both with the loss-based learning rate η_t = α_t / L(θ_t):
- constant relative step (Lyu & Li's experiments): each step moves θ by the fraction δ of its norm, a
  time reparametrization of gradient flow under which the norm grows geometrically, so the direction
  gets time to converge. Late in training, once δ·|log L| is of order one, it leaves the step
  condition of their GD analysis and zigzags (period 2), and the smoothed margin can drop.
- capped step δ_t = min(δ, c/|log L|), the order of step that analysis allows (derived in
  ``numerics.homogeneous_optim.relative_step``); ‖θ‖^L then grows only linearly in t.

Checks per network, in two units (the margin's monotonicity; the KKT limit): the data are
separated (else inconclusive); on the capped run, the smoothed margin ℓ^{−1}(nL)/‖θ‖^L (derived)
never decreases by more than a declared relative amount between checkpoints once defined, and ends
above where it started; as negative control, the constant step, once outside the step condition
((L/2)·δ·|log L| ≥ 1, a precondition), drops by at least 3× that amount (its rival prediction,
"monotone whatever the step", would pass the check); on the constant-step run, whose norm grows far enough for the
direction to settle, the ℓ2 KKT residual of the normalized final parameters is small (decided once
within tolerance or settled over the last half of the run), and as negative control the same
parameters are far from KKT in the ℓ∞ and layerwise-spectral margin problems (≥ 3× the residual).
The runs live in ``verify.experiments.lyu2020``, the checks in ``verify.margin_checks``; measurements
and the choice of each setting: docs/claims/lyu2020-gd-homogeneous-kkt.md.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from theory.derivation import Derivation
from theory.homogeneous import two_layer_network
from theory.kkt import HomogeneousMarginProblem
from theory.smoothed_margin import smoothed_margin_derivation
from verify.context import Context
from verify.experiments import lyu2020 as experiment
from verify.experiments.lyu2020 import L2, SETTINGS
from verify.figures import line_figure, series
from verify.margin_checks import kkt_checks, monotonicity_checks
from verify.outcome import Check, Outcome
from verify.registry import Claim, register

SOURCE = "Lyu & Li 2020"
SECTION = "2 Homogeneous networks: KKT points of margin problems"


def _derivation() -> Derivation:
    d = Derivation("Margin maximization by gradient descent on homogeneous networks (Lyu & Li 2020)")
    for act in SETTINGS.activations:
        model = two_layer_network(act)
        d.extend(model.derivation(), prefix=f"{act}_")
    d.extend(smoothed_margin_derivation())
    d.extend(HomogeneousMarginProblem(two_layer_network("relu"), L2).derivation())
    return d


def _check(ctx: Context) -> Outcome:
    s = ctx.settings(experiment.SETTINGS)
    tol = s.kkt_tolerance
    checks, details, curves = [], {}, []
    for task, X, y, width in experiment.tasks(s, ctx.seed):
        for act in s.activations:
            key = f"{task}/{act}"
            r = experiment.run(s, ctx.seed, act, X, y, width, ctx.progress)
            details[key] = r
            checks += [replace(c, unit=f"{key} monotonicity")
                       for c in monotonicity_checks(key, r, s.margin_drop, s.control_ratio)]
            if len(r["capped"].get("smoothed_margin", ())) >= 2:
                curves.append(series(f"{key} (capped)", *zip(*r["capped"]["smoothed_margin"])))
            kkt = [Check(f"{key}: min_margin", r["min_margin"], ">=", np.finfo(float).tiny,
                         "precondition", r["message"] or "gradient descent has separated the data")]
            checks += [replace(c, unit=f"{key} kkt")
                       for c in kkt + kkt_checks(key, r, tol, s.settled_rate, s.control_ratio)]
    fig = line_figure("smoothed-margin", "Smoothed normalized margin (Lyu & Li), capped step", "step", "γ̃",
                      curves, logx=False, logy=False)
    return Outcome.from_checks(checks, details=details, figures=[fig])


register(Claim(
    id="lyu2020-gd-homogeneous-kkt",
    title="Gradient descent on homogeneous networks increases the margin and converges to an ℓ2 KKT point",
    source=SOURCE, section=SECTION,
    statement=("L-homogeneous two-layer networks (squared ReLU L = 3, ReLU L = 2; degree derived), logistic "
               "loss, gradient descent (loss-based step). Predictions: after the data are fit the "
               "smoothed margin ℓ⁻¹(nL)/‖θ‖^L does not decrease (checked with the relative step capped at "
               f"{SETTINGS.loss_cap:g}/|log L|, the order Lyu & Li's GD analysis allows); the normalized limit is a "
               "KKT point of min ½‖θ‖₂² s.t. y_i f(x_i; θ) ≥ 1 (checked on the constant relative step, "
               f"whose norm grows geometrically: small ℓ2 KKT residual, ≥{SETTINGS.control_ratio:g}× larger in "
               f"the ℓ∞ and layerwise-spectral problems). The drop tolerance is {SETTINGS.values('margin_drop')}; "
               "as control, the constant step (outside the step condition, (L/2)·δ·|log L| ≥ 1) must drop by ≥ "
               f"{SETTINGS.control_ratio:g}× it. KKT tolerance {SETTINGS.values('kkt_tolerance')}. "
               f"quick: {SETTINGS.clusters_k} Gaussian clusters in R^{SETTINGS.clusters_d}, width {SETTINGS.width}, "
               f"{SETTINGS.quick.steps} steps of relative size {SETTINGS.quick.relative_step:g}; full: adds "
               f"digits odd/even ({SETTINGS.digits_n} images), {SETTINGS.full.steps} steps of "
               f"{SETTINGS.full.relative_step:g}."),
    check=_check, derivation=_derivation, tags=("homogeneous", "gradient descent")))
