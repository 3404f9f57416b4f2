"""Checks shared by the homogeneous-network claims (Lyu & Li 2020, Gronich & Vardi 2026)."""
from __future__ import annotations

import math

from numerics.trajectory_metrics import last_half_checkpoints, residual_decay_rate
from verify.outcome import Check


def last_half_residuals(net, steps, params, X, y, norm, final_residual: float) -> list[tuple[int, float]]:
    """[(t, r)] at the recorded checkpoints t ∈ ``last_half_checkpoints(T)`` of a run of T = ``steps[-1]``
    steps: the KKT residual in ``norm`` (∞ where the parameters do not separate the data), the final
    one given (already computed with its certificate)."""
    from numerics.kkt_residual import NotSeparatedError, kkt_residual
    total, settle = steps[-1], set(last_half_checkpoints(steps[-1]))
    series = []
    for t, p in zip(steps, params):
        if t == total:
            series.append((t, final_residual))
        elif t in settle:
            try:
                series.append((t, kkt_residual(net, p, X, y, norm).residual))
            except NotSeparatedError:
                series.append((t, math.inf))
    return series


def residual_settled(key: str, series, tolerance: float, rate_tolerance: float) -> Check:
    """Precondition for deciding a KKT residual: the final one is within tolerance, or the residual has
    settled over the last half of the run, i.e. at the checkpoints ``series`` = [(t, r), ...] from T/2
    to T (t the step count) it moved by at most a factor 2^``rate_tolerance`` (max r / min r: a flat
    trend is not enough when the residual fluctuates about it). A residual still falling (the limit is
    not reached), rising (a transient) or fluctuating (the direction still moves) cannot show that the
    limit is not a KKT point. The note gives κ of the fit r ∝ t^(−κ) and, for a falling residual, the
    run length at which that rate reaches tolerance (:func:`steps_to_tolerance`)."""
    steps, residuals = zip(*series)
    final, low, high = residuals[-1], min(residuals), max(residuals)
    spread = math.log2(high / low) if low > 0 and math.isfinite(high) else math.inf
    rate = residual_decay_rate(steps, residuals)
    value = 1.0 if final <= tolerance else rate_tolerance - spread
    note = (f"residual {final:.3g} within tolerance, or settled: over the last half of the run ({len(series)} "
            f"checkpoints from step {steps[0]}) it moved by a factor 2^{spread:.3g} (settled if the exponent "
            f"is ≤ {rate_tolerance:g}), r ∝ t^(−κ) with κ = {rate:.3g}")
    if final > tolerance and rate > 0:
        note += (f"; at this rate r reaches {tolerance:g} after about "
                 f"{steps_to_tolerance(final, rate, tolerance, steps[-1]):.2g} steps")
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
