"""Checks shared by the homogeneous-network claims (Lyu & Li 2020, Gronich & Vardi 2026)."""
from __future__ import annotations

from verify.outcome import Check


def residual_settled(key: str, residual: float, rate: float, tolerance: float, rate_tolerance: float,
                     steps: int) -> Check:
    """Precondition for deciding a KKT residual: it is within tolerance, or it has settled, i.e.
    r ∝ t^(−κ) over the last half of the run (t the step count) with |κ| ≤ ``rate_tolerance``: doubling
    the run would change r by a factor of at most 2^(±κ). A residual still falling (the limit is not
    reached) or rising (a transient) cannot show that the limit is not a KKT point. The note of a
    falling residual adds the run length, from T = ``steps``, at which the measured rate reaches
    tolerance (:func:`steps_to_tolerance`)."""
    value = 1.0 if residual <= tolerance else rate_tolerance - abs(rate)
    note = (f"residual {residual:.3g} within tolerance, or settled: r ∝ t^(−κ) over the last half of the "
            f"run with κ = {rate:.3g} (settled if |κ| ≤ {rate_tolerance:g})")
    if residual > tolerance and rate > 0:
        note += (f"; at this rate r reaches {tolerance:g} after about "
                 f"{steps_to_tolerance(residual, rate, tolerance, steps):.2g} steps")
    return Check(f"{key}: residual_settled", value, ">=", 0.0, "precondition", note)


def steps_to_tolerance(residual: float, rate: float, tolerance: float, steps: int) -> float:
    """The run length at which r ∝ t^(−κ), measured up to T = ``steps``, reaches ``tolerance``:
    T·(r/tol)^(1/κ) (an extrapolation of the measured rate κ > 0, not a bound)."""
    return steps * (residual / tolerance) ** (1.0 / rate)


def solver_status(key: str, status: str, residual: float, tolerance: float) -> Check:
    """Precondition on the own-norm residual solve: its value is an achieved residual (an upper
    bound on the best multipliers' residual), decisive when the solver reports optimal or when it is
    already within tolerance."""
    return Check(f"{key}: solver_status", float(status == "optimal" or residual <= tolerance), ">=", 1.0,
                 "precondition", f"own-norm residual solve: {status} (an achieved value; decisive when "
                 "optimal or within tolerance)")
