"""The norm implied by blockwise update rules, checked against the numeric LMO of the derived norm."""
import numpy as np
import pytest
import sympy as sp

from theory.norms import BlockMax, parse_norm
from theory.optimizer_geometry import BlockRule, UpdateRuleError, implied_norm, implied_norm_derivation

SP, LINF, L2 = parse_norm("spectral"), parse_norm("linf", "binary"), parse_norm("l2", "binary")
EM, EA, M, S = sp.symbols("eta_M eta_A m s", positive=True)


def test_muon_adam_weight_is_derived():
    d = implied_norm_derivation([BlockRule("W", "momentum_steepest", EM, SP), BlockRule("u", "adam", EA)])
    assert tuple(d.results["weights"]) == (EA / EM, 1)
    assert d.results["adam_direction"] == sp.Symbol("g", real=True, nonzero=True) / sp.Abs(
        sp.Symbol("g", real=True, nonzero=True))


def test_hybrid_update_is_the_lmo_of_the_derived_norm():
    rng = np.random.default_rng(0)
    eta_m, eta_a = 0.7, 0.2
    norm = implied_norm([BlockRule("W", "momentum_steepest", EM, SP), BlockRule("u", "adam", EA)],
                        {EM: eta_m, EA: eta_a})
    assert isinstance(norm, BlockMax) and np.isclose(norm.weights[0], eta_a / eta_m)
    gW, gu = rng.standard_normal((4, 3)), rng.standard_normal(5)
    U, _, Vt = np.linalg.svd(gW, full_matrices=False)
    update = (eta_m * U @ Vt, eta_a * np.sign(gu))              # Muon on W, sign-like Adam on u
    lmo = norm.steepest_direction((gW, gu))
    ratios = [np.linalg.norm(a) / np.linalg.norm(b) for a, b in zip(update, lmo)]
    assert np.isclose(ratios[0], ratios[1])                      # the same positive multiple
    assert all(np.allclose(a, r * b) for a, b, r in zip(update, lmo, ratios))


def test_per_layer_multipliers_weight_the_max():
    d = implied_norm_derivation([BlockRule("W", "momentum_steepest", EM * M * S, SP),
                                 BlockRule("u", "momentum_steepest", EM, SP)])
    assert tuple(d.results["weights"]) == (1 / (M * S), 1)


def test_single_rule_gives_its_norm():
    assert implied_norm([BlockRule("θ", "adam", EA)]) == LINF
    assert implied_norm([BlockRule("θ", "steepest", EA, L2)]) == L2


def test_bad_rules():
    with pytest.raises(UpdateRuleError):
        BlockRule("W", "lion", EM, SP)
    with pytest.raises(UpdateRuleError):
        BlockRule("W", "steepest", EM)
    with pytest.raises(UpdateRuleError):
        implied_norm_derivation([BlockRule("W", "adam", EM), BlockRule("W", "adam", EA)])
