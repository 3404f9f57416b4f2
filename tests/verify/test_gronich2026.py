import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import verify.experiments.gronich2026 as experiment
from numerics.networks import TwoLayerNetwork
from theory.norms import BlockMax
from theory.optimizer_geometry import implied_norm
from verify.context import Context
from verify.homogeneous_checks import same_prediction
from verify.registry import get
from verify.runner import check_claim


@pytest.fixture
def session6_design(monkeypatch):
    """The design before session 7 (independent means, width 8, a = 0.7, no schedule prefix), which the
    tests of mechanisms written against it (their numbers measured on it) pin."""
    import verify.experiments.tsilivis2024 as tsilivis
    for module in (experiment, tsilivis):
        for key, value in (("width", 8), ("decay", 0.7), ("prefix", None)):
            monkeypatch.setitem(module.SETTINGS, key, value)
    monkeypatch.setitem(experiment.SETTINGS["clusters"], "mean_cosine", None)   # one dict, shared


def test_derived_norms_of_the_optimizers():
    net = TwoLayerNetwork.build("squared_relu", 16, 10)
    norms = {o.name: implied_norm(o.rules, o.values) for o in experiment.optimizers(net)}
    assert norms["NGD"].name == norms["MomentumGD"].name == "lp:2"
    assert norms["Signum"].name == norms["Adam"].name == "lp:inf"
    assert norms["Muon"] == BlockMax((experiment.SPECTRAL, experiment.SPECTRAL), (1.0, 1.0))
    assert norms["Muon+Adam"].weights == (experiment.SETTINGS["muon_adam_ratio"], 1.0)
    s_w, s_u = (16 / 10) ** 0.5, (1 / 16) ** 0.5        # √(fan_out/fan_in)
    assert norms["Muon (shape factors)"].weights[0] == pytest.approx(s_u / s_w)
    d = get("gronich2026-homogeneous-optimizer-kkt").derivation()
    assert tuple(d.results["muon_adam_weights"]) == (experiment.ETA_A / experiment.ETA_M, 1)


def test_not_separated_is_inconclusive(monkeypatch):
    """A point repeated with both labels cannot be separated by any network."""
    rng = np.random.default_rng(0)
    X = np.repeat(rng.standard_normal((1, 10)), 2, axis=0)
    monkeypatch.setattr(experiment, "tasks", lambda ctx: [("clash", X, np.array([1.0, -1.0]), 4, 20)])
    out = check_claim(get("gronich2026-homogeneous-optimizer-kkt"), Context())
    assert out.status == "inconclusive" and "min_margin" in out.message


def test_digits_get_a_constant_input_coordinate():
    """First-layer biases as a column of W: no image can be left with every neuron inactive for good."""
    tasks = {name: (X, y, width) for name, X, y, width, _ in experiment.tasks(Context(profile="full"))}
    X, y, width = tasks["digits"]
    assert X.shape == (experiment.SETTINGS["digits"]["n"], 65) and np.all(X[:, -1] == 1.0)
    assert np.allclose(np.linalg.norm(X[:, :-1], axis=1), 1.0) and set(np.unique(y)) == {-1.0, 1.0}
    assert "digits" not in {name for name, *_ in experiment.tasks(Context())}


@pytest.mark.parametrize("inputs, same", [(65, True), (10, False)])
def test_muon_with_shape_factors_is_muon_on_the_digits(inputs, same):
    # digits with the constant coordinate: W 8×65, u 1×8, shape factors 0.351 and 0.354 (1.0078 apart,
    # within 1e-2); the clusters: W 8×10, factors 0.894 and 0.354 (a distinct prediction)
    net = TwoLayerNetwork.build("squared_relu", 8, inputs)
    opts = experiment.optimizers(net)
    norms = {o.name: implied_norm(o.rules, o.values) for o in opts}
    controls = experiment.control_norms(opts, norms)
    shape = norms["Muon (shape factors)"]
    assert (same_prediction(norms["Muon"], controls, 1e-2) == [shape.name]) is same
    assert (same_prediction(shape, controls, 1e-2) == [norms["Muon"].name]) is same
    assert all(same_prediction(norms[o], controls, 1e-2) == [] for o in norms if "Muon" not in o)



