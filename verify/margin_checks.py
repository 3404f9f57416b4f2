"""Checks of margin maximization by gradient descent on homogeneous networks (Lyu & Li 2020), on
the plain results of ``verify.experiments.lyu2020.run``: the smoothed margin's monotonicity on the
capped run with the constant step as control, and the ℓ2 KKT limit with the ℓ∞ / layerwise-spectral
problems as control."""
from __future__ import annotations

import numpy as np

from verify.homogeneous_checks import residual_settled, solver_status
from verify.numbers import nan_min
from verify.outcome import Check


def monotonicity_checks(key: str, r: dict, tol: float, control_ratio: float) -> list[Check]:
    """The smoothed margin of the capped run (the theorem's step), with the constant step's for
    comparison: largest drop ≤ ``tol``; the constant step, outside the step condition, drops by
    ≥ ``control_ratio`` × ``tol`` (control)."""
    c = r["capped"]
    checks = [Check(f"{key}: capped_min_margin", c["min_margin"], ">=", np.finfo(float).tiny, "precondition",
                    c["message"] or "gradient descent with the capped step has separated the data")]
    if c["min_margin"] <= 0:
        return checks
    defined = len(c["smoothed_margin"])
    checks.append(Check(f"{key}: smoothed_margin_defined", defined, ">=", 2, "precondition",
                        "checkpoints of the capped run with nL < log 2, where the smoothed margin is defined"))
    if defined < 2:
        return checks
    checks += [
        Check(f"{key}: largest_smoothed_margin_drop", c["largest_margin_drop"], "<=", tol,
              note="capped step: largest relative decrease between checkpoints once nL < log 2 "
                   "(negative: it rose at every checkpoint)"),
        Check(f"{key}: smoothed_margin_gain", c["margin_gain"], ">=", 1.0,
              note="capped step: smoothed margin at the end / when first defined"),
        Check(f"{key}: capped_kkt_residual_l2", c["kkt_residual"], ">=", 0.0, "info",
              note="ℓ2 KKT residual at the end of the capped run (‖θ‖^L grows only linearly in t)"),
    ]
    if "largest_margin_drop" in r:
        # the rival: "the smoothed margin never drops, whatever the step". The constant relative step
        # leaves the step condition once δ·|log L| ≳ 2/L (the descent lemma's second-order term, about
        # (L/2)·δ·|log L| of the first, matches it): there the check must see its drop.
        checks += [
            Check(f"{key}: constant_step_beyond_step_condition", r["step_times_log_loss"] * r["degree"] / 2.0,
                  ">=", 1.0, "precondition",
                  note="(L/2)·δ·|log L| at the end of the constant-step run: ≥ 1 puts it outside the step "
                       "condition, where the control can expect a drop"),
            Check(f"{key}: constant_step_margin_drop", r["largest_margin_drop"], ">=",
                  control_ratio * tol, "control",
                  note=f"largest relative drop of the constant step's smoothed margin: the monotonicity check "
                       f"rejects it (≥ {control_ratio:g}× its tolerance)"),
        ]
    return checks


def kkt_checks(key: str, r: dict, tol: float, settled_rate: float, control_ratio: float) -> list[Check]:
    """The ℓ2 KKT checks of the constant-step run (none when it did not separate the data)."""
    if "kkt" not in r:
        return []
    own = r["kkt"]["residual"]
    return [
        solver_status(key, r["kkt"]["status"], own, tol),
        residual_settled(key, r["residual_series"], tol, settled_rate),
        Check(f"{key}: kkt_residual_l2", own, "<=", tol,
              note=f"stationarity {r['kkt']['stationarity']:.3g}, slackness "
                   f"{r['kkt']['complementary_slackness']:.3g}, τ = {r['kkt']['tolerance']:.2g}"),
        Check(f"{key}: kkt_control_ratio", nan_min(c["lower_bound"] for c in r["controls"].values()) / own,
              ">=", control_ratio, "control",
              note="smallest certified lower bound of the residual under " + ", ".join(r["controls"])
                   + " / ℓ2 residual"),
        Check(f"{key}: cos_last_half", r["cos_min_last_half"], ">=", -1.0, "info",
              note="min over the last half of cos(θ_t, θ_T)"),
    ]
