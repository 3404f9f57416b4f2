"""A restricted grammar for parameterization expressions typed by users (``u**2 - v**2``, ``u*v``).

User text is never evaluated (no ``eval``, no ``sympify``): a tokenizer with a whitelist of token
kinds feeds a recursive-descent parser that builds sympy objects directly.

    expr   := term (('+' | '-') term)*
    term   := unary (('*' | '/') unary)*
    unary  := ('+' | '-') unary | power
    power  := atom (('**' | '^') unary)?          (right-associative; the exponent must be a number)
    atom   := NUMBER | NAME | FUNC '(' expr ')' | '(' expr ')'

NUMBER is an integer or a decimal (kept exact as a sympy Rational). NAME is a parameter name: a
lower-case letter optionally followed by letters, digits or '_' (``w`` is reserved for the model
output and the function names below are reserved). FUNC is one of ``sqrt``, ``exp``, ``log``,
``tanh``. Limits keep sympy's work bounded: at most 200 characters, nesting depth 30, exponents of
magnitude ≤ 12, at most 8 distinct parameters (e.g. ``u1`` … ``u8``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from theory.errors import UserInputError

MAX_LENGTH = 200
MAX_DEPTH = 30
MAX_EXPONENT = 12
MAX_PARAMETERS = 8
RESERVED = frozenset({"w"})
FUNCTIONS = {"sqrt": sp.sqrt, "exp": sp.exp, "log": sp.log, "tanh": sp.tanh}


class ExpressionError(UserInputError):
    """An expression outside the parameterization grammar (reported in one line)."""


@dataclass(frozen=True)
class Token:
    kind: str     # "num" | "name" | "op" | "(" | ")" | "end"
    text: str
    pos: int


_TOKEN = re.compile(r"\s*(?:(?P<num>\d+(?:\.\d+)?|\.\d+)|(?P<name>[a-z][a-z0-9_]*)"
                    r"|(?P<op>\*\*|[-+*/^])|(?P<paren>[()]))")


def tokenize(text: str) -> list[Token]:
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters")
    tokens, pos = [], 0
    stripped = text.rstrip()
    while pos < len(stripped):
        m = _TOKEN.match(stripped, pos)
        if m is None:
            bad = stripped[pos:].lstrip()[:1]
            where = len(stripped) - len(stripped[pos:].lstrip())
            raise ExpressionError(f"unexpected character {bad!r} at position {where} in {text!r} "
                                  f"(allowed: numbers, lower-case names, + - * / ** ^, parentheses, "
                                  f"{', '.join(FUNCTIONS)})")
        kind = m.lastgroup
        value = m.group(kind)
        start = m.start(kind)
        tokens.append(Token(value if kind == "paren" else kind, value, start))
        pos = m.end()
    tokens.append(Token("end", "", len(stripped)))
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0
        self.names: dict[str, sp.Symbol] = {}

    # -- helpers ---------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        t = self.tokens[self.i]
        self.i += 1
        return t

    def expect(self, kind: str) -> Token:
        if self.tok.kind != kind:
            found = "end of input" if self.tok.kind == "end" else repr(self.tok.text)
            raise ExpressionError(f"expected {kind!r} at position {self.tok.pos} in {self.text!r}, "
                                  f"found {found}")
        return self.advance()

    def enter(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"expression nested deeper than {MAX_DEPTH} levels")

    # -- grammar ---------------------------------------------------------------------------
    def parse(self) -> sp.Expr:
        if self.tok.kind == "end":
            raise ExpressionError("empty expression")
        e = self.expr()
        if self.tok.kind != "end":
            raise ExpressionError(f"unexpected {self.tok.text!r} at position {self.tok.pos} in "
                                  f"{self.text!r}")
        return e

    def expr(self) -> sp.Expr:
        self.enter()
        e = self.term()
        while self.tok.kind == "op" and self.tok.text in "+-":
            op = self.advance().text
            rhs = self.term()
            e = sp.Add(e, rhs if op == "+" else -rhs)
        self.depth -= 1
        return e

    def term(self) -> sp.Expr:
        e = self.unary()
        while self.tok.kind == "op" and self.tok.text in "*/":
            op = self.advance()
            rhs = self.unary()
            if op.text == "/":
                if rhs == 0:
                    raise ExpressionError(f"division by zero at position {op.pos} in {self.text!r}")
                rhs = sp.Pow(rhs, -1)
            e = sp.Mul(e, rhs)
        return e

    def unary(self) -> sp.Expr:
        if self.tok.kind == "op" and self.tok.text in "+-":
            op = self.advance().text
            self.enter()
            e = self.unary()
            self.depth -= 1
            return e if op == "+" else -e
        return self.power()

    def power(self) -> sp.Expr:
        base = self.atom()
        if self.tok.kind == "op" and self.tok.text in ("**", "^"):
            op = self.advance()
            self.enter()
            exponent = self.unary()
            self.depth -= 1
            if not exponent.is_Rational:
                raise ExpressionError(f"the exponent after position {op.pos} in {self.text!r} must "
                                      f"be a number, got {exponent}")
            if abs(exponent) > MAX_EXPONENT:
                raise ExpressionError(f"exponent {exponent} exceeds the limit |e| ≤ {MAX_EXPONENT}")
            if base == 0 and exponent < 0:
                raise ExpressionError(f"0 raised to a negative power in {self.text!r}")
            return sp.Pow(base, exponent)
        return base

    def atom(self) -> sp.Expr:
        t = self.tok
        if t.kind == "num":
            self.advance()
            return sp.Rational(Fraction(t.text))
        if t.kind == "name":
            self.advance()
            if t.text in FUNCTIONS:
                self.expect("(")
                arg = self.expr()
                self.expect(")")
                return FUNCTIONS[t.text](arg)
            if t.text in RESERVED:
                raise ExpressionError(f"{t.text!r} is reserved for the model output; name the "
                                      f"parameters differently (e.g. u, v)")
            if t.text not in self.names:
                if len(self.names) == MAX_PARAMETERS:
                    raise ExpressionError(f"more than {MAX_PARAMETERS} parameters in {self.text!r}")
                self.names[t.text] = sp.Symbol(t.text, real=True)
            return self.names[t.text]
        if t.kind == "(":
            self.advance()
            e = self.expr()
            self.expect(")")
            return e
        found = "end of input" if t.kind == "end" else repr(t.text)
        raise ExpressionError(f"expected a number, a name or '(' at position {t.pos} in "
                              f"{self.text!r}, found {found}")


def parse_expression(text: str) -> tuple[sp.Expr, tuple[sp.Symbol, ...]]:
    """Parse ``text``; returns the sympy expression and its parameters in order of first appearance."""
    if not isinstance(text, str):
        raise ExpressionError(f"expected an expression string, got {type(text).__name__}")
    parser = _Parser(text)
    expr = parser.parse()
    return expr, tuple(parser.names.values())
