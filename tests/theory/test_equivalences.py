import numpy as np
import pytest
import sympy as sp

from theory import equivalences as eq


def _compiled(name, args):
    return sp.lambdify(args, eq.early_stopping_derivation().results[name], "numpy")


@pytest.mark.parametrize("s_val,eta_val", [(0.3, 0.1), (2.0, 0.4), (1e-3, 5e-3), (4.0, 0.2)])
def test_mu_turns_the_gd_recursion_into_a_ridge(s_val, eta_val):
    mu = _compiled("mu", (eq.s, eq.eta, eq.t))
    iterate = _compiled("iterate", (eq.s, eq.eta, eq.c, eq.t))
    c_val, z = 0.7, 0.0
    # the closed forms cancel 1 − (1 − ηs)^t: round-off ≈ 1e-16/(ηs) relative
    rel = 1e-13 / min(1.0, eta_val * s_val)
    for t in range(1, 60):
        z = z - eta_val * (s_val * z - c_val)          # the recursion, run numerically
        assert iterate(s_val, eta_val, c_val, t) == pytest.approx(z, rel=rel)
        assert c_val / (s_val + mu(s_val, eta_val, t)) == pytest.approx(z, rel=rel)
        assert mu(s_val, eta_val, t) > 0


def test_first_step_penalty_is_explicit():
    # t = 1: θ_1 = ηb, so (s + μ)·η = 1, μ_1 = 1/η − s.
    mu = _compiled("mu", (eq.s, eq.eta, eq.t))
    assert mu(0.5, 0.1, 1) == pytest.approx(1 / 0.1 - 0.5)


def test_gradient_flow_limit_and_small_time_series():
    mu = _compiled("mu", (eq.s, eq.eta, eq.t))
    flow = _compiled("gradient_flow", (eq.s, eq.tau))
    small = _compiled("small_time", (eq.s, eq.tau))
    s_val, tau_val = 1.3, 0.7
    assert mu(s_val, 1e-5, round(tau_val / 1e-5)) == pytest.approx(flow(s_val, tau_val), rel=1e-4)
    tiny = 1e-3
    assert small(s_val, tiny) == pytest.approx(flow(s_val, tiny), rel=1e-9)


def test_lambda_hat_is_a_rayleigh_quotient():
    expr = eq.early_stopping_derivation().results["lambda_hat"]
    mu_i, z_i = sp.IndexedBase("mu"), sp.IndexedBase("z")
    d = sp.Symbol("d", integer=True, positive=True)
    concrete = expr.subs(d, 2).doit().subs({mu_i[1]: 3.0, mu_i[2]: 1.0, z_i[1]: 1.0, z_i[2]: 2.0})
    assert float(concrete) == pytest.approx((3 * 1 + 1 * 4) / (2 * 5))


def test_mask_moments_and_coefficient():
    mean, var = eq.mask_moments()
    assert mean == 1
    kappa = sp.lambdify(eq.p, eq.dropout_derivation().results["coefficient"])
    for p_val in (0.1, 0.3, 0.5, 0.9):
        assert kappa(p_val) == pytest.approx(p_val / (1 - p_val))
    # independent Monte Carlo estimate of Var[m/(1−p)]
    rng = np.random.default_rng(0)
    draws = (rng.random(400_000) < 0.7) / 0.7
    assert draws.var() == pytest.approx(kappa(0.3), rel=1e-2)


def test_sgd_spread_formula_against_simulation():
    d = eq.sgd_spread_derivation()
    assert d.results["rms_exponent"] == sp.Rational(1, 2)
    v = d.results["variance"]
    syms = {s.name: s for s in v.free_symbols}
    a, va, sigma2, eta = 1.0, 0.5, 0.3, 0.05
    predicted = float(v.subs({syms["a"]: a, syms["v_a"]: va, syms["sigma2"]: sigma2, syms["eta"]: eta}))
    rng = np.random.default_rng(1)
    e = np.zeros(8_000)
    for _ in range(800):
        e = (1 - eta * (a + np.sqrt(va) * rng.standard_normal(e.size))) * e \
            + eta * np.sqrt(sigma2) * rng.standard_normal(e.size)
    assert np.mean(e**2) == pytest.approx(predicted, rel=0.05)


def test_derivations_print():
    for d in (eq.early_stopping_derivation(), eq.dropout_derivation(), eq.sgd_spread_derivation()):
        assert d.pretty() and d.latex() and d.as_strings()
