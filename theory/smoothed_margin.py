"""The smoothed normalized margin of Lyu & Li (2020), derived for the logistic loss.

With per-sample loss ℓ(q) = log(1 + e^{−q}) and L = (1/n) Σ_i ℓ(q_i), every ℓ(q_i) ≤ nL, and ℓ is
decreasing, so q_min ≥ ℓ^{−1}(nL). Lyu & Li's smoothed margin

    γ̃(θ) = ℓ^{−1}(n L(θ)) / ‖θ‖₂^L   (defined once nL < ℓ(0) = log 2)

is a lower bound on the normalized margin q_min/‖θ‖^L that gradient flow increases monotonically
after that point (their Theorem 4.1). ℓ^{−1} is solved for here; ``numerics`` evaluates it in log
space, as log(e^{nL} − 1) = log expm1(exp(log n + log L)).
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from theory.derivation import Derivation

Q, V = sp.symbols("q v", positive=True)
LOG_NL = sp.Symbol("log_nL", real=True)


@lru_cache(maxsize=1)
def smoothed_margin_derivation() -> Derivation:
    d = Derivation("Smoothed margin of the logistic loss (Lyu & Li 2020)")
    loss = d.step("Per-sample logistic loss ℓ(q) =", sp.log(1 + sp.exp(-Q)))
    d.step("ℓ is decreasing, so every ℓ(q_i) ≤ Σ_j ℓ(q_j) = nL gives q_min ≥ ℓ^{-1}(nL).")
    inverse = sp.solve(sp.Eq(loss, V), Q)
    inverse = [e for e in inverse if sp.simplify(loss.subs(Q, e) - V) == 0]
    inv = sp.simplify(inverse[0])
    d.result("inverse_loss", inv, "ℓ^{-1}(v) =")
    d.step("Defined for 0 < v < ℓ(0) =", loss.subs(Q, 0))
    in_logs = sp.simplify(inv.subs(V, sp.exp(LOG_NL)))
    d.result("inverse_loss_of_log", in_logs, "In terms of log(nL) (what the log-space loss provides):")
    return d
