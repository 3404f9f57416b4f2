"""numerics.ssm / numerics.ssm_train: the compiled flow against finite differences, the integrator's
certificates, the torch network against the recurrence and the derived polynomial."""
import numpy as np
import pytest
import torch

from numerics.optim import adam
from numerics.ssm import (baseline_invariant_drift, baseline_limit, compile_flow, extrapolation_error,
                          impulse_response, integrate_gradient_flow, near_tied_init, teacher_impulse_response)
from numerics.ssm_train import (kernel, outputs, recurrent_outputs, ssm_outputs, stack_sequences,
                                train_gd, train_population)
from theory.ssm import SSMProblem, SSMSettingError, baseline_example, special_example


def _problem(d=4, k=4, poisoned=False):
    ex = (baseline_example(k), special_example(k)) if poisoned else (baseline_example(k),)
    return SSMProblem(d, k, ex)


def test_tau_jacobian_matches_finite_differences():
    flow = compile_flow(_problem(poisoned=True))
    a = np.array([0.6, 0.4, 0.2, 0.1])
    J = flow.tau_jacobian(0.0, a)
    eps = 1e-6
    fd = np.column_stack([(flow.tau_field(0.0, a + eps * e) - flow.tau_field(0.0, a - eps * e)) / (2 * eps)
                          for e in np.eye(4)])
    assert np.allclose(J, fd, rtol=1e-6, atol=1e-8)


def test_extrapolation_error_of_the_exact_student_is_zero():
    d = 6
    a = np.zeros(d)
    a[0] = 1.0                       # one state at 1, the rest at 0: h_j = d at j = 1, then 1
    assert np.allclose(impulse_response(a, 5), teacher_impulse_response(d, 5))
    assert extrapolation_error(a) == 0.0
    a[1] = 0.1
    # h_1 = d still (0.1⁰ = 0⁰ = 1); h_2 = 1.1 is the worst entry, relative to max|h*| = d
    assert extrapolation_error(a) == pytest.approx(0.1 / d, rel=1e-12)


def test_near_tied_init_validates_and_ties():
    a0 = near_tied_init(10, 7, 1e-3, 1e-9, seed=3)
    assert np.all(np.diff(a0[1:]) <= 0) and a0[0] - a0[1] == pytest.approx(1e-9, rel=1e-6)
    assert a0.max() <= 1e-3
    with pytest.raises(SSMSettingError):
        near_tied_init(10, 2, 1e-3, 0.0, seed=0)
    with pytest.raises(SSMSettingError):
        near_tied_init(10, 7, 0.5, 0.0, seed=0)


def test_baseline_flow_fits_conserves_invariants_and_is_rtol_stable():
    k = 4
    flow = compile_flow(_problem(k=k))
    a0 = near_tied_init(4, k, 1e-2, 1e-6, seed=1)
    run = integrate_gradient_flow(flow, a0, rtol=1e-10)
    assert run.status == "ok" and run.loss <= 1e-28
    assert baseline_invariant_drift(a0, run.a, k) <= 1e-6
    tight = integrate_gradient_flow(flow, a0, rtol=1e-12)
    assert abs(extrapolation_error(tight.a) - extrapolation_error(run.a)) <= 1e-6 * extrapolation_error(run.a)
    # the drift measure itself detects a perturbed endpoint
    assert baseline_invariant_drift(a0, run.a * np.r_[1.0, 1.0, 1.01, 1.0], k) > 1e-3
    # the limit predicted by the invariants and the fit Σ a^(k−1) = 1 is where the flow ends
    assert np.allclose(baseline_limit(a0, k), run.a, rtol=1e-8, atol=0)
    assert not np.allclose(baseline_limit(a0 * np.r_[1.0, 1.0, 1.01, 1.0], k), run.a, rtol=1e-4, atol=0)


def test_baseline_limit_for_k3_uses_the_log_invariant_and_validates():
    flow = compile_flow(_problem(d=3, k=3))
    a0 = near_tied_init(3, 3, 1e-2, 1e-4, seed=0)
    run = integrate_gradient_flow(flow, a0, rtol=1e-10)
    assert run.status == "ok" and np.allclose(baseline_limit(a0, 3), run.a, rtol=1e-8, atol=0)
    with pytest.raises(ValueError, match="positive initialization"):
        baseline_limit(a0[::-1], 3)


def test_streamed_integration_takes_exactly_solve_ivps_steps():
    from scipy.integrate import solve_ivp

    flow = compile_flow(_problem(poisoned=True))
    a0 = near_tied_init(4, 4, 1e-2, 1e-6, seed=2)
    run = integrate_gradient_flow(flow, a0, rtol=1e-8, target_loss=np.inf)      # one chunk, τ ∈ [0, 1e3]
    sol = solve_ivp(flow.tau_field, (0.0, 1e3), a0, method="LSODA", jac=flow.tau_jacobian, rtol=1e-8,
                    atol=1e-14)
    assert run.status == "ok" and run.tau == sol.t[-1]
    assert np.array_equal(run.a, sol.y[:, -1]) and run.steps == sol.t.size - 1 and run.nfev == sol.nfev