@pytest.mark.parametrize("init, unserved", [("mirrored", 0), ("iid", 8)])
def test_the_claim_trains_from_its_initialization_and_records_unserved_points(monkeypatch, session6_design, init,
                                                                             unserved):
    """Seed 2's clusters, 20 steps: the claim's mirrored initialization leaves no point without a serving
    neuron (recorded in the task's details); the i.i.d. one (the sabotage) leaves the +1 cluster's 8."""
    X, y, width = next((X, y, w) for _, X, y, w, _ in experiment.tasks(Context(seed=2)))
    monkeypatch.setattr(experiment, "tasks", lambda ctx: [("clusters", X, y, width, 20)])
    monkeypatch.setitem(experiment.SETTINGS, "init", init)
    out = check_claim(get("gronich2026-homogeneous-optimizer-kkt"), Context(seed=2))
    assert out.details["clusters"]["init"] == init
    assert len(out.details["clusters"]["unserved_at_init"]) == unserved


def test_the_design_separates_l2_from_the_spectral_max_only_at_a_negative_cosine():
    """Noiseless clusters: the closed-form ℓ2 and spectral-max KKT points are KKT (own residual ≈ 0);
    at cosine −0.5 each is ≥ 3 × the quick tolerance from the other's KKT set; at cosine 0 or 0.3
    (the random means' usual range) they are the same point, and the check, read as a precondition,
    misses (sabotaged design); a NaN separation misses too."""
    from verify.homogeneous_checks import design_separation_check
    s = experiment.SETTINGS
    tol, ratio = s["kkt_tolerance"]["quick"], s["control_ratio"]
    sep = experiment.design_separation(-0.5)
    assert sep["l2_own"] < 1e-6 and sep["spectral_own"] < 1e-6
    assert min(sep["spectral_at_l2"], sep["l2_at_spectral"]) >= ratio * tol
    assert design_separation_check(sep, tol, ratio, "precondition").passed
    for c in (0.0, 0.3):
        same = experiment.design_separation(c)
        assert same["spectral_own"] < 1e-6 and same["l2_own"] < 1e-6
        assert max(same["spectral_at_l2"], same["l2_at_spectral"]) < 1e-6
        assert not design_separation_check(same, tol, ratio, "precondition").passed
    assert not design_separation_check({**sep, "l2_at_spectral": np.nan}, tol, ratio, "precondition").passed


def test_the_claim_reports_the_drawn_means_cosine_and_their_separation(monkeypatch, session6_design):
    """The claim reports, per seed, the drawn means' cosine (that of the data it trains on) and the
    noiseless separation at it, as information (the noise may still separate the predictions)."""
    from numerics.network_data import gaussian_cluster_means
    c = experiment.SETTINGS["clusters"]
    (_, X, y, _, _), = experiment.tasks(Context(seed=10003))
    means = gaussian_cluster_means(c["k"], c["d"], 10003)
    assert np.allclose([X[y == 1].mean(axis=0), X[y == -1].mean(axis=0)], means, atol=0.1)
    assert experiment.drawn_mean_cosine(10003) == pytest.approx(means[0] @ means[1])
    rng = np.random.default_rng(0)
    Xc = np.repeat(rng.standard_normal((1, 10)), 2, axis=0)
    monkeypatch.setattr(experiment, "tasks", lambda ctx: [("clash", Xc, np.array([1.0, -1.0]), 4, 20)])
    out = check_claim(get("gronich2026-homogeneous-optimizer-kkt"), Context(seed=10003))
    design = next(ch for ch in out.checks if ch.name == "design_predictions_differ")
    assert design.role == "info" and f"{experiment.drawn_mean_cosine(10003):g}" in design.note


def _ngd_and_signum(tolerance, cap):
    """NGD (ℓ2) and Signum (ℓ∞) of the claim on selection seed 10003's clusters, 250 steps (own
    residuals 0.041, falling like t^(−0.39), and 0.039), read with ``tolerance`` and the per-draw
    horizon capped at ``cap`` steps (None: no continuation)."""
    from numerics.network_init import initialize
    from verify.homogeneous_checks import optimizer_task_checks, run_optimizer_task
    from verify.outcome import unit_statuses
    s = experiment.SETTINGS
    (_, X, y, width, _), = experiment.tasks(Context(seed=10003))
    net = TwoLayerNetwork.build(s["activation"], width, X.shape[1])
    opts = [o for o in experiment.optimizers(net) if o.name in ("NGD", "Signum")]
    result = run_optimizer_task(Context(), "t", net, X, y, initialize(net, 10003, s["init_scale"], s["init"]), opts,
                                {o.norm.name: o.norm for o in opts}, 250, tolerance, s["control_ratio"],
                                s["settled_rate"], cap)
    checks, _, _ = optimizer_task_checks("t", result, tolerance, s["settled_rate"], s["control_ratio"])
    return result["rows"], {c.name: c for c in checks}, unit_statuses(checks)


