import numpy as np
import sympy as sp

from theory.smoothed_margin import V, smoothed_margin_derivation


def test_inverse_of_the_logistic_loss():
    inv = sp.lambdify(V, smoothed_margin_derivation().results["inverse_loss"], "numpy")
    for q in (-1.0, 0.5, 3.0, 8.0):    # the plain formula cancels for large q: numerics uses expm1
        assert np.isclose(inv(np.log1p(np.exp(-q))), q, rtol=1e-9)
