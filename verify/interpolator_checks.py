"""Checks of implied-bias claims on trained interpolators: the prediction (distance to the argmin of
the derived regularizer), the control against the nearest rival bias, and the precondition that the
two argmins differ enough for a run to tell them apart. Used by the label-noise, ``li2025-*`` and
``woodworth2020-kernel-rich`` claims."""
from __future__ import annotations

from verify.outcome import Check


def bias_checks(W, pred_w, rival_w, tol: float, own: str, rival: str, note: str = "") -> list[Check]:
    """The decisive checks of an implied-bias claim on a trained set of interpolators ``W`` (one row
    per replica): the prediction (max over replicas of the relative distance to the predicted argmin
    ``pred_w`` ≤ ``tol``), the control against the nearest rival bias (the rival regularizer's argmin
    ``rival_w`` is ≥ 10× farther from every replica) and the precondition that the two argmins differ
    by ≥ 3× the tolerance (else no run could tell the two biases apart). ``own``/``rival`` name the
    regularizers in the check names (``l1``, ``l_half``)."""
    from numerics.interpolation import relative_distance
    from verify.numbers import nan_max, nan_min

    dist = nan_max(relative_distance(w, pred_w) for w in W)
    dist_rival = nan_min(relative_distance(w, rival_w) for w in W)          # the nearest replica
    return [
        Check(f"relative_distance_to_{own}_interpolator", dist, "<=", tol,
              note=f"max over replicas of ‖w − ŵ‖/‖ŵ‖, ŵ the argmin of the derived regularizer{note}"),
        Check(f"control_{rival}_over_{own}_distance", dist_rival / nan_max((dist, 1e-300)), ">=",
              10.0, role="control",
              note=f"the rival bias: the {rival} argmin is ≥ 10× farther from every replica than the "
                   f"predicted {own} argmin"),
        Check("rival_argmin_separation", relative_distance(rival_w, pred_w), ">=", 3 * tol,
              role="precondition",
              note=f"‖{rival} argmin − {own} argmin‖/‖{own} argmin‖ ≥ 3× the tolerance: the "
                   f"prediction can tell the two biases apart on this instance"),
    ]


def regime_checks(rows: list[dict], intermediate, tol: float, residual: float, certificate: float,
                  l1_gap: float) -> list[Check]:
    """The checks from one row per α ({alpha, to_Q_alpha, to_l1, to_l2}: relative distances of GD's
    solution): the worst Q_α distance ≤ ``tol``; the control at the intermediate α (the nearest of
    the ℓ1 and ℓ2 interpolators ≥ 10× farther than argmin Q_α); the solver and convergence
    preconditions. Aggregates with NaN-propagating functions: a NaN distance fails its check."""
    from verify.numbers import nan_max, nan_min

    worst = nan_max(r["to_Q_alpha"] for r in rows)
    mid = [r for r in rows if r["alpha"] in intermediate]
    ratio = nan_min(nan_min((r["to_l1"], r["to_l2"])) / nan_max((r["to_Q_alpha"], 1e-300))
                    for r in mid)
    return [
        Check("max_relative_distance_to_Q_alpha", worst, "<=", tol,
              note="GD vs argmin Q_α, worst over α"),
        Check("control_l1_l2_over_Q_alpha_distance", ratio, ">=", 10.0, role="control",
              note=f"min over α ∈ {list(intermediate)} of min(ℓ1, ℓ2 distance) / Q_α distance"),
        Check("gd_relative_residual", residual, "<=", 1e-5, role="precondition",
              note="GD converged to an interpolator"),
        Check("q_alpha_certificate", certificate, "<=", 1e-8, role="precondition",
              note="dual Newton: max over α of |relative duality gap| and relative residual"),
        Check("l1_lp_relative_gap", l1_gap, "<=", 1e-8, role="precondition"),
    ]
