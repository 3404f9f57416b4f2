"""Soudry, Hoffer, Nacson, Gunasekar, Srebro (2018), "The Implicit Bias of Gradient Descent on
Separable Data": gradient descent with a fixed step η < 2/β on logistic loss over separable binary
data satisfies w(t) = ŵ log t + ρ(t) with ρ bounded, where ŵ is the hard-margin SVM solution in
min-norm form (min ‖w‖₂ s.t. y_i⟨w, x_i⟩ ≥ 1). Hence the direction converges to ŵ, only
logarithmically: the normalized-margin gap is O(1/log t).

Check: the residual ρ(t) = w(t) − ŵ log t must stop growing: over the last decade of steps its
change is small compared with the growth ‖ŵ‖ log 10 of the leading term. Negative control: the
same quantity with the ℓ1 max-margin solution in place of ŵ keeps growing.
"""
from __future__ import annotations

import math

import numpy as np

from numerics.datasets import sparse_teacher
from theory.derivation import Derivation
from theory.margin import MarginProblem
from theory.norms import parse_norm
from theory.rates import rate_derivation
from verify import figures as figs
from verify.context import Context
from verify.linear_margins import Optimizer, run_population, transform_member
from verify.outcome import Check, Outcome
from verify.registry import Claim, register

SOURCE = "Soudry, Hoffer, Nacson, Gunasekar, Srebro 2018"
SETTINGS = {
    "steps": {"quick": 20_000, "full": 5_000_000},
    "residual_tolerance": {"quick": 0.1, "full": 0.03},
    "gap_log_growth_tolerance": 1.5,
    "data": {"n": 40, "d": 60},
}


def _smoothness(X: np.ndarray) -> float:
    """β of the logistic loss (1/n) Σ log(1 + e^{−y⟨w,x⟩}): its Hessian is ⪯ XᵀX / (4n)."""
    return float(np.linalg.norm(X, 2) ** 2 / (4 * X.shape[0]))


def _residual_growth(steps, params, w_hat) -> float:
    """‖ρ(T) − ρ(T/10)‖ / (‖ŵ‖ log 10) with ρ(t) = w(t) − ŵ log t, using the recorded steps."""
    steps = np.asarray(steps, float)
    j = int(np.argmin(np.abs(np.log(steps) - (math.log(steps[-1]) - math.log(10)))))
    rho_end = params[-1] - w_hat * math.log(steps[-1])
    rho_mid = params[j] - w_hat * math.log(steps[j])
    return float(np.linalg.norm(rho_end - rho_mid) / (np.linalg.norm(w_hat) * math.log(steps[-1] / steps[j])))


def _check(ctx: Context) -> Outcome:
    from numerics.optim import gd

    problem = sparse_teacher(**SETTINGS["data"], seed=ctx.seed)
    eta = 1.0 / _smoothness(problem.X)
    l2, l1 = parse_norm("l2", "binary"), parse_norm("l1", "binary")
    gd_member = Optimizer("gd", "gradient descent (fixed step 1/β)",
                          transform_member(lambda s: gd(s), "gd"), geometry=None, kappa=eta, decay=0.0)
    run = run_population(ctx, "soudry2018", problem, [l2, l1], [gd_member], SETTINGS["steps"][ctx.profile])
    traj, svm, sparse = run.trajectories["gd"], run.solutions[l2.name], run.solutions[l1.name]
    checks = [Check("solver_duality_gap", svm.certificate.relative_gap, "<=", 1e-6, "precondition",
                    f"certified hard-margin SVM ({svm.solver})")]
    if traj.status != "ok":
        checks.append(Check("training_completed", 0.0, ">=", 1.0, "precondition", traj.message))
        return Outcome.from_checks(checks)
    tol = SETTINGS["residual_tolerance"][ctx.profile]
    growth = _residual_growth(traj.steps, traj.params, svm.W)
    control = _residual_growth(traj.steps, traj.params, sparse.W)
    gaps = run.gap_curve("gd", l2.name)
    t = np.asarray(traj.steps, float)           # log t > 0 from the second record on
    j = int(np.argmin(np.abs(np.log(t) - (np.log(t[-1]) - np.log(10)))))
    gap_log_ratio = float(gaps[-1] * np.log(t[-1]) / (gaps[j] * np.log(t[j])))
    checks += [
        Check("data_separated", float(problem.margins(traj.final).min() > 0), ">=", 1.0, "precondition"),
        Check("residual_growth", growth, "<=", tol,
              note="‖ρ(T) − ρ(T/10)‖/(‖ŵ‖ log 10), ρ(t) = w(t) − ŵ log t, ŵ the min-norm SVM"),
        Check("gap_times_log_t_growth", gap_log_ratio, "<=", SETTINGS["gap_log_growth_tolerance"],
              note="[γ*−γ(w_t)]·log t at T over T/10: bounded when the gap is O(1/log t)"),
        Check("control_residual_growth", control, ">=", 3 * tol, "control",
              note="the same residual with the ℓ1 max-margin solution in place of ŵ"),
        Check("relative_margin_gap", float(gaps[-1]), "<=", 1.0, "info", f"ℓ2 margin gap after {int(t[-1])} steps"),
        Check("direction_error", run.direction_error("gd", l2.name), "<=", 1.0, "info",
              "‖w/‖w‖ − ŵ/‖ŵ‖‖₂ (decays like 1/log t)"),
    ]
    rho = [np.linalg.norm(w - svm.W * math.log(s)) for s, w in zip(traj.steps, traj.params)]
    rho1 = [np.linalg.norm(w - sparse.W * math.log(s)) for s, w in zip(traj.steps, traj.params)]
    figures = [
        figs.line_figure("residual", "GD: ‖w(t) − ŵ log t‖ stays bounded (Soudry et al. 2018)", "step t",
                         "‖w(t) − v log t‖₂", [figs.series("v = ŵ (ℓ2 SVM, predicted)", t, rho, "o-"),
                                               figs.series("v = ℓ1 max-margin (control)", t, rho1, "s-")],
                         logy=False),
        figs.line_figure("margin-gap", "GD: relative ℓ2 margin gap", "step t", "(γ* − γ(w_t))/γ*",
                         [figs.series("gap", t, gaps, "o-"),
                          figs.series("1/log t (shape)", t[1:], gaps[j] * np.log(t[j]) / np.log(t[1:]), "--")]),
    ]
    details = {"eta": eta, "smoothness": 1 / eta, "steps": int(t[-1]), "svm_margin": svm.margin,
               "data": dict(SETTINGS["data"], seed=ctx.seed)}
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
               "w(t) − ŵ log t stays bounded (ŵ the min-norm SVM), so the margin gap is O(1/log t)."),
    check=_check, derivation=_derivation, tags=("linear", "binary", "gd")))