def test_step_budget_ends_a_run_with_its_status():
    flow = compile_flow(_problem(poisoned=True))
    a0 = near_tied_init(4, 4, 1e-2, 1e-6, seed=2)
    run = integrate_gradient_flow(flow, a0, max_steps=7)
    assert run.status == "not converged" and run.steps == 7 and "step budget 7" in run.message
    assert 0 < run.tau < 1e3
    with pytest.raises(ValueError, match="step budget"):
        integrate_gradient_flow(flow, a0, max_steps=0)


def test_integrator_rejects_an_unknown_method():
    with pytest.raises(ValueError, match="unknown integrator"):
        integrate_gradient_flow(compile_flow(_problem()), np.full(4, 1e-3), method="RK45")


def test_convolution_recurrence_and_symbolic_outputs_agree():
    rng = np.random.default_rng(0)
    a, B, C = (torch.tensor(rng.uniform(-0.9, 0.9, (2, 3))) for _ in range(3))
    X = torch.tensor(rng.standard_normal((2, 5, 6)))
    assert torch.allclose(outputs(a, B, C, X), recurrent_outputs(a, B, C, X), rtol=1e-12, atol=1e-12)
    problem = _problem(d=3, k=4, poisoned=True)
    flow = compile_flow(problem)
    ones = torch.ones(3, dtype=torch.float64)
    point = torch.tensor([0.5, 0.3, -0.2], dtype=torch.float64)
    Xp = torch.tensor(problem.examples, dtype=torch.float64)
    y = torch.tensor([float(v) for v in problem.derivation().results["labels"]])
    loss = float(((outputs(point, ones, ones, Xp) - y) ** 2).mean())
    assert loss == pytest.approx(flow.loss(point.numpy()), rel=1e-12)


def test_front_padding_leaves_outputs_unchanged():
    rng = np.random.default_rng(1)
    seqs = [rng.standard_normal(3), rng.standard_normal(5)]
    X, y, w = stack_sequences([seqs], [np.array([1.0, 2.0])])
    assert X.shape == (1, 2, 5) and np.allclose(w, 0.5)
    a, B, C = (torch.tensor(rng.uniform(-0.9, 0.9, (1, 4))) for _ in range(3))
    padded = outputs(a, B, C, torch.tensor(X))[0]
    short = outputs(a, B, C, torch.tensor(seqs[0])[None, None, :])[0, 0]
    assert float(padded[0]) == pytest.approx(float(short), rel=1e-12)


def test_curvature_scaled_gd_fits_a_small_problem():
    flow = compile_flow(_problem(d=3, k=3))
    a0 = near_tied_init(3, 3, 1e-2, 1e-4, seed=0)
    run = train_gd([flow], [a0], c=1.0, max_steps=20_000, target_loss=1e-24)[0]
    assert run.status == "ok", run.message
    assert flow.loss(run.a) <= 1e-24
    with pytest.raises(ValueError, match="step factor"):
        train_gd([flow], [a0], c=2.5, max_steps=1)


def test_population_members_train_independently():
    rng = np.random.default_rng(0)
    params0 = [rng.uniform(0.1, 0.3, (2, 3)) for _ in range(3)]
    X = np.zeros((2, 1, 4))
    X[:, 0, 0] = 1.0
    y = np.array([[1.0], [0.5]])
    w = np.ones((2, 1))
    together = train_population(ssm_outputs, params0, X, y, w, adam(lambda t: 1e-2), steps=50)
    alone = train_population(ssm_outputs, [p[1:] for p in params0], X[1:], y[1:], w[1:],
                             adam(lambda t: 1e-2), steps=50)
    assert np.allclose(together.params[0][1], alone.params[0][0], rtol=1e-12)
    assert together.losses[0] < 1.0 and kernel(*[torch.tensor(p) for p in together.params], 4).shape == (2, 4)


@pytest.mark.slow
def test_integration_memory_does_not_grow_with_the_steps():
    """The run that blew up the full profile (d = 20, k = 9, control example, rtol 1e-12, seed 2): its
    loss plateaus at ~1e-16 while LSODA stays in Adams mode with steps ~4e-3 for ever. A solve_ivp
    record of 2000 more 20-state steps would add ~0.6 MB to the traced peak; streamed, it adds none."""
    import tracemalloc

    k = 9
    flow = compile_flow(SSMProblem(20, k, (baseline_example(k), baseline_example(k + 1))))
    a0 = near_tied_init(20, k, 5e-3, 0.05 * np.exp(-10 * np.log10(1 / 5e-3)), seed=2)
    peaks = []
    for budget in (1000, 3000):
        tracemalloc.start()
        run = integrate_gradient_flow(flow, a0, rtol=1e-12, target_loss=1e-20, max_steps=budget)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert run.status == "not converged" and run.steps == budget
    assert peaks[1] - peaks[0] < 100_000
