"""Many classes, Frobenius norm (issue 25): the lazy augmented Lagrangian method of
numerics.maxmargin_alm against a direct cvxpy model of the full problem, and the negative control:
a working set with a support constraint dropped and never re-added gives a pair whose certificate
on ALL constraints misses the target gap."""
from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest

from numerics.certificate import certify
from numerics.datasets import gaussian_classes
from numerics.maxmargin import _flat_margins, _unit_problem, constraint_rows, max_margin
from numerics.maxmargin_alm import solve_fro_lazy
from numerics.maxmargin_cd import separating_start
from numerics.run_status import RunStatus
from theory.norms import parse_norm

TOL = 1e-6
FRO = parse_norm("fro")


def k60():
    """60 classes, 2 samples each in 8 dimensions (seed 10001): label pairs outnumber samples."""
    return gaussian_classes(k=60, d=8, per_class=2, seed=10_001)


def cvxpy_margin(problem) -> float:
    """γ* from min ‖W‖_F s.t. A(W) ≥ 1 with the full constraint matrix (the nearest rival: a direct
    conic model of all constraints, no working set)."""
    w = cp.Variable(problem.k * problem.d)
    model = cp.Problem(cp.Minimize(cp.norm(w, 2)), [problem.constraint_matrix() @ w >= 1])
    model.solve(solver=cp.CLARABEL)
    assert model.status == cp.OPTIMAL
    return 1.0 / model.value


def lazy(unit, index, lam0, hidden=None):
    """solve_fro_lazy on the unit problem; ``hidden`` (flat constraint indices) are never seen by
    the method: their margins read +inf, so they are never added to the working set."""
    def margins_of(w):
        margins = _flat_margins(unit, w)
        if hidden is not None:
            margins[hidden] = np.inf
        return margins
    return solve_fro_lazy(lambda index: constraint_rows(unit, index), margins_of, index, lam0,
                          unit.n * (unit.k - 1), unit.param_shape, target=TOL / 10)


def test_many_classes_frobenius_is_certified_by_the_alm_and_matches_cvxpy():
    problem = k60()
    sol = max_margin(problem, FRO, tol=TOL)
    assert sol.solver == "alm-newton"
    assert sol.status is RunStatus.OK and sol.certificate.relative_gap <= TOL
    reference = cvxpy_margin(problem)
    assert sol.certificate.margin_lower <= reference * (1 + 1e-7)
    assert reference <= sol.certificate.margin_upper * (1 + 1e-7)
    assert sol.margin == pytest.approx(reference, rel=1e-6)


def test_a_tiny_start_is_completed_by_the_lazy_constraints():
    """From 5 constraints and no multipliers, the lazily added constraints reach the full optimum."""
    unit, _ = _unit_problem(k60())
    w, lam = lazy(unit, np.arange(5), None)
    cert = certify(unit, FRO, w.reshape(unit.param_shape), lam.reshape(unit.n, -1))
    assert cert.relative_gap <= TOL


def test_a_dropped_support_constraint_is_caught_by_the_certificate():
    """Sabotage: the support constraint with the largest multiplier is dropped from the start and
    hidden from the lazy check. The method then solves a relaxed problem (to its own target), and
    the certificate on all constraints misses the gap (W violates the hidden constraint in
    min-norm scale); the same run without sabotage certifies."""
    unit, _ = _unit_problem(k60())
    _, index, lam0 = separating_start(unit)
    w, lam = lazy(unit, index, lam0.ravel()[index])
    honest = certify(unit, FRO, w.reshape(unit.param_shape), lam.reshape(unit.n, -1))
    assert honest.relative_gap <= TOL
    dropped = int(np.argmax(lam))
    keep = index[index != dropped]
    w, lam = lazy(unit, keep, lam0.ravel()[keep], hidden=np.array([dropped]))
    assert lam[dropped] == 0.0
    margins = _flat_margins(unit, w)
    assert margins[dropped] < np.delete(margins, dropped).min()   # the hidden constraint is violated
    sabotaged = certify(unit, FRO, w.reshape(unit.param_shape), lam.reshape(unit.n, -1))
    assert sabotaged.relative_gap > 10 * TOL
