import math

from verify.homogeneous_checks import norm_growth_to_tolerance, residual_settled, steps_to_tolerance


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


def test_steps_to_tolerance_follows_the_measured_power_of_t():
    # ‖θ‖ ∝ t^0.3 and r ∝ ‖θ‖^(−1): from r(T) = 0.02 at T = 30 000 the residual reaches 0.01 when ‖θ‖
    # has doubled, i.e. at 2^(1/0.3)·T; the same run with r ∝ t^(−0.3) simulated gives that length.
    t0, t1 = 15_000, 30_000
    n = lambda t: 3.0 * t ** 0.3
    steps = steps_to_tolerance(0.02, 1.0, 0.01, (t0, t1), (n(t0), n(t1)))
    assert math.isclose(steps, t1 * 2 ** (1 / 0.3), rel_tol=1e-9)
    assert math.isclose(0.02 * (n(t1) / n(steps)), 0.01, rel_tol=1e-9)
    growth = {"steps": (t0, t1), "norms": (n(t0), n(t1))}
    assert "about 3e+05 steps" in residual_settled("a", 0.02, 1.0, 0.01, 0.1, growth).note
    assert "steps" not in residual_settled("a", 0.005, 1.0, 0.01, 0.1, growth).note   # within tolerance
    assert steps_to_tolerance(0.02, 1.0, 0.01, (t0, t1), (2.0, 2.0)) == math.inf      # ‖θ‖ not growing
