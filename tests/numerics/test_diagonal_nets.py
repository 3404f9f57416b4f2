"""The fast diagonal-net trainer equals the project's optimizer transformations step for step, and its
closed-form gradients / Hessian diagonals equal torch autograd."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from numerics.diagonal_nets import (AdamFamily, DiagonalNetProblem, GD, Shampoo, balanced_init,
                                    torch_loss, train)
from numerics.interpolation import InconsistentSystemError
from numerics.optim import TransformOptimizer, adam, chain, gd, schedule
from theory.errors import UserInputError
from theory.parameterizations import parse_parameterization, quadratic_difference


def _problem(param=None, n=3, d=4, seed=0):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, d))
    return DiagonalNetProblem(param or quadratic_difference(), Z, Z @ rng.standard_normal(d))


def _lockstep(problem, fast, transform, steps=6, eta=0.05, delta=0.5, seed=1):
    """Run the fast update and TransformOptimizer(transform) on the same noise; max abs difference."""
    rng = np.random.default_rng(seed)
    P = 0.3 + 0.2 * rng.random((1, problem.param.m, problem.d))
    params = [torch.tensor(P[0, k].copy(), requires_grad=True) for k in range(problem.param.m)]
    opt = TransformOptimizer(params, transform)
    loss = torch_loss(problem)
    state = fast.init(P.shape)
    worst = 0.0
    for step in range(1, steps + 1):
        noise = delta * rng.choice([-1.0, 1.0], size=problem.n)
        D, state = fast.direction(problem.gradient(P, noise[None]), state, step)
        P = P - eta * D
        opt.zero_grad()
        loss(params, noise).backward()
        opt.step()
        ref = np.stack([p.detach().numpy() for p in params])
        worst = max(worst, float(np.max(np.abs(P[0] - ref))))
    return worst


def test_fast_gd_equals_optim_gd():
    assert _lockstep(_problem(), GD(), gd(lambda t: 0.05)) < 1e-14


@pytest.mark.parametrize("e", [0.0, 0.25, 0.5])
def test_fast_adam_family_equals_optim_adam(e):
    fast = AdamFamily(beta1=0.9, beta2=0.95, eps=1e-6, exponent=e)
    ref = adam(lambda t: 0.05, 0.9, 0.95, eps=1e-6, bias_correction=False, exponent=e)
    assert _lockstep(_problem(), fast, ref) < 1e-12


def test_fast_rmsprop_is_adam_without_momentum():
    fast = AdamFamily(beta1=0.0, beta2=0.9, eps=1e-8, exponent=0.5)
    ref = adam(lambda t: 0.05, 0.0, 0.9, eps=1e-8, bias_correction=False, exponent=0.5)
    assert _lockstep(_problem(), fast, ref) < 1e-12


@pytest.mark.parametrize("block", [0, 2])
def test_fast_block_adam_equals_transformation(block):
    fast = AdamFamily(beta1=0.9, beta2=0.95, eps=1e-6, exponent=0.5, block=block)
    ref = chain(fast.preconditioner(), schedule(lambda t: 0.05))
    assert _lockstep(_problem(), fast, ref) < 1e-12


def test_fast_shampoo_equals_transformation():
    # ε well above round-off: L starts at rank one, and (L^{1/2} + εI)⁻¹ amplifies rounding in its
    # null space by 1/ε, so two correct implementations agree only to ~1e-16/ε.
    fast = Shampoo(beta1=0.9, beta2=0.95, eps=1e-2)
    ref = fast.transformation(lambda t: 0.05)
    assert _lockstep(_problem(), fast, ref) < 1e-12


def _continue_from_state(fast_cls, kwargs, split, seed):
    """β₁ = 0 (no first-moment memory): k cold steps then a fresh optimizer with v0 = the cold v must
    continue the cold run exactly. Returns (directions of the cold run, of the split run)."""
    rng = np.random.default_rng(seed)
    Gs = rng.standard_normal((split + 3, 2, 2, 4))
    cold = fast_cls(**kwargs)
    state, ref = cold.init(Gs[0].shape), []
    for t, G in enumerate(Gs, 1):
        D, state = cold.direction(G, state, t)
        ref.append(D)
        if t == split:
            warm = fast_cls(**kwargs, v0=state[1])
            wstate, out = warm.init(G.shape), []
    for t, G in enumerate(Gs[split:], 1):
        D, wstate = warm.direction(G, wstate, t)
        out.append(D)
    return np.array(ref[split:]), np.array(out)


@settings(max_examples=20, deadline=None)
@given(split=st.integers(1, 6), beta2=st.floats(0.5, 0.999), seed=st.integers(0, 2**16),
       block=st.sampled_from([1, 2, 0]), e=st.sampled_from([0.25, 0.5, 0.75]))
def test_adam_v0_continues_a_run_from_its_second_moment(split, beta2, seed, block, e):
    ref, out = _continue_from_state(AdamFamily, dict(beta1=0.0, beta2=beta2, eps=1e-8, exponent=e,
                                                     block=block), split, seed)
    np.testing.assert_array_equal(out, ref)


@settings(max_examples=10, deadline=None)
@given(split=st.integers(1, 6), beta2=st.floats(0.5, 0.999), seed=st.integers(0, 2**16))
def test_shampoo_v0_continues_a_run_from_its_second_moment(split, beta2, seed):
    ref, out = _continue_from_state(Shampoo, dict(beta1=0.0, beta2=beta2, eps=1e-6), split, seed)
    np.testing.assert_array_equal(out, ref)


def test_v0_first_step_and_default():
    rng = np.random.default_rng(4)
    v0, G = rng.random((2, 2, 3)) + 0.1, rng.standard_normal((2, 2, 3))
    opt = AdamFamily(beta1=0.9, beta2=0.99, eps=1e-8, v0=v0)
    D, (m, v) = opt.direction(G, opt.init(v0.shape), 1)
    np.testing.assert_allclose(v, 0.99 * v0 + 0.01 * G**2, rtol=1e-15)
    np.testing.assert_allclose(D, 0.1 * G / (np.sqrt(0.99 * v0 + 0.01 * G**2) + 1e-8), rtol=1e-14)
    shared = AdamFamily(v0=v0[0]).init(v0.shape)[1]                  # (m, d) broadcast to replicas
    np.testing.assert_array_equal(shared, np.broadcast_to(v0[0], v0.shape))
    # v0 = 0 is the default rule (bit for bit); the state is a copy of v0
    zero = AdamFamily(v0=np.zeros(v0.shape))
    cold = AdamFamily()
    np.testing.assert_array_equal(zero.direction(G, zero.init(G.shape), 1)[0],
                                  cold.direction(G, cold.init(G.shape), 1)[0])
    state = opt.init(v0.shape)
    state[1][:] = 0.0
    np.testing.assert_array_equal(opt.v0, v0)


def test_shampoo_v0_first_step_matches_a_matrix_square_root():
    from scipy.linalg import sqrtm

    rng = np.random.default_rng(5)
    A, g = rng.standard_normal((3, 3)), rng.standard_normal(3)
    L0 = A @ A.T
    opt = Shampoo(beta1=0.0, beta2=0.9, eps=1e-3, v0=L0)
    D, _ = opt.direction(g[None, None], opt.init((1, 1, 3)), 1)
    L = 0.9 * L0 + 0.1 * np.outer(g, g)
    np.testing.assert_allclose(D[0, 0], np.linalg.solve(np.real(sqrtm(L)) + 1e-3 * np.eye(3), g),
                               rtol=1e-10)


@pytest.mark.parametrize("make, message", [
    (lambda: AdamFamily(v0=np.ones((3, 2, 4))), "does not fit"),
    (lambda: AdamFamily(v0=-np.ones((2, 4))), "negative"),
    (lambda: AdamFamily(v0=np.full((2, 4), np.nan)), "non-finite"),
    (lambda: Shampoo(v0=np.ones((2, 4))), "does not fit"),
    (lambda: Shampoo(v0=np.triu(np.ones((4, 4)))), "not symmetric"),
])
def test_bad_v0_is_rejected_in_one_line(make, message):
    with pytest.raises(UserInputError, match=message):
        make().init((2, 2, 4))


@pytest.mark.parametrize("text", ["u**2 - v**2", "u*v", "u**3 - v**3", "a*exp(b) - b**2"])
def test_gradient_and_exact_hessian_diagonal_match_autograd(text):
    problem = _problem(parse_parameterization(text))
    rng = np.random.default_rng(3)
    P = 0.5 + rng.random((problem.param.m, problem.d))
    loss = torch_loss(problem)
    flat = torch.tensor(P.ravel(), requires_grad=True)

    def f(x):
        return loss(list(x.reshape(problem.param.m, problem.d)))

    grad = torch.autograd.functional.jacobian(f, flat).numpy()
    hess = torch.autograd.functional.hessian(f, flat).numpy()
    np.testing.assert_allclose(problem.gradient(P).ravel(), grad, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(problem.hessian_diagonal(P).ravel(), np.diag(hess), rtol=1e-11,
                               atol=1e-12)


def test_gauss_newton_diagonal_is_exact_at_interpolation():
    rng = np.random.default_rng(4)
    Z = rng.standard_normal((2, 4))
    problem = DiagonalNetProblem(quadratic_difference(), Z, Z @ np.array([1.0, 0.0, -1.0, 0.5]))
    P = np.array([[1.0, 0.1, 0.2, np.sqrt(0.5)], [0.0, 0.1, np.sqrt(1.04), 0.0]])
    assert np.max(np.abs(problem.residual(P))) < 1e-12
    np.testing.assert_allclose(problem.hessian_diagonal(P), problem.gauss_newton_diagonal(P))


def test_divergence_reports_the_step():
    problem = _problem()
    run = train(problem, balanced_init(problem, 3.0), GD(), eta=10.0, steps=2000)
    assert run.status == "error" and "step" in run.message


def test_inconsistent_data_is_rejected():
    with pytest.raises(InconsistentSystemError):
        DiagonalNetProblem(quadratic_difference(), np.ones((2, 3)), np.array([1.0, 2.0]))


@pytest.mark.parametrize("make", [lambda: GD(), lambda: AdamFamily(0.9, 0.95, 1e-6, 0.25),
                                  lambda: AdamFamily(0.0, 0.9, 1e-8, 0.5, block=0),
                                  lambda: Shampoo(0.9, 0.95, 1e-2)])
def test_one_declaration_array_back_end_equals_its_torch_back_end(make):
    rule = make()
    assert _lockstep(_problem(), rule, rule.transformation(lambda t: 0.05)) < 1e-12


def test_array_back_end_lockstep_detects_another_rule():
    # sabotaged: the torch back end of a neighbouring exponent is told apart by the same comparison
    fast = AdamFamily(0.9, 0.95, 1e-6, 0.5)
    assert _lockstep(_problem(), fast, AdamFamily(0.9, 0.95, 1e-6, 0.45).transformation(lambda t: 0.05)) > 1e-6


def test_torch_back_end_refuses_an_initial_second_moment():
    with pytest.raises(ValueError, match="starts the second moment at 0"):
        AdamFamily(v0=np.ones((2, 4))).transformation(lambda t: 0.05)


def test_diverged_run_has_the_error_status():
    from numerics.run_status import RunStatus

    problem = _problem()
    run = train(problem, balanced_init(problem, 3.0), GD(), 50.0, 300)
    assert run.status is RunStatus.ERROR and run.status == "error" and "diverged" in run.message


# -- the trainers' bound gradient (DiagonalNetProblem.gradient_on) is the gradient, bit for bit ------
def _in_place_gradients(problem, grad_of, steps=40, replicas=3, seed=2):
    """Gradients along a run that updates one buffer P in place (as ``train`` does); ``grad_of(P)``
    returns noise ↦ gradient at the buffer's current value."""
    rng = np.random.default_rng(seed)
    P = 0.4 + 0.3 * rng.random((replicas, problem.param.m, problem.d))
    grad = grad_of(P)
    out = []
    for _ in range(steps):
        G = grad(0.5 * rng.choice([-1.0, 1.0], size=(replicas, problem.n)))
        out.append(G.copy())
        P -= 0.05 * G
    return np.array(out)


