"""Convergence rates of margin gaps as symbolic expressions, and the decay exponents they imply.

The rates are upper bounds with unspecified constants (THEORY.md marks the constants unverified);
what a check can test is the *exponent*: lim_{t→∞} log(rate(t)) / log t, derived here.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from theory.derivation import Derivation

t, n, d = sp.symbols("t n d", positive=True)

RATES = {
    # Fan, Schmidt, Thrampoulidis (2025), η_t = Θ(1/√t); multiclass, n samples, d features.
    "nsd": ((sp.log(t) + n) / sp.sqrt(t), "Fan, Schmidt, Thrampoulidis 2025 (NSD)"),
    "nmd": ((d * sp.log(t) + d * n) / sp.sqrt(t), "Fan, Schmidt, Thrampoulidis 2025 (NMD)"),
    "adam": ((d * sp.log(t) + n * d) / t ** sp.Rational(1, 3), "Fan, Schmidt, Thrampoulidis 2025 (Adam)"),
    # Soudry et al. (2018): gradient descent with a fixed step, margin gap O(1/log t).
    "gd": (1 / sp.log(t), "Soudry, Hoffer, Nacson, Gunasekar, Srebro 2018 (GD)"),
}


@lru_cache(maxsize=None)
def rate_derivation(name: str) -> Derivation:
    rate, source = RATES[name]
    d_ = Derivation(f"Margin-gap rate: {source}")
    d_.step("Upper bound on the relative margin gap (constants unspecified):", rate)
    exponent = sp.limit(sp.log(rate) / sp.log(t), t, sp.oo)
    d_.result("exponent", exponent, "Decay exponent lim log(bound)/log t:")
    return d_


def decay_exponent(name: str) -> float:
    return float(rate_derivation(name).results["exponent"])
