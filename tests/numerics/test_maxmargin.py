"""Certified max-margin solvers (numerics.maxmargin): certificates, feasibility, orderings, an
independent SVM, non-separable data and a negative control of the certificate."""
from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest
import scipy.optimize
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from numerics.certificate import certify
from numerics.classification import Classification, NotSeparableError
from numerics.datasets import gaussian_classes, sparse_teacher
from numerics.maxmargin import check_separable, max_margin
from numerics.maxmargin_conic import cvxpy_atom, solve_nuclear_dual, solve_primal
from numerics.maxmargin_dual import solve_dual_newton
from numerics.run_status import RunStatus
from theory.norms import BlockMax, NormError, parse_norm

TOL = 1e-6
MULTICLASS = ["entrywise:1", "entrywise:1.5", "fro", "entrywise:3", "entrywise:inf",
              "schatten:1", "schatten:4/3", "schatten:3", "schatten:inf"]
BINARY = ["lp:1", "lp:2", "lp:3", "lp:inf"]


def teacher_data(seed: int, n: int, d: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Random Gaussian inputs labelled by a random linear teacher (separable by construction)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, np.argmax(X @ rng.standard_normal((k, d)).T, axis=1)


def assert_certified(problem: Classification, sol, tol: float = TOL) -> None:
    assert sol.status is RunStatus.OK and sol.certificate.relative_gap <= tol
    assert problem.margins(sol.W).min() == pytest.approx(1.0, abs=1e-12)       # min-norm form
    assert np.all(sol.lam >= 0) and sol.lam.shape == problem.margins(sol.W).shape
    assert sol.norm.dual.value(problem.adjoint(sol.lam)) == pytest.approx(1.0, rel=1e-12)
    again = certify(problem, sol.norm, sol.W, sol.lam)             # nothing cached is trusted
    assert again.relative_gap == pytest.approx(sol.certificate.relative_gap, abs=1e-12)
    assert sol.margin == pytest.approx(1.0 / sol.norm.value(sol.W), rel=1e-12)
    assert sol.norm.value(sol.direction) == pytest.approx(1.0, rel=1e-12)


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(6, 16), d=st.integers(2, 4), k=st.integers(2, 4),
       which=st.integers(0, 100))
def test_certificate_on_random_separable_data(seed, n, d, k, which):
    X, y = teacher_data(seed, n, d, k)
    assume(np.unique(y).size >= 2)
    problem = Classification.from_arrays(X, y, "binary" if k == 2 else "multiclass")
    names = BINARY if problem.model == "binary" else MULTICLASS
    norm = parse_norm(names[which % len(names)], problem.model)
    assert_certified(problem, max_margin(problem, norm))


@pytest.mark.parametrize("chain", [
    ["entrywise:1", "entrywise:1.5", "fro", "entrywise:3", "entrywise:inf"],
    ["entrywise:1", "schatten:1", "schatten:4/3", "fro", "schatten:3", "schatten:inf", "entrywise:inf"],
], ids=["entrywise", "schatten"])
def test_margin_ordering(chain):
    """‖·‖_max ≤ |||·||| ≤ ‖·‖_sum (and monotonicity in p) give γ_sum ≤ γ_p ≤ γ_max (Fan et al. 2025).
    Checked with certified brackets: γ_a ≤ γ_b is contradicted only if upper(γ_a) < lower(γ_b)."""
    problem = gaussian_classes(k=3, d=5, per_class=8, noise=0.5, seed=1)
    sols = [max_margin(problem, parse_norm(name)) for name in chain]
    for small, large in zip(sols, sols[1:]):
        assert small.certificate.margin_lower <= large.certificate.margin_upper
    # the chain is not flat, so a reversed ordering would be caught
    assert sols[-1].certificate.margin_lower > 1.5 * sols[0].certificate.margin_upper


@pytest.mark.parametrize("name", ["schatten:3", "entrywise:inf", "fro"])
def test_margin_scales_with_the_data(name):
    """γ*(sX) = s γ*(X): the solvers' tolerances must not depend on the data scale."""
    X, y = teacher_data(5, 40, 4, 3)
    margins = [max_margin(Classification.from_arrays(s * X, y), parse_norm(name)).margin / s
               for s in (1e-4, 1.0, 1e4)]
    assert margins == pytest.approx([margins[1]] * 3, rel=2 * TOL)


