import sympy as sp

from theory.robustness import K, RHO, double_edged_sword_derivation


def test_derived_radii_and_exponents():
    r = double_edged_sword_derivation().results
    assert sp.simplify(r["kkt_attack_radius"] - RHO / sp.sqrt(K)) == 0
    assert r["robust_radius"] == RHO / 2
    assert r["robust_threshold"] == RHO**2 / 2
    assert (r["kkt_k_exponent"], r["kkt_d_exponent"]) == (-sp.Rational(1, 2), sp.Rational(1, 2))
    assert (r["robust_k_exponent"], r["robust_d_exponent"]) == (0, sp.Rational(1, 2))
