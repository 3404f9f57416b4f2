"""Per-checkpoint metrics of a homogeneous network's training trajectory.

- Lyu & Li (2020)'s smoothed margin γ̃(θ) = ℓ^{−1}(nL)/‖θ‖₂^L, with the derived ℓ^{−1}
  (``theory.smoothed_margin``) evaluated in log space: ℓ^{−1}(nL) = −log expm1(exp(log n + log L)),
  using log expm1(e^z) = z + e^z/2 + O(e^{2z}) below z = −30 where exp(z) would lose digits;
- directional convergence cos(θ_t, θ_T) (ℓ2 cosine of the flattened parameters);
- the checkpoints of the last half of a run at which a KKT residual's settledness is read, and its
  decay rate κ per doubling of the run.
"""
from __future__ import annotations

import math

import numpy as np


def log_expm1_exp(z: float) -> float:
    """log(e^{e^z} − 1) without underflow or cancellation."""
    if z < -30.0:
        return z + 0.5 * math.exp(z)
    return math.log(math.expm1(math.exp(z)))


def inverse_logistic_of_log(log_v: float) -> float:
    """ℓ^{−1}(v) = −log(e^v − 1) for v = e^{log_v} (the logistic loss)."""
    return -log_expm1_exp(log_v)


def smoothed_margin(log_loss: float, n: int, theta_l2: float, degree: int) -> float:
    """γ̃ = ℓ^{−1}(nL)/‖θ‖₂^L; NaN while nL ≥ log 2 (not yet defined)."""
    log_nl = log_loss + math.log(n)
    if log_nl >= math.log(math.log(2.0)):
        return math.nan
    return inverse_logistic_of_log(log_nl) / theta_l2**degree


def direction_cosines(net, params_list) -> list[float]:
    """cos(θ_t, θ_T) for every recorded θ_t (T the last)."""
    final = net.flatten(params_list[-1])
    final = final / np.linalg.norm(final)
    out = []
    for p in params_list:
        v = net.flatten(p)
        out.append(float(v @ final / np.linalg.norm(v)))
    return out


def last_half_checkpoints(steps: int, count: int = 4) -> list[int]:
    """``count`` log-spaced step counts from T/2 to T = ``steps`` (one doubling of the run), at which
    the homogeneous-network claims read whether a KKT residual has settled."""
    return sorted({int(t) for t in np.geomspace(steps // 2, steps, count)})


def residual_decay_rate(steps, residuals) -> float:
    """κ of the least-squares fit r ∝ t^(−κ) to a KKT residual at checkpoints t (step counts): its
    decrease per doubling of the run, in units of log 2 (NaN if a residual is not finite). Measured
    against the run rather than ‖θ‖, the same κ means the same thing whatever the schedule: the
    relative step of lyu2020 grows ‖θ‖ geometrically (an e-fold of ‖θ‖ every 1/δ steps) and η₀ t^(−a)
    only like t^(1−a)."""
    r = np.asarray(residuals, dtype=float)
    if not np.all(np.isfinite(r) & (r > 0)):
        return math.nan
    return float(-np.polyfit(np.log(np.asarray(steps, dtype=float)), np.log(r), 1)[0])
