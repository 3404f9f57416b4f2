"""Diagonal linear state space models and the clean-label poisoning of their implicit bias
(Slutzky, Alexander, Razin, Cohen 2025).

A single-input single-output SSM reads a sequence x_1..x_k through s_t = A s_{t−1} + B x_t (s_0 = 0)
and outputs y = C s_k. Everything the check needs is derived here from that recurrence, for a
diagonal A = diag(a):

- the impulse response h_j = C A^{j−1} B (matrix power of the symbolic diag(a)), so that the output
  on a one-hot input at position t is h_{k−t+1};
- the teacher of the theory-faithful setting, A* = diag(1, 0), B* = (1, √(d−1))ᵀ, C* = B*ᵀ, whose
  impulse response is h*_1 = d and h*_j = 1 for j ≥ 2 (derived, not assumed);
- the training loss L(a) = (1/n) Σ_examples (y(a; x) − y*(x))² of a student with B = C = 1 (only a
  trained) as a polynomial in a, and the gradient flow a' = −∇L(a) with its Jacobian −∇²L(a);
- a time change τ with dτ = ρ(a) dt, ρ(a) = ‖a‖₂^{k−3} > 0: da/dτ = −∇L(a)/ρ(a) has the *same
  trajectory* as the gradient flow (only the clock changes), but the escape from a small
  initialization, which takes t ~ ‖a₀‖^{3−k} (10¹⁰–10¹³ in the paper's settings), takes τ = O(1);
- for the baseline example alone, the conserved quantities a_i^{3−k} − a_j^{3−k} of the gradient
  flow (every a_i obeys a_i' = g(t) a_i^{k−2} with the same g), which certify an integrator.

Examples (the paper's vocabulary): the *baseline* example is a length-k sequence with a single 1 at
the first position (it pins h_k); the *special* (poison) example has its single 1 at position k−1
(it pins h_2 = Σ a_i); both are labelled by the teacher (clean labels). Assumptions of the
theorem as used here: k ≥ 3, small initialization with the top two entries of a₀ nearly tied.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from theory.derivation import Derivation
from theory.errors import UserInputError

#: Largest admissible d·σ for an initialization a₀ ∈ [0, σ]^d: the initial outputs h_j(a₀) ≤ d σ^{j−1}
#: (j ≥ 2) then stay at most a quarter of the teacher's h*_j = 1, the "small initialization" the
#: analysis assumes.
SMALL_INIT_BUDGET = 0.25

j = sp.Symbol("j", integer=True, positive=True)


class SSMSettingError(UserInputError):
    """An SSM setting outside the theorem's assumptions (sequence length, initialization scale)."""


def validate_setting(d: int, k: int, init_scale: float, tie_gap: float = 0.0) -> None:
    """Raise :class:`SSMSettingError` unless d ≥ 2, k ≥ 3 and the initialization is small."""
    if int(d) != d or d < 2:
        raise SSMSettingError(f"the student state dimension d must be an integer ≥ 2, got {d}")
    if int(k) != k or k < 3:
        raise SSMSettingError(f"the sequence length k must be an integer ≥ 3 (the gradient of h_k = "
                              f"Σ a_i^(k−1) is then superlinear in a), got k = {k}")
    if not init_scale > 0:
        raise SSMSettingError(f"the initialization scale must be positive, got {init_scale}")
    if d * init_scale > SMALL_INIT_BUDGET:
        raise SSMSettingError(f"initialization scale {init_scale:g} is not small: d·scale = "
                              f"{d * init_scale:g} > {SMALL_INIT_BUDGET} (need scale ≤ "
                              f"{SMALL_INIT_BUDGET / d:g} for d = {d})")
    if not 0 <= tie_gap < init_scale:
        raise SSMSettingError(f"the gap between the top two initial entries must lie in "
                              f"[0, scale), got {tie_gap:g}")


# -- the model ---------------------------------------------------------------------------------
def student_parameters(d: int) -> tuple[sp.Symbol, ...]:
    return sp.symbols(f"a_1:{d + 1}", real=True)


def student(d: int):
    """(a, A, B, C): A = diag(a) trained, B = 1 and C = 1ᵀ fixed (the theory-faithful student)."""
    a = student_parameters(d)
    return a, sp.diag(*a), sp.ones(d, 1), sp.ones(1, d)


def teacher(d: int):
    """(A*, B*, C*) = (diag(1, 0), (1, √(d−1))ᵀ, B*ᵀ): state dimension 2."""
    B = sp.Matrix([1, sp.sqrt(sp.Integer(d) - 1)])
    return sp.diag(1, 0), B, B.T


def impulse_response(A, B, C, index) -> sp.Expr:
    """h_index = C A^{index−1} B."""
    return sp.expand((C * A ** (index - 1) * B)[0, 0])


def sequence_output(A, B, C, x) -> sp.Expr:
    """y = C s_k after s_t = A s_{t−1} + B x_t from s_0 = 0 (the recurrence itself)."""
    s = sp.zeros(A.shape[0], 1)
    for value in x:
        s = A * s + B * value
    return sp.expand((C * s)[0, 0])


