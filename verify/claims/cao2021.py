"""Cao, Gu, Belkin (2021): benign overfitting of the maximum-margin classifier on sub-Gaussian
mixtures. The risk bound exp(−C·E), E = n‖μ‖⁴/(n‖μ‖² + d), is checked through its scaling: across
a sweep of (n, d, ‖μ‖) the exact Gaussian test error of the certified hard-margin SVM has log risk
linear in E, and the harmful → benign transition sits at a fixed level of E, i.e. ‖μ‖ ~ (d/n)^{1/4}.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from theory.derivation import Derivation
from verify.figures import line_figure, series
from verify.numbers import nan_max, nan_min
from verify.outcome import Check, Outcome
from verify.registry import Claim, register

SECTION = "5 Other seed claims"
#: radii of the sweep, in units of (d/n)^{1/4}
RADIUS_FACTORS = (0.5, 0.71, 1.0, 1.41, 2.0, 2.83, 4.0)
#: the test-error level that defines the transition radius
TRANSITION_LEVEL = 0.1
#: largest relative deviation of the transition radius from the exact root of E = E_c (chosen on
#: seed 0 before the seeds issue; on seeds 10000–10009 it reached 0.066–0.084 with 4 seeds per
#: point: the single fitted line leaves a few-percent misfit per (n, d) pair). The rival law's radius
#: must miss by as much (control), and the two predicted radii must differ by three times it
#: (precondition; measured 0.385–0.406 on seeds 10000–10009, which rules out a wider tolerance)
TRANSITION_TOLERANCE = 0.1


def _derivation() -> Derivation:
    from theory.benign_overfitting import risk_exponent_derivation

    return risk_exponent_derivation()


def _check(ctx) -> Outcome:
    from numerics.benign_overfitting import fit_log_error, sweep_point, transition_radius
    from theory.benign_overfitting import c, d, n

    pairs = ctx.pick(quick=[(10, 250), (40, 1000), (20, 1000), (10, 1000)],
                     full=[(10, 250), (40, 1000), (20, 1000), (10, 1000), (20, 4000), (10, 2500)])
    seeds = [ctx.seed + i for i in range(ctx.pick(quick=4, full=4))]
    points = []
    total = len(pairs) * len(RADIUS_FACTORS) * len(seeds)
    for nn, dd in pairs:
        for f in RADIUS_FACTORS:
            for s in seeds:
                points.append(sweep_point(nn, dd, f * (dd / nn) ** 0.25, s))
                ctx.progress(len(points), total, f"n={nn} d={dd}")
    ok = [p for p in points if p.status == "ok"]
    skipped = [p.as_dict() for p in points if p.status != "ok"]
    if len(ok) < 3:
        return Outcome.error(f"only {len(ok)} sweep points could be solved; skipped: {skipped}")
    fit, wrong = fit_log_error(ok), fit_log_error(ok, control=True)
    # transition: radius where the mean test error crosses the level, per (n, d)
    der = _derivation()
    exact = sp.lambdify((c, n, d), der.results["transition_radius_exact"], "numpy")
    level_exponent = (np.log(TRANSITION_LEVEL) - fit.intercept) / fit.slope    # E at the level, fitted
    rows = []
    for nn, dd in pairs:
        sel = [p for p in ok if (p.n, p.d) == (nn, dd)]
        radii = sorted({p.radius for p in sel})
        mean_err = [np.log(np.mean([np.exp(p.log_test_error) for p in sel if p.radius == rr])) for rr in radii]
        rc = transition_radius(np.array(radii), np.array(mean_err), TRANSITION_LEVEL)
        rows.append({"n": nn, "d": dd, "d_over_n": dd / nn, "transition_radius": rc,
                     "scaled_quarter": rc * (nn / dd) ** 0.25, "scaled_half": rc * (nn / dd) ** 0.5,
                     "predicted_from_exponent": float(exact(level_exponent, nn, dd))})
    valid = [row for row in rows if np.isfinite(row["transition_radius"])]
    if len(valid) < 2 or len({row["d_over_n"] for row in valid}) < 2:
        return Outcome.error(f"the transition level {TRANSITION_LEVEL} was not bracketed for enough "
                             f"(n, d) pairs: {rows}")
    log_ratio = np.log([row["d_over_n"] for row in valid])
    slope = float(np.polyfit(log_ratio, np.log([row["transition_radius"] for row in valid]), 1)[0])
    slope_exact = float(np.polyfit(log_ratio, np.log([row["predicted_from_exponent"] for row in valid]), 1)[0])
    pred_dev = nan_max(abs(row["transition_radius"] / row["predicted_from_exponent"] - 1) for row in valid)
    # the rival (mis-specified exponent n‖μ‖²/d, its own level read off its own fit): radius √(E'_c d/n)
    rival_level = (np.log(TRANSITION_LEVEL) - wrong.intercept) / wrong.slope
    for row in rows:
        row["rival_radius"] = float(np.sqrt(rival_level * row["d"] / row["n"])) if rival_level > 0 else np.nan
    rival_dev = nan_max(abs(row["transition_radius"] / row["rival_radius"] - 1) for row in valid)
    rival_sep = nan_max(abs(row["rival_radius"] / row["predicted_from_exponent"] - 1) for row in valid)
    svm_gap = nan_max(p.duality_gap for p in ok)
    closed = [p.closed_form_distance for p in ok if p.all_support_vectors]
    checks = [
        Check("r_squared_exponent", fit.r_squared, ">=", 0.97,
              note="log test error linear in E = n‖μ‖⁴/(n‖μ‖² + d) (least squares over the sweep)", unit="exponent_fit"),
        Check("control_r_squared_gap", fit.r_squared - wrong.r_squared, ">=", 0.1, role="control",
              note=f"the mis-specified exponent n‖μ‖²/d fits clearly worse (its R² = {wrong.r_squared:.3f})", unit="exponent_fit"),
        Check("transition_slope_deviation", abs(slope - slope_exact), "<=", 0.05,
              note=f"log‖μ‖_c vs log(d/n) (error level {TRANSITION_LEVEL}): slope {slope:.3f}; the exact "
                   f"root of E = E_c has slope {slope_exact:.3f} here, → 1/4 as d/n → ∞", unit="transition"),
        Check("control_transition_slope_vs_half", abs(slope - 0.5), ">=", 0.1, role="control",
              note="the (d/n)^(1/2) law of the mis-specified exponent is rejected", unit="transition"),
        Check("transition_vs_exponent_level", pred_dev, "<=", TRANSITION_TOLERANCE,
              note=f"‖μ‖_c within {TRANSITION_TOLERANCE:.0%} of the exact root of E(‖μ‖) = E_c, E_c read off "
                   "the fit (max over (n, d))", unit="transition"),
        Check("control_transition_vs_rival_level", rival_dev, ">=", TRANSITION_TOLERANCE, role="control",
              note="the rival exponent's transition radius √(E'_c d/n) (E'_c read off its own fit) misses "
                   "‖μ‖_c by more than the tolerance on some (n, d)", unit="transition"),
        Check("rival_transition_separation", rival_sep, ">=", 3 * TRANSITION_TOLERANCE, role="precondition",
              note="the two predicted transition radii differ by ≥ 3× the tolerance on some (n, d)", unit="transition"),
        Check("fitted_constant_C", -fit.slope, ">=", 0.0, role="info",
              note="log risk ≈ intercept − C·E; the leading-order min-norm analysis gives C ≈ 1/2"),
        Check("max_svm_duality_gap", svm_gap, "<=", 1e-6, role="precondition",
              note="certified hard-margin SVM (relative duality gap)"),
        Check("max_closed_form_distance", nan_max(closed) if closed else 0.0, "<=", 1e-6, role="precondition",
              note=f"SVM vs Xᵀ(XXᵀ)⁻¹y on the {len(closed)} all-support-vector points"),
        Check("points_skipped", float(len(skipped)), ">=", 0.0, role="info",
              note="sweep points whose data are not separable, skipped: " + (", ".join(
                  f"(n={p['n']}, d={p['d']}, ‖μ‖={p['radius']:.3g}, seed {p['seed']}: {p['status']})"
                  for p in skipped) or "none")),
    ]
    by_pair = [series(f"n={nn}, d={dd}", [p.exponent for p in ok if (p.n, p.d) == (nn, dd)],
                      [-p.log_test_error for p in ok if (p.n, p.d) == (nn, dd)], "o") for nn, dd in pairs]
    es = np.linspace(0, nan_max(p.exponent for p in ok), 50)
    fig = line_figure("log_risk_vs_exponent", "Exact test error of the hard-margin SVM vs E = n‖μ‖⁴/(n‖μ‖²+d)",
                      "E", "−log test error", by_pair + [series(f"fit: C = {-fit.slope:.3f}", es,
                                                                -(fit.intercept + fit.slope * es), "--")],
                      logx=False, logy=False)
    fig2 = line_figure("transition", "Transition radius (test error = 0.1) vs d/n", "d/n", "‖μ‖_c",
                       [series("measured", [r_["d_over_n"] for r_ in valid], [r_["transition_radius"] for r_ in valid], "o"),
                        series("exact root of E = E_c", [r_["d_over_n"] for r_ in valid],
                               [r_["predicted_from_exponent"] for r_ in valid], "--")])
    return Outcome.from_checks(checks, metrics={"fit_intercept": fit.intercept, "control_r_squared": wrong.r_squared,
                                                "transition_slope": slope, "transition_slope_exact_root": slope_exact,
                                                "level_exponent": float(level_exponent)},
                               details={"points": [p.as_dict() for p in points], "skipped": skipped,
                                        "transition": rows, "fit": fit.__dict__, "control_fit": wrong.__dict__,
                                        "seeds": seeds},
                               figures=[fig, fig2])


register(Claim(
    id="cao2021-benign-overfitting-max-margin",
    title="Max-margin on Gaussian mixtures: log risk linear in n‖μ‖⁴/(n‖μ‖²+d), transition at (d/n)^(1/4)",
    source="Cao, Gu, Belkin 2021",
    section=SECTION,
    statement=("x = yμ + ξ, ξ ~ N(0, I_d), d ≫ n; θ̂ = the hard-margin SVM (certified solver; equal to "
               "Xᵀ(XXᵀ)⁻¹y when every point is a support vector, cross-checked), exact test error "
               "Φ(−⟨θ̂, μ⟩/‖θ̂‖). Prediction: over a sweep of (n, d, ‖μ‖), log test error is linear in "
               "E = n‖μ‖⁴/(n‖μ‖² + d) (R² ≥ 0.97; the constant C is fitted and reported), the radius where "
               "the error crosses 0.1 follows the exact root of E = E_c (E_c read off the fit): within "
               "10% (see the seeds below), and its log-log slope in d/n within 0.05 of the root's (→ 1/4, i.e. ‖μ‖ ~ "
               "(d/n)^(1/4), as d/n → ∞). Controls: the mis-specified exponent n‖μ‖²/d fits worse by "
               "≥ 0.1 in R², its (d/n)^(1/2) law is off by ≥ 0.1 in slope, and its own transition radius "
               "misses by more than 10% on some (n, d) (where the two predicted radii differ by ≥ 30%). Non-separable sweep "
               "points are skipped and listed. Quick: (n, d) ∈ {(10,250), (40,1000), (20,1000), "
               "(10,1000)}, ‖μ‖ = (d/n)^(1/4)·{0.5 … 4}, 4 seeds per point (2 left the "
               "transition statistic at 0.054–0.0997 on seeds 10000–10009 and over 0.1 on seeds 101, "
               "102; 4 gives 0.066–0.084 on 10000–10009); full adds (20,4000), (10,2500), 4 seeds."),
    check=_check, derivation=_derivation, tags=("benign-overfitting", "max-margin")))
