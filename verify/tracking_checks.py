"""Checks for trajectories tracked against integrated flows (``numerics.manifold_flow.track``): one
method's own-flow prediction and one unit per rival flow, and the Monte-Carlo precondition on the
replica mean. Used by the ``li2025-*`` drift claims."""
from __future__ import annotations

import numpy as np

from verify.outcome import Check


def tracking_pair_checks(name: str, own_error: float, rival_errors: dict, move: float,
                         separations: dict, tol: float, caps: dict | None = None,
                         ratio: float = 2.0) -> list[Check]:
    """One method's checks, one unit per comparison. Unit ``name``: its tracking error against its own
    derived flow (relative to the displacement ``move``) ≤ ``tol`` (read on every draw: a run that
    does not follow its own flow contradicts the claim whatever the rivals). Unit ``name vs rival``
    for each rival flow: control, the rival flow is ≥ ``ratio``× farther from the run (tracking error
    in ``rival_errors``); precondition, the two flows differ by ≥ 3× ``tol`` (max_t distance /
    displacement in ``separations``), else that pair cannot be told apart on this draw and its unit is
    inconclusive. ``caps`` (rival → derived upper bound on the separation, in displacements, or None)
    names the reason where the separation is bounded by construction
    (``theory.adaptive_measures.nested_block_drift_cap``)."""
    caps = caps or {}
    checks = [Check(f"{name}_relative_tracking_error", own_error / move, "<=", tol,
                    note="against the flow of its project-derived measure", unit=name)]
    for rival in rival_errors:
        unit = f"{name} vs {rival}"
        cap = caps.get(rival)
        reason = ""
        if cap is not None:
            reason = (f"; derived first-order cap ≈ {cap:g} displacement = {cap / tol:.3g}× the "
                      f"tolerance (nested blocks: {rival}'s block second moment rescales each "
                      f"coordinate's drift by a factor in [0, {cap + 1:g}])")
            if cap < 3 * tol:
                reason += ": below 3× the tolerance, this pair cannot be told apart (capped)"
            elif cap < 4 * tol:
                reason += (": within one tolerance of the 3× needed, only draws near the extreme (one "
                           "coordinate of each block dominating its second moment) separate this pair")
        checks += [
            Check(f"{name}_vs_{rival}_control", rival_errors[rival] / own_error, ">=", ratio,
                  role="control", unit=unit,
                  note=f"{rival}'s flow is ≥ {ratio:g}× farther from the run than {name}'s own"),
            Check(f"{name}_vs_{rival}_flow_separation", separations[rival], ">=", 3 * tol,
                  role="precondition", unit=unit,
                  note=f"max_t ‖{name} flow − {rival} flow‖/‖θ₀‖ / displacement ≥ 3× the tolerance: "
                       f"on this draw the two predictions differ enough for the control to separate "
                       f"them (else this pair is inconclusive){reason}"),
        ]
    return checks


def standard_error_check(se: dict, tol: float, replicas: int, over: str) -> Check:
    """Precondition: the largest Monte-Carlo standard error of the replica mean (relative to the
    displacement, over the checked exponents/methods and times) is ≤ tol/4, so the tracking-error
    checks are not decided by sampling noise."""
    from verify.numbers import nan_max

    worst = max(se, key=lambda k: (np.isnan(se[k]), se[k]))        # a NaN entry is the worst
    return Check("monte_carlo_standard_error_max", nan_max(se.values()), "<=", tol / 4,
                 role="precondition",
                 note=f"max over {over} and t of the standard error of the {replicas}-replica mean / "
                      f"displacement (largest at {over} = {worst}): the error checks are not decided "
                      f"by sampling noise")
