import math

from verify.homogeneous_checks import norm_growth_to_tolerance, residual_settled


def test_residual_settled():
    assert residual_settled("a", 0.01, 5.0, 0.05, 0.1).passed          # within tolerance: decided
    assert residual_settled("a", 0.2, 0.05, 0.05, 0.1).passed          # flat: decided (a miss)
    assert not residual_settled("a", 0.2, 0.9, 0.05, 0.1).passed       # still falling
    assert not residual_settled("a", 0.2, -0.5, 0.05, 0.1).passed      # rising (a transient)
    assert residual_settled("a", 0.2, 0.9, 0.05, 0.1).role == "precondition"


def test_norm_growth_to_tolerance_inverts_the_power_law():
    # r ∝ ‖θ‖^(−κ): growing ‖θ‖ by the returned factor takes r from 0.2 to 0.05 exactly.
    factor = norm_growth_to_tolerance(0.2, 0.6, 0.05)
    assert math.isclose(0.2 * factor ** -0.6, 0.05, rel_tol=1e-12)
    assert "4×" in residual_settled("a", 0.1, 1.0, 0.025, 0.1).note
