import pytest

from verify.context import Context
from verify.registry import get

CLAIM = "cao2021-benign-overfitting-max-margin"


def test_registered_with_a_derivation():
    claim = get(CLAIM)
    assert claim.section.startswith("5 ")
    text = claim.derivation().pretty()
    assert "(d/n)" in text


@pytest.mark.slow
def test_quick_profile_verifies():
    outcome = get(CLAIM).check(Context(profile="quick", seed=0))
    assert outcome.status == "verified", outcome.message
    assert any(c.role == "control" for c in outcome.checks)
    assert outcome.details["skipped"] == []
