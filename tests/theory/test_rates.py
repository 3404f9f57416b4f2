import numpy as np
import sympy as sp
from scipy.optimize import minimize_scalar

from theory.rates import decay_exponent, optimal_eta0, step_size_derivation


def test_decay_exponents():
    assert decay_exponent("nsd") == -0.5 and decay_exponent("nmd") == -0.5
    assert np.isclose(decay_exponent("adam"), -1 / 3)
    assert decay_exponent("gd") == 0.0   # 1/log t is slower than any power


def test_step_size_minimizes_the_bound_numerically():
    R, N, T = 9.7, 4500, 10_000
    bound = lambda e: (R**2 * e**2 * np.log(T) / 2 + np.log(N)) / (2 * e * np.sqrt(T))
    best = minimize_scalar(bound, bounds=(1e-6, 10), method="bounded", options={"xatol": 1e-12}).x
    assert np.isclose(optimal_eta0(R, N, T), best, rtol=1e-6)
    assert step_size_derivation().results["eta0"].free_symbols == {sp.Symbol(s, positive=True) for s in "RNT"}
