import pytest

from verify.registry import get

CLAIMS = (pytest.param("slutzky2025-ssm-clean-label-poisoning", marks=pytest.mark.slow),  # d = 10 Hessian
          "slutzky2025-poisoning-beyond-gradient-flow")


@pytest.mark.parametrize("claim_id", CLAIMS)
def test_registered_with_a_derivation(claim_id):
    claim = get(claim_id)
    assert claim.section.startswith("5 ")
    assert "Result" in claim.derivation().pretty() or "=" in claim.derivation().pretty()


def test_balanced_error_is_the_derived_closed_form():
    from verify.experiments.slutzky2025 import balanced_error

    for d, k in ((10, 6), (20, 9)):
        assert balanced_error(d, k, 40) == pytest.approx(d ** ((k - 1) / (k + 1)) - 1, rel=1e-12)
    # when d^((k−1)/(k+1)) − 1 < 1 the tail 1 − h_40 → 1 is the worst entry
    assert balanced_error(2, 3, 40) == pytest.approx(1 - 2 ** ((3 - 40) / 4), rel=1e-12)



def test_paper_numbers_are_the_criterion():
    """Errors the old ratio check passed (clean 1e-4 ≤ 0.01, poisoned/clean = 20 ≥ 10) but far from the
    paper's 0.0013/0.050 miss; errors at the paper's numbers pass; NaN never passes."""
    import numpy as np

    from verify.experiments.slutzky2025 import CONFIGS
    from verify.paper_numbers import paper_number_checks

    cfg = CONFIGS["d10k7"]
    near = paper_number_checks("d10k7", cfg, np.array([0.00125, 0.00135, 0.0013]), np.array([0.049, 0.051, 0.050]))
    assert all(c.passed for c in near)
    clean, poisoned = np.array([1e-4, 1.1e-4, 0.9e-4]), np.array([2e-3, 2.2e-3, 1.8e-3])
    assert clean.max() <= 0.01 and (poisoned / clean).min() >= 10          # the old criterion: passes
    far = paper_number_checks("d10k7", cfg, clean, poisoned)
    assert not any(c.passed for c in far)
    nan = paper_number_checks("d10k7", cfg, np.array([0.0013, np.nan, 0.0013]), np.array([0.05, 0.05, 0.05]))
    assert not nan[0].passed and nan[1].passed
