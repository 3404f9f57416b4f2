"""Implied regularizer of a sharpness measure on a parameterization you type.

--param is an expression in the restricted grammar (numbers, lower-case parameter names,
+ - * / ** ^, parentheses, sqrt/exp/log/tanh; never evaluated), applied to every coordinate:
w_j = f(θ_j). --measure is `trace` (label-noise SGD, tr H), `adam` (tr Diag(H)^{1/2}) or `power:E`
(Σ H_kk^{1−E}, the preconditioner x −= η m/(v^E + ε), 0 ≤ E < 1). The answer R(w) is per coordinate
for unit feature second moments (multiply by c_j^{1−E} for features with E[z_j²] = c_j). A closed form
is cross-checked against a numeric fibre minimization at five values of w (a closed form above a
numeric upper bound is wrong: exit status 1); when no closed form is found the command says why
and prints the numeric values instead, labelled as numeric. Up to 8 parameters (e.g. u1 … u8); the
symbolic work has a time budget (``--budget`` seconds, default 10), past which the answer is "no
closed form within the budget" with what was tried.
"""
from __future__ import annotations

NAME = "derive"
HELP = "implied regularizer R(w) of a sharpness measure on a parameterization"

_SAMPLES = (-2.0, -0.4, 0.7, 1.5, 3.0)
_AGREEMENT = 1e-8


def add_arguments(parser) -> None:
    parser.add_argument("--param", required=True, metavar="EXPR",
                        help="parameterization, e.g. 'u**2 - v**2', 'u*v', 'u**3 - v**3'")
    parser.add_argument("--measure", required=True, metavar="MEASURE", help="trace | adam | power:E")
    parser.add_argument("--json", metavar="PATH")
    parser.add_argument("--latex", action="store_true", help="print the derivation in LaTeX")
    parser.add_argument("--budget", type=_budget, default=10.0, metavar="SECONDS",
                        help="time budget of the symbolic derivation (0 < SECONDS ≤ 600; default 10)")


def _budget(text: str) -> float:
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--budget {text!r} is not a number") from None
    if not (math.isfinite(value) and 0 < value <= 600):
        raise argparse.ArgumentTypeError(f"--budget must satisfy 0 < SECONDS ≤ 600, got {text}")
    return value


def run(args) -> int:
    from verify.output import check_output_paths
    check_output_paths(json=args.json)                 # before any work: a bad path is a usage error
    import sympy as sp

    from numerics.fibre import cross_check, numeric_fibre_minimum
    from theory.implied_regularizer import derive_implied_regularizer, w
    from theory.parameterizations import parse_parameterization
    from theory.sharpness import parse_measure
    from verify.report import environment, write_json

    param = parse_parameterization(args.param)
    measure = parse_measure(args.measure)
    reg = derive_implied_regularizer(param, measure, budget=getattr(args, "budget", 10.0))
    der = reg.derivation
    print(der.latex() if args.latex else der.pretty())
    numeric = numeric_fibre_minimum(param, measure, _SAMPLES, starts=2)
    table = [{"w": r.w, "numeric": r.value} for r in numeric]
    result = {"parameterization": sp.sstr(param.expr), "parameters": [p.name for p in param.params],
              "measure": measure.name, "exponent": float(measure.exponent),
              "feature_weight": sp.sstr(reg.weight), "steps": der.as_strings()}
    status = 0
    if reg.closed_form is not None:
        check = cross_check(sp.lambdify(w, reg.closed_form, "numpy"), numeric, rel=_AGREEMENT)
        result.update(regularizer=sp.sstr(reg.closed_form), latex=sp.latex(reg.closed_form),
                      closed_form=True, certificate=reg.certificate,
                      numeric_check={"samples": check.rows, "agrees": check.agrees,
                                     "above_numeric_upper_bound": check.above_upper_bound,
                                     "tolerance": _AGREEMENT,
                                     "max_relative_excess": _number(check.max_relative_excess),
                                     "max_relative_difference": _number(check.max_relative_difference)})
        print(f"\nR(w) = {sp.sstr(reg.closed_form)}   (per coordinate; × {sp.sstr(reg.weight)} for "
              f"features with second moment c)")
        print(f"global optimality certified by: {reg.certificate}")
        for row in check.rows:
            print(f"  w = {row['w']:+.2f}: closed form {row['closed_form']:.12g}, numeric fibre "
                  f"minimum {row['numeric']:.12g} (relative difference {row['relative_difference']:.1e})")
        if check.above_upper_bound:
            print(f"error: the closed form is ABOVE a numeric upper bound (by "
                  f"{check.max_relative_excess:.3g} relative): a feasible point has a smaller measure, so the derived R(w) is wrong")
            status = 1
        elif not check.agrees:
            print(f"warning: the numeric fibre minimization did not reach the closed form to "
                  f"{_AGREEMENT:g} relative (largest difference {check.max_relative_difference:.3g}); "
                  f"numeric values are upper bounds")
        else:
            print(f"numeric cross-check: agrees to {_AGREEMENT:g} relative at {len(check.rows)} values of w")
    else:
        for row in table:
            row["numeric"] = _number(row["numeric"])
        result.update(regularizer=None, latex=None, closed_form=False, reason=reg.reason,
                      numeric_check={"samples": table, "agrees": None})
        print(f"\nno closed form: {reg.reason}")
        print("numeric fibre minimization (labelled numeric; upper bounds from multi-start SLSQP):")
        for r in numeric:
            print(f"  w = {r.w:+.2f}: R(w) ≈ {r.value:.8g} (numeric)")
    if args.json:
        write_json(args.json, {"result": result, "environment": environment()})
    return status


def _number(x):
    """A JSON number, or None for a non-finite float (JSON has no inf/NaN)."""
    import math

    return float(x) if math.isfinite(x) else None
