"""Test error and sparsity measures against direct evaluation."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from numerics.recovery_metrics import effective_support, excess_risk, support_count


def test_excess_risk_is_the_population_mean_square_error():
    rng = np.random.default_rng(0)
    w, w_star = rng.standard_normal(4), np.array([1.0, -0.8, 0.0, 0.0])
    Z = rng.choice([-1.0, 1.0], size=(400_000, 4))             # Rademacher: E[zzᵀ] = I
    monte_carlo = np.mean((Z @ w - Z @ w_star) ** 2)
    assert abs(excess_risk(w, w_star) - monte_carlo) < 0.02 * monte_carlo
    A = rng.standard_normal((4, 4))
    cov = A @ A.T
    assert np.isclose(excess_risk(w, w_star, cov), (w - w_star) @ cov @ (w - w_star))


def test_effective_support_of_equal_magnitudes_is_the_count():
    assert np.isclose(effective_support([0, 2.0, -2.0, 0, 2.0]), 3.0)
    assert effective_support(np.zeros(3)) == 0.0
    assert support_count([1.0, 1e-4, -0.5, 2e-3], relative=1e-3) == 3


@settings(max_examples=50, deadline=None)
@given(arrays(float, 6, elements=st.floats(-10, 10)).filter(lambda w: np.any(np.abs(w) > 1e-6)))
def test_effective_support_between_one_and_the_support_size(w):
    s = effective_support(w)
    assert 1.0 - 1e-9 <= s <= np.count_nonzero(w) + 1e-9
