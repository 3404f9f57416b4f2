import math

import pytest

from numerics.trajectory_metrics import last_half_checkpoints
from verify.homogeneous_checks import residual_settled, steps_to_tolerance


def _power_series(r_final: float, kappa: float, steps: int = 4000, wobble: float = 0.0):
    """r(t) = r_final·(t/T)^(−κ) at the last-half checkpoints, every other one scaled by 1 + wobble."""
    ts = last_half_checkpoints(steps)
    return [(t, r_final * (t / steps) ** -kappa * (1 + wobble * (i % 2))) for i, t in enumerate(ts)]


def test_last_half_checkpoints_span_one_doubling():
    ts = last_half_checkpoints(30_000)
    assert ts[0] == 15_000 and ts[-1] == 30_000 and len(ts) == 4


def test_residual_settled():
    assert residual_settled("a", _power_series(0.01, 5.0), 0.05, 0.03).passed       # within tolerance: decided
    assert residual_settled("a", _power_series(0.2, 0.02), 0.05, 0.03).passed       # flat: decided (a miss)
    assert not residual_settled("a", _power_series(0.2, 0.3), 0.05, 0.03).passed    # still falling
    assert not residual_settled("a", _power_series(0.2, -0.5), 0.05, 0.03).passed   # rising (a transient)
    assert residual_settled("a", _power_series(0.2, 0.3), 0.05, 0.03).role == "precondition"


def test_a_fluctuating_residual_is_not_settled():
    # no trend at the ends, but 12% down and up in between (lyu2020 full, digits, squared ReLU,
    # measured: 0.0478, 0.0428, 0.0427, 0.0466 at 15 000, 18 898, 23 811, 30 000 steps)
    wobbly = _power_series(0.2, 0.0, wobble=-0.12)
    check = residual_settled("a", wobbly, 0.05, 0.03)
    assert not check.passed
    assert check.value == pytest.approx(0.03 - math.log2(1 / 0.88))
    assert residual_settled("a", _power_series(0.2, 0.0, wobble=-0.01), 0.05, 0.03).passed


def test_a_checkpoint_that_does_not_separate_is_not_settled():
    series = _power_series(0.2, 0.0)
    series[1] = (series[1][0], math.inf)
    assert not residual_settled("a", series, 0.05, 0.03).passed


def test_steps_to_tolerance_inverts_the_power_of_t():
    # r ∝ t^(−0.3) from r(T) = 0.02 at T = 30 000: r reaches 0.01 at 2^(1/0.3)·T.
    steps = steps_to_tolerance(0.02, 0.3, 0.01, 30_000)
    assert math.isclose(steps, 30_000 * 2 ** (1 / 0.3), rel_tol=1e-12)
    assert math.isclose(0.02 * (steps / 30_000) ** -0.3, 0.01, rel_tol=1e-12)
    assert "about 3e+05 steps" in residual_settled("a", _power_series(0.02, 0.3, 30_000), 0.01, 0.03).note
    assert "reaches" not in residual_settled("a", _power_series(0.005, 0.3, 30_000), 0.01, 0.03).note  # within
    assert "reaches" not in residual_settled("a", _power_series(0.02, -0.3, 30_000), 0.01, 0.03).note   # rising


# -- per-optimizer units and rivals whose predictions coincide (issue 23 items 8, 9) ------------------
from dataclasses import replace

from verify.homogeneous_checks import optimizer_task_checks, rival_coincides
from verify.outcome import status_of

TOL = 0.05


def _row(norm: str, residuals: dict, separated: bool = True) -> dict:
    """A row of run_optimizer_task: residuals = {norm: (residual, lower_bound)}."""
    row = {"status": "ok", "message": "", "norm": norm, "min_margin": 1.0 if separated else -math.inf,
           "same_prediction": []}
    if not separated:
        return row
    row["residuals"] = {n: {"residual": r, "lower_bound": lb, "status": "ok", "tolerance": 0.0,
                            "stationarity": r, "complementary_slackness": 0.0} for n, (r, lb) in residuals.items()}
    own = residuals[norm][0]
    row["margins"] = {n: 1.0 if n == norm else 0.5 for n in residuals}
    row["residual_series"] = [(t, own) for t in last_half_checkpoints(4000)]
    row.update(cos_min_last_half=0.99, residual_rate=0.0, dlogL_last_step=0.0)
    return row


