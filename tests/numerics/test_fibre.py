import numpy as np
import pytest

from numerics.fibre import numeric_fibre_minimum
from theory.parameterizations import product
from theory.sharpness import parse_measure


def test_numeric_fibre_minimum_of_uv_under_adam():
    vals = numeric_fibre_minimum(product(), parse_measure("adam"), [-2.0], starts=2)
    for r in vals:
        assert r.value == pytest.approx(2 * np.sqrt(abs(r.w)), rel=1e-6)
        assert r.feasible_starts > 0


def test_eight_parameters_reach_the_symmetric_minimum():
    """u1⋯u8 = w under tr H: by AM–GM the minimum 8|w|^{7/4} is at |θ_k| = |w|^{1/8} (checked
    here without the derivation)."""
    from theory.parameterizations import parse_parameterization

    param = parse_parameterization("*".join(f"u{k}" for k in range(1, 9)))
    (r,) = numeric_fibre_minimum(param, parse_measure("trace"), [1.5], starts=2)
    assert r.value == pytest.approx(8 * 1.5 ** 1.75, rel=1e-8)
    assert np.allclose(np.abs(r.theta), 1.5 ** (1 / 8), rtol=1e-4)


def test_cross_check_propagates_nan_and_matches_infinities():
    from numerics.fibre import FibreMinimum, cross_check

    minima = [FibreMinimum(1.0, 2.0, None, 1), FibreMinimum(-1.0, np.inf, None, 0)]
    ok = cross_check(lambda w: 2.0 if w > 0 else np.inf, minima)
    assert ok.agrees and not ok.above_upper_bound
    bad = cross_check(lambda w: np.nan, minima)
    assert bad.above_upper_bound and not bad.agrees
    unreachable = cross_check(lambda w: 2.0, minima)      # finite where no feasible point exists
    assert not unreachable.agrees
