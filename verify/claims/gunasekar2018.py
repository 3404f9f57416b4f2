"""Gunasekar, Lee, Soudry, Srebro (2018), "Characterizing Implicit Bias in Terms of Optimization
Geometry": steepest descent with respect to a norm on separable binary data with an exponential-
tailed loss converges in direction to the max-margin classifier of that norm. Checked here for the
normalized method (NSD with η_t ∝ 1/√t, the form analysed by Nacson et al. 2019 and Fan et al. 2025)
under ℓ1, ℓ2, ℓ4 and ℓ∞ (p = 4: the family evenly spaced on the 1/p scale), on binary data with
d > n labelled by a sparse teacher, where the four max-margin directions differ (the ℓ1 one is
sparse, the ℓ∞ one dense). Each run is read at twice the step where its target was confirmed; the
control is the nearest rival of the four (``verify.linear_margins.margin_checks``).
"""
from __future__ import annotations

from theory.derivation import Derivation
from theory.margin import MarginProblem
from theory.norms import parse_norm
from theory.rates import decay_exponent, rate_derivation
from verify.context import Context
from verify.experiments.gunasekar2018 import NORMS, SETTINGS, population
from verify.linear_margins import margin_checks
from verify.outcome import Outcome
from verify.registry import Claim, register

SOURCE = "Gunasekar, Lee, Soudry, Srebro 2018"
SECTION = "1 Steepest descent and max-margin: linear models"


def _make_check(suffix: str):
    def check(ctx: Context) -> Outcome:
        run = population(ctx)
        s = ctx.settings(SETTINGS)
        name = parse_norm(NORMS[suffix], "binary").name
        checks, details, figures = margin_checks(
            run, f"nsd-{suffix}", name, s.gap_tolerance, decay_exponent("nsd"),
            "O(1/√t) up to logs", s.rate_slack, s.direction_tolerance)
        details["data"] = dict(n=s.n, d=s.d, seed=ctx.seed, teacher="sparse (3 nonzeros)")
        return Outcome.from_checks(checks, details=details, figures=figures)
    return check


def _make_derivation(suffix: str):
    def derivation() -> Derivation:
        norm = parse_norm(NORMS[suffix], "binary")
        d = Derivation(f"Steepest descent under {norm.name} (binary): prediction")
        d.step(f"Prediction ({SOURCE}): w_t/‖w_t‖ → the {norm.name} max-margin direction; the "
               "normalized margin min_i y_i⟨w_t, x_i⟩/‖w_t‖ → γ*.")
        d.extend(norm.derivation())
        d.extend(MarginProblem("binary", norm).derivation())
        d.extend(rate_derivation("nsd"))
        return d
    return derivation


for _suffix, _text in NORMS.items():
    _name = parse_norm(_text, "binary").name
    register(Claim(
        id=f"gunasekar2018-sd-{_suffix}", title=f"steepest descent under {_name} → {_name} max-margin",
        source=SOURCE, section=SECTION,
        statement=(f"Binary linear model, logistic loss, separable data (d = {SETTINGS.d} > n = {SETTINGS.n}), "
                   f"normalized steepest descent under {_name} with η_t ∝ 1/√t: the direction converges "
                   f"to the {_name} max-margin classifier. Checked: relative margin gap ≤ "
                   f"{SETTINGS.values('gap_tolerance')} at 2× the step where it was confirmed (within the target at "
                   f"two consecutive checkpoints, its envelope over the last factor 2 too) and at every "
                   f"checkpoint in between, decay exponent ≤ −½ + {SETTINGS.rate_slack:g}, direction "
                   f"error ≤ {SETTINGS.values('direction_tolerance')} for the strictly convex ℓ2, ℓ4; "
                   f"control: the run's gap in each other ℓp of the family ≥ 2 tolerances; precondition: "
                   f"the nearest rival's certified solution is ≥ 3 tolerances away. η₀ = "
                   f"{SETTINGS.kappa:g}·η₀* (η₀* minimizes the NSD gap bound at the horizon T = "
                   f"{SETTINGS.values('horizon')}; budget {SETTINGS.values('steps')} steps = 2T)."),
        check=_make_check(_suffix), derivation=_make_derivation(_suffix), tags=("linear", "binary")))
