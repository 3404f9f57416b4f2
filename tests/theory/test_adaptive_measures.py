import pytest
import sympy as sp

pytestmark = pytest.mark.slow


def test_adaptive_measure_factors():
    from theory.adaptive_measures import adaptive_measures_derivation, sigma

    d = adaptive_measures_derivation()
    assert sp.simplify(d.results["block_factor"] - 2 / sigma) == 0
    assert sp.simplify(d.results["shampoo_factor"] - 2 / sigma) == 0
