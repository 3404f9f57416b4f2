import sympy as sp

from theory.margin import MarginProblem
from theory.norms import parse_norm


def test_certificate_values_and_bracket():
    d = MarginProblem("multiclass", parse_norm("spectral")).derivation()
    P, D = d.results["primal_value"], d.results["dual_value"]
    vals = {s: v for s, v in zip(sorted(P.free_symbols | D.free_symbols, key=str), [2.0, 4.0, 3.0, 1.5])}
    assert P.subs(vals) > 0 and D.subs(vals) > 0
    gap = d.results["relative_gap"]
    assert sp.simplify(gap - (P - D) / P) == 0
    assert "schatten:1" in d.pretty()   # the dual norm of the spectral norm is named
