"""Checks shared by the homogeneous-network claims (Lyu & Li 2020, Gronich & Vardi 2026)."""
from __future__ import annotations

import math

from verify.outcome import Check


def residual_settled(key: str, residual: float, rate: float, tolerance: float, rate_tolerance: float,
                     norm_growth: dict | None = None) -> Check:
    """Precondition for deciding a KKT residual: it is within tolerance, or it has settled, i.e.
    r ∝ ‖θ‖^(−κ) over the last half of the run with |κ| ≤ ``rate_tolerance``. A residual still
    falling (the limit is not reached: along a power schedule the direction moves by only
    (1 − a)·log T in T steps) or rising (a transient) cannot show that the limit is not a KKT point.
    ``norm_growth`` = {"steps": (t₀, T), "norms": (‖θ_t₀‖, ‖θ_T‖)}, when given, adds the run length at
    which that extrapolation reaches tolerance (:func:`steps_to_tolerance`)."""
    value = 1.0 if residual <= tolerance else rate_tolerance - abs(rate)
    note = (f"residual {residual:.3g} within tolerance, or settled: r ∝ ‖θ‖^(−κ) over the last half "
            f"with κ = {rate:.3g} (settled if |κ| ≤ {rate_tolerance:g})")
    if residual > tolerance and rate > 0:
        note += f"; at this rate r reaches {tolerance:g} when ‖θ‖ is {norm_growth_to_tolerance(residual, rate, tolerance):.3g}× its final value"
        if norm_growth is not None:
            steps = steps_to_tolerance(residual, rate, tolerance, **norm_growth)
            note += f" (about {steps:.2g} steps at the measured growth of ‖θ‖)"
    return Check(f"{key}: residual_settled", value, ">=", 0.0, "precondition", note)


def norm_growth_to_tolerance(residual: float, rate: float, tolerance: float) -> float:
    """The factor by which ‖θ‖ must still grow for r ∝ ‖θ‖^(−κ) to fall from ``residual`` to
    ``tolerance``: (r/tol)^(1/κ) (an extrapolation of the measured rate κ > 0, not a bound)."""
    return (residual / tolerance) ** (1.0 / rate)


def steps_to_tolerance(residual: float, rate: float, tolerance: float, steps: tuple[int, int],
                       norms: tuple[float, float]) -> float:
    """The run length at which r ∝ ‖θ‖^(−κ) reaches ``tolerance`` when ‖θ‖ keeps growing like the
    power of t measured between ``steps`` = (t₀, T) with ``norms`` = (‖θ_t₀‖, ‖θ_T‖): T·g^(1/p) with
    g = :func:`norm_growth_to_tolerance` and ‖θ‖ ∝ t^p (a power schedule; an extrapolation, not a bound)."""
    p = math.log(norms[1] / norms[0]) / math.log(steps[1] / steps[0])
    if p <= 0:                      # ‖θ‖ not growing: no run length reaches tolerance
        return math.inf
    return steps[1] * norm_growth_to_tolerance(residual, rate, tolerance) ** (1.0 / p)


def solver_status(key: str, status: str, residual: float, tolerance: float) -> Check:
    """Precondition on the own-norm residual solve: its value is an achieved residual (an upper
    bound on the best multipliers' residual), decisive when the solver reports optimal or when it is
    already within tolerance."""
    return Check(f"{key}: solver_status", float(status == "optimal" or residual <= tolerance), ">=", 1.0,
                 "precondition", f"own-norm residual solve: {status} (an achieved value; decisive when "
                 "optimal or within tolerance)")