def one_hot(length: int, position: int) -> tuple[int, ...]:
    return tuple(1 if t == position else 0 for t in range(1, length + 1))


def baseline_example(k: int) -> tuple[int, ...]:
    """A single 1 at the first position of a length-k sequence."""
    return one_hot(k, 1)


def special_example(k: int) -> tuple[int, ...]:
    """The clean-label poison: a single 1 at position k−1 of a length-k sequence."""
    return one_hot(k, k - 1)


# -- the training problem ---------------------------------------------------------------------
@dataclass(frozen=True)
class SSMProblem:
    """Square loss of the diagonal student against the teacher on ``examples`` (input sequences)."""

    d: int
    k: int
    examples: tuple[tuple[int, ...], ...]

    def derivation(self) -> Derivation:
        return poisoning_derivation(self.d, self.k, self.examples)

    @property
    def parameters(self) -> tuple[sp.Symbol, ...]:
        return student_parameters(self.d)


@lru_cache(maxsize=None)
def poisoning_derivation(d: int, k: int, examples: tuple[tuple[int, ...], ...]) -> Derivation:
    """Loss, gradient flow, time change and Jacobians of the student on ``examples``.

    Results: ``impulse_response`` / ``teacher_impulse_response`` (in the symbol j), ``labels``,
    ``outputs``, ``loss``, ``gradient`` (list), ``hessian`` (Matrix), ``time_change`` (ρ),
    ``time_change_gradient`` (list, ∇ρ), ``tau_field`` (list, −∇L/ρ)."""
    if k < 3:
        raise SSMSettingError(f"the sequence length k must be ≥ 3, got {k}")
    a, A, B, C = student(d)
    At, Bt, Ct = teacher(d)
    der = Derivation(f"Diagonal SSM, d = {d}, trained on {len(examples)} example(s)")
    h = der.result("impulse_response", impulse_response(A, B, C, j),
                   "Student impulse response h_j = C A^{j−1} B with A = diag(a), B = 1, C = 1ᵀ:")
    h_star = impulse_response(At, Bt, Ct, j)
    der.result("teacher_impulse_response", h_star,
               f"Teacher A* = diag(1, 0), B* = (1, √{d - 1})ᵀ, C* = B*ᵀ: h*_j =")
    h_star_values = [impulse_response(At, Bt, Ct, i) for i in (1, 2, 3)]
    der.step("so h*_1 = d and h*_j = 1 for j ≥ 2 (first values):", sp.Matrix([h_star_values]))
    labels, outputs = [], []
    for x in examples:
        y_student = sequence_output(A, B, C, x)
        y_teacher = sequence_output(At, Bt, Ct, x)
        # the recurrence agrees with the convolution y = Σ_t h_{k−t+1} x_t
        conv = sum(xt * h.subs(j, len(x) - t) for t, xt in enumerate(x))
        if sp.expand(conv - y_student) != 0:
            raise RuntimeError("the SSM recurrence disagrees with its impulse-response convolution")
        der.step(f"Example x = {x}: student output (recurrence s_t = A s_(t−1) + B x_t, y = C s_k) "
                 f"and teacher label", sp.Eq(sp.Symbol("y"), y_student))
        der.step("  teacher label y* =", y_teacher)
        labels.append(y_teacher)
        outputs.append(y_student)
    der.results["labels"], der.results["outputs"] = labels, outputs
    n = len(examples)
    loss = der.result("loss", sum((o - l) ** 2 for o, l in zip(outputs, labels)) / n,
                      "Training loss L(a) = (1/n) Σ (y − y*)², a polynomial in a:")
    gradient = [sp.diff(loss, ai) for ai in a]
    der.results["gradient"] = gradient
    der.step("Gradient flow a' = −∇L(a); first component −∂L/∂a_1 =", -gradient[0])
    hessian = sp.hessian(loss, a)
    der.results["hessian"] = hessian
    rho = der.result("time_change", sp.sqrt(sum(ai**2 for ai in a)) ** (k - 3),
                     "Time change dτ = ρ(a) dt with ρ = ‖a‖₂^(k−3) > 0 (same trajectory, new clock):")
    der.results["time_change_gradient"] = [sp.diff(rho, ai) for ai in a]
    der.results["tau_field"] = [-g / rho for g in gradient]
    der.step("da/dτ = −∇L(a)/ρ(a); its Jacobian by the quotient rule (checked on generic L, ρ):",
             _quotient_rule_jacobian())
    return der