def test_the_per_draw_horizon_decides_a_residual_still_falling_and_leaves_a_settled_run_bitwise_alone(
        session6_design):
    """Tolerance 0.04: at 250 steps NGD's residual (0.041) is above it and still falling, so without the
    continuation its unit is inconclusive; continued (the same run) to 500 steps it is 0.032, within
    tolerance, and the unit is verified. Signum, within tolerance at 250, is not continued: its row is
    the one without the continuation, value for value."""
    rows, checks, units = _ngd_and_signum(0.04, None)
    assert not checks["t/NGD: residual_settled"].passed and not checks["t/NGD: kkt_residual"].passed
    assert units["t/NGD"] == "inconclusive"
    rows_c, checks_c, units_c = _ngd_and_signum(0.04, 1000)
    assert rows_c["NGD"]["horizon"] == 500 and [t for t, *_ in rows_c["NGD"]["continued"]] == [250]
    assert checks_c["t/NGD: kkt_residual"].passed and "read at step 500" in checks_c["t/NGD: kkt_residual"].note
    assert [t for t, _ in rows_c["NGD"]["residual_series"]] == [250, 314, 396, 500]
    assert units_c["t/NGD"] == "verified"
    assert rows_c["Signum"]["horizon"] == 250 and rows_c["Signum"]["continued"] == []
    assert {k: v for k, v in rows_c["Signum"].items() if k != "residuals"} == \
        {k: v for k, v in rows["Signum"].items() if k != "residuals"}
    assert rows_c["Signum"]["residuals"]["lp:inf"] == rows["Signum"]["residuals"]["lp:inf"]


def test_a_run_still_unsettled_at_the_cap_reads_inconclusive(monkeypatch, session6_design):
    """Tolerance 0.02: NGD's residual is still above it and falling at the cap (1000 steps: 0.025), and
    the unit reads inconclusive there, not failed. (Its own rate says 0.02 is out of reach by the cap,
    so it is continued only with that economy rule sabotaged; unsabotaged it stays at 250 steps.)"""
    import verify.homogeneous_checks as hc
    rows, checks, units = _ngd_and_signum(0.02, 1000)
    assert rows["NGD"]["horizon"] == 250 and units["t/NGD"] == "inconclusive"
    monkeypatch.setattr(hc, "continuation_can_decide", lambda *args: True)
    rows, checks, units = _ngd_and_signum(0.02, 1000)
    assert rows["NGD"]["horizon"] == 1000 and [t for t, *_ in rows["NGD"]["continued"]] == [250, 500]
    assert not checks["t/NGD: residual_settled"].passed and "from step 500" in checks["t/NGD: residual_settled"].note
    assert units["t/NGD"] == "inconclusive"


def test_continuation_is_spent_only_where_it_can_decide():
    from verify.homogeneous_checks import continuation_can_decide
    assert continuation_can_decide(0.0514, 0.3, 0.05, 15_000, 60_000)           # reaches 0.05 at ~1.6e4
    assert not continuation_can_decide(0.070, 0.2, 0.05, 15_000, 60_000)        # needs ~8e4 steps
    assert continuation_can_decide(0.2, -0.1, 0.05, 15_000, 60_000)             # rising: a transient may settle
    assert continuation_can_decide(0.2, float("nan"), 0.05, 15_000, 60_000)


_FLAT = {}


@settings(max_examples=5, deadline=None)
@given(frame_seed=st.integers(0, 2**32 - 1), c=st.sampled_from([-0.45, -0.5, -0.7]))
def test_at_a_fixed_obtuse_cosine_the_predictions_differ_in_every_frame(frame_seed, c):
    """The ``mean_cosine`` design draws the means in a random orthonormal frame of R^10. Both norms are
    invariant under W ↦ WQ, so the closed-form separation of the ℓ2 and spectral-max KKT points depends on
    c alone: in any frame it equals the 2-D one and, at these cosines, is ≥ 3 × the quick tolerance both
    ways (by construction, not by the draw)."""
    s = experiment.SETTINGS
    frame = np.linalg.qr(np.random.default_rng(frame_seed).standard_normal((s["clusters"]["d"], 2)))[0].T
    sep = experiment.design_separation(c, frame)
    flat = _FLAT.setdefault(c, experiment.design_separation(c))
    assert sep["l2_own"] < 1e-6 and sep["spectral_own"] < 1e-6
    for key in ("spectral_at_l2", "l2_at_spectral"):
        assert sep[key] == pytest.approx(flat[key], abs=1e-6)
        assert sep[key] >= s["control_ratio"] * s["kkt_tolerance"]["quick"]