@pytest.mark.parametrize("text", ["u**2 - v**2", "u*v", "u - v**2", "u**3 - v**3"])
def test_bound_gradient_equals_the_gradient_bitwise(text):
    problem = _problem(parse_parameterization(text) if text != "u**2 - v**2" else None)
    fast = _in_place_gradients(problem, problem.gradient_on)
    slow = _in_place_gradients(problem, lambda P: lambda noise: problem.gradient(P, noise))
    assert np.array_equal(fast, slow)


def test_bitwise_comparison_detects_a_reordered_gradient():
    """Sabotage: (r/n) @ Z instead of (r @ Z)/n is the same gradient up to the last bits, and the
    bitwise comparison above misses on it (so it can fail)."""
    problem = _problem()

    def reordered(P):
        return lambda noise: problem.jacobian_factor(P) * (((problem.residual(P) - noise) / problem.n)
                                                           @ problem.Z)[..., None, :]

    fast = _in_place_gradients(problem, problem.gradient_on)
    bad = _in_place_gradients(problem, reordered)
    assert np.allclose(fast, bad, rtol=1e-10, atol=1e-14) and not np.array_equal(fast, bad)


@pytest.mark.parametrize("make", [lambda: GD(), lambda: AdamFamily(0.9, 0.99, 1e-8, 0.5, 0),
                                  lambda: Shampoo(0.9, 0.99, 1e-8)])
