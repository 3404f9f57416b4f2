"""The Adam flow on Γ continued through finite-time collapses (``integrate_flow_to_rest``): it stops
at a vertex of Zw = y having decreased Adam's implied regularizer; label-noise SGD's flow (convex
regularizer at depth 3) does not stop at a vertex, so the vertex test can miss."""
from functools import lru_cache

import numpy as np
import pytest

from numerics.deep_diagonal import DepthProblem
from numerics.diagonal_nets import GD, AdamFamily, balanced_init, train
from numerics.manifold_flow import FlowRest, Shampoo, integrate_flow_to_rest
from numerics.run_status import RunStatus


@lru_cache(maxsize=1)
def _on_manifold(N=3, seed=10005, n=3, d=6):
    rng = np.random.default_rng(seed)
    problem = DepthProblem(N, rng.standard_normal((n, d)), rng.standard_normal(n))
    start = train(problem, balanced_init(problem, [0.5]), GD(), 0.05, 4000).final[0]
    assert np.linalg.norm(problem.residual(start)) <= 1e-10 * np.linalg.norm(problem.y)
    return problem, start


def _adam_regularizer(problem, w):
    # Σ_j c_j^(1/2) |w_j|^((N−1)/N): the derived Adam-implied regularizer up to the constant K_N
    return float(np.sum(np.sqrt(problem.c) * np.abs(w) ** ((problem.N - 1) / problem.N)))


def _is_vertex(problem, w, floor):
    support = np.abs(w) > floor**problem.N * 10
    Zs = problem.Z[:, support]
    return bool(support.sum() <= problem.n and np.linalg.matrix_rank(Zs) == support.sum()
                and np.linalg.norm(Zs @ w[support] - problem.y) <= 1e-4 * np.linalg.norm(problem.y))


def test_adam_flow_stops_at_a_vertex_having_decreased_its_regularizer():
    problem, start = _on_manifold()
    out = integrate_flow_to_rest(problem, start, AdamFamily(exponent=0.5), 1.0, 50.0)
    assert out.status is RunStatus.OK and out.time < 50.0 and out.message.startswith("rest at t = ")
    assert out.residual <= 1e-4
    assert int(out.active.sum()) == np.linalg.matrix_rank(problem.jacobian(out.theta)[:, out.active.ravel()])
    times = [t for t, _ in out.collapses]
    assert times == sorted(times) and len(set(k for _, k in out.collapses)) == len(out.collapses)
    assert np.all(np.abs(out.theta[~out.active]) <= 1e-3 * (1 + 1e-6))
    w0, w1 = problem.w(start), problem.w(out.theta)
    assert _is_vertex(problem, w1, 1e-3) and not _is_vertex(problem, w0, 1e-3)
    assert _adam_regularizer(problem, w1) < _adam_regularizer(problem, w0)


def test_sgd_flow_is_not_at_a_vertex_so_the_vertex_test_can_miss():
    problem, start = _on_manifold()
    out = integrate_flow_to_rest(problem, start, GD(), 1.0, 5.0)
    assert out.status is RunStatus.NOT_CONVERGED and out.time == 5.0
    assert out.message == "horizon: t_max = 5 reached before rest"
    assert not _is_vertex(problem, problem.w(out.theta), 1e-3)


def test_non_diagonal_preconditioners_are_refused():
    problem, start = _on_manifold()
    for rule in (Shampoo(), AdamFamily(exponent=0.5, block=2)):
        with pytest.raises(ValueError, match="diagonal flow preconditioner"):
            integrate_flow_to_rest(problem, start, rule, 1.0, 1.0)


def test_a_flow_whose_active_parameters_cannot_span_the_constraints_is_degenerate():
    """A floor above every |θ_k| leaves no active parameter: rank 0 < n at t = 0 (the sabotaged
    input); the same start with the default floor goes on to rest."""
    problem, start = _on_manifold()
    out = integrate_flow_to_rest(problem, start, AdamFamily(exponent=0.5), 1.0, 50.0,
                                 floor=10 * float(np.abs(start).max()))
    assert out.status is RunStatus.DEGENERATE and out.time == 0.0 and not out.active.any()
    assert out.message == f"degenerate at t = 0: the 0 active parameters span rank 0 < n = {problem.n} constraints"


def test_the_flow_record_refuses_a_status_outside_the_enumeration():
    """The old words (and any other text) are refused where the record is built; the members' values
    are what a JSON writer sees."""
    import json

    problem, start = _on_manifold()
    make = lambda s: FlowRest(start, 0.0, np.ones(start.shape, bool), [], s, 0.0)   # noqa: E731
    for word in ("rest", "horizon", "finished", ""):
        with pytest.raises(ValueError, match="unknown run status"):
            make(word)
    assert [json.dumps(make(s).status) for s in ("ok", "not converged", "degenerate")] == \
        ['"ok"', '"not converged"', '"degenerate"']
