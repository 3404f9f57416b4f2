"""The ℓ_κ interpolator (κ > 1 by dual Newton) against an independent solver, and its scale law."""
import numpy as np
import pytest
from scipy.optimize import minimize

from numerics.deep_diagonal import power_interpolator


@pytest.mark.parametrize("kappa", [4 / 3, 1.5, 7 / 4])
def test_dual_newton_matches_slsqp_and_scales(kappa):
    rng = np.random.default_rng(10001)
    Z, y = rng.standard_normal((4, 8)), rng.standard_normal(4)
    omega = rng.uniform(0.5, 2.0, 8)
    out = power_interpolator(Z, y, kappa, omega)
    assert np.linalg.norm(Z @ out.w - y) <= 1e-9 * np.linalg.norm(y)
    best = np.inf
    for s in range(5):
        x0 = np.linalg.lstsq(Z, y, rcond=None)[0] + 0.1 * rng.standard_normal(8) * s
        res = minimize(lambda x: np.sum(omega * np.abs(x) ** kappa), x0, method="SLSQP",
                       constraints=[{"type": "eq", "fun": lambda x: Z @ x - y}],
                       options={"ftol": 1e-14, "maxiter": 500})
        if np.linalg.norm(Z @ res.x - y) < 1e-8:
            best = min(best, res.fun)
    assert out.objective <= best * (1 + 1e-7)          # nothing feasible is lower
    assert out.objective == pytest.approx(best, rel=1e-5)
    scaled = power_interpolator(Z, 1e6 * y, kappa, omega)
    assert np.allclose(scaled.w, 1e6 * out.w, rtol=1e-8, atol=0)


def test_train_deep_projects_the_checkpoints_onto_the_interpolation_manifold():
    from numerics.deep_diagonal import train_deep
    from numerics.diagonal_nets import GD, DiagonalNetProblem
    from theory.parameterizations import depth

    rng = np.random.default_rng(10002)
    problem = DiagonalNetProblem(depth(3), rng.standard_normal((3, 6)), rng.standard_normal(3))
    out = train_deep(problem, GD(), 0.5, 0.02, 400, 0.5, replicas=3, seed=1, checkpoints=(200, 400, 0))
    assert out.status == "ok" and list(out.W_at) == [200]          # only steps strictly inside the run
    assert out.W_at[200].shape == out.W.shape == (3, 6)
    for W in (out.W, out.W_at[200]):
        worst = np.max(np.linalg.norm(W @ problem.Z.T - problem.y, axis=-1))
        assert worst <= out.residual * np.linalg.norm(problem.y) * (1 + 1e-12)
    assert out.residual < 1e-3
    assert not np.allclose(out.W_at[200], out.W)
