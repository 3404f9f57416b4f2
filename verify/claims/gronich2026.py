"""Gronich & Vardi (2026), "The Implicit Bias of Adam and Muon on Smooth Homogeneous Neural Networks":
with a learning-rate schedule satisfying ∫η = ∞ and η_t = o(t^{1/L−1}), momentum steepest descent
under a norm (MomentumGD: ℓ2, Signum: ℓ∞, Muon: the max of the layers' spectral norms), normalized GD,
Adam without ε (ℓ∞), and the hybrids Muon+Signum and Muon+Adam converge in direction (assumed) to KKT
points of min ½‖θ‖² s.t. y_i f(x_i; θ) ≥ 1 in the optimizer's own norm.

Each optimizer is given here by its per-block update rules; its norm is *derived* from them
(``theory.optimizer_geometry``: Adam's direction is sign(g); the update of a block max is the blocks'
LMOs divided by their weights, so the weights are inverse block learning rates) — including the
weighted hybrid of Muon+Adam and Muon with per-layer shape factors. The optimizers themselves are
compositions of ``numerics.optim`` (nsd / nmd / adam, ``steepest`` of a block max for per-layer LMOs,
``partition`` for Muon on the matrix + Signum/Adam on the output layer, ``scale_by_block`` for the
shape factors).

Model and data: a two-layer squared-ReLU network (C¹ and 3-homogeneous, as the theorem requires; the
degree is derived) of width m, without biases, on a synthetic task of k Gaussian clusters (labels
alternating by cluster); the full profile adds the same clusters with full-rank noise (where Muon
is slow, see below) and scikit-learn's digits, odd vs even, with a constant
input coordinate x ↦ (x, 1): first-layer biases, carried as a column of W, so f stays 3-homogeneous
in θ and the bias is measured in every optimizer's norm like any other weight. Without it a centred
image can end with every neuron inactive, which is absorbing (σ'(0) = 0: the point contributes no
gradient), and the digits are never separated (measured: width 8, one such image for all eight
optimizers; width 16, still one for Signum; with the coordinate, width 8, all eight separate within
3000 steps). Width 8 on the clusters although the limit uses two neurons: at widths 2 and 4 (seed 0,
full-rank noise) training leaves points with every neuron inactive (not separated).

Why the clusters' noise lies in the means' span (data of rank k = 2 in R^10; ℓ∞ and Adam still see
the coordinates of R^10): Muon's gradient in W has rank ≤ rank X, and the polar factor of its
momentum M moves every nonzero singular direction of M at unit speed. Directions of the data that the
two output-carrying neurons do not fill are carried by neurons with tiny u_j, whose rows then grow as
fast as the used ones and bend W's top singular vectors. With full-rank noise (m = 8 < d = 10, so
polar(M) has orthonormal rows: every neuron moves by a unit vector per step) Muon's residual is 0.102
at 15 000 steps (seed 0, β₁ = 0.5 and a common η₀ = 0.35; 0.106 with shape factors), 0.026 with those rows zeroed at T; 0.043 / 0.088
at 30 000 and 0.028 / 0.079 at 60 000 steps. Noise of rank r in a random subspace is not enough
(seed 0, r = 1: an unused neuron with u_j = −0.10 reaches ‖w_j‖ = 17.4 against 17.8 and 17.9 for the
used ones; 0.051 with shape factors). With rank X = 2 the used neurons fill M's row space and the
others get updates of their momentum's size, as under GD: 0.033 / 0.039 at seed 0, 0.014 / 0.014 at
seed 1. At seed 2 these data leave a whole cluster with every neuron inactive for all eight
optimizers: the data are never fit, the theorem's assumption, so the claim is inconclusive there and
the precondition names those points (docs/claims/gronich2026-homogeneous-optimizer-kkt.md). The full
profile keeps the full-rank clusters as a task.

Schedule η_t = η₀ t^{−a} with a = 0.7 (the paper uses 0.8; any a > 1 − 1/L = 2/3 is admissible): ‖θ‖ grows
like t^{1−a} and the residuals fall like a power of ‖θ‖, so a closer to 2/3 gets further in the same
steps. η₀ is capped per optimizer by momentum: the per-step change c of log L is about
L·γ·‖θ‖^{L−1}·η_t, and once it exceeds log(1/β₁) the momentum is dominated by stale gradients
(momentum tracks the gradient only while c stays small, the discrete form of η = o(t^{1/L−1})); so
‖θ‖^L grows at most linearly in t whatever the schedule. Since the normalized direction moves by
about d log ‖θ‖, the residuals fall like T^{−(1−a)} whatever η₀ (measured, seed 0: Muon 0.0228 at
30 000 steps, 0.0122 at 240 000; a 1.5× larger η₀ lowers NGD's only from 0.0188 to 0.0162 at 30 000).
β₁ = 0.2 (limit log 5) lets each η₀ bring c near 1 at the end. Adam's step is further scaled when the
gradient shrinks by e^(−c) per step: |m/√v| → √(1−β₁)·√(1−β₂e^{2c})/(1−β₁e^{c}) (0.71 at β = 0.2,
c = 0.67), uniform over coordinates for Adam alone but not for Muon+Adam, whose Muon block is
scale-free: the effective η^A/η^M, hence the weight of its norm, drifts (measured: η₀ 2.2× larger, c =
0.67, blocks 0.25‖W‖_sp = 13.6 against ‖u‖_∞ = 8.7 and residual 0.79 at 30 000 steps). Its η₀ keeps
c ≈ 0.1, where the factor is 0.998. All optimizers start from the same small initialization and are
trained in lockstep in float64 with the log-space loss.

Checks, per optimizer: the data are separated (else inconclusive); the KKT residual of the normalized
final parameters in its own norm is small; in every other optimizer's norm it is at least 3× larger
(negative control); its normalized margin in its own norm is the largest among the optimizers with a
different norm; directional convergence cos(θ_t, θ_T) and the per-step change of log L at the end
(momentum needs it small to track the gradient) are reported. A block max whose weights are within a
factor 1 + tolerance of the own norm's is the same prediction at that tolerance, neither a control nor
a rival (on the digits: Muon and shape-factor Muon, see ``verify.homogeneous_checks.same_prediction``).
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
                                 lambda opts: control_norms(opts, {o.name: o.norm for o in opts}))


register(Claim(
    id="gronich2026-homogeneous-optimizer-kkt",
    title="Each optimizer's limit direction is a KKT point of the margin problem in its own norm",
    source=SOURCE, section=SECTION,
    statement=("Smooth L-homogeneous network (two-layer squared ReLU, L = 3), logistic loss, schedule "
               f"η_t = η₀ t^(−{SETTINGS['decay']:g}) (∫η = ∞, η = o(t^(1/L−1)), decided symbolically). Predicted norms, "
               "derived from the update rules: NGD and MomentumGD ℓ2; Signum and Adam (ε = 0, β₁ ≤ β₂) "
               "ℓ∞; Muon max of the layers' spectral norms; Muon+Signum max{‖W‖_sp, ‖u‖_∞}; Muon+Adam "
               "max{(η^A/η^M)‖W‖_sp, ‖u‖_∞}; Muon with shape factors s_b a max weighted by 1/s_b. "
               "Checked per optimizer: KKT residual in its own norm, ≥3× larger in every other norm "
               "(including the inverted Muon+Adam weight; a block max within a factor 1 + tolerance of the "
               "own norm is the same prediction, neither control nor rival), largest own-norm margin; "
               "cos(θ_t, θ_T) reported. A residual above tolerance that has not settled (still falling, "
               "rising or fluctuating over the last half of the run) is inconclusive: the direction moves by only (1 − a)·log T in T steps. quick: 2 Gaussian "
               f"clusters in R^10 with noise in the means' span (16 points of rank 2), width 8, {SETTINGS['steps']['quick']} steps; full: "
               f"{SETTINGS['steps']['full']} steps on them, adds the same clusters with full-rank noise "
               f"({SETTINGS['full_task_steps']['clusters_full_rank']} steps) and digits odd/even (60 images, width 8, with a "
               f"constant input coordinate: first-layer biases, still homogeneous in θ; {SETTINGS['full_task_steps']['digits']} steps). "
               f"Momentum β₁ = {SETTINGS['beta1']:g} and Adam β₁ = β₂ = {SETTINGS['adam_betas'][0]:g}; η₀ per optimizer keeps momentum tracking the gradient."),
    check=_check, derivation=_derivation, tags=("homogeneous", "optimizers", "muon", "adam")))
