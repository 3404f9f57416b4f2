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
    from verify.claims.wang2023 import RADIUS_FRACTION, TASK, _task, separability_radius

    X, y = _task(0)
    X2, _ = _task(0)
    assert X.shape == (TASK["n"], TASK["d"], TASK["c"]) and np.array_equal(X, X2)
    assert set(np.unique(y)) == {-1.0, 1.0}
    # XOR: the label-weighted mean is small next to the cluster means (no single direction separates)
    assert np.linalg.norm((y[:, None, None] * X).mean(0)) < 0.5
    r = separability_radius(X, y)
    flat = X.reshape(len(X), -1)
    i, j = np.flatnonzero(y > 0)[0], np.flatnonzero(y < 0)[0]
    assert 0 < r <= 0.5 * np.linalg.norm(flat[i] - flat[j]) and RADIUS_FRACTION < 1


def test_separability_radius_of_two_points():
    from verify.claims.wang2023 import separability_radius

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
