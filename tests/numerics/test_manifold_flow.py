"""The slow flow: exact semi-gradient, tangency to Γ, preconditioner maps."""
import numpy as np
import pytest

from numerics.diagonal_nets import DiagonalNetProblem
from numerics.manifold_flow import (Preconditioner, drift, second_moment_warmup, semi_gradient,
                                    track, warm_start)
from numerics.sparse_regression import manifold_point
from theory.parameterizations import parse_parameterization, quadratic_difference


def _trace_SH(problem, theta, S):
    J = problem.jacobian(theta)
    return float(np.trace(S @ (J.T @ J) / problem.n))


@pytest.mark.parametrize("text", ["u**2 - v**2", "u*v + u**2", "a**3 - b*a"])
def test_semi_gradient_matches_finite_differences(text):
    param = parse_parameterization(text)
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((2, 3))
    problem = DiagonalNetProblem(param, Z, Z @ rng.standard_normal(3))
    theta = 0.5 + rng.random((param.m, 3))
    A = rng.standard_normal((param.m * 3, param.m * 3))
    S = A @ A.T
    g = semi_gradient(problem, theta, S)
    h = 1e-6
    fd = np.array([(_trace_SH(problem, theta + h * e.reshape(theta.shape), S)
                    - _trace_SH(problem, theta - h * e.reshape(theta.shape), S)) / (2 * h)
                   for e in np.eye(theta.size)])
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("pre", [Preconditioner("sgd"), Preconditioner("adam", 0.5),
                                 Preconditioner("block", 0.5, block=2)])
def test_drift_is_tangent_to_the_manifold(pre):
    Z, y, theta0 = manifold_point(2, 4, seed=1)
    problem = DiagonalNetProblem(quadratic_difference(), Z, y)
    v = drift(problem, theta0.ravel(), pre, sigma2=0.5, kappa=-0.25)
    assert np.max(np.abs(problem.jacobian(theta0) @ v)) < 1e-10 * np.linalg.norm(v)
    assert np.linalg.norm(v) > 0


def test_sgd_drift_decreases_the_trace():
    Z, y, theta0 = manifold_point(2, 4, seed=2)
    problem = DiagonalNetProblem(quadratic_difference(), Z, y)
    v = drift(problem, theta0.ravel(), Preconditioner("sgd"), sigma2=0.5, kappa=-0.25)
    grad_trace = semi_gradient(problem, theta0, np.eye(theta0.size))
    assert grad_trace @ v < 0


def _drift_problem(seed=3):
    Z, y, theta0 = manifold_point(2, 3, seed=seed)
    return DiagonalNetProblem(quadratic_difference(), Z, y), theta0


def test_second_moment_warmup_matches_the_exact_label_noise_mean():
    import itertools

    problem, theta0 = _drift_problem()
    delta, draws = 0.7, 4000
    v0 = second_moment_warmup(problem, theta0, delta, replicas=3, draws=draws, seed=1)
    patterns = [delta * np.array(s) for s in itertools.product((1.0, -1.0), repeat=problem.n)]
    g2 = np.array([problem.gradient(theta0, xi) ** 2 for xi in patterns])     # all sign patterns
    exact, spread = g2.mean(axis=0), g2.std(axis=0)
    assert v0.shape == (3, *theta0.shape)
    assert np.all(np.abs(v0 - exact) <= 5 * spread / np.sqrt(draws) + 1e-12)
    assert not np.allclose(v0[0], v0[1])                # replicas draw independent noise


def test_warm_start_estimates_the_statistic_each_method_averages():
    import itertools

    from numerics.diagonal_nets import AdamFamily, Shampoo

    problem, theta0 = _drift_problem()
    R, delta, seed, beta2 = 4, 0.7, 2, 0.998                       # (1+β₂)/(1−β₂) = 999 draws
    plain = second_moment_warmup(problem, theta0, delta, R, 999, seed=seed)
    adam = warm_start(AdamFamily(beta2=beta2), problem, theta0, delta, R, seed=seed)
    np.testing.assert_array_equal(adam.v0, plain)
    adalayer = warm_start(AdamFamily(beta2=beta2, block=0), problem, theta0, delta, R, seed=seed)
    np.testing.assert_allclose(adalayer.v0, np.broadcast_to(plain.mean(axis=-1, keepdims=True),
                                                            plain.shape), rtol=1e-13)
    shampoo = warm_start(Shampoo(beta2=beta2), problem, theta0, delta, R, seed=seed)
    assert shampoo.v0.shape == (R, *theta0.shape, theta0.shape[-1])
    np.testing.assert_allclose(np.diagonal(shampoo.v0, axis1=-2, axis2=-1), plain, rtol=1e-13)
    patterns = [delta * np.array(s) for s in itertools.product((1.0, -1.0), repeat=problem.n)]
    outer = np.array([Shampoo().second_moment(problem.gradient(theta0, xi)) for xi in patterns])
    exact, spread = outer.mean(axis=0), outer.std(axis=0)
    assert np.all(np.abs(shampoo.v0 - exact) <= 5 * spread / np.sqrt(999) + 1e-12)
    assert adam.beta2 == beta2 and adam.name == "Adam"


