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
    from numerics.run_status import RunStatus

    assert out.status is RunStatus.OK and out.message == ""


def test_train_deep_windows_average_the_iterates_and_leave_the_run_unchanged():
    """``windows``: each window's θ̄ is projected like a checkpoint (a one-step window is that
    checkpoint, the last step's window is the final point); the run itself is unchanged; an empty
    window is NaN."""
    from numerics.deep_diagonal import train_deep
    from numerics.diagonal_nets import GD, DiagonalNetProblem
    from theory.parameterizations import depth

    rng = np.random.default_rng(10002)
    problem = DiagonalNetProblem(depth(3), rng.standard_normal((3, 6)), rng.standard_normal(3))
    kw = dict(replicas=2, seed=1, projection_steps=300)
    plain = train_deep(problem, GD(), 0.5, 0.02, 300, 0.5, checkpoints=(150,), **kw)
    win = train_deep(problem, GD(), 0.5, 0.02, 300, 0.5, checkpoints=(150,),
                     windows=((150,), (300,), (100, 200), (400,)), **kw)
    assert np.array_equal(plain.W, win.W) and np.array_equal(plain.W_at[150], win.W_at[150])
    assert list(win.W_at) == [150] and plain.residual == win.residual
    assert len(win.W_windows) == 4 and win.W_windows[0].shape == (2, 6)
    assert np.array_equal(win.W_windows[0], plain.W_at[150])
    assert np.array_equal(win.W_windows[1], plain.W)
    assert not np.allclose(win.W_windows[2], win.W_windows[0])
    assert np.all(np.isnan(win.W_windows[3]))                  # no step of the run in it


def test_deep_run_status_is_a_run_status():
    """DeepRun.status is a RunStatus member (its JSON value unchanged), the message says what happened;
    a free-text status is rejected where it is written."""
    import json

    from numerics.deep_diagonal import DeepRun
    from numerics.run_status import RunStatus

    run = DeepRun(np.empty(0), np.empty(0), np.inf, "error", "non-finite sharpness", 0.0)
    assert run.status is RunStatus.ERROR and json.dumps(run.status) == '"error"'
    assert run.message == "non-finite sharpness"
    with pytest.raises(ValueError, match="unknown run status"):
        DeepRun(np.empty(0), np.empty(0), np.inf, "diverged somehow", "", 0.0)


@pytest.mark.parametrize("N", [2, 3, 4])
def test_depth_problem_equals_the_generic_problem(N):
    """The closed-form u^N − v^N problem computes what the lambdified generic one computes; a wrong
    exponent in the derivative (sabotage) is caught by the same comparison."""
    from numerics.deep_diagonal import DepthProblem
    from numerics.diagonal_nets import DiagonalNetProblem
    from theory.parameterizations import depth

    rng = np.random.default_rng(10003)
    Z, y = rng.standard_normal((4, 7)), rng.standard_normal(4)
    fast, generic = DepthProblem(N, Z, y), DiagonalNetProblem(depth(N), Z, y)
    P = rng.uniform(0.1, 1.5, (5, 2, 7))
    noise = rng.choice([-1.0, 1.0], (5, 4))
    for name in ("w", "jacobian_factor", "residual", "jacobian"):
        assert np.allclose(getattr(fast, name)(P), getattr(generic, name)(P), rtol=1e-13, atol=0)
    assert np.allclose(fast.gradient(P, noise), generic.gradient(P, noise), rtol=1e-13, atol=0)

    class Wrong(DepthProblem):
        def jacobian_factor(self, P):
            return N * P ** N * np.array([1.0, -1.0])[:, None]

    assert not np.allclose(Wrong(N, Z, y).gradient(P, noise), generic.gradient(P, noise))


def test_warm_up_caps_the_step_while_the_start_is_sharp_and_keeps_the_rescaled_time():
    """From u = v = α every coordinate adds to the sharpness: plain label-noise GD
    diverges (at η·λ₀ = 4), the capped warm-up (η·λ ≤ 1) does not, and the run's warm-up plus main steps cover the
    same rescaled time (equivalent steps at η)."""
    from numerics.deep_diagonal import DepthProblem, gauss_newton_sharpness, train_deep
    from numerics.diagonal_nets import GD, balanced_init

    rng = np.random.default_rng(10004)
    problem = DepthProblem(2, rng.standard_normal((4, 16)), rng.standard_normal(4))
    lam0 = float(gauss_newton_sharpness(problem, balanced_init(problem, [0.5]))[0])
    eta = 4.0 / lam0
    plain = train_deep(problem, GD(), 0.5, eta, 3000, 0.5, replicas=2, seed=3, projection_steps=200)
    capped = train_deep(problem, GD(), 0.5, eta, 3000, 0.5, replicas=2, seed=3, step_sharpness=1.0,
                        checkpoints=(2500,), projection_steps=200)
    assert plain.status != "ok"
    assert capped.status == "ok" and 0 < capped.warmup_steps < 3000 and 2500 in capped.W_at
    assert np.all(np.isfinite(capped.W))


@pytest.mark.parametrize("N", [2, 3, 4])
def test_depth_problem_bound_gradient_equals_its_gradient_bitwise(N):
    """DepthProblem.gradient_on (views and the ∂f buffer made once) returns DepthProblem.gradient's bits
    along a run that updates P in place; sabotage: a bound gradient on a COPY of P goes stale and
    differs (the comparison can miss)."""
    rng = np.random.default_rng(N)
    Z = rng.standard_normal((3, 5))
    from numerics.deep_diagonal import DepthProblem

    problem = DepthProblem(N, Z, Z @ rng.standard_normal(5))

    def run(grad_of):
        P = 0.5 + 0.2 * np.random.default_rng(7).random((2, 2, 5))
        grad, out = grad_of(P), []
        for k in range(30):
            G = grad(0.3 * (-1.0) ** k * np.ones((2, 3)))
            out.append(G.copy())
            P -= 0.01 * G
        return np.array(out)

    slow = run(lambda P: lambda noise: problem.gradient(P, noise))
    assert np.array_equal(run(problem.gradient_on), slow)
    assert not np.array_equal(run(lambda P: problem.gradient_on(P.copy())), slow)


def test_train_deep_with_the_bound_gradient_equals_the_unbound_loop_bitwise(monkeypatch):
    """train_deep (warm-up, noisy run, windows, projections) on DepthProblem: the bound gradient
    leaves every output bit unchanged."""
    from numerics.deep_diagonal import DepthProblem, train_deep
    from numerics.diagonal_nets import AdamFamily

    rng = np.random.default_rng(11)
    Z = rng.standard_normal((3, 6))
    problem = DepthProblem(3, Z, Z @ rng.standard_normal(6))

    def go():
        return train_deep(problem, AdamFamily(0.9, 0.99, 1e-8, 0.5), 0.5, 0.02, 400, 1.0, replicas=2,
                          seed=4, projection_steps=200, checkpoints=(200,), step_sharpness=1.0,
                          windows=((300, 350, 400),))

    fast = go()
    monkeypatch.setattr(DepthProblem, "gradient_on",
                        lambda self, P: lambda noise=None: self.gradient(P, noise))
    slow = go()
    assert fast.status == slow.status == "ok"
    assert np.array_equal(fast.P, slow.P) and np.array_equal(fast.W_windows[0], slow.W_windows[0])
    assert all(np.array_equal(fast.P_at[k], slow.P_at[k]) for k in slow.P_at)
