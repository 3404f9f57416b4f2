from dataclasses import replace

import verify.experiments.frei2023 as experiment
from verify.context import Context
from verify.registry import get
from verify.runner import check_claim


def test_registered_with_derived_exponents():
    d = get("frei2023-homogeneous-double-edged-sword").derivation()
    assert float(d.results["kkt_k_exponent"]) == -0.5 and float(d.results["robust_k_exponent"]) == 0.0


def test_untrained_network_is_inconclusive(monkeypatch):
    monkeypatch.setattr(experiment, "SETTINGS",
                        replace(experiment.SETTINGS, steps=1, k=(2,), d=(20,), attacked_points=2))
    out = check_claim(get("frei2023-homogeneous-double-edged-sword"), Context())
    assert out.status == "inconclusive" and "train_min_margin" in out.message


def test_a_network_far_from_kkt_is_inconclusive(monkeypatch):
    """The theorem is about KKT points: a network trained too briefly to be near one (its achieved ℓ2 KKT
    residual above the tolerance, here set below what 300 steps reach) leaves the claim inconclusive,
    whatever its radii; before, the residual was reported and never read."""
    monkeypatch.setattr(experiment, "SETTINGS", replace(experiment.SETTINGS, steps=300, k=(2,), d=(20,),
                                                        attacked_points=2, kkt_tolerance=1e-6))
    out = check_claim(get("frei2023-homogeneous-double-edged-sword"), Context())
    kkt = next(c for c in out.checks if c.name == "kkt_residual_l2")
    assert kkt.role == "precondition" and not kkt.passed and kkt.value > 1e-6
    assert out.status == "inconclusive" and "kkt_residual_l2" in out.message


def test_a_nan_test_error_is_a_miss_whatever_its_position(monkeypatch):
    """Python's max drops a NaN that does not come first (max(0.0, nan) == 0.0): the old aggregation
    passed a grid whose second test error was NaN."""
    import math
    errors = iter([0.0, math.nan, 0.0, 0.0])

    def fake(settings, seed, k, dim):
        return {"k": k, "d": dim, "rho": math.sqrt(dim), "train_min_margin": 1.0, "test_error": next(errors),
                "found_fraction": 1.0, "attack_radius": math.sqrt(dim / k), "robust_certified": math.sqrt(dim) / 2,
                "unfound_certified": [], "kkt_residual_l2": 0.01}

    monkeypatch.setattr(experiment, "run_config", fake)
    assert max([0.0, math.nan, 0.0, 0.0]) == 0.0                       # what the old check read
    out = check_claim(get("frei2023-homogeneous-double-edged-sword"), Context())
    test_error = next(c for c in out.checks if c.name == "test_error")
    assert math.isnan(test_error.value) and not test_error.passed and out.status == "failed"
