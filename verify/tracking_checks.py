"""Checks for trajectories tracked against integrated flows (``numerics.manifold_flow.track``): one
method's unit (its own flow against the rival flows) and the Monte-Carlo precondition on the replica
mean. Used by the ``li2025-*`` drift claims."""
from __future__ import annotations

import numpy as np

from verify.outcome import Check


def tracking_unit_checks(name: str, own_error: float, rival_errors: dict, move: float,
                         separations: dict, tol: float, ratio: float = 2.0) -> list[Check]:
    """One method's unit: its tracking error against its own derived flow (relative to the
    displacement ``move``) ≤ ``tol``; control: every rival flow (name → tracking error in
    ``rival_errors``) is ≥ ``ratio``× farther; precondition: the own flow differs from the NEAREST
    rival flow (name → max_t distance / displacement in ``separations``) by ≥ 3× ``tol``, else the
    control cannot separate them and the unit is inconclusive."""
    from verify.numbers import nan_min

    def argmin(values: dict):
        return min(values, key=lambda k: (not np.isnan(values[k]), values[k]))   # NaN first

    nearest_run, nearest_flow = argmin(rival_errors), argmin(separations)
    return [
        Check(f"{name}_relative_tracking_error", own_error / move, "<=", tol,
              note="against the flow of its project-derived measure", unit=name),
        Check(f"{name}_control_nearest_rival_flow",
              nan_min(rival_errors.values()) / own_error, ">=", ratio, role="control", unit=name,
              note=f"every rival flow ({', '.join(rival_errors)}) is farther from the run; nearest: "
                   f"{nearest_run}"),
        Check(f"{name}_flow_separation", nan_min(separations.values()), ">=", 3 * tol,
              role="precondition", unit=name,
              note=f"min over the rival flows of max_t ‖own flow − rival flow‖/‖θ₀‖ / displacement ≥ "
                   f"3× the tolerance (nearest: {nearest_flow}): on this draw the predictions differ "
                   f"enough for the control to separate them (else this unit is inconclusive)"),
    ]


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
