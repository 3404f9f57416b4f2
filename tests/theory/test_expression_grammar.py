"""The restricted parameterization grammar: builds sympy objects, rejects everything else in one line."""
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from theory.expression_grammar import ExpressionError, parse_expression

u, v = sp.symbols("u v", real=True)


@pytest.mark.parametrize("text, expected", [
    ("u**2 - v**2", u**2 - v**2), ("u*v", u * v), ("u^3 - v^3", u**3 - v**3),
    ("-u**2", -(u**2)), ("2.5*u/v", sp.Rational(5, 2) * u / v), ("(u+v)**(1/2)", sp.sqrt(u + v)),
    ("sqrt(u)*exp(v)", sp.sqrt(u) * sp.exp(v)), ("u**-2", u**-2),
])
def test_parses_to_the_expected_sympy_object(text, expected):
    expr, params = parse_expression(text)
    assert sp.simplify(expr - expected) == 0
    assert params == tuple(s for s in (u, v) if s in expected.free_symbols)


@pytest.mark.parametrize("text, fragment", [
    ("u@v", "unexpected character"), ("__import__('os')", "unexpected character"),
    ("w*u", "reserved"), ("2**u", "must be a number"), ("u**20", "exceeds"), ("((u)", r"expected '\)'"),
    ("u v", "unexpected"), ("", "empty"), ("a*b*c*d*e*f*g*h*i", "more than 8"), ("u/0", "division by zero"),
    ("eval(u)", "unexpected"),
])
def test_rejects_input_outside_the_grammar(text, fragment):
    with pytest.raises(ExpressionError, match=fragment):
        parse_expression(text)


def test_unknown_function_names_are_parameters_not_calls():
    with pytest.raises(ExpressionError):
        parse_expression("print(u)")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="uvab0123456789.+-*/^() sqrtexplog_@!'\"", max_size=30))
def test_any_string_parses_or_raises_expression_error(text):
    try:
        expr, params = parse_expression(text)
    except ExpressionError:
        return
    assert isinstance(expr, sp.Basic)
    assert expr.free_symbols <= set(params)