@lru_cache(maxsize=1)
def _quotient_rule_jacobian() -> sp.Eq:
    """∂(−∇L/ρ)/∂a = −∇²L/ρ + ∇L ∇ρᵀ/ρ², verified symbolically for generic functions of 2 variables."""
    x = sp.symbols("x_1 x_2", real=True)
    L, r = sp.Function("L")(*x), sp.Function("rho")(*x)
    field = sp.Matrix([-sp.diff(L, xi) / r for xi in x])
    grad_L, grad_r = sp.Matrix([sp.diff(L, xi) for xi in x]), sp.Matrix([sp.diff(r, xi) for xi in x])
    formula = -sp.hessian(L, x) / r + grad_L * grad_r.T / r**2
    if sp.simplify(field.jacobian(x) - formula) != sp.zeros(2, 2):
        raise RuntimeError("the quotient-rule Jacobian of the time-changed field does not check")
    J, H, g, g_rho, rho = sp.symbols("J_τ ∇²L ∇L ∇ρᵀ ρ", commutative=False)
    return sp.Eq(J, -H * rho**-1 + g * g_rho * rho**-2)


@lru_cache(maxsize=None)
def baseline_invariant_derivation(k: int) -> Derivation:
    """Conserved quantities of the gradient flow on the baseline example alone: a_i^{3−k} − a_l^{3−k}
    (for k = 3: log a_i − log a_l). Derived: d/dt a_i^{3−k} does not depend on i."""
    if k < 3:
        raise SSMSettingError(f"the sequence length k must be ≥ 3, got {k}")
    ai, al = sp.symbols("a_i a_l", positive=True)
    g = sp.Symbol("g")                                    # the common factor −(2/n)(k−1)(S − 1)
    der = Derivation(f"Conserved quantities of the baseline-only gradient flow, k = {k}")
    flow_i = g * ai ** (k - 2)
    der.step("On the baseline example alone, ∂L/∂a_i = 2(k−1)(Σ a^(k−1) − 1) a_i^(k−2), so every "
             "coordinate obeys a_i' = g(t) a_i^(k−2) with one common g(t):", sp.Eq(sp.Symbol("a_i'"), flow_i))
    q = sp.log(ai) if k == 3 else ai ** (3 - k)
    rate = sp.simplify(sp.diff(q, ai) * flow_i)
    if rate.has(ai):
        raise RuntimeError("d/dt of the candidate invariant depends on a_i")
    der.step("d/dt of q(a_i) = " + ("log a_i" if k == 3 else f"a_i^{3 - k}") + " is independent of i:",
             rate)
    der.result("invariant", q - q.subs(ai, al),
               "hence q(a_i) − q(a_l) is conserved along the flow:")
    der.results["q"] = sp.Lambda(ai, q)
    return der


@lru_cache(maxsize=1)
def balanced_solution_derivation() -> Derivation:
    """Where sign-like (per-coordinate normalized) training of the full student sends the baseline fit.

    Beyond the paper (the project's own derivation, for Adam without ε): teacher h* ≡ 1
    (A* = B* = C* = 1), student (a, B, C) ∈ ℝ^{3d} all trained from a small positive initialization
    on the baseline example, whose loss is (h_k − 1)² with h_k = Σ_i b_i c_i a_i^{k−1}. Every partial
    derivative has the sign of h_k − 1 < 0 until the fit, so a step that normalizes each coordinate
    (sign descent; Adam with ε = 0 when the gradient history of every coordinate is one-signed)
    raises every coordinate by the same amount: the O(scale) initial differences are negligible
    and a_i = b_i = c_i = u. Results: ``balanced_state`` u(d, k), ``balanced_impulse_response``
    h_j(d, k, j)."""
    d, k, u = sp.symbols("d k u", positive=True)
    ai, bi, ci = sp.symbols("a_i b_i c_i", positive=True)
    der = Derivation("Balanced fit of the baseline example by sign-like updates (teacher h* ≡ 1)")
    hk_term = bi * ci * ai ** (k - 1)
    partials = [sp.factor(sp.diff(hk_term, v)) for v in (ai, bi, ci)]
    der.step("L = (h_k − 1)², h_k = Σ b_i c_i a_i^(k−1); ∂L/∂(a_i, b_i, c_i) = 2(h_k − 1)·", sp.Matrix([partials]))
    der.step("each factor is positive for positive (a, b, c) (k ≥ 3), so all partials share the sign "
             "of h_k − 1 < 0 and sign-like steps move every coordinate up by the same amount.")
    balanced = sp.Eq(d * u ** (k + 1), 1)
    der.step("with a_i = b_i = c_i = u the baseline fit h_k = 1 reads", balanced)
    roots = [s for s in sp.solve(balanced, u) if s.is_positive]
    if len(roots) != 1:
        raise RuntimeError(f"d u^(k+1) = 1 should have one positive root, got {roots}")
    state = der.result("balanced_state", sp.simplify(roots[0]), "the balanced state u =")
    h = sp.powsimp(sp.expand_power_base(d * state ** (j + 1), force=True), force=True)
    if sp.simplify(h.subs(j, k) - 1) != 0:
        raise RuntimeError("the balanced impulse response does not fit h_k = 1")
    der.result("balanced_impulse_response", h,
               "and its impulse response h_j = d u^(j+1) (= 1 only at j = k; h_1 = d^((k−1)/(k+1))):")
    der.results["symbols"] = (d, k)
    return der
