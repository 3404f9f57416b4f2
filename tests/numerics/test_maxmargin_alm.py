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


def test_min_margin_and_margins_below_equal_the_full_margin_map_bit_for_bit():
    """The fast paths the ALM uses at k = 1000 (session 7) return the floats of _flat_margins: the
    smallest margin, and the indices/values below a level (here: levels giving none, some, all).
    Control: the same comparison against margins of a W changed in one entry fails."""
    from numerics.maxmargin import _margins_below, _min_margin
    unit, _ = _unit_problem(k60())
    rng = np.random.default_rng(10_000)
    W = rng.standard_normal(unit.param_shape)
    margins = _flat_margins(unit, W)
    assert _min_margin(unit, W) == margins.min()
    for level in (margins.min(), np.median(margins), margins.max() + 1.0):
        index, values = _margins_below(unit, W, level)
        expected = np.flatnonzero(margins < level)
        assert np.array_equal(index, expected)
        assert np.array_equal(values.view(np.int64), margins[expected].view(np.int64))
    other = W.copy()
    other[0, 0] += 1e-3
    index, values = _margins_below(unit, other, np.median(margins))
    expected = np.flatnonzero(margins < np.median(margins))
    assert not (np.array_equal(index, expected)
                and np.array_equal(values.view(np.int64), margins[expected].view(np.int64)))


def test_the_fast_margin_callables_leave_the_alm_iterates_unchanged():
    """solve_fro_lazy with min_margin_of/below_of (as max_margin calls it) returns the same bits as
    with the full margin map alone."""
    from numerics.maxmargin import _margins_below, _min_margin
    unit, _ = _unit_problem(k60())
    _, index, lam0 = separating_start(unit)
    args = (lambda i: constraint_rows(unit, i), lambda w: _flat_margins(unit, w), index,
            lam0.ravel()[index], unit.n * (unit.k - 1), unit.param_shape)
    w_slow, lam_slow = solve_fro_lazy(*args, target=TOL / 10)
    w_fast, lam_fast = solve_fro_lazy(*args, target=TOL / 10, min_margin_of=lambda w: _min_margin(unit, w),
                                      below_of=lambda w: _margins_below(unit, w))
    assert np.array_equal(w_slow, w_fast) and np.array_equal(lam_slow, lam_fast)


def test_cached_preconditioner_blocks_equal_fresh_ones_bit_for_bit():
    """_class_blocks with its cache (only the classes whose rows changed are inverted again) gives
    the arrays of a fresh computation, over a sequence of row sets and a change of σ. Control: row
    ids that lie (changed rows passed under the old ids) leave stale blocks, which differ."""
    from numerics.maxmargin_alm import _class_blocks
    unit, _ = _unit_problem(k60())
    rng = np.random.default_rng(10_000)
    everything = np.arange(unit.n * (unit.k - 1))
    A = constraint_rows(unit, everything)
    cache = {}
    J = np.sort(rng.choice(everything, 300, replace=False))
    for sigma, swap in ((100.0, 0), (100.0, 5), (100.0, 40), (500.0, 3)):
        J = np.union1d(J[swap:], rng.choice(everything, swap, replace=False)) if swap else J
        fresh = _class_blocks(A[J], unit.param_shape, sigma)
        cached = _class_blocks(A[J], unit.param_shape, sigma, J, cache)
        assert np.array_equal(fresh, cached)
    changed = 2.0 * A[J]   # other rows under the old ids: the cache cannot see the change
    stale = _class_blocks(changed, unit.param_shape, 500.0, J, cache)
    assert not np.array_equal(stale, _class_blocks(changed, unit.param_shape, 500.0))
