"""The issue-3 claims run end to end in the quick profile (slow: minutes on 2 cores)."""
import pytest

from verify.context import Context
from verify.registry import get

CLAIMS = ["woodworth2020-kernel-rich", "blanc2020-label-noise-trace", "li2022-label-noise-drift",
          "li2025-adam-sharpness", "li2025-adam-drift", "li2025-exponent-family",
          "li2025-adaptive-family"]


@pytest.mark.slow
@pytest.mark.parametrize("cid", CLAIMS)
def test_claim_verified_in_quick_profile(cid):
    outcome = get(cid).check(Context(profile="quick", seed=0))
    assert outcome.status == "verified", outcome.message
    assert any(c.role == "control" for c in outcome.checks)
