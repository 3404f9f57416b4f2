"""KKT objects: the derived ℓp subgradient and the homogeneity consequences, checked numerically."""
import numpy as np
import sympy as sp
from hypothesis import given, settings, strategies as st

from theory.homogeneous import two_layer_network
from theory.kkt import HomogeneousMarginProblem, NORM, Q_MIN, homogeneity_derivation, lp_gradient_derivation
from theory.norms import parse_norm


def test_lp_gradient_matches_finite_differences():
    d = lp_gradient_derivation()
    p, a, S = sp.symbols("p a S", positive=True)
    grad = sp.lambdify((a, S, p), d.results["gradient_magnitude"], "numpy")
    rng = np.random.default_rng(0)
    for pv in (1.5, 2.0, 3.0):
        theta = rng.standard_normal(6)
        half_sq = lambda t: 0.5 * np.sum(np.abs(t) ** pv) ** (2 / pv)
        u = np.sign(theta) * grad(np.abs(theta), np.sum(np.abs(theta) ** pv), pv)
        fd = np.array([(half_sq(theta + 1e-6 * e) - half_sq(theta - 1e-6 * e)) / 2e-6 for e in np.eye(6)])
        assert np.allclose(u, fd, rtol=1e-6, atol=1e-9)
        q = pv / (pv - 1)
        norm = np.sum(np.abs(theta) ** pv) ** (1 / pv)
        assert np.isclose(np.sum(np.abs(u) ** q) ** (1 / q), norm)      # ‖u‖_* = ‖θ‖
        assert np.isclose(u @ theta, norm**2)                            # ⟨u, θ⟩ = ‖θ‖²
    assert sp.simplify(d.results["dual_norm_of_gradient"] - S ** (1 / p)) == 0
    assert sp.simplify(d.results["inner_product"] - S ** (2 / p)) == 0


@settings(max_examples=25, deadline=None)
@given(L=st.integers(1, 4), q_min=st.floats(1e-3, 1e3), alpha=st.floats(0.1, 10))
def test_homogeneity_consequences(L, q_min, alpha):
    r = homogeneity_derivation(sp.Integer(L)).results
    s = float(r["normalizing_scale"].subs(Q_MIN, q_min))
    assert np.isclose(q_min / s**L, 1.0)                    # the normalized θ has min margin 1
    gamma = sp.lambdify((Q_MIN, NORM), r["normalized_margin"])
    assert np.isclose(gamma(alpha**L * q_min, alpha * 2.0), gamma(q_min, 2.0))
    assert sp.simplify(r["cs_normalizer"] * r["lambda_sum"] - 1) == 0


def test_kkt_derivation_by_norm():
    model = two_layer_network("squared_relu")
    smooth = HomogeneousMarginProblem(model, parse_norm("l2", "binary")).derivation()
    assert "gradient_magnitude" in smooth.results
    rough = HomogeneousMarginProblem(model, parse_norm("linf", "binary")).derivation()
    assert "gradient_magnitude" not in rough.results
    assert rough.results["cs_normalizer"] == 3 / NORM**2
