"""li2025-adaptive-family, Shampoo's unit: the derived facts behind its designed instance (on n = d
RMSProp's flow does not see the features, Shampoo's is RMSProp's for orthogonal columns and does not
see the scale of ZᵀZ/n), the instance itself, and that a run on the nearest rival's flow fails the
unit. Flows only (no training): each integration takes a fraction of a second."""
import numpy as np

from numerics.diagonal_nets import DiagonalNetProblem
from numerics.label_noise_runs import drift_setting
from verify.experiments import li2025 as exp
from verify.outcome import status_of
from verify.tracking_checks import tracking_pair_checks

SEED = 10001          # a tuning seed (≥ 10000); the old random start separates Shampoo by only 0.33


def _preconds():
    return exp.adaptive_rivals(exp.adaptive_methods(0.005, 1.5), exp.SHAMPOO_SIZE)


def _flows(problem, theta0, names=None):
    pre = _preconds()
    return exp.flows(problem, theta0, {k: pre[k] for k in (names or pre)})


def _relative(flow_a, flow_b, theta0):
    return exp.flow_separation(flow_a, flow_b, theta0)


def test_shampoo_instance_has_the_designed_second_moments_and_starts_on_gamma():
    problem, theta0 = exp.shampoo_instance(SEED)
    n = problem.n
    assert np.allclose(problem.Z.T @ problem.Z / n, exp.equicorrelation(3, exp.SHAMPOO_CORRELATION))
    assert np.max(np.abs(problem.residual(theta0))) < 1e-12
    assert np.array_equal(theta0, drift_setting(SEED, 3, 3)[1])          # the same draw of θ₀


def test_rmsprop_flow_on_a_square_instance_does_not_see_the_features():
    """Derived: on n = d, d(u_j²)/dt = d(v_j²)/dt = 4κ = −1 whatever Z. The random start and the
    designed instance share θ₀ and give the same RMSProp flow; SGD's flows differ (the invariance is
    RMSProp's, the comparison can fail)."""
    a = _flows(*drift_setting(SEED, 3, 3), ["SGD", "RMSProp"])
    problem, theta0 = exp.shampoo_instance(SEED)
    b = _flows(problem, theta0, ["SGD", "RMSProp"])
    assert _relative(a["RMSProp"], b["RMSProp"], theta0) < 1e-6
    times = np.linspace(0, exp.HORIZON, exp.POINTS)
    assert np.allclose(b["RMSProp"] ** 2 - theta0**2, -times[:, None, None], atol=1e-6)
    assert _relative(a["SGD"], b["SGD"], theta0) > 1e-2


def test_shampoo_flow_is_rmsprop_for_orthogonal_columns_and_scale_free():
    """Derived: Shampoo's flow depends on C = ZᵀZ/n only through (D C D)^½; for C diagonal it is
    RMSProp's flow exactly, and it does not change under C → λC (SGD's does)."""
    problem, theta0 = exp.shampoo_instance(SEED, correlation=0.0)
    f = _flows(problem, theta0, ["RMSProp", "Shampoo"])
    assert _relative(f["Shampoo"], f["RMSProp"], theta0) < 1e-6
    problem, theta0 = exp.shampoo_instance(SEED)
    scaled = DiagonalNetProblem(problem.param, 3.0 * problem.Z, 3.0 * problem.y)
    f, g = _flows(problem, theta0, ["SGD", "Shampoo"]), _flows(scaled, theta0, ["SGD", "Shampoo"])
    assert _relative(f["Shampoo"], g["Shampoo"], theta0) < 1e-6
    assert _relative(f["SGD"], g["SGD"], theta0) > 1e-2
    move = exp.displacement(f["Shampoo"], theta0)
    rms = _flows(problem, theta0, ["RMSProp"])["RMSProp"]
    assert _relative(f["Shampoo"], rms, theta0) / move > 0.5                # correlated: apart


def _separations(problem, theta0):
    flows = _flows(problem, theta0)
    move = exp.displacement(flows["Shampoo"], theta0)
    return flows, move, {k: _relative(flows["Shampoo"], f, theta0) / move
                         for k, f in flows.items() if k != "Shampoo"}


def test_shampoo_instance_separates_shampoo_from_every_rival():
    """On the designed instance every rival flow (SGD, RMSProp, Adalayer) is ≥ 3× Shampoo's quick
    tolerance away; on the old random start of the same (tuning) seed the nearest is not."""
    tol = dict(exp.ADAPTIVE.resolve("quick").tolerances)["Shampoo"]
    _, _, designed = _separations(*exp.shampoo_instance(SEED))
    assert set(designed) == {"SGD", "RMSProp", "Adalayer"}
    assert min(designed.values()) >= 3 * tol, designed
    _, _, old = _separations(*drift_setting(SEED, 3, 3))
    assert min(old.values()) < 3 * tol, old


def test_a_run_on_the_nearest_rival_flow_fails_shampoos_unit():
    """Sabotage: a 'run' whose mean is RMSProp's (then Adalayer's) flow on the designed instance
    misses Shampoo's prediction and that pair's control, with the separation precondition met, so
    the unit fails (not inconclusive); a run on Shampoo's own flow off by 0.05 displacement passes."""
    problem, theta0 = exp.shampoo_instance(SEED)
    flows, move, seps = _separations(problem, theta0)
    tol = dict(exp.ADAPTIVE.resolve("quick").tolerances)["Shampoo"]
    scale = np.linalg.norm(theta0)

    def checks_for(mean):
        errors = {k: float(np.max(np.linalg.norm((mean - f).reshape(len(f), -1), axis=1)) / scale)
                  for k, f in flows.items()}
        rivals = {k: v for k, v in errors.items() if k != "Shampoo"}
        return tracking_pair_checks("Shampoo", errors["Shampoo"], rivals, move, seps, tol)

    for rival in ("RMSProp", "Adalayer"):
        checks = checks_for(flows[rival])
        by = {c.name: c for c in checks}
        assert not by["Shampoo_relative_tracking_error"].passed
        assert not by[f"Shampoo_vs_{rival}_control"].passed
        assert by[f"Shampoo_vs_{rival}_flow_separation"].passed
        assert status_of(checks) == "failed"
    offset = flows["Shampoo"].copy()
    offset[1:] += 0.05 * move * scale / np.sqrt(offset[0].size)        # ‖shift‖ = 0.05 displacement
    assert status_of(checks_for(offset)) == "verified"
