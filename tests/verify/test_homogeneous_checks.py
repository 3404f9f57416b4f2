from verify.homogeneous_checks import residual_settled


def test_residual_settled():
    assert residual_settled("a", 0.01, 5.0, 0.05, 0.1).passed          # within tolerance: decided
    assert residual_settled("a", 0.2, 0.05, 0.05, 0.1).passed          # flat: decided (a miss)
    assert not residual_settled("a", 0.2, 0.9, 0.05, 0.1).passed       # still falling
    assert not residual_settled("a", 0.2, -0.5, 0.05, 0.1).passed      # rising (a transient)
    assert residual_settled("a", 0.2, 0.9, 0.05, 0.1).role == "precondition"
