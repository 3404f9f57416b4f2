"""Tsilivis, Gronich, Vardi, Kempe (2024), "Flavors of Margin: Implicit Bias of Steepest Descent in
Homogeneous Neural Networks": Lyu & Li's result for steepest descent under any norm — on an
L-homogeneous network with an exponential-type loss, once the data are fit, the steepest flow's
limit directions are KKT points of min ½‖θ‖² s.t. y_i f(x_i; θ) ≥ 1 in the norm of the flow (their
algorithm-dependent margin increases). Assumed as in the paper: the flow (here normalized steepest
descent with a decaying step, its discretization), directional convergence.

The claim reads the experiment ``verify.experiments.tsilivis2024``: normalized steepest descent (no
momentum) under ℓ2, ℓ3 and ℓ∞ of θ and the max over the two layers of their spectral or nuclear norms,
each norm derived from its update rule (``theory.optimizer_geometry``), on the clusters task of
``gronich2026-homogeneous-optimizer-kkt`` (squared ReLU, L = 3 derived; η_t = η₀ max(t, t_w)^(−a), its
tail admissible, decided symbolically, its prefix t_w derived as gronich2026's). ℓ3 and the layerwise nuclear max lie outside Gronich & Vardi's optimizers; their
KKT faces are a smooth gradient with a dual ℓ3/2 stationarity and the vanishing singular values'
spectral ball. The checks are ``verify.homogeneous_checks.optimizer_kkt_outcome``, per optimizer: the
data are fit, the own-norm KKT residual is within tolerance (or has not settled: inconclusive), every
other norm's is ≥ 3× larger (negative control against the nearest rival; a rival whose KKT condition
the own KKT certificate implies at the run's endpoint within less than that separation — e.g. ℓ2 and
the layers' spectral max when the layers have equal singular values and are balanced,
``numerics.kkt_transfer`` — cannot be separated there: a pair unit, inconclusive), the own-norm margin
is the largest. A run above tolerance and not settled at the quick steps is continued (the same run) to
at most ``SETTINGS["continuation"]`` × them (gronich2026's per-draw horizon, its cap derived from this
claim's own cost). Measurements and the choice of η₀: docs/claims/tsilivis2024-steepest-descent-homogeneous-kkt.md.
"""
from __future__ import annotations

from theory.derivation import Derivation
from theory.homogeneous import two_layer_network
from theory.kkt import HomogeneousMarginProblem
from theory.optimizer_geometry import implied_norm_derivation
from theory.schedules import schedule_conditions_derivation
from verify.context import Context
import verify.experiments.tsilivis2024 as experiment
from verify.experiments.tsilivis2024 import L3, NORMS, SETTINGS
from verify.experiments.gronich2026 import design_check, design_text, prefix_check, schedule_text
from verify.homogeneous_checks import optimizer_kkt_outcome
from verify.outcome import Outcome
from verify.registry import Claim, register

SOURCE = "Tsilivis, Gronich, Vardi, Kempe 2024; Gronich & Vardi 2026"
SECTION = "2 Homogeneous networks: KKT points of margin problems"


def _derivation() -> Derivation:
    d = Derivation("Margin maximized by steepest descent in any norm on a homogeneous network "
                   "(Tsilivis et al. 2024)")
    model = two_layer_network(SETTINGS["activation"])
    d.extend(model.derivation())
    d.extend(schedule_conditions_derivation())
    d.extend(implied_norm_derivation(NORMS["layer-nuclear"]), prefix="layer_nuclear_")
    d.extend(HomogeneousMarginProblem(model, L3).derivation())
    return d


def _check(ctx: Context) -> Outcome:
    return optimizer_kkt_outcome(ctx, SETTINGS, experiment.tasks(ctx), experiment.optimizers,
                                 experiment.control_norms,
                                 [design_check(ctx), prefix_check(experiment.optimizers(), SETTINGS)])


register(Claim(
    id="tsilivis2024-steepest-descent-homogeneous-kkt",
    title="Steepest descent in any norm: the limit direction is a KKT point of that norm's margin problem",
    source=SOURCE, section=SECTION,
    statement=("Smooth L-homogeneous network (two-layer squared ReLU, L = 3), logistic loss, normalized "
               f"steepest descent with {schedule_text(SETTINGS)}, under ℓ2, ℓ3 and ℓ∞ of θ and the "
               "layerwise spectral and nuclear maxima (norms derived from the update rules). Checked per "
               "optimizer: KKT residual of the normalized final parameters in its own norm, ≥ 3× larger in "
               "every other one (a rival whose KKT condition the own certificate implies at the endpoint "
               "within less than that cannot be separated there: inconclusive), largest own-norm margin, "
               "residual settled (quick: a run above tolerance and not settled is first continued, the same "
               f"run, in doublings up to {SETTINGS['continuation']['quick']}× the steps (a budget: one member continued "
               "alone to the cap costs at most the seed task) — a falling one only if its "
               "own measured rate reaches tolerance by then — and read where it stops; unsettled at the cap, "
               "inconclusive); cos(θ_t, θ_T) reported. Data: gronich2026's clusters, "
               f"{design_text(SETTINGS)}; quick "
               f"{SETTINGS['steps']['quick']} steps (tolerance {SETTINGS['kkt_tolerance']['quick']:g}), full "
               f"{SETTINGS['steps']['full']} ({SETTINGS['kkt_tolerance']['full']:g}). ℓ1.5 is measured too slow to include (see the claim's notes)."),
    check=_check, derivation=_derivation, tags=("homogeneous", "optimizers", "steepest-descent")))
