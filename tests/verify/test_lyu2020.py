from dataclasses import replace

import verify.experiments.lyu2020 as experiment
from verify.experiments.lyu2020 import SETTINGS
from verify.margin_checks import monotonicity_checks
from verify.context import Context
from verify.registry import get
from verify.runner import check_claim


def test_registered_with_derivation():
    c = get("lyu2020-gd-homogeneous-kkt")
    d = c.derivation()
    assert d.results["squared_relu_degree"] == 3 and d.results["relu_degree"] == 2
    assert "inverse_loss" in d.results and f"{SETTINGS.quick.steps} steps" in c.statement


def _checks(r):
    return monotonicity_checks("k", r, SETTINGS.quick.margin_drop, SETTINGS.control_ratio)


def test_not_separated_is_inconclusive(monkeypatch):
    monkeypatch.setattr(experiment, "SETTINGS", replace(SETTINGS, steps=2))
    out = check_claim(get("lyu2020-gd-homogeneous-kkt"), Context())
    assert out.status == "inconclusive" and "min_margin" in out.message


def test_a_smoothed_margin_drop_on_the_capped_run_is_a_miss():
    path = [(10, 1.0), (20, 0.9)]
    r = {"capped": {"min_margin": 1.0, "message": "", "smoothed_margin": path, "largest_margin_drop": 0.1,
                    "margin_gain": 0.9, "kkt_residual": 0.1}}
    checks = _checks(r)
    assert {c.name for c in checks if not c.passed} == {"k: largest_smoothed_margin_drop", "k: smoothed_margin_gain"}
    r["capped"].update(largest_margin_drop=0.0, margin_gain=1.2, smoothed_margin=[(10, 1.0), (20, 1.2)])
    assert all(c.passed for c in _checks(r))


def _result(capped_drop: float, constant_drop: float, dq: float = 10.0) -> dict:
    path = [(10, 1.0), (20, 1.1)]
    return {"capped": {"min_margin": 1.0, "message": "", "smoothed_margin": path, "largest_margin_drop": capped_drop,
                       "margin_gain": 1.1, "kkt_residual": 0.1},
            "largest_margin_drop": constant_drop, "step_times_log_loss": dq, "degree": 2}


def _misses(r) -> set:
    return {c.name for c in _checks(r) if not c.passed}


def test_the_constant_steps_drop_is_caught_and_is_the_control():
    """The drops the constant step makes (7.9e-3 on the digits trained alone, 1.7e-3 in lockstep) passed the
    old quick tolerance 1e-2; fed as the capped run's, they are misses now, and the constant step's own
    drop is a decisive control (a rival "monotone whatever the step" would make it miss)."""
    old_tolerance = 1e-2
    for drop in (7.9e-3, 1.7e-3):
        assert drop <= old_tolerance
        assert _misses(_result(drop, 5e-3)) == {"k: largest_smoothed_margin_drop"}
    assert _misses(_result(-1e-5, 5e-3)) == set()
    control = next(c for c in _checks(_result(-1e-5, 0.0))
                   if c.name == "k: constant_step_margin_drop")
    assert control.role == "control" and not control.passed
    assert SETTINGS.control_ratio * SETTINGS.quick.margin_drop < 1.7e-3


def test_a_constant_step_inside_the_step_condition_cannot_serve_as_control():
    from verify.outcome import status_of
    checks = _checks(_result(-1e-5, 0.0, dq=0.1))
    assert status_of(checks) == "inconclusive"


def test_nan_drops_are_misses():
    import math
    assert _misses(_result(math.nan, 5e-3)) == {"k: largest_smoothed_margin_drop"}
    assert "k: constant_step_margin_drop" in _misses(_result(-1e-5, math.nan))
    from verify.numbers import nan_max
    assert math.isnan(nan_max([0.0, math.nan, 1e-12]))
