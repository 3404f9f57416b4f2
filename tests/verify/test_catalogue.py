"""Every claim of the catalogue renders its derivation as text and LaTeX (slow: it derives all of
them). The verdicts are not pinned here: CI's main job runs ``python -m verify all`` on the default
seeds and fails unless every paper and extension claim is verified on every seed and every reading
gets its expected verdict (``.ci/run``; the rule is tested in tests/verify/test_engine.py, ``test_expectations_by_kind``)."""
import pytest

from verify.registry import all_claims, get

CLAIM_IDS = [c.id for c in all_claims()]


@pytest.mark.slow
@pytest.mark.parametrize("claim_id", CLAIM_IDS)
def test_derivation_renders(claim_id):
    derivation = get(claim_id).derivation()
    assert derivation.pretty().strip()
    assert derivation.latex().strip()
