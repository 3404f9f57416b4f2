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
