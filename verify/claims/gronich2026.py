"""Gronich & Vardi (2026), "The Implicit Bias of Adam and Muon on Smooth Homogeneous Neural Networks":
with a learning-rate schedule satisfying ∫η = ∞ and η_t = o(t^{1/L−1}), momentum steepest descent
under a norm (MomentumGD: ℓ2, Signum: ℓ∞, Muon: the max of the layers' spectral norms), normalized GD,
Adam without ε (ℓ∞), and the hybrids Muon+Signum and Muon+Adam converge in direction (assumed) to KKT
points of min ½‖θ‖² s.t. y_i f(x_i; θ) ≥ 1 in the optimizer's own norm.

The claim reads the experiment ``verify.experiments.gronich2026``: the optimizers given by their
per-block update rules, from which each one's norm is derived (``theory.optimizer_geometry``), the
tasks (a two-layer squared-ReLU network, C¹ and 3-homogeneous, on Gaussian clusters; the full profile
adds full-rank clusters and the digits with a constant input coordinate; neurons initialized in mirrored
pairs, ``numerics.network_init``; the clusters' means at a fixed obtuse cosine; each optimizer's schedule
η₀ max(t, t_w)^(−a), admissible by its tail, with the prefix t_w derived so that no step moves a neuron by
more than a fraction ρ of its initial size, ``prefix_hold``) and the control norms. The
derivation shows the network's degree, the schedule conditions decided symbolically, the derived norms
of Muon+Adam and of Muon with shape factors, and the ℓ∞ margin problem's KKT conditions. The checks are
``verify.homogeneous_checks.optimizer_kkt_outcome``, per optimizer (each its own unit): the data are fit
(else inconclusive, naming the points with every neuron inactive); the KKT residual of the normalized
final parameters in its own norm is within tolerance, or has not settled (inconclusive); in every other
optimizer's norm it is ≥ 3× larger (negative control against the nearest rival; a rival whose own limit
is KKT in this norm too is the same prediction on the data, and so is a rival whose KKT condition the own
KKT certificate implies at the run's endpoint within less than the separation asked — one way, e.g. ℓ2
and the layers' spectral max when the layers have equal singular values and are balanced,
``numerics.kkt_transfer``: a pair unit, inconclusive; a rival that could be separated and is not
fails); its own-norm
margin is the largest; cos(θ_t, θ_T) and the last step's change of log L are reported. Per-draw horizon
(quick): a run whose own-norm residual is above tolerance and not settled at the quick steps T is
continued, the same run, to 2T and 4T at most (``SETTINGS["continuation"]``; derived there), and read at
the horizon where it stops; the others are read at T as before, bitwise. Design notes and
measurements: docs/claims/gronich2026-homogeneous-optimizer-kkt.md.
"""
from __future__ import annotations

from theory.derivation import Derivation
from theory.homogeneous import two_layer_network
from theory.kkt import HomogeneousMarginProblem
from theory.optimizer_geometry import BlockRule, implied_norm_derivation
from theory.schedules import schedule_conditions_derivation
from verify.context import Context
from verify.homogeneous_checks import optimizer_kkt_outcome
import verify.experiments.gronich2026 as experiment
from verify.experiments.gronich2026 import (ETA, ETA_A, ETA_M, LINF, S_U, S_W, SETTINGS, SPECTRAL,
                                            control_norms, optimizers)
from verify.outcome import Outcome
from verify.registry import Claim, register

SOURCE = "Gronich & Vardi 2026"
SECTION = "2 Homogeneous networks: KKT points of margin problems"


