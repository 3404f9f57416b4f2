import numpy as np
import pytest
import sympy as sp

from theory.schedules import A, L_SYM, is_admissible, schedule_conditions_derivation


@pytest.mark.parametrize("a, L, ok", [(0.8, 3, True), (0.7, 3, True), (0.6, 3, False), (2 / 3, 3, False),
                                      (0.55, 2, True), (0.5, 2, False), (1.0, 2, True), (1.2, 3, False)])
def test_admissibility(a, L, ok):
    assert is_admissible(a, L)[0] is ok


def test_tail_exponent_matches_numeric_ratio():
    tail = schedule_conditions_derivation().results["tail_exponent"]
    a, L = 0.8, 3
    t1, t2 = 1e8, 1e10
    ratio = lambda t: t ** (-a) / t ** (1 / L - 1)
    slope = np.log(ratio(t2) / ratio(t1)) / np.log(t2 / t1)
    assert np.isclose(slope, float(tail.subs({A: sp.Rational(4, 5), L_SYM: L})), atol=1e-9)