def _status(rows):
    checks, _, _ = optimizer_task_checks("t", {"rows": rows}, TOL, 0.03, 3.0)
    return checks, status_of(checks)


def test_a_failed_optimizer_is_not_hidden_by_another_ones_precondition():
    rows = {"A": _row("l2", {"l2": (0.01, 0.01), "linf": (0.5, 0.5)}),
            "B": _row("linf", {"l2": (0.9, 0.9), "linf": (0.2, 0.2)}),     # settled at 0.2 > 0.05: a miss
            "C": _row("linf", {}, separated=False)}
    checks, status = _status(rows)
    assert status == "failed"
    assert {c.unit for c in checks} == {"t/A", "t/B", "t/C"}
    assert status_of([replace(c, unit="") for c in checks]) == "inconclusive"     # the old, unit-less reading


def test_a_rival_that_coincides_on_the_data_is_inconclusive_not_failed():
    # A (l2) is 2x from Muon's norm, but Muon's own limit is KKT for l2 as well (0.012 < 3x A's 0.01):
    # the predictions coincide. The old check read the 2x as a failed control.
    rows = {"A": _row("l2", {"l2": (0.01, 0.01), "muon": (0.02, 0.02), "linf": (0.5, 0.5)}),
            "M": _row("muon", {"l2": (0.012, 0.012), "muon": (0.01, 0.01), "linf": (0.6, 0.6)}),
            "S": _row("linf", {"l2": (0.5, 0.5), "muon": (0.5, 0.5), "linf": (0.01, 0.01)})}
    assert rival_coincides(rows, "l2", "muon", TOL, 3.0 * 0.01) == ("M", 0.012)
    checks, status = _status(rows)
    assert status == "inconclusive"
    pair = {c.name: c for c in checks if c.unit == "t/A vs muon"}
    assert not pair["t/A vs muon: rival_prediction_differs"].passed
    assert next(c for c in checks if c.name == "t/A: kkt_control_ratio").value == 50.0    # against linf
    # the same residuals where Muon's limit is far from l2-KKT: the control can separate and does not
    rows["M"]["residuals"]["l2"].update(residual=0.5, lower_bound=0.5)
    assert rival_coincides(rows, "l2", "muon", TOL, 3.0 * 0.01) is None
    checks, status = _status(rows)
    assert status == "failed"
    assert not next(c for c in checks if c.name == "t/A: kkt_control_ratio").passed


def test_a_nan_control_residual_is_a_miss():
    rows = {"A": _row("l2", {"l2": (0.01, 0.01), "linf": (0.5, 0.5), "muon": (math.nan, math.nan)}),
            "S": _row("linf", {"l2": (0.5, 0.5), "linf": (0.01, 0.01), "muon": (0.5, 0.5)})}
    checks, status = _status(rows)
    assert status == "failed"
    assert math.isnan(next(c for c in checks if c.name == "t/A: kkt_control_ratio").value)


def test_a_nan_residual_in_the_series_is_not_settled():
    series = [(t, r) for t, r in _power_series(0.2, 0.0)]
    series[2] = (series[2][0], math.nan)
    assert not residual_settled("a", series, 0.05, 0.03).passed


def test_not_fit_names_the_points_with_every_neuron_inactive():
    import numpy as np
    from numerics.networks import TwoLayerNetwork
    from verify.homogeneous_checks import not_fit_reason
    net = TwoLayerNetwork.build("squared_relu", 2, 2)
    W, u = np.array([[1.0, 0.0], [0.0, 1.0]]), np.ones((1, 2))
    X = np.array([[1.0, 1.0], [-1.0, -2.0]])
    assert "1 training point(s) (index 1)" in not_fit_reason(net, (W, u), X)
    assert "every neuron inactive" not in not_fit_reason(net, (W, u), X[:1])


# -- the one-way coincidence (issue 23 item 9): the own KKT certificate implies the rival's at θ ---------
import numpy as np

from numerics.kkt_residual import kkt_residual
from numerics.kkt_transfer import transfer_bound
from numerics.networks import TwoLayerNetwork
from theory.norms import BlockMax, parse_norm

L2_NORM, LINF_NORM = parse_norm("l2", "binary"), parse_norm("linf", "binary")
LAYER_SPECTRAL = BlockMax((parse_norm("spectral"), parse_norm("spectral")), (1.0, 1.0))