def test_binary_l2_is_the_hard_margin_svm():
    """lp:2 against an independent solve of the hard-margin SVM primal by SLSQP (d > n)."""
    problem = sparse_teacher(n=30, d=40, seed=3)
    Z = problem.y[:, None] * problem.X
    margins = {"type": "ineq", "fun": lambda w: Z @ w - 1, "jac": lambda w: Z}
    svm = scipy.optimize.minimize(lambda w: 0.5 * w @ w, np.zeros(problem.d), jac=lambda w: w,
                                  constraints=[margins], method="SLSQP",
                                  options={"ftol": 1e-14, "maxiter": 500})
    assert svm.success
    sol = max_margin(problem, parse_norm("lp:2", "binary"))
    assert_certified(problem, sol)
    assert sol.margin == pytest.approx(1.0 / np.linalg.norm(svm.x), rel=1e-7)
    np.testing.assert_allclose(sol.W, svm.x, rtol=0, atol=1e-6 * np.linalg.norm(svm.x))


@pytest.mark.parametrize("name", ["entrywise:3", "entrywise:1.5", "fro"])
def test_dual_newton_agrees_with_clarabel(name):
    """The generic dual method (only the norm's oracles) and a conic solve of the full problem
    bracket the same γ*; the dual method is exact to round-off."""
    problem = gaussian_classes(k=3, d=4, per_class=6, noise=0.5, seed=2)
    A, shape, norm = problem.constraint_matrix(), problem.param_shape, parse_norm(name)
    newton, conic = (certify(problem, norm, w.reshape(shape), lam.reshape(problem.n, -1))
                     for w, lam in (solve_dual_newton(A, shape, norm),
                                    solve_primal(A, shape, cvxpy_atom(norm))[:2]))
    assert newton.relative_gap <= 1e-12 and conic.relative_gap <= TOL
    assert conic.margin_lower <= newton.margin_upper and newton.margin_lower <= conic.margin_upper


def test_unreachable_tolerance_is_reported_inaccurate():
    """Clarabel's SDP accuracy is far above 1e-15: the result must say so, with its true gap."""
    problem = gaussian_classes(k=3, d=4, per_class=6, noise=0.5, seed=2)
    sol = max_margin(problem, parse_norm("spectral"), tol=1e-15)
    assert sol.status == "inaccurate" and 1e-15 < sol.certificate.relative_gap < TOL


def test_nuclear_primal_from_the_lmi_multiplier():
    """W = −2 Z₁₂ from the spectral-norm LMI of the dual is primal feasible and optimal."""
    problem = gaussian_classes(k=3, d=4, per_class=6, noise=0.5, seed=2)
    w, lam, status = solve_nuclear_dual(problem.constraint_matrix(), problem.param_shape)
    cert = certify(problem, parse_norm("nuclear"), w.reshape(problem.param_shape),
                   lam.reshape(problem.n, -1))
    assert status in ("optimal", "optimal_inaccurate") and cert.relative_gap <= TOL   # certificate decides


def test_certificate_negative_control():
    """The certificate discriminates: the ℓ∞ solution is not ℓ2-optimal, arbitrary multipliers
    bound γ* loosely, and a misclassifying W has no finite primal value."""
    problem = sparse_teacher(n=30, d=40, seed=3)
    l2, linf = (max_margin(problem, parse_norm(name, "binary")) for name in ("lp:2", "lp:inf"))
    assert certify(problem, l2.norm, l2.W, l2.lam).relative_gap <= TOL          # positive control
    assert certify(problem, l2.norm, linf.W, l2.lam).relative_gap > 0.05        # wrong primal
    uniform = np.ones_like(l2.lam)
    assert certify(problem, l2.norm, l2.W, uniform).relative_gap > 0.05         # wrong multipliers
    assert certify(problem, l2.norm, -l2.W, l2.lam).relative_gap == np.inf     # misclassifies


