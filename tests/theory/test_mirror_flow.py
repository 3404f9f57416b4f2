import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp

pytestmark = pytest.mark.slow


def test_derived_potential_matches_theory_md_and_its_limits():
    from theory.mirror_flow import woodworth_derivation

    d = woodworth_derivation()
    assert d.results["matches_recalled_form"] == 1
    w = sp.Symbol("w", positive=True)
    assert sp.simplify(d.results["rich_limit"] - w) == 0
    assert sp.simplify(d.results["kernel_limit"] - w**2 / 4) == 0


def test_mirror_map_agrees_with_an_integrated_gradient_flow():
    """Integrate u' = −2ug, v' = 2vg for an arbitrary g(t); then Q_α'(w(t)) must equal −4∫g."""
    from theory.mirror_flow import q_alpha_gradient

    grad = q_alpha_gradient()
    alpha = 0.3

    def g(t):
        return np.sin(3 * t) + 0.5

    def rhs(t, x):
        return [-2 * x[0] * g(t), 2 * x[1] * g(t), g(t)]

    sol = solve_ivp(rhs, (0, 2), [alpha, alpha, 0.0], rtol=1e-11, atol=1e-13)
    u, v, G = sol.y[:, -1]
    assert grad(u**2 - v**2, alpha) == pytest.approx(-4 * G, rel=1e-8)
