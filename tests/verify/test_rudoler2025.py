import pytest

from verify.context import Context
from verify.registry import get

CLAIMS = ["rudoler2025-explicit-penalty-recovery", "rudoler2025-dropout-implicit-l2",
          "rudoler2025-dropout-implicit-l2-digits"]


@pytest.mark.parametrize("claim_id", CLAIMS)
def test_registered_with_a_derivation(claim_id):
    claim = get(claim_id)
    assert claim.section.startswith("4 ")
    assert "Gradient matching" in claim.derivation().pretty()


@pytest.mark.slow
@pytest.mark.parametrize("claim_id", CLAIMS)
def test_quick_profile_verifies(claim_id):
    outcome = get(claim_id).check(Context(profile="quick", seed=0))
    assert outcome.status == "verified", outcome.message
    assert any(c.role == "control" for c in outcome.checks)
