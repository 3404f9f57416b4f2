"""Many classes (issue 25): the dual coordinate start of numerics.maxmargin_cd, the certificates of
max_margin at k = 50 against a direct cvxpy model of the full problem, the CPU budget, and the
negative controls (a sabotaged certificate fails the same checks)."""
from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest

from numerics.certificate import certify
from numerics.datasets import gaussian_classes
from numerics.maxmargin import _many_classes, max_margin
from numerics.maxmargin_cd import DualCoordinateDescent, separating_start
from numerics.maxmargin_conic import cvxpy_atom
from numerics.run_status import RunStatus
from theory.norms import parse_norm

TOL = 1e-6


def k50():
    """50 classes, 2 samples each in 6 dimensions (seed 10000): label pairs outnumber samples."""
    return gaussian_classes(k=50, d=6, per_class=2, seed=10_000)


def cvxpy_margin(problem, norm) -> float:
    """γ* = 1 / min ‖W‖ s.t. A(W) ≥ 1, with the full constraint matrix (the nearest rival: a
    direct conic model, no working set)."""
    w = cp.Variable(problem.k * problem.d)
    objective = cvxpy_atom(norm)(cp.reshape(w, problem.param_shape, order="C"))
    model = cp.Problem(cp.Minimize(objective), [problem.constraint_matrix() @ w >= 1])
    model.solve(solver=cp.CLARABEL)
    assert model.status == cp.OPTIMAL
    return 1.0 / model.value


def test_k50_uses_the_dual_coordinate_start():
    assert _many_classes(k50())
    assert not _many_classes(gaussian_classes())   # the Fan size keeps its start


def test_sweeps_increase_the_dual_objective_and_keep_w_equal_to_the_adjoint():
    """Exact block minimization: Σλ − ½‖A*λ‖² never decreases, and the incremental W is A*λ."""
    problem = k50()
    method = DualCoordinateDescent(problem)
    values = []
    for _ in range(6):
        method.sweep()
        lam = method.multipliers()
        np.testing.assert_allclose(method.W, problem.adjoint(lam), atol=1e-10)
        values.append(lam.sum() - 0.5 * np.sum(problem.adjoint(lam) ** 2))
    assert np.all(np.diff(values) >= -1e-12 * abs(values[-1]))
    assert values[-1] > values[0] > 0


def test_separating_start_separates_and_its_support_is_a_working_set():
    problem = k50()
    W, index, lam = separating_start(problem)
    assert problem.margins(W).min() > 0
    assert np.all(lam.ravel()[np.setdiff1d(np.arange(lam.size), index)] == 0)


@pytest.mark.parametrize("name", ["fro", "entrywise:inf", "schatten:inf"])
def test_k50_certified_against_cvxpy(name):
    problem, norm = k50(), parse_norm(name)
    sol = max_margin(problem, norm, tol=TOL)
    assert sol.status is RunStatus.OK and sol.certificate.relative_gap <= TOL
    reference = cvxpy_margin(problem, norm)
    # the certified bracket contains the rival's value (to its own accuracy, 1e-7 relative)
    assert sol.certificate.margin_lower <= reference * (1 + 1e-7)
    assert reference <= sol.certificate.margin_upper * (1 + 1e-7)
    assert sol.margin == pytest.approx(reference, rel=1e-6)


def test_sabotaged_certificate_fails():
    """The same checks on a sabotaged pair: multipliers moved to the wrong class of each sample
    leave a gap far above tol, and a classifier with one row zeroed has no positive margin."""
    problem, norm = k50(), parse_norm("fro")
    sol = max_margin(problem, norm, tol=TOL)
    moved = np.roll(sol.lam, 1, axis=1)
    assert certify(problem, norm, sol.W, moved).relative_gap > 1e3 * TOL
    broken = sol.W.copy()
    broken[problem.y[0]] = 0.0
    assert certify(problem, norm, broken, sol.lam).relative_gap == np.inf


def test_cpu_budget_returns_a_valid_bracket_and_says_why():
    """A budget too small to reach the gap: the certified bracket still holds the rival's γ*, the
    status is inaccurate and the note names the budget."""
    problem, norm = k50(), parse_norm("fro")
    sol = max_margin(problem, norm, tol=1e-12, cpu_budget=1e-3)
    reference = cvxpy_margin(problem, norm)
    assert sol.certificate.margin_lower <= reference * (1 + 1e-7) <= sol.certificate.margin_upper * (1 + 2e-7)
    if sol.status == "inaccurate":
        assert "budget" in sol.note
    with pytest.raises(ValueError):
        max_margin(problem, norm, cpu_budget=0.0)


def test_refused_conic_solver_leaves_the_coordinate_bracket(monkeypatch):
    """With the LMI limit below k + m (as for k = 1000), schatten:inf is not solved: the answer is
    the dual coordinate method's certified bracket, which still contains the rival's γ*, and the
    note names the refusal."""
    import numerics.maxmargin
    monkeypatch.setattr(numerics.maxmargin, "MAX_LMI_ORDER", 20)
    problem, norm = k50(), parse_norm("schatten:inf")
    sol = max_margin(problem, norm, tol=TOL)
    assert sol.status == "inaccurate" and sol.solver == "dual-cd separator" and "LMI" in sol.note
    reference = cvxpy_margin(problem, norm)
    assert sol.certificate.margin_lower <= reference * (1 + 1e-7) <= sol.certificate.margin_upper * (1 + 2e-7)
