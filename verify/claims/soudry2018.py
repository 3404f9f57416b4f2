"""Soudry, Hoffer, Nacson, Gunasekar, Srebro (2018), "The Implicit Bias of Gradient Descent on
Separable Data": gradient descent with a fixed step η < 2/β on logistic loss over separable binary
data satisfies w(t) = ŵ log t + ρ(t) with ρ bounded, where ŵ is the hard-margin SVM solution in
min-norm form (min ‖w‖₂ s.t. y_i⟨w, x_i⟩ ≥ 1). Hence the direction converges to ŵ, only
logarithmically: the normalized-margin gap is O(1/log t).

Check: the residual ρ(t) = w(t) − ŵ log t must stop growing: over the last decade of steps its
change is small compared with the growth ‖ŵ‖ log 10 of the leading term; and the normalized-margin
gap must decay like 1/log t (its log-log slope against 1/log t at least ½, halfway between a gap
that does not decay, slope 0, and the predicted slope 1). Negative control, against the nearest
rival of the ℓp family (p = 1, 3, ∞): the same residual with that norm's max-margin solution (in the
same min-norm form, min margin 1) in place of ŵ keeps growing.
"""
from __future__ import annotations

import math

import numpy as np

from theory.derivation import Derivation
from theory.margin import MarginProblem
from theory.norms import parse_norm
from theory.rates import rate_derivation
from verify import figures as figs
from verify.context import Context
from verify.experiments import soudry2018 as experiment
from verify.experiments.soudry2018 import SETTINGS, gap_log_exponent, residual_growth
from verify.linear_margins import CONTROL_FACTOR, SEPARATION_FACTOR, certificate_checks
from verify.numbers import nan_min
from verify.outcome import Check, Outcome
from verify.registry import Claim, register

SOURCE = "Soudry, Hoffer, Nacson, Gunasekar, Srebro 2018"


def _check(ctx: Context) -> Outcome:
    s = ctx.settings(SETTINGS)
    problem, eta, l2, rivals, run = experiment.run(ctx)
    traj, svm = run.trajectories["gd"], run.solutions[l2.name]
    tol = s.residual_tolerance
    # the predictions differ: ‖ŵ − w'‖/‖ŵ‖ is what the control's residual growth tends to
    separation = {r.name: float(np.linalg.norm(svm.W - run.solutions[r.name].W) / np.linalg.norm(svm.W))
                  for r in rivals}
    nearest = min(separation, key=lambda n: separation[n] if np.isfinite(separation[n]) else -np.inf)
    checks = certificate_checks(run) + [
        Check("rival_predictions_differ", nan_min(separation.values()), ">=", SEPARATION_FACTOR * tol,
              "precondition", f"‖ŵ − w'‖₂/‖ŵ‖₂ for the nearest rival {nearest} (w' its max-margin "
                              f"solution with min margin 1): the control's residual growth tends to it")]
    if traj.status != "ok":
        checks.append(Check("training_completed", 0.0, ">=", 1.0, "precondition", traj.message))
        return Outcome.from_checks(checks)
    growth = residual_growth(traj.steps, traj.params, svm.W)
    control = {r.name: residual_growth(traj.steps, traj.params, run.solutions[r.name].W) for r in rivals}
    control_norm = min(control, key=lambda n: control[n] if np.isfinite(control[n]) else -np.inf)
    gaps = run.gap_curve("gd", l2.name)
    t = np.asarray(traj.steps, float)           # log t > 0 from the second record on
    j = int(np.argmin(np.abs(np.log(t) - (np.log(t[-1]) - np.log(10)))))
    checks += [
        Check("data_separated", float(problem.margins(traj.final).min() > 0), ">=", 1.0, "precondition"),
        Check("residual_growth", growth, "<=", tol,
              note="‖ρ(T) − ρ(T/10)‖/(‖ŵ‖ log 10), ρ(t) = w(t) − ŵ log t, ŵ the min-norm SVM"),
        Check("gap_log_exponent", gap_log_exponent(t, gaps), ">=", s.gap_log_exponent_min,
              note="slope of log[γ*−γ(w_t)] against log(1/log t) over the last decade: 1 when the gap "
                   "is c/log t, 0 when it does not decay"),
        Check("control_residual_growth", nan_min(control.values()), ">=", CONTROL_FACTOR * tol, "control",
              note=f"the same residual with a rival's max-margin solution in place of ŵ, smallest over "
                   f"{', '.join(control)}: {control_norm}"),
        Check("relative_margin_gap", float(gaps[-1]), "<=", 1.0, "info", f"ℓ2 margin gap after {int(t[-1])} steps"),
        Check("direction_error", run.direction_error("gd", l2.name), "<=", 1.0, "info",
              "‖w/‖w‖ − ŵ/‖ŵ‖‖₂ (decays like 1/log t)"),
    ]
    rival = run.solutions[control_norm]
    rho = [np.linalg.norm(w - svm.W * math.log(s)) for s, w in zip(traj.steps, traj.params)]
    rho1 = [np.linalg.norm(w - rival.W * math.log(s)) for s, w in zip(traj.steps, traj.params)]
    figures = [
        figs.line_figure("residual", "GD: ‖w(t) − ŵ log t‖ stays bounded (Soudry et al. 2018)", "step t",
                         "‖w(t) − v log t‖₂", [figs.series("v = ŵ (ℓ2 SVM, predicted)", t, rho, "o-"),
                                               figs.series(f"v = {control_norm} max-margin (control)", t, rho1, "s-")],
                         logy=False),
        figs.line_figure("margin-gap", "GD: relative ℓ2 margin gap", "step t", "(γ* − γ(w_t))/γ*",
                         [figs.series("gap", t, gaps, "o-"),
                          figs.series("1/log t (shape)", t[1:], gaps[j] * np.log(t[j]) / np.log(t[1:]), "--")]),
    ]
    details = {"eta": eta, "smoothness": 1 / eta, "steps": int(t[-1]), "svm_margin": svm.margin,
               "separation_by_norm": separation, "control_by_norm": control,
               "data": {"n": s.n, "d": s.d, "seed": ctx.seed}}
    return Outcome.from_checks(checks, details=details, figures=figures)


