"""woodworth2020-kernel-rich: the regime checks aggregate NaN-propagating and the control compares
with the nearest of the ℓ1 and ℓ2 interpolators."""
import math

from verify.interpolator_checks import regime_checks
from verify.outcome import status_of


def _rows(q=(1e-4, 2e-4, 3e-4), l1=(0.5, 0.2, 0.9), l2=(0.9, 0.6, 0.01)):
    return [{"alpha": a, "to_Q_alpha": d, "to_l1": x, "to_l2": z}
            for a, d, x, z in zip((0.01, 0.1, 1.0), q, l1, l2)]


def _checks(rows):
    return regime_checks(rows, (0.1,), 1e-3, 1e-8, 1e-12, 1e-14)


def test_regime_checks_verify_on_good_rows():
    assert status_of(_checks(_rows())) == "verified"


def test_nan_distance_cannot_pass():
    """The old running max (starting at 0.0 with Python's max) drops a NaN that is not first."""
    rows = _rows(q=(1e-4, math.nan, 3e-4))
    assert max(r["to_Q_alpha"] for r in rows) <= 1e-3          # the old aggregation passes wrongly
    checks = _checks(rows)
    assert math.isnan(checks[0].value) and status_of(checks) == "failed"


def test_control_uses_the_nearest_rival():
    """At the intermediate α the ℓ1 interpolator is 10× nearer than ℓ2: the control reads ℓ1's ratio
    (the farthest rival would pass it wrongly)."""
    rows = _rows(q=(1e-4, 2e-3 / 2, 3e-4), l1=(0.5, 5e-3, 0.9), l2=(0.9, 0.6, 0.01))
    checks = _checks(rows)
    control = next(c for c in checks if c.role == "control")
    assert math.isclose(control.value, 5.0) and not control.passed
    assert 0.6 / 1e-3 >= 10                                      # the farthest rival's ratio
    assert status_of(checks) == "failed"
