import math

import pytest

from numerics.trajectory_metrics import last_half_checkpoints
from verify.homogeneous_checks import residual_settled, steps_to_tolerance


def _power_series(r_final: float, kappa: float, steps: int = 4000, wobble: float = 0.0):
    """r(t) = r_final·(t/T)^(−κ) at the last-half checkpoints, every other one scaled by 1 + wobble."""
    ts = last_half_checkpoints(steps)
    return [(t, r_final * (t / steps) ** -kappa * (1 + wobble * (i % 2))) for i, t in enumerate(ts)]


def test_last_half_checkpoints_span_one_doubling():
    ts = last_half_checkpoints(30_000)
    assert ts[0] == 15_000 and ts[-1] == 30_000 and len(ts) == 4


def test_residual_settled():
    assert residual_settled("a", _power_series(0.01, 5.0), 0.05, 0.03).passed       # within tolerance: decided
    assert residual_settled("a", _power_series(0.2, 0.02), 0.05, 0.03).passed       # flat: decided (a miss)
    assert not residual_settled("a", _power_series(0.2, 0.3), 0.05, 0.03).passed    # still falling
    assert not residual_settled("a", _power_series(0.2, -0.5), 0.05, 0.03).passed   # rising (a transient)
    assert residual_settled("a", _power_series(0.2, 0.3), 0.05, 0.03).role == "precondition"


def test_a_fluctuating_residual_is_not_settled():
    # no trend at the ends, but 12% down and up in between (lyu2020 full, digits, squared ReLU,
    # measured: 0.0478, 0.0428, 0.0427, 0.0466 at 15 000, 18 898, 23 811, 30 000 steps)
    wobbly = _power_series(0.2, 0.0, wobble=-0.12)
    check = residual_settled("a", wobbly, 0.05, 0.03)
    assert not check.passed
    assert check.value == pytest.approx(0.03 - math.log2(1 / 0.88))
    assert residual_settled("a", _power_series(0.2, 0.0, wobble=-0.01), 0.05, 0.03).passed


def test_a_checkpoint_that_does_not_separate_is_not_settled():
    series = _power_series(0.2, 0.0)
    series[1] = (series[1][0], math.inf)
    assert not residual_settled("a", series, 0.05, 0.03).passed


def test_steps_to_tolerance_inverts_the_power_of_t():
    # r ∝ t^(−0.3) from r(T) = 0.02 at T = 30 000: r reaches 0.01 at 2^(1/0.3)·T.
    steps = steps_to_tolerance(0.02, 0.3, 0.01, 30_000)
    assert math.isclose(steps, 30_000 * 2 ** (1 / 0.3), rel_tol=1e-12)
    assert math.isclose(0.02 * (steps / 30_000) ** -0.3, 0.01, rel_tol=1e-12)
    assert "about 3e+05 steps" in residual_settled("a", _power_series(0.02, 0.3, 30_000), 0.01, 0.03).note
    assert "reaches" not in residual_settled("a", _power_series(0.005, 0.3, 30_000), 0.01, 0.03).note  # within
    assert "reaches" not in residual_settled("a", _power_series(0.02, -0.3, 30_000), 0.01, 0.03).note   # rising