def _two_neuron_point(scale: float, eps: float, seed: int = 0):
    """Squared-ReLU network, neurons w_j = a_j e_j with output weights ±b_j, one point per neuron
    (x_1 = e_1, y = +1; x_2 = scale·e_2, y = −1). The exact ℓ2 KKT point of min ½‖θ‖² s.t. q_i ≥ 1
    has a_j² = 2b_j² and 2 b_j³ s_j² = 1 (s_1 = 1, s_2 = scale). At scale 1 both layers have equal
    singular values (a, a) and are balanced (‖W‖_sp = a = √2 b = ‖u‖): θ itself is a subgradient of the
    layers' spectral max, so every ℓ2 KKT point there is a spectral-max one. At scale ≠ 1 the singular
    values differ and it is not. ``eps``: a Gaussian perturbation of θ (a point near the KKT point)."""
    d = 4
    net = TwoLayerNetwork.build("squared_relu", 2, d)
    X, y = np.array([np.eye(d)[0], scale * np.eye(d)[1]]), np.array([1.0, -1.0])
    b = np.array([2.0 ** (-1 / 3), (2 * scale**2) ** (-1 / 3)])
    W, u = np.sqrt(2) * b[:, None] * np.eye(d)[:2], np.array([[b[0], -b[1]]])
    rng = np.random.default_rng(seed)
    return net, X, y, (W + eps * rng.standard_normal(W.shape), u + eps * rng.standard_normal(u.shape))


@pytest.mark.parametrize("scale, eps, rival", [(1.0, 0.0, LAYER_SPECTRAL), (1.0, 1e-2, LAYER_SPECTRAL),
                                               (1.05, 3e-3, LAYER_SPECTRAL), (2.0, 1e-2, LAYER_SPECTRAL),
                                               (1.0, 1e-2, LINF_NORM)])
def test_the_rival_residual_is_at_most_the_transferred_own_certificate(scale, eps, rival):
    """(*) of numerics.kkt_transfer: r_rival ≤ U ≤ √((D + E)² + cs²), and the own residual of the
    multipliers used is the reported one."""
    net, X, y, theta = _two_neuron_point(scale, eps)
    own = kkt_residual(net, theta, X, y, L2_NORM)
    other = kkt_residual(net, theta, X, y, rival)
    t = transfer_bound(net, theta, X, y, L2_NORM, rival, own.multipliers)
    assert math.hypot(t.own_stationarity, t.own_slackness) == pytest.approx(own.residual, rel=1e-9, abs=1e-15)
    assert other.lower_bound <= t.bound <= t.inequality_rhs * (1 + 1e-12) + 1e-15
    assert other.residual <= t.bound + 1e-8                  # U is achieved: the rival's minimum is below it
    if scale == 1.0 and rival is LAYER_SPECTRAL:
        # θ is a spectral-max subgradient direction (up to the perturbation)
        assert t.distance < (1e-7 if eps == 0 else 2 * eps)
    else:
        assert t.distance > 0.04                             # the subdifferentials differ at θ


def _rows_at(scale: float, eps: float, with_transfer: bool = True):
    """The row of an ℓ2 optimizer ending at ``_two_neuron_point(scale, eps)``, measured as
    run_optimizer_task does (residuals in ℓ2, ℓ∞ and the layers' spectral max; transfer bounds)."""
    net, X, y, theta = _two_neuron_point(scale, eps)
    norms = {"l2": L2_NORM, "linf": LINF_NORM, "spec": LAYER_SPECTRAL}
    certs = {k: kkt_residual(net, theta, X, y, n) for k, n in norms.items()}
    row = _row("l2", {k: (c.residual, c.lower_bound) for k, c in certs.items()})
    if with_transfer:
        row["transfer"] = {k: transfer_bound(net, theta, X, y, L2_NORM, norms[k], certs["l2"].multipliers).as_dict()
                           for k in ("linf", "spec") if certs[k].lower_bound < 3.0 * certs["l2"].residual}
    return {"A": row}


def test_a_rival_implied_by_the_own_kkt_point_is_inconclusive_not_failed():
    # equal singular values, balanced layers: the spectral-max residual (0.019) is below the ℓ2 one
    # (0.020); no optimizer of the rival norm exists, so the two-way test cannot see the coincidence
    rows = _rows_at(1.0, 1e-2)
    spec = rows["A"]["residuals"]["spec"]["lower_bound"] / rows["A"]["residuals"]["l2"]["residual"]
    assert spec < 1.0
    old_checks, old = _status(_rows_at(1.0, 1e-2, with_transfer=False))
    assert old == "failed"                                   # the old reading: a control that missed
    checks, status = _status(rows)
    assert status == "inconclusive"
    pair = {c.name: c for c in checks if c.unit == "t/A vs spec"}
    assert not pair["t/A vs spec: rival_separable_at_endpoint"].passed
    assert "cannot separate" in pair["t/A vs spec: rival_separable_at_endpoint"].note
    assert next(c for c in checks if c.name == "t/A: kkt_control_ratio").passed          # against ℓ∞
    assert all(c.passed for c in checks if c.unit == "t/A")


