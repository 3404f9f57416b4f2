import pytest

from verify.context import Context
from verify.registry import get

CLAIM = "ali2019-early-stopping-ridge"


def test_registered_with_a_derivation():
    claim = get(CLAIM)
    assert claim.section.startswith("4 ")
    text = claim.derivation().pretty()
    assert "Result" in text or "=" in text


@pytest.mark.slow
def test_quick_profile_verifies():
    outcome = get(CLAIM).check(Context(profile="quick", seed=0))
    assert outcome.status == "verified", outcome.message
    assert any(c.role == "control" for c in outcome.checks)
