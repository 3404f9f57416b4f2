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


# -- per-optimizer units and rivals whose predictions coincide (issue 23 items 8, 9) ------------------
from dataclasses import replace

from verify.homogeneous_checks import optimizer_task_checks, rival_coincides
from verify.outcome import status_of

TOL = 0.05


def _row(norm: str, residuals: dict, separated: bool = True) -> dict:
    """A row of run_optimizer_task: residuals = {norm: (residual, lower_bound)}."""
    row = {"status": "ok", "message": "", "norm": norm, "min_margin": 1.0 if separated else -math.inf,
           "same_prediction": []}
    if not separated:
        return row
    row["residuals"] = {n: {"residual": r, "lower_bound": lb, "status": "optimal", "tolerance": 0.0,
                            "stationarity": r, "complementary_slackness": 0.0} for n, (r, lb) in residuals.items()}
    own = residuals[norm][0]
    row["margins"] = {n: 1.0 if n == norm else 0.5 for n in residuals}
    row["residual_series"] = [(t, own) for t in last_half_checkpoints(4000)]
    row.update(cos_min_last_half=0.99, residual_rate=0.0, dlogL_last_step=0.0)
    return row


def _status(rows):
    checks, _, _ = optimizer_task_checks("t", {"rows": rows}, TOL, 0.03, 3.0)
    return checks, status_of(checks)


def test_a_failed_optimizer_is_not_hidden_by_another_ones_precondition():
    rows = {"A": _row("l2", {"l2": (0.01, 0.01), "linf": (0.5, 0.5)}),
            "B": _row("linf", {"l2": (0.9, 0.9), "linf": (0.2, 0.2)}),     # settled at 0.2 > 0.05: a miss
            "C": _row("linf", {}, separated=False)}
    checks, status = _status(rows)
    assert status == "failed"
    assert {c.unit for c in checks} == {"t/A", "t/B", "t/C"}
    assert status_of([replace(c, unit="") for c in checks]) == "inconclusive"     # the old, unit-less reading


def test_a_rival_that_coincides_on_the_data_is_inconclusive_not_failed():
    # A (l2) is 2x from Muon's norm, but Muon's own limit is KKT for l2 as well (0.012 < 3x A's 0.01):
    # the predictions coincide. The old check read the 2x as a failed control.
    rows = {"A": _row("l2", {"l2": (0.01, 0.01), "muon": (0.02, 0.02), "linf": (0.5, 0.5)}),
            "M": _row("muon", {"l2": (0.012, 0.012), "muon": (0.01, 0.01), "linf": (0.6, 0.6)}),
            "S": _row("linf", {"l2": (0.5, 0.5), "muon": (0.5, 0.5), "linf": (0.01, 0.01)})}
    assert rival_coincides(rows, "l2", "muon", TOL, 3.0 * 0.01) == ("M", 0.012)
    checks, status = _status(rows)
    assert status == "inconclusive"
    pair = {c.name: c for c in checks if c.unit == "t/A vs muon"}
    assert not pair["t/A vs muon: rival_prediction_differs"].passed
    assert next(c for c in checks if c.name == "t/A: kkt_control_ratio").value == 50.0    # against linf
    # the same residuals where Muon's limit is far from l2-KKT: the control can separate and does not
    rows["M"]["residuals"]["l2"].update(residual=0.5, lower_bound=0.5)
    assert rival_coincides(rows, "l2", "muon", TOL, 3.0 * 0.01) is None
    checks, status = _status(rows)
    assert status == "failed"
    assert not next(c for c in checks if c.name == "t/A: kkt_control_ratio").passed


def test_a_nan_control_residual_is_a_miss():
    rows = {"A": _row("l2", {"l2": (0.01, 0.01), "linf": (0.5, 0.5), "muon": (math.nan, math.nan)}),
            "S": _row("linf", {"l2": (0.5, 0.5), "linf": (0.01, 0.01), "muon": (0.5, 0.5)})}
    checks, status = _status(rows)
    assert status == "failed"
    assert math.isnan(next(c for c in checks if c.name == "t/A: kkt_control_ratio").value)


def test_a_nan_residual_in_the_series_is_not_settled():
    series = [(t, r) for t, r in _power_series(0.2, 0.0)]
    series[2] = (series[2][0], math.nan)
    assert not residual_settled("a", series, 0.05, 0.03).passed


def test_not_fit_names_the_points_with_every_neuron_inactive():
    import numpy as np
    from numerics.networks import TwoLayerNetwork
    from verify.homogeneous_checks import not_fit_reason
    net = TwoLayerNetwork.build("squared_relu", 2, 2)
    W, u = np.array([[1.0, 0.0], [0.0, 1.0]]), np.ones((1, 2))
    X = np.array([[1.0, 1.0], [-1.0, -2.0]])
    assert "1 training point(s) (index 1)" in not_fit_reason(net, (W, u), X)
    assert "every neuron inactive" not in not_fit_reason(net, (W, u), X[:1])
