import math

from verify.homogeneous_checks import residual_settled, steps_to_tolerance


def test_residual_settled():
    assert residual_settled("a", 0.01, 5.0, 0.05, 0.03, 4000).passed          # within tolerance: decided
    assert residual_settled("a", 0.2, 0.02, 0.05, 0.03, 4000).passed          # flat: decided (a miss)
    assert not residual_settled("a", 0.2, 0.3, 0.05, 0.03, 4000).passed       # still falling
    assert not residual_settled("a", 0.2, -0.5, 0.05, 0.03, 4000).passed      # rising (a transient)
    assert residual_settled("a", 0.2, 0.3, 0.05, 0.03, 4000).role == "precondition"


def test_steps_to_tolerance_inverts_the_power_of_t():
    # r ∝ t^(−0.3) from r(T) = 0.02 at T = 30 000: r reaches 0.01 at 2^(1/0.3)·T.
    steps = steps_to_tolerance(0.02, 0.3, 0.01, 30_000)
    assert math.isclose(steps, 30_000 * 2 ** (1 / 0.3), rel_tol=1e-12)
    assert math.isclose(0.02 * (steps / 30_000) ** -0.3, 0.01, rel_tol=1e-12)
    assert "about 3e+05 steps" in residual_settled("a", 0.02, 0.3, 0.01, 0.03, 30_000).note
    assert "steps" not in residual_settled("a", 0.005, 0.3, 0.01, 0.03, 30_000).note    # within tolerance
    assert "steps" not in residual_settled("a", 0.02, -0.3, 0.01, 0.03, 30_000).note    # rising: no projection
