"""theory.ssm: the diagonal SSM's derived impulse response, loss and invariants against independent
numeric evaluation (matrix powers, the recurrence run in numpy, finite differences)."""
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from theory.errors import UserInputError
from theory.ssm import (SSMProblem, SSMSettingError, baseline_example, baseline_invariant_derivation,
                        impulse_response, j, one_hot, poisoning_derivation, sequence_output,
                        special_example, student, teacher, validate_setting)


def _recurrence(A, B, C, x):
    s = np.zeros(A.shape[0])
    for value in x:
        s = A @ s + B * value
    return float(C @ s)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-1.2, 1.2), min_size=2, max_size=4), st.integers(1, 8))
def test_student_impulse_response_is_a_matrix_power(values, index):
    d = len(values)
    a, A, B, C = student(d)
    h = impulse_response(A, B, C, j).subs(j, index).subs(dict(zip(a, values)))
    An = np.diag(values)
    expected = np.ones(d) @ np.linalg.matrix_power(An, index - 1) @ np.ones(d)
    assert float(h) == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("d", [2, 5, 10])
def test_teacher_impulse_response(d):
    At, Bt, Ct = teacher(d)
    values = [impulse_response(At, Bt, Ct, i) for i in range(1, 6)]
    assert values == [d, 1, 1, 1, 1]


def test_sequence_output_matches_the_numeric_recurrence():
    rng = np.random.default_rng(0)
    d, k = 3, 5
    a, A, B, C = student(d)
    x = tuple(int(v) for v in rng.integers(-2, 3, size=k))
    values = rng.uniform(-0.9, 0.9, size=d)
    y = float(sequence_output(A, B, C, x).subs(dict(zip(a, values))))
    assert y == pytest.approx(_recurrence(np.diag(values), np.ones(d), np.ones(d), x), rel=1e-12)


def test_examples_pin_the_intended_impulse_entries():
    k = 6
    assert baseline_example(k) == one_hot(k, 1) == (1, 0, 0, 0, 0, 0)
    assert special_example(k) == (0, 0, 0, 0, 1, 0)
    a, A, B, C = student(3)
    assert sp.expand(sequence_output(A, B, C, baseline_example(k)) - impulse_response(A, B, C, k)) == 0
    assert sp.expand(sequence_output(A, B, C, special_example(k)) - impulse_response(A, B, C, 2)) == 0


def test_loss_and_gradient_against_finite_differences():
    d, k = 3, 4
    der = poisoning_derivation(d, k, (baseline_example(k), special_example(k)))
    a = student(d)[0]
    point = np.array([0.7, 0.3, -0.2])
    loss = sp.lambdify(a, der.results["loss"])
    grad = sp.lambdify(a, der.results["gradient"])
    # the loss from its definition: h_k and h_2 against the teacher's 1 and 1
    h = lambda m: float(np.sum(point ** (m - 1)))  # noqa: E731
    assert loss(*point) == pytest.approx(((h(k) - 1) ** 2 + (h(2) - 1) ** 2) / 2, rel=1e-12)
    eps = 1e-6
    fd = [(loss(*(point + eps * e)) - loss(*(point - eps * e))) / (2 * eps) for e in np.eye(d)]
    assert np.allclose(grad(*point), fd, rtol=1e-7, atol=1e-9)
    assert der.results["labels"] == [1, 1]


def test_time_change_keeps_the_direction_of_the_flow():
    d, k = 3, 5
    der = poisoning_derivation(d, k, (baseline_example(k),))
    a = student(d)[0]
    point = {ai: v for ai, v in zip(a, (0.4, 0.2, 0.1))}
    field = np.array([float(f.subs(point)) for f in der.results["tau_field"]])
    grad = np.array([float(g.subs(point)) for g in der.results["gradient"]])
    rho = float(der.results["time_change"].subs(point))
    assert rho > 0
    assert np.allclose(field * rho, -grad, rtol=1e-12)


@pytest.mark.parametrize("k", [3, 4, 7])
def test_baseline_invariant_is_conserved_by_the_baseline_flow(k):
    d = 3
    der = poisoning_derivation(d, k, (baseline_example(k),))
    a = student(d)[0]
    point = dict(zip(a, (0.03, 0.02, 0.01)))
    flow = [-float(g.subs(point)) for g in der.results["gradient"]]
    q = baseline_invariant_derivation(k).results["q"]
    x = sp.Symbol("x", positive=True)
    dq = sp.lambdify(x, sp.diff(q(x), x))
    # d/dt (q(a_i) − q(a_1)) = q'(a_i) a_i' − q'(a_1) a_1' must vanish
    rates = [dq(float(point[ai])) * f for ai, f in zip(a, flow)]
    assert max(abs(r - rates[0]) for r in rates) <= 1e-12 * max(abs(r) for r in rates)
    assert abs(rates[0]) > 0


def test_settings_outside_the_theorem_are_user_errors():
    assert issubclass(SSMSettingError, UserInputError)
    with pytest.raises(SSMSettingError, match="k must be an integer ≥ 3"):
        validate_setting(10, 2, 1e-3)
    with pytest.raises(SSMSettingError, match="not small"):
        validate_setting(10, 7, 0.1)
    with pytest.raises(SSMSettingError, match="d must be"):
        validate_setting(1, 7, 1e-3)
    with pytest.raises(SSMSettingError, match="gap"):
        validate_setting(10, 7, 1e-3, tie_gap=2e-3)
    with pytest.raises(SSMSettingError):
        poisoning_derivation(3, 2, ((1, 0),))
    validate_setting(10, 7, 1e-3, 1e-8)


def test_problem_derivation_is_the_cached_one():
    p = SSMProblem(3, 4, (baseline_example(4),))
    assert p.derivation() is poisoning_derivation(3, 4, (baseline_example(4),))
    assert len(p.parameters) == 3