def _derivation() -> Derivation:
    d = Derivation("Margin maximized by each optimizer on a smooth homogeneous network (Gronich & Vardi 2026)")
    model = two_layer_network(SETTINGS["activation"])
    d.extend(model.derivation())
    d.extend(schedule_conditions_derivation())
    d.extend(implied_norm_derivation([BlockRule("W", "momentum_steepest", ETA_M, SPECTRAL),
                                      BlockRule("u", "adam", ETA_A)]), prefix="muon_adam_")
    d.extend(implied_norm_derivation([BlockRule("W", "momentum_steepest", ETA * S_W, SPECTRAL),
                                      BlockRule("u", "momentum_steepest", ETA * S_U, SPECTRAL)]),
             prefix="muon_shape_")
    d.extend(HomogeneousMarginProblem(model, LINF).derivation())
    return d


def _check(ctx: Context) -> Outcome:
    return optimizer_kkt_outcome(ctx, SETTINGS, experiment.tasks(ctx), optimizers,
                                 lambda opts: control_norms(opts, {o.name: o.norm for o in opts}),
                                 [experiment.design_check(ctx), experiment.prefix_check(_clusters_optimizers())])


def _clusters_optimizers():
    from numerics.networks import TwoLayerNetwork
    return optimizers(TwoLayerNetwork.build(SETTINGS["activation"], SETTINGS["width"], SETTINGS["clusters"]["d"]))


register(Claim(
    id="gronich2026-homogeneous-optimizer-kkt",
    title="Each optimizer's limit direction is a KKT point of the margin problem in its own norm",
    source=SOURCE, section=SECTION,
    statement=("Smooth L-homogeneous network (two-layer squared ReLU, L = 3), logistic loss, schedule "
               f"{experiment.schedule_text()}. Predicted norms, "
               "derived from the update rules: NGD and MomentumGD ℓ2; Signum and Adam (ε = 0, β₁ ≤ β₂) "
               "ℓ∞; Muon max of the layers' spectral norms; Muon+Signum max{‖W‖_sp, ‖u‖_∞}; Muon+Adam "
               "max{(η^A/η^M)‖W‖_sp, ‖u‖_∞}; Muon with shape factors s_b a max weighted by 1/s_b. "
               "Checked per optimizer: KKT residual in its own norm, ≥3× larger in every other norm "
               "(including the inverted Muon+Adam weight; a block max within a factor 1 + tolerance of the "
               "own norm is the same prediction, neither control nor rival; a rival whose KKT condition "
               "the own KKT certificate implies at the endpoint, to within less than 3× the own residual, "
               "cannot be separated there: inconclusive), largest own-norm margin; "
               "cos(θ_t, θ_T) reported. A residual above tolerance that has not settled (still falling, "
               "rising or fluctuating over the last half of the run) is inconclusive: the direction moves by only (1 − a)·log T in T steps. "
               f"Per-draw horizon (quick): such a run is first continued — the same run, schedule and optimizer "
               f"state carried on — in doublings up to {SETTINGS['continuation']['quick']}× the steps (a budget: one member continued "
               "alone to the cap costs at most the seed task; a falling one "
               "only if its own measured rate reaches tolerance by then) and read over the last half of its own "
               "horizon; unsettled at the cap, inconclusive. quick: "
               f"{experiment.design_text()}, "
               f"{SETTINGS['steps']['quick']} steps (KKT tolerance {SETTINGS['kkt_tolerance']['quick']:g}); full: "
               f"{SETTINGS['steps']['full']} steps on them ({SETTINGS['kkt_tolerance']['full']:g}), adds the same clusters with full-rank noise "
               f"({SETTINGS['full_task_steps']['clusters_full_rank']} steps) and digits odd/even (60 images, width 8, with a "
               f"constant input coordinate: first-layer biases, still homogeneous in θ; {SETTINGS['full_task_steps']['digits']} steps). "
               f"Momentum β₁ = {SETTINGS['beta1']:g} and Adam β₁ = β₂ = {SETTINGS['adam_betas'][0]:g}; η₀ per optimizer keeps momentum tracking the gradient."),
    check=_check, derivation=_derivation, tags=("homogeneous", "optimizers", "muon", "adam")))