def test_train_equals_the_unbound_gradient_loop_bitwise(make, monkeypatch):
    problem = _problem()
    P0 = balanced_init(problem, [0.5, 0.7])
    fast = train(problem, P0, make(), 0.02, 300, label_noise=0.5, seed=3, checkpoints=(0, 150, 300))
    monkeypatch.setattr(DiagonalNetProblem, "gradient_on",
                        lambda self, P: lambda noise=None: self.gradient(P, noise))
    slow = train(problem, P0, make(), 0.02, 300, label_noise=0.5, seed=3, checkpoints=(0, 150, 300))
    assert fast.steps == slow.steps and np.array_equal(np.array(fast.params), np.array(slow.params))
    assert np.array_equal(fast.final, slow.final)


def test_a_subclass_overriding_the_model_keeps_its_own_gradient():
    class Scaled(DiagonalNetProblem):
        def w(self, P):
            return 2.0 * super().w(P)

    base = _problem()
    problem = Scaled(base.param, base.Z, base.y)
    fast = _in_place_gradients(problem, problem.gradient_on)
    slow = _in_place_gradients(problem, lambda P: lambda noise: problem.gradient(P, noise))
    assert np.array_equal(fast, slow)


@pytest.mark.parametrize("text", ["u**2 - v**2", "u - v**2"])
def test_bound_model_equals_w_and_jacobian_factor_bitwise_on_a_stack(text):
    """model_on on a (K, R, m, d) buffer updated in place (as numerics.label_noise_runs.gd_instances
    uses it) returns w and ∂f bit for bit; sabotage: bound to a copy, it goes stale and differs."""
    problem = _problem(parse_parameterization(text))

    def run(bind):
        P = 0.4 + 0.3 * np.random.default_rng(5).random((3, 2, problem.param.m, problem.d))
        w, jf = bind(P)
        out = []
        for k in range(20):
            out.append(np.concatenate([w().ravel(), jf().ravel()]))
            P -= 0.01 * (k % 3 - 1) * jf()
        return np.array(out)

    slow = run(lambda P: ((lambda: problem.w(P)), (lambda: problem.jacobian_factor(P))))
    assert np.array_equal(run(problem.model_on), slow)
    assert not np.array_equal(run(lambda P: problem.model_on(P.copy())), slow)