def test_induced_norm_pitfall_is_caught():
    """cp.norm(W, "inf") on a matrix is the induced ∞-norm (max row sum), not the max norm: its
    minimizer is certified far from the max-norm max margin, while pnorm on cp.vec is not."""
    problem = gaussian_classes(k=3, d=5, per_class=8, noise=0.5, seed=1)
    A, shape, norm = problem.constraint_matrix(), problem.param_shape, parse_norm("max")
    gaps = [certify(problem, norm, w.reshape(shape), lam.reshape(problem.n, -1)).relative_gap
            for w, lam, _ in (solve_primal(A, shape, cvxpy_atom(norm)),
                              solve_primal(A, shape, lambda W: cp.norm(W, "inf")))]
    assert gaps[0] <= TOL and gaps[1] > 0.1


@pytest.mark.parametrize("norm_name, model", [("lp:2", "binary"), ("lp:inf", "binary"),
                                              ("fro", "multiclass"), ("schatten:3", "multiclass"),
                                              ("spectral", "multiclass")])
def test_not_separable(norm_name, model):
    X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0], [0.5, 0.5], [-0.5, -0.5]])
    y = np.array([0, 1, 0, 1, 2, 2]) if model == "multiclass" else np.array([1, -1, 1, -1, 1, 1])
    problem = Classification.from_arrays(X, y, model)
    with pytest.raises(NotSeparableError, match="not linearly separable") as err:
        max_margin(problem, parse_norm(norm_name, model))
    assert "\n" not in str(err.value)
    with pytest.raises(NotSeparableError):
        check_separable(problem)


@pytest.mark.parametrize("model", ["binary", "multiclass"])
def test_a_zero_sample_is_not_separable(model):
    """A sample x_i = 0 has margin 0 under every W. Found by the CLI fuzz test (integer-rounded
    Gaussian data): before the check the dual Newton step divided by its zero constraint row."""
    X = np.array([[1.0, 2.0, 0.0], [0.0, 0.0, 0.0], [-1.0, 0.0, 3.0]])
    y = np.array([0, 1, 1]) if model == "binary" else np.array([0, 1, 2])
    problem = Classification.from_arrays(X, y, model)
    with pytest.raises(NotSeparableError, match="sample 1 is the zero vector"):
        max_margin(problem, parse_norm("lp:2" if model == "binary" else "fro", model))
    with pytest.raises(NotSeparableError):
        check_separable(problem)


def test_separable_data_pass_the_check():
    problem = Classification.from_arrays(*teacher_data(0, 30, 3, 3))
    centroids = problem.adjoint(np.ones((problem.n, problem.k - 1)))
    assert problem.margins(centroids).min() < 0     # so the constraint-generation path is taken
    check_separable(problem)


def test_norm_errors():
    binary = gaussian_classes(k=2, d=3, per_class=4)
    with pytest.raises(NormError, match="matrix model"):
        max_margin(binary, parse_norm("spectral"))
    spectral = parse_norm("spectral")
    with pytest.raises(NormError, match="no max-margin solver"):
        max_margin(gaussian_classes(k=3, d=3, per_class=4), BlockMax((spectral, spectral), (1.0, 1.0)))


@pytest.mark.slow
@pytest.mark.parametrize("model, name", [("multiclass", n) for n in MULTICLASS + ["schatten:1.5"]]
                         + [("binary", n) for n in BINARY])
def test_fan_size_all_norms(model, name):
    """Fan, Schmidt, Thrampoulidis (2025) size: k×d = 10×25, n = 500 (4500 margin constraints)."""
    problem = gaussian_classes() if model == "multiclass" else gaussian_classes(k=2)
    assert_certified(problem, max_margin(problem, parse_norm(name, model)))


