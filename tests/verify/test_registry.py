"""The claim registry: discovery, lookup with suggestions, and the -k selection grammar."""
import pytest

from theory.errors import UserInputError
from verify.registry import all_claims, get, select


def test_every_claim_is_well_formed():
    claims = all_claims()
    ids = [c.id for c in claims]
    assert len(ids) == len(set(ids))
    for c in claims:
        assert c.id == c.id.lower() and " " not in c.id
        assert c.title and c.source and c.statement and callable(c.check)
        assert c.section[0].isdigit(), c.section


def test_select_words_alternatives_and_negation():
    ids = {c.id for c in all_claims()}
    fan = {i for i in ids if "fan2025" in i}
    assert {c.id for c in select("fan2025")} == fan
    assert {c.id for c in select("fan2025 spectral")} == {i for i in fan if "spectral" in i}
    both = {c.id for c in select("soudry2018 or gunasekar2018")}
    assert both == {i for i in ids if "soudry2018" in i or "gunasekar2018" in i}
    assert {c.id for c in select("soudry2018, gunasekar2018")} == both
    assert {c.id for c in select("fan2025 not nsd")} == {i for i in fan if "nsd" not in i}
    assert select(None) == all_claims() and select("  ") == all_claims()
    assert select("no-such-claim") == []


@pytest.mark.parametrize("pattern", ["fan2025 or", "fan2025 not", ", soudry"])
def test_select_malformed(pattern):
    with pytest.raises(UserInputError, match="malformed"):
        select(pattern)


def test_get_suggests_close_ids():
    with pytest.raises(UserInputError, match="soudry2018-gd-l2"):
        get("soudry2018-gd-l3")
