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


def test_a_smoothed_margin_drop_on_the_capped_run_is_a_miss():
    path = [(10, 1.0), (20, 0.9)]
    r = {"capped": {"min_margin": 1.0, "message": "", "smoothed_margin": path, "largest_margin_drop": 0.1,
                    "margin_gain": 0.9, "kkt_residual": 0.1}}
    checks = claim._monotonicity_checks(Context(), "k", r)
    assert {c.name for c in checks if not c.passed} == {"k: largest_smoothed_margin_drop", "k: smoothed_margin_gain"}
    r["capped"].update(largest_margin_drop=0.0, margin_gain=1.2, smoothed_margin=[(10, 1.0), (20, 1.2)])
    assert all(c.passed for c in claim._monotonicity_checks(Context(), "k", r))
