import verify.claims.frei2023 as claim
from verify.context import Context
from verify.registry import get
from verify.runner import check_claim


def test_registered_with_derived_exponents():
    d = get("frei2023-homogeneous-double-edged-sword").derivation()
    assert float(d.results["kkt_k_exponent"]) == -0.5 and float(d.results["robust_k_exponent"]) == 0.0


def test_untrained_network_is_inconclusive(monkeypatch):
    monkeypatch.setitem(claim.SETTINGS, "steps", {"quick": 1, "full": 1})
    monkeypatch.setitem(claim.SETTINGS, "k", {"quick": (2,), "full": (2,)})
    monkeypatch.setitem(claim.SETTINGS, "d", {"quick": (20,), "full": (20,)})
    monkeypatch.setitem(claim.SETTINGS, "attacked_points", {"quick": 2, "full": 2})
    out = check_claim(get("frei2023-homogeneous-double-edged-sword"), Context())
    assert out.status == "inconclusive" and "train_min_margin" in out.message
