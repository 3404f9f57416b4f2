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
    from verify.claims.slutzky2025 import _balanced_error

    for d, k in ((10, 6), (20, 9)):
        assert _balanced_error(d, k, 40) == pytest.approx(d ** ((k - 1) / (k + 1)) - 1, rel=1e-12)
    # when d^((k−1)/(k+1)) − 1 < 1 the tail 1 − h_40 → 1 is the worst entry
    assert _balanced_error(2, 3, 40) == pytest.approx(1 - 2 ** ((3 - 40) / 4), rel=1e-12)

