import pytest

from verify.context import Context
from verify.registry import get

CLAIM = "wang2023-tnn-adversarial-low-rank"


def test_registered_with_a_derivation():
    claim = get(CLAIM)
    assert claim.section.startswith("5 ")
    assert "circular convolution" in claim.derivation().pretty()


def test_task_is_seeded_and_separable_along_the_mean():
    import numpy as np

    from verify.claims.wang2023 import RADIUS, TASK, _task

    X, y = _task(0)
    X2, _ = _task(0)
    assert X.shape == (TASK["n"], TASK["d"], TASK["c"]) and np.array_equal(X, X2)
    # the attack radius is below the data's margin along the class-mean direction (robustly separable)
    mu = (y[:, None, None] * X).mean(0)
    mu /= np.linalg.norm(mu)
    assert (y * np.einsum("ndc,dc->n", X, mu)).min() > RADIUS


@pytest.mark.slow
def test_quick_profile_reaches_a_verdict_with_met_preconditions():
    outcome = get(CLAIM).check(Context(profile="quick", seed=0))
    assert outcome.status in ("verified", "failed"), outcome.message
    roles = {c.role for c in outcome.checks}
    assert {"prediction", "control", "precondition"} <= roles
    assert all(c.passed for c in outcome.checks if c.role == "precondition")
    assert {"dct", "dft"} <= set(outcome.details)
