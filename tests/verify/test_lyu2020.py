import verify.claims.lyu2020 as claim
from verify.context import Context
from verify.registry import get
from verify.runner import check_claim


def test_registered_with_derivation():
    c = get("lyu2020-gd-homogeneous-kkt")
    d = c.derivation()
    assert d.results["squared_relu_degree"] == 3 and d.results["relu_degree"] == 2
    assert "inverse_loss" in d.results and "4000 steps" in c.statement


def test_not_separated_is_inconclusive(monkeypatch):
    monkeypatch.setitem(claim.SETTINGS, "steps", {"quick": 2, "full": 2})
    out = check_claim(get("lyu2020-gd-homogeneous-kkt"), Context())
    assert out.status == "inconclusive" and "min_margin" in out.message
