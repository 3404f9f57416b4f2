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


def test_no_interval_is_printed_as_a_point():
    """A fit pinned at the end of the searched exponents, or a degenerate bootstrap, has no interval:
    the old report printed `e = -0.250 [95% CI -0.250, -0.250]`."""
    from verify.sharpness_fingerprint import SharpnessFingerprint, bootstrap_interval

    interval, note = bootstrap_interval([-0.25] * 50, {0.04: -0.25, 0.02: -0.25}, -0.25, 1.0)
    assert interval is None and "end of the searched exponents" in note
    interval, note = bootstrap_interval([0.3] * 50, {0.04: 0.3, 0.02: 0.3}, -0.25, 1.0)
    assert interval is None and "same exponent" in note
    interval, note = bootstrap_interval([0.2, 0.3, 0.4, 0.5], {0.04: 0.3, 0.02: 0.35}, -0.25, 1.0)
    assert interval is not None and interval[0] < interval[1] and note == ""
    fp = SharpnessFingerprint("outside-family", eta=0.02, replicas=16, exponent=-0.25,
                              per_eta={0.04: -0.25, 0.02: -0.25}, interval=None, interval_note=note or "no interval: x")
    assert "95% CI" not in fp.summary() and "no interval" in fp.summary()
    assert fp.record()["interval"] is None
