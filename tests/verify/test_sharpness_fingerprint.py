"""The exponent fit of the sharpness fingerprint: vectorized interpolation and recovery."""
import numpy as np
import pytest

from verify.sharpness_fingerprint import _interpolated, fit_exponent

GRID = np.array([0.0, 0.25, 0.5, 0.75])


@pytest.mark.parametrize("e", [0.0, 0.1, 0.3, 0.5, 0.6875, 0.75])
def test_fit_recovers_the_exponent_that_generated_the_mean(e):
    stack = np.random.default_rng(1).standard_normal((len(GRID), 6, 2, 3))
    fine = np.linspace(GRID[0], GRID[-1], 241)
    fitted, obj = fit_exponent(_interpolated(stack, GRID, e), stack, GRID, fine)
    assert fitted == pytest.approx(e, abs=fine[1] - fine[0])
    assert obj.shape == fine.shape and obj.min() == pytest.approx(0.0, abs=1e-20)


def test_array_interpolation_equals_one_at_a_time():
    stack = np.random.default_rng(2).standard_normal((len(GRID), 5, 2, 4))
    es = np.array([0.0, 0.2, 0.25, 0.6, 0.75])
    batch = _interpolated(stack, GRID, es)
    for i, e in enumerate(es):
        j = min(max(int(np.searchsorted(GRID, e)) - 1, 0), len(GRID) - 2)
        w = (e - GRID[j]) / (GRID[j + 1] - GRID[j])
        assert np.allclose(batch[i], (1 - w) * stack[j] + w * stack[j + 1], rtol=0, atol=1e-15)
