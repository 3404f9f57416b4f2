import numpy as np
import pytest

from verify.context import Context
from verify.registry import get

CLAIM = "wang2023-tnn-adversarial-low-rank"
VS_STANDARD = "wang2023-adversarial-vs-standard-rank"


def test_registered_with_a_derivation():
    claim = get(CLAIM)
    assert claim.section.startswith("5 ")
    text = claim.derivation().pretty()
    assert "circular convolution" in text and "homogeneous of degree J + 1" in text


def test_task_is_seeded_xor_and_robustly_separable_at_the_attack_radius():
    from verify.experiments.wang2023 import SETTINGS, separability_radius, task

    RADIUS_FRACTION, TASK = SETTINGS.radius_fraction, SETTINGS.task
    X, y = task(0)
    X2, _ = task(0)
    assert X.shape == (TASK.n, TASK.d, TASK.c) and np.array_equal(X, X2)
    assert set(np.unique(y)) == {-1.0, 1.0}
    # XOR: the label-weighted mean is small next to the cluster means (no single direction separates)
    assert np.linalg.norm((y[:, None, None] * X).mean(0)) < 0.5
    r = separability_radius(X, y)
    flat = X.reshape(len(X), -1)
    i, j = np.flatnonzero(y > 0)[0], np.flatnonzero(y < 0)[0]
    assert 0 < r <= 0.5 * np.linalg.norm(flat[i] - flat[j]) and RADIUS_FRACTION < 1


def test_separability_radius_of_two_points():
    from verify.experiments.wang2023 import separability_radius

    X = np.array([[[0.0, 0.0]], [[3.0, 4.0]], [[0.0, 1.0]]])
    assert separability_radius(X, np.array([1.0, -1.0, 1.0])) == pytest.approx(0.5 * np.sqrt(18))


@pytest.mark.slow
def test_quick_profile_both_claims_share_runs_and_their_controls_pass():
    ctx = Context(profile="quick", seed=0)
    outcomes = {cid: get(cid).check(ctx) for cid in (CLAIM, VS_STANDARD)}
    for outcome in outcomes.values():
        assert {"prediction", "control", "precondition"} <= {c.role for c in outcome.checks}
        assert {"dct", "dft"} <= set(outcome.details)
        # every run fits the perturbed data (the theorem's separability condition) and has settled
        assert all(c.passed for c in outcome.checks if c.role == "precondition"), outcome.message
        # the negative controls discriminate: untrained nets show no depth trend; a 1% radius is standard
        assert all(c.passed for c in outcome.checks if c.role == "control"), outcome.message
    # the verdicts themselves are pinned by tests/verify/test_catalogue.py
    assert outcomes[CLAIM].details == outcomes[VS_STANDARD].details


def _fake_tnn(monkeypatch, control_end_deep: float):
    """Training stand-in (members per seed: standard, control, fgsm): the layer-mean ratio ends at 0.5
    for every J = 1 run; at J = 3 standard ends at 0.8, fgsm at 1.0 and the 1%-radius control at
    ``control_end_deep``."""
    import numerics.tnn_train as tt

    def fake_train(layers0, w0, X, y, M, steps, rel_step, attack, radii, record=(), progress=None):
        P, depth = w0.shape[0], len(layers0)
        end = np.full(P, 0.5) if depth == 1 else np.tile([0.8, control_end_deep, 1.0], P // 3)
        history = []
        for t in sorted(set(record) | {0, steps}):
            ratio = np.full(P, 0.6) if t == 0 else end
            history.append({"step": t, "log_loss": [-50.0] * P, "clean_log_loss": [-50.0] * P,
                            "min_clean_margin": [1.0] * P, "normalized_margin": [0.1] * P,
                            "spectral_frobenius": [[r] * depth for r in ratio],
                            "mean_spectral_frobenius": list(map(float, ratio)),
                            "max_stable_rank": [[1.5] * depth for _ in range(P)]})
        return tt.TNNRun(list(layers0), w0, history)

    monkeypatch.setattr(tt, "train_tnn", fake_train)


def test_reading_control_is_decisive_at_the_depth_of_the_prediction(monkeypatch):
    """At J = 3 the adversarial run ends 25% higher than standard (the reading's prediction holds), but
    so does the 1%-radius control: the difference is not the attack's. The old control (J = 1 only)
    passed and the reading read `verified`; the control at J = 3 now fails it."""
    _fake_tnn(monkeypatch, control_end_deep=1.0)
    outcome = get(VS_STANDARD).check(Context(profile="quick", seed=10_000))
    checks = {c.name: c for c in outcome.checks}
    assert checks["dct_fgsm_vs_standard"].passed and checks["dft_fgsm_vs_standard"].passed
    assert checks["dct_J1_small_radius_deviation"].value <= 0.05                 # the old control: ok
    assert not checks["dct_J3_control_small_radius_deviation"].passed
    assert outcome.status == "failed"


def test_reading_verifies_when_the_control_follows_standard(monkeypatch):
    _fake_tnn(monkeypatch, control_end_deep=0.8)
    outcome = get(VS_STANDARD).check(Context(profile="quick", seed=10_000))
    assert outcome.status == "verified", outcome.message


def test_reading_is_a_reading_expected_to_fail():
    claim = get(VS_STANDARD)
    assert claim.kind == "reading" and claim.expected == "failed"