def test_track_reports_the_standard_error_of_the_replica_mean():
    from numerics.diagonal_nets import GD, train

    problem, theta0 = _drift_problem()
    eta, horizon, R = 0.05, 0.02, 16
    flow = np.repeat(theta0[None], 3, axis=0)
    tr = track(problem, theta0, GD(), eta, horizon, 1.0, {"still": flow}, replicas=R, seed=5, points=3)
    assert tr.status == "ok" and tr.standard_error.shape == (3,) and tr.standard_error[0] < 1e-12
    # the same runs by hand: per-coordinate sample variances over replicas at t = η²k
    run = train(problem, np.repeat(theta0[None], R, axis=0), GD(), eta, int(round(horizon / eta**2)),
                label_noise=1.0, seed=5)
    spread = np.sqrt(np.sum(np.var(run.final.reshape(R, -1), axis=0, ddof=1)) / R)
    np.testing.assert_allclose(tr.standard_error[-1], spread / np.linalg.norm(theta0), rtol=1e-12)
    np.testing.assert_allclose(tr.errors["still"],
                               np.max(np.linalg.norm((tr.mean - flow).reshape(3, -1), axis=1))
                               / np.linalg.norm(theta0))


# -- the flow back end of the optimizer declarations (numerics.optim) ------------------------------
def _quasi_static(rule, problem, theta, sigma2, draws=1):
    """P from its definition: the exact label-noise mean of the rule's own statistic
    (``rule.second_moment``, the array back end's) over every noise pattern, at θ on Γ, then v^{−e}
    (Shampoo: the pseudo-inverse square root per parameter vector)."""
    import itertools

    patterns = [np.array(p) for p in itertools.product((-1.0, 1.0), repeat=problem.n)]
    delta = np.sqrt(sigma2 * problem.n)
    v = np.mean([rule.second_moment(problem.gradient(theta, delta * p)) for p in patterns], axis=0)
    m, d = theta.shape
    if rule.moment == "square":
        return np.diag(v.ravel() ** (-rule.exponent))
    out = np.zeros((m * d, m * d))
    for k in range(m):
        lam, V = np.linalg.eigh(v[k])
        keep = lam > lam.max() * 1e-12
        out[k * d:(k + 1) * d, k * d:(k + 1) * d] = (V[:, keep] / np.sqrt(lam[keep])) @ V[:, keep].T
    return out


@pytest.mark.parametrize("rule_args", [("adam", dict(exponent=0.5)), ("adam", dict(exponent=0.25)),
                                       ("adam", dict(exponent=0.5, block=0)),
                                       ("adam", dict(exponent=0.5, block=2)), ("shampoo", {})])
def test_flow_preconditioner_is_the_rules_second_moment_at_the_manifold(rule_args):
    from numerics.manifold_flow import preconditioner_matrix
    from numerics.optim import AdamFamily, Shampoo

    kind, kwargs = rule_args
    rule = AdamFamily(**kwargs) if kind == "adam" else Shampoo()
    n, d = (3, 3) if kind == "shampoo" else (2, 4)
    Z, y, theta0 = manifold_point(n, d, seed=4)
    problem = DiagonalNetProblem(quadratic_difference(), Z, y)
    P = preconditioner_matrix(rule, problem, theta0, 0.5)
    np.testing.assert_allclose(P, _quasi_static(rule, problem, theta0, 0.5), rtol=1e-9, atol=1e-12)
    # sabotaged: another exponent's preconditioner is told apart
    if kind == "adam":
        other = AdamFamily(**dict(kwargs, exponent=kwargs["exponent"] + 0.25))
        assert not np.allclose(P, _quasi_static(other, problem, theta0, 0.5), rtol=1e-6)


def test_preconditioner_names_map_to_the_declarations():
    from numerics.optim import GD, AdamFamily, Shampoo

    assert Preconditioner("sgd") == GD() and Preconditioner("shampoo") == Shampoo()
    assert Preconditioner("adam", 0.25) == AdamFamily(exponent=0.25)
    assert Preconditioner("block", 0.5, block=0).kind == "block"
    with pytest.raises(ValueError, match="unknown preconditioner kind 'adamw'"):
        Preconditioner("adamw")


def test_the_flow_of_a_trained_declaration_is_its_preconditioners():
    """A trainer's own declaration (β's, ε: the flow's quasi-static limit does not read them) gives
    the same flow as the named preconditioner, bit for bit: callers may pass the optimizer itself."""
    from numerics.optim import AdamFamily, Shampoo

    problem, theta0 = _drift_problem()
    for trained, named in ((AdamFamily(0.0, 0.99, 1e-8, 0.5), Preconditioner("adam", 0.5)),
                           (AdamFamily(0.9, 0.9, 1e-8, 0.5, block=0), Preconditioner("block", 0.5, block=0)),
                           (Shampoo(0.9, 0.99, 1e-8), Preconditioner("shampoo"))):
        assert np.array_equal(drift(problem, theta0.ravel(), trained, 0.5, -0.25),
                              drift(problem, theta0.ravel(), named, 0.5, -0.25))
