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


def test_group_is_the_registering_module_and_lookup_imports_only_it():
    from theory.derivation import Derivation
    from verify.outcome import Outcome
    from verify.registry import Claim, group_of, is_registered, lookup, module_of

    claim = get("wager2013-dropout-ridge")
    assert is_registered(claim) and module_of(claim) == "verify.claims.wager2013" == group_of(claim)
    assert lookup("wager2013-dropout-ridge", "verify.claims.wager2013") is claim
    loose = Claim("loose", "t", "s 2026", "9 x", "st", lambda ctx: Outcome.error("x"), lambda: Derivation("d"))
    assert not is_registered(loose) and module_of(loose) is None and group_of(loose).endswith(":loose")
    with pytest.raises(UserInputError, match="unknown claim id"):
        lookup("no-such-claim", None)
