"""Homogeneous models as symbolic objects: the degree L is derived, never declared.

A model f(x; θ) is (positively) L-homogeneous in its parameters when f(x; αθ) = α^L f(x; θ) for every
α > 0 (Lyu & Li 2020). Two-layer networks f = Σ_j u_j σ(⟨w_j, x⟩) with a k-homogeneous activation
(ReLU: k = 1, squared ReLU: k = 2) are (k + 1)-homogeneous; they are k-homogeneous in the first layer
and 1-homogeneous in the second.

The degree is obtained by a structural recursion over the expression tree (parameters have degree 1,
inputs and constants degree 0; products add degrees; powers multiply them; every term of a sum must
have the same degree; a function application is homogeneous only when the function is positively
homogeneous, which is decided by simplifying σ(αz)/σ(z), after rewriting Max/Min with Abs). The
result is then confirmed by substitution, f(αθ) − α^L f(θ) ≡ 0, and Euler's identity
Σ_k θ_k ∂f/∂θ_k = L f follows by differentiating the scaling identity at α = 1. A model that is not
homogeneous is rejected with :class:`NonHomogeneousModelError`, naming the offending term.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Mapping, Sequence

import sympy as sp

from theory.derivation import Derivation
from theory.errors import UserInputError

ALPHA = sp.Symbol("alpha", positive=True)
_Z = sp.Symbol("z", real=True)


class NonHomogeneousModelError(UserInputError):
    """The model is not positively homogeneous in its parameters (the message names the term)."""


def _term(expr) -> str:
    return sp.sstr(expr)


def activation_degree(sigma: sp.Lambda | sp.Expr, z: sp.Symbol | None = None) -> sp.Expr:
    """k with σ(αz) = α^k σ(z) for all α > 0, derived by simplifying σ(αz)/σ(z).

    ``sigma`` is a one-argument ``Lambda`` or an expression in ``z``. Raises
    :class:`NonHomogeneousModelError` when the ratio depends on z (σ is not positively homogeneous).
    """
    if isinstance(sigma, sp.Lambda):
        body = sigma(_Z)
    else:
        body = sigma.subs(z, _Z) if z is not None else sigma
    scaled = body.subs(_Z, ALPHA * _Z)
    ratio = sp.simplify((scaled / body).rewrite(sp.Abs))
    if ratio.has(_Z) or ratio.has(sp.nan, sp.zoo):
        raise NonHomogeneousModelError(
            f"{_term(body)} is not positively homogeneous: σ(αz)/σ(z) = {_term(ratio)} depends on z")
    k = sp.simplify(ALPHA * sp.diff(ratio, ALPHA) / ratio)
    if k.has(ALPHA) or sp.simplify(ratio - ALPHA**k) != 0:
        raise NonHomogeneousModelError(
            f"{_term(body)} is not positively homogeneous: σ(αz)/σ(z) = {_term(ratio)} is not a power of α")
    return k


class _Degree:
    """The structural recursion; ``params`` holds parameter Symbols and IndexedBases."""

    def __init__(self, params: set):
        self.params = params

    def is_param(self, e) -> bool:
        if isinstance(e, sp.Indexed):
            return e.base in self.params
        return isinstance(e, sp.Symbol) and e in self.params

    def depends(self, e) -> bool:
        return any(self.is_param(a) for a in sp.preorder_traversal(e))

    def __call__(self, e) -> sp.Expr:
        if self.is_param(e):
            return sp.Integer(1)
        if not self.depends(e):
            return sp.Integer(0)
        if isinstance(e, sp.Mul):
            return sp.Add(*[self(a) for a in e.args])
        if isinstance(e, sp.Pow):
            base, exponent = e.args
            if self.depends(exponent):
                raise NonHomogeneousModelError(f"the exponent of {_term(e)} depends on the parameters")
            return self(base) * exponent
        if isinstance(e, sp.Add):
            degrees = [(self(a), a) for a in e.args]
            values = [dg for dg, _ in degrees]
            common = max(set(values), key=lambda v: (values.count(v), v))
            for dg, a in degrees:
                if sp.simplify(dg - common) != 0:
                    raise NonHomogeneousModelError(
                        f"term {_term(a)} has degree {dg} in the parameters, the other terms of "
                        f"{_term(e)} have degree {common}: the model is not homogeneous")
            return common
        if isinstance(e, sp.Sum):
            for lim in e.limits:
                if any(self.depends(b) for b in lim[1:]):
                    raise NonHomogeneousModelError(f"the summation limits of {_term(e)} depend on the parameters")
            return self(e.function)
        if isinstance(e, (sp.Max, sp.Min)):
            return self(e.rewrite(sp.Abs))
        if isinstance(e, sp.Abs):
            return self(e.args[0])
        if isinstance(e, sp.Function) and len(e.args) == 1:
            try:
                k = activation_degree(e.func(_Z))
            except NonHomogeneousModelError:
                raise NonHomogeneousModelError(
                    f"{_term(e)}: {e.func} is not positively homogeneous, so the model is not "
                    f"homogeneous in its parameters") from None
            return k * self(e.args[0])
        raise NonHomogeneousModelError(f"cannot decide the homogeneity of the term {_term(e)}")


def scale_parameters(expr: sp.Expr, alpha: sp.Expr, params: set) -> sp.Expr:
    """expr with every parameter (Symbol or entry of an IndexedBase in ``params``) multiplied by α."""
    deg = _Degree(params)
    return expr.replace(deg.is_param, lambda e: alpha * e)


@dataclass(frozen=True)
class HomogeneousModel:
    """f(x; θ) with parameter blocks θ = (θ_b) and its derived degree (Lyu & Li 2020).

    ``blocks`` maps a block name to its parameter Symbols / IndexedBases (e.g. ``{"W": (w,),
    "u": (u,)}``). ``degree`` is L; ``block_degrees[b]`` is the degree in block b alone (the model is
    multi-homogeneous when these sum to L, as for layered networks).
    """

    name: str
    expr: sp.Expr
    blocks: tuple[tuple[str, tuple], ...]
    degree: sp.Expr = field(init=False)
    block_degrees: dict = field(init=False)

    def __post_init__(self):
        all_params = {p for _, ps in self.blocks for p in ps}
        if not all_params:
            raise NonHomogeneousModelError(f"model {self.name!r} declares no parameters")
        L = _Degree(all_params)(self.expr)
        if L == 0:
            raise NonHomogeneousModelError(f"model {self.name!r} does not depend on its parameters")
        object.__setattr__(self, "degree", L)
        object.__setattr__(self, "block_degrees",
                           {b: _Degree(set(ps))(self.expr) for b, ps in self.blocks})

    @property
    def parameters(self) -> set:
        return {p for _, ps in self.blocks for p in ps}

    def scaling_residual(self) -> sp.Expr:
        """f(αθ) − α^L f(θ), simplified (0 confirms the derived degree)."""
        scaled = scale_parameters(self.expr, ALPHA, self.parameters)
        return sp.simplify((scaled - ALPHA**self.degree * self.expr).rewrite(sp.Abs))

    def derivation(self) -> Derivation:
        key = (self.name, self.expr, self.blocks)
        if key not in _DERIVATIONS:
            _DERIVATIONS[key] = self._derive()
        return _DERIVATIONS[key]

    def _derive(self) -> Derivation:
        d = Derivation(f"Homogeneity of the model {self.name}")
        d.step("Model f(x; θ):", self.expr)
        d.step("Degree by structural recursion: parameters 1, inputs and constants 0, products add, "
               "powers multiply, the terms of a sum must agree, and an activation σ contributes "
               "k·(degree of its argument) when σ(αz) = α^k σ(z).")
        for b, _ in self.blocks:
            d.step(f"Degree in block {b} alone:", self.block_degrees[b])
        L = d.result("degree", self.degree, "Degree L in all parameters:")
        d.step("Check by substitution θ → αθ (α > 0): f(αθ) − α^L f(θ) =", self.scaling_residual())
        f = sp.Symbol("f")
        euler = sp.diff(ALPHA**L * f, ALPHA).subs(ALPHA, 1)
        d.step("Differentiating f(αθ) = α^L f(θ) at α = 1 gives Euler's identity "
               "Σ_k θ_k ∂f/∂θ_k = d/dα f(αθ)|_{α=1} =", euler)
        d.result("euler_factor", sp.simplify(euler / f), "so ⟨θ, ∇_θ f⟩ = L·f with L =")
        return d


_DERIVATIONS: dict = {}


def homogeneous_model(name: str, expr: sp.Expr, blocks: Mapping[str, Sequence]) -> HomogeneousModel:
    """Build a :class:`HomogeneousModel`, raising :class:`NonHomogeneousModelError` if f is not."""
    return HomogeneousModel(name, expr, tuple((b, tuple(ps)) for b, ps in blocks.items()))


# -- the networks of Lyu & Li (2020), Frei et al. (2023) and Gronich & Vardi (2026) -------------
W_SYM, U_SYM, X_SYM = sp.IndexedBase("w"), sp.IndexedBase("u"), sp.IndexedBase("x")
WIDTH, DIM = sp.symbols("m d", integer=True, positive=True)
_J, _K = sp.symbols("j k", integer=True)

ACTIVATIONS = {
    "relu": sp.Lambda(_Z, sp.Max(0, _Z)),
    "squared_relu": sp.Lambda(_Z, sp.Max(0, _Z) ** 2),
}


def two_layer_network(activation: str | sp.Lambda, bias: sp.Expr | None = None) -> HomogeneousModel:
    """f(x; W, u) = Σ_{j=1}^m u_j σ(Σ_k w_jk x_k [+ bias]) (first layer W, second layer u).

    ``activation`` is a name in :data:`ACTIVATIONS` or a one-argument ``sympy.Lambda``. ``bias``
    (e.g. a constant) is there to show how a non-homogeneous model is rejected.
    """
    if isinstance(activation, str) and bias is None:
        return _named_network(activation)
    return _network(activation, bias)


@lru_cache(maxsize=None)
def _named_network(activation: str) -> HomogeneousModel:
    return _network(activation, None)


def _network(activation, bias) -> HomogeneousModel:
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            raise NonHomogeneousModelError(
                f"unknown activation {activation!r}; expected one of {', '.join(ACTIVATIONS)} or a sympy Lambda")
        sigma, label = ACTIVATIONS[activation], activation
    else:
        sigma, label = activation, sp.sstr(activation)
    pre = sp.Sum(W_SYM[_J, _K] * X_SYM[_K], (_K, 1, DIM))
    if bias is not None:
        pre = pre + bias
    expr = sp.Sum(U_SYM[_J] * sigma(pre), (_J, 1, WIDTH))
    return homogeneous_model(f"two-layer {label} network", expr, {"W": (W_SYM,), "u": (U_SYM,)})