@pytest.mark.parametrize("cosine, separates", [(-0.5, True), (0.0, False), (0.3, False)])
def test_a_fixed_cosine_makes_the_design_check_a_precondition(monkeypatch, cosine, separates):
    """With the means' cosine fixed by the design the check ``design_predictions_differ`` is a
    precondition: at c = −0.5 it holds on any seed; a sabotaged design (c ≥ 0, where the ℓ2 and
    spectral-max predictions are the same point) makes it miss, and the claim reads inconclusive for
    that reason. With independent means it is information only. The default design fixes c = −0.5."""
    assert experiment.SETTINGS["clusters"]["mean_cosine"] == -0.5
    assert experiment.design_check(Context(seed=10004)).role == "precondition"
    monkeypatch.setitem(experiment.SETTINGS["clusters"], "mean_cosine", None)
    assert experiment.design_check(Context(seed=10004)).role == "info"
    monkeypatch.setitem(experiment.SETTINGS["clusters"], "mean_cosine", cosine)
    for seed in (10004, 10007):
        check = experiment.design_check(Context(seed=seed))
        assert check.role == "precondition" and check.passed is separates
        assert experiment.drawn_mean_cosine(seed) == pytest.approx(cosine, abs=1e-12)
    import verify.experiments.tsilivis2024 as tsilivis
    for module in (experiment, tsilivis):                                # the design check alone
        monkeypatch.setattr(module, "tasks", lambda ctx: [])
    for claim in ("gronich2026-homogeneous-optimizer-kkt", "tsilivis2024-steepest-descent-homogeneous-kkt"):
        out = check_claim(get(claim), Context(seed=10004))
        design = next(c for c in out.checks if c.name == "design_predictions_differ")
        assert design.role == "precondition" and design.passed is separates
        assert out.status == ("verified" if separates else "inconclusive")


def _first_step_moves(module, net, X, y, init):
    """Per optimizer: (largest row move of W / E‖w_j‖, largest |Δu_j| / E|u_j|) of the first step."""
    from numerics.network_init import expected_neuron_sizes
    from numerics.optim import TransformOptimizer
    from numerics.train import Member
    from numerics.train_network import NetworkTraining
    opts = module.optimizers(net)
    members = {o.name: Member(lambda ps, o=o: TransformOptimizer(ps, o.build(o.values), o.name)) for o in opts}
    traj = NetworkTraining(net, X, y, members, init).advance(1, record=[0, 1])
    size_w, size_u = expected_neuron_sizes(net.shapes, experiment.SETTINGS["init_scale"])
    out = {}
    for name, tr in traj.items():
        (W0, u0), (W1, u1) = tr.params
        out[name] = (np.max(np.linalg.norm(W1 - W0, axis=1)) / size_w, np.max(np.abs(u1 - u0)) / size_u)
    return out


@pytest.mark.parametrize("prefix", ["median_cosine", None])
def test_the_schedule_prefix_bounds_the_first_steps_relative_move(monkeypatch, prefix):
    """With the prefix (ρ = the median |cos| of a random neuron with an input at d = 10, 0.228) no optimizer
    of either claim moves any neuron's row of W or entry of u by more than ρ × its expected initial size
    on its first step, by construction (t_w from the oracle's unit-step reach); the sabotage, the prefix
    removed (η₀ from step 1), moves one of them by more (Signum: √10 · 0.18 against 0.0975 × 0.228)."""
    import verify.experiments.tsilivis2024 as tsilivis
    from numerics.network_init import initialize
    rho = experiment.median_abs_cosine(10)
    assert rho == pytest.approx(0.2281, abs=1e-4)
    for module in (experiment, tsilivis):
        monkeypatch.setitem(module.SETTINGS, "prefix", prefix)
        monkeypatch.setitem(module.SETTINGS, "width", 4)
    X, y, _, _ = next((X, y, w, n) for _, X, y, w, n in experiment.tasks(Context(seed=10004)))
    net = TwoLayerNetwork.build("squared_relu", 4, X.shape[1])
    init = initialize(net, 10004, experiment.SETTINGS["init_scale"], "mirrored")
    for module in (experiment, tsilivis):
        moves = _first_step_moves(module, net, X, y, init)
        worst = max(max(m) for m in moves.values())
        if prefix is None:
            assert worst > 3 * rho
        else:
            assert worst <= rho * (1 + 1e-12), moves
            assert worst >= 0.3 * rho          # the prefix is not needlessly small: some block reaches near ρ