@pytest.mark.parametrize("name", ["max", "sum"])
def test_highs_lp_agrees_with_clarabel(name):
    """The LP construction of the entrywise 1- and ∞-norms (a simplex vertex, exact to round-off)
    and Clarabel's conic solve of the full problem bracket the same γ*; the LP's own gap is ~1e-13."""
    from numerics.maxmargin import constraint_rows
    from numerics.maxmargin_conic import solve_lp

    problem = gaussian_classes(k=3, d=4, per_class=6, noise=0.5, seed=2)
    A = constraint_rows(problem, np.arange(problem.n * (problem.k - 1)))
    shape, norm = problem.param_shape, parse_norm(name)
    lp, conic = (certify(problem, norm, w.reshape(shape), lam.reshape(problem.n, -1))
                 for w, lam in (solve_lp(A, shape, norm.p)[:2], solve_primal(A, shape, cvxpy_atom(norm))[:2]))
    assert lp.relative_gap <= 1e-12 and conic.relative_gap <= TOL
    assert conic.margin_lower <= lp.margin_upper and lp.margin_lower <= conic.margin_upper
    # negative control: the ℓ∞ LP's W is far from optimal for the ℓ1 problem and vice versa
    other = parse_norm("sum" if name == "max" else "max")
    w, lam = solve_lp(A, shape, norm.p)[:2]
    assert certify(problem, other, w.reshape(shape), lam.reshape(problem.n, -1)).relative_gap > 0.05


@pytest.mark.parametrize("name", ["nuclear", "spectral"])
def test_schatten_row_space_reduction_is_exact(name):
    """d > n: the Schatten restricted problems are solved in the row space of the samples (k × n
    parameters instead of k × d) and the lifted W is certified on the full problem."""
    from numerics.maxmargin import _WorkingSet

    problem = gaussian_classes(k=3, d=30, per_class=3, noise=0.5, seed=10_000)
    working = _WorkingSet(problem, np.arange(problem.n * (problem.k - 1)))
    assert working.restricted(parse_norm(name))[1] == (problem.k, problem.n)
    assert_certified(problem, max_margin(problem, parse_norm(name)))


@pytest.mark.parametrize("name", ["sum", "max"])
def test_negative_control_row_space_reduction_of_an_entrywise_norm(name):
    """The reduction relies on unitary invariance: the same reduction for the entrywise 1- and
    ∞-norms (exact LPs in the reduced coordinates) is certified far from their max margin."""
    from numerics.maxmargin import _WorkingSet
    from numerics.maxmargin_conic import solve_lp

    problem = gaussian_classes(k=3, d=30, per_class=3, noise=0.5, seed=10_000)
    working = _WorkingSet(problem, np.arange(problem.n * (problem.k - 1)))
    rows, shape, lift = working.restricted(parse_norm("nuclear"))
    assert shape == (problem.k, problem.n)
    w, lam = solve_lp(rows, shape, parse_norm(name).p)[:2]
    assert certify(problem, parse_norm(name), lift(w), lam.reshape(problem.n, -1)).relative_gap > 0.3
    for other in (name, "schatten:3"):   # not reduced in max_margin (nor for the dual method)
        assert working.restricted(parse_norm(other))[1] == problem.param_shape


def test_many_classes_one_sample_each():
    """k = 30 classes of one sample each (n(k−1) = 870 constraints on 30 × 10 parameters): the
    working set starts from each sample's smallest margin and the rows stay sparse."""
    problem = gaussian_classes(k=30, d=10, per_class=1, seed=10_000)
    for name in ("fro", "max"):
        assert_certified(problem, max_margin(problem, parse_norm(name)))


@pytest.mark.slow
def test_a_thousand_classes():
    """1000 × 10, k = 1000: refused before issue 25 (n(k−1)·kd = 1e10 entries as a matrix)."""
    problem = gaussian_classes(k=1000, d=10, per_class=1, seed=10_000)
    assert_certified(problem, max_margin(problem, parse_norm("fro")))


def test_the_solution_status_is_a_run_status_and_other_words_are_rejected():
    """OK when the certified gap is within tol, INACCURATE (the best pair found) otherwise; the
    solver's word "optimal" is not a run status and is rejected where the record is written."""
    import dataclasses
    from numerics.maxmargin import MaxMarginSolution
    problem = gaussian_classes(k=2, d=3, per_class=4)
    sol = max_margin(problem, parse_norm("l2", problem.model))
    assert sol.status is RunStatus.OK and sol.status == "ok"
    assert dataclasses.replace(sol, status="inaccurate").status is RunStatus.INACCURATE
    with pytest.raises(ValueError, match="unknown run status 'optimal'"):
        dataclasses.replace(sol, status="optimal")
