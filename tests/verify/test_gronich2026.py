import numpy as np
import pytest

import verify.experiments.gronich2026 as experiment
from numerics.networks import TwoLayerNetwork
from theory.norms import BlockMax
from theory.optimizer_geometry import implied_norm
from verify.context import Context
from verify.homogeneous_checks import same_prediction
from verify.registry import get
from verify.runner import check_claim


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
def test_the_claim_trains_from_its_initialization_and_records_unserved_points(monkeypatch, init, unserved):
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


def test_the_claim_reports_the_drawn_means_cosine_and_their_separation(monkeypatch):
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
