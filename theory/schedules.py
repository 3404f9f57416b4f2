"""Learning-rate schedules admitted by the Gronich & Vardi (2026) theorem, decided symbolically.

The theorem assumes ∫_1^∞ η(t) dt = ∞ and η(t) = o(t^{1/L − 1}) for an L-homogeneous model. For the
power schedules η(t) = η₀ t^{−a} of their experiments (``numerics.optim.PowerSchedule``) both
conditions are decided here by sympy: the tail exponent of η(t)/t^{1/L−1} (its logarithmic
derivative at infinity) and the divergence of the integral (p-test). Both are tail conditions: a
finite prefix of the schedule does not enter.

Why o(t^{1/L−1}): once the data are fit, with ‖θ_t‖ ~ Σ_{s≤t} η_s ~ t^{1−a}, the per-step change of
log L is about L·q_min·η_t/‖θ_t‖ ~ t^{L(1−a)−1}, which vanishes iff a > 1 − 1/L — the condition under
which a momentum average of past gradients tracks the current one. The step of the direction
θ/‖θ‖ is η_t/‖θ_t‖ ~ (1 − a)/t, so the direction moves by only (1 − a)·log T in T steps: directional
convergence under these schedules is logarithmically slow in the number of steps.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from theory.derivation import Derivation

T, A, ETA0 = sp.symbols("t a eta_0", positive=True)
L_SYM = sp.Symbol("L", positive=True)


def power_schedule(eta0=ETA0, decay=A) -> sp.Expr:
    """η(t) = η₀ t^{−a}."""
    return eta0 * T ** (-decay)


def _tail_exponent(expr: sp.Expr) -> sp.Expr:
    """e with expr ~ C t^e as t → ∞: the limit of the logarithmic derivative t·d/dt log(expr)."""
    return sp.simplify(sp.limit(sp.simplify(T * sp.diff(sp.expand_log(sp.log(expr), force=True), T)), T, sp.oo))


@lru_cache(maxsize=None)
def schedule_conditions_derivation() -> Derivation:
    d = Derivation("Admissible schedules η(t) = η₀ t^{−a} (Gronich & Vardi 2026)")
    eta = d.step("Schedule:", power_schedule())
    tail = _tail_exponent(eta / T ** (1 / L_SYM - 1))
    d.result("tail_exponent", tail, "Tail exponent of η(t)/t^{1/L−1}, lim_{t→∞} t·d/dt log(·):")
    d.step("η = o(t^{1/L−1}) needs a negative tail exponent:", sp.solve(sp.StrictLessThan(tail, 0), A))
    eta_tail = _tail_exponent(eta)
    d.result("eta_tail_exponent", eta_tail, "Tail exponent of η itself:")
    d.step("∫_1^∞ η dt = ∞ iff the tail t^{e} is not integrable (p-test), i.e. e ≥ −1:",
           sp.solve(sp.GreaterThan(eta_tail, -1), A))
    return d


def is_admissible(decay, degree) -> tuple[bool, str]:
    """Decide both conditions for numbers (exact rationals via nsimplify); returns (ok, reason)."""
    a = sp.nsimplify(decay)
    L = sp.nsimplify(degree)
    results = schedule_conditions_derivation().results
    tail = results["tail_exponent"].subs({A: a, L_SYM: L})
    eta_tail = results["eta_tail_exponent"].subs({A: a})
    little_o = bool(tail < 0)
    diverges = bool(eta_tail >= -1)
    if little_o and diverges:
        return True, f"a = {a}: η = o(t^(1/L-1)) (tail exponent {tail}) and ∫η = ∞"
    reasons = []
    if not little_o:
        reasons.append(f"η is not o(t^(1/L-1)) for L = {L} (tail exponent {tail} ≥ 0: need a > {1 - 1 / L})")
    if not diverges:
        reasons.append(f"∫η < ∞: η decays as t^({eta_tail}) (need a ≤ 1)")
    return False, "; ".join(reasons)