def test_a_rival_that_could_be_separated_and_is_not_still_fails():
    # a generic endpoint: unequal singular values, the subdifferentials 0.59 apart in the rival's dual
    # norm, U = 25× the own residual; the rival's certified residual is sabotaged to 2× the own one
    rows = _rows_at(2.0, 1e-2)
    row = rows["A"]
    own = row["residuals"]["l2"]["residual"]
    assert row["transfer"] == {}                             # the real rival residual passes: nothing computed
    net, X, y, theta = _two_neuron_point(2.0, 1e-2)
    row["transfer"]["spec"] = transfer_bound(net, theta, X, y, L2_NORM, LAYER_SPECTRAL,
                                             kkt_residual(net, theta, X, y, L2_NORM).multipliers).as_dict()
    assert row["transfer"]["spec"]["bound"] > 3.0 * own
    row["residuals"]["spec"].update(residual=2.0 * own, lower_bound=2.0 * own)
    checks, status = _status(rows)
    assert status == "failed"
    control = next(c for c in checks if c.name == "t/A: kkt_control_ratio")
    assert not control.passed and control.value == pytest.approx(2.0) and "(spec)" in control.note
    assert not any(c.unit == "t/A vs spec" for c in checks)


def test_a_transfer_bound_that_was_not_computed_leaves_the_control_decisive():
    rows = _rows_at(1.0, 1e-2)
    for t in rows["A"]["transfer"].values():
        t["bound"] = math.nan                                # e.g. a ReLU network: not computed
    assert _status(rows)[1] == "failed"


def test_margin_rank_skips_a_rival_whose_endpoint_is_an_own_kkt_point():
    # M's (muon) own-norm margin is below A's (l2) endpoint's, but A's endpoint is itself a muon KKT
    # point (0.02 ≤ 0.05): two KKT points, which the theorems do not rank
    rows = {"A": _row("l2", {"l2": (0.01, 0.01), "muon": (0.02, 0.02), "linf": (0.5, 0.5)}),
            "M": _row("muon", {"l2": (0.5, 0.5), "muon": (0.01, 0.01), "linf": (0.6, 0.6)}),
            "S": _row("linf", {"l2": (0.5, 0.5), "muon": (0.5, 0.5), "linf": (0.01, 0.01)})}
    rows["A"]["margins"]["muon"] = 2.0
    checks, _ = _status(rows)
    rank = next(c for c in checks if c.name == "t/M: margin_rank")
    assert rank.passed and "(S)" in rank.note and "A" in rank.note.split("within tolerance:")[1]
    # sabotaged: A's endpoint is far from muon-KKT, so its larger muon margin is a miss for M
    rows["A"]["residuals"]["muon"].update(residual=0.3, lower_bound=0.3)
    checks, _ = _status(rows)
    rank = next(c for c in checks if c.name == "t/M: margin_rank")
    assert not rank.passed and "(A)" in rank.note


def test_the_solver_status_precondition_reads_the_run_status_and_rejects_other_words():
    """The residual solve is decisive when OK or within tolerance; an inaccurate solve above it
    misses the precondition (the sabotage); the solver's own word "optimal" is no run status (a
    record written before RunStatus, or a typo) and raises instead of silently reading as a miss."""
    from numerics.run_status import RunStatus
    from verify.homogeneous_checks import solver_status
    assert solver_status("k", "ok", 0.2, TOL).passed
    assert solver_status("k", RunStatus.INACCURATE, 0.01, TOL).passed       # within tolerance anyway
    miss = solver_status("k", "inaccurate", 0.2, TOL)
    assert not miss.passed and miss.value == 0.0 and miss.role == "precondition"
    assert not solver_status("k", RunStatus.ERROR, 0.2, TOL).passed
    with pytest.raises(ValueError, match="unknown run status 'optimal'"):
        solver_status("k", "optimal", 0.2, TOL)
