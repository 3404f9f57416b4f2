from verify.registry import get

CLAIM = "cao2021-benign-overfitting-max-margin"


def test_registered_with_a_derivation():
    claim = get(CLAIM)
    assert claim.section.startswith("5 ")
    text = claim.derivation().pretty()
    assert "(d/n)" in text



def test_non_separable_points_are_listed_not_dropped():
    """A sweep below the separability threshold (n > d) yields listed 'not separable' points."""
    from numerics.benign_overfitting import sweep_point

    points = [sweep_point(40, 5, 0.2, seed) for seed in (0, 1)]
    assert [p.status for p in points] == ["not separable"] * 2