def _derivation() -> Derivation:
    d = Derivation("Gradient descent on separable logistic regression (Soudry et al. 2018)")
    d.step("Logistic loss L(w) = (1/n)Σ log(1 + exp(−y_i⟨w, x_i⟩)) is β-smooth with β = ‖X‖₂²/(4n); "
           "GD uses the fixed step η = 1/β < 2/β.")
    d.step("Prediction: w(t) = ŵ log t + ρ(t), ρ bounded, ŵ = argmin ‖w‖₂ s.t. y_i⟨w, x_i⟩ ≥ 1.")
    d.extend(MarginProblem("binary", parse_norm("l2", "binary")).derivation())
    d.extend(rate_derivation("gd"))
    return d


register(Claim(
    id="soudry2018-gd-l2", title="gradient descent → ℓ2 max-margin (hard-margin SVM), w(t) ≈ ŵ log t",
    source=SOURCE, section="1 Steepest descent and max-margin: linear models",
    statement=("Binary linear model, logistic loss, separable data, fixed step η = 1/β: "
               "w(t) − ŵ log t stays bounded (ŵ the min-norm SVM), so the margin gap is O(1/log t). "
               f"Checked on d = {SETTINGS.d} > n = {SETTINGS.n} sparse-teacher data, "
               f"{SETTINGS.values('steps')} steps: the residual's change over the last decade ≤ "
               f"{SETTINGS.values('residual_tolerance')} of ‖ŵ‖ log 10; the gap's exponent in 1/log t ≥ "
               f"{SETTINGS.gap_log_exponent_min:g}; control: with the nearest rival's "
               f"({', '.join(SETTINGS.rivals)}) max-margin solution in place of ŵ the residual grows "
               f"≥ {CONTROL_FACTOR:g} tolerances; precondition: that rival is ≥ {SEPARATION_FACTOR:g} "
               "tolerances from ŵ."),
    check=_check, derivation=_derivation, tags=("linear", "binary", "gd")))
