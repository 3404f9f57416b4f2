"""Implied regularizer of a sharpness measure on a parameterization you type.

--param is an expression in the restricted grammar (numbers, lower-case parameter names,
+ - * / ** ^, parentheses, sqrt/exp/log/tanh; never evaluated), applied to every coordinate:
w_j = f(θ_j). --measure is `trace` (label-noise SGD, tr H), `adam` (tr Diag(H)^{1/2}) or `power:E`
(Σ H_kk^{1−E}, the preconditioner x −= η m/(v^E + ε), 0 ≤ E < 1). The answer R(w) is per coordinate
for unit feature second moments (multiply by c_j^{1−E} for features with E[z_j²] = c_j). A closed form
is cross-checked against a numeric fibre minimization; when no closed form is found the command says
why and prints the numeric values instead, labelled as numeric.
"""
from __future__ import annotations

NAME = "derive"
HELP = "implied regularizer R(w) of a sharpness measure on a parameterization"

_SAMPLES = (-2.0, 0.7, 3.0)


def add_arguments(parser) -> None:
    parser.add_argument("--param", required=True, metavar="EXPR",
                        help="parameterization, e.g. 'u**2 - v**2', 'u*v', 'u**3 - v**3'")
    parser.add_argument("--measure", required=True, metavar="MEASURE", help="trace | adam | power:E")
    parser.add_argument("--json", metavar="PATH")
    parser.add_argument("--latex", action="store_true", help="print the derivation in LaTeX")


def run(args) -> int:
    from verify.output import check_output_paths
    check_output_paths(json=args.json)                 # before any work: a bad path is a usage error
    import numpy as np
    import sympy as sp

    from numerics.fibre import numeric_fibre_minimum
    from theory.implied_regularizer import derive_implied_regularizer, w
    from theory.parameterizations import parse_parameterization
    from theory.sharpness import parse_measure
    from verify.report import environment, write_json

    param = parse_parameterization(args.param)
    measure = parse_measure(args.measure)
    reg = derive_implied_regularizer(param, measure)
    der = reg.derivation
    print(der.latex() if args.latex else der.pretty())
    numeric = numeric_fibre_minimum(param, measure, _SAMPLES, starts=2)
    table = [{"w": r.w, "numeric": r.value} for r in numeric]
    result = {"parameterization": sp.sstr(param.expr), "parameters": [p.name for p in param.params],
              "measure": measure.name, "exponent": float(measure.exponent),
              "feature_weight": sp.sstr(reg.weight), "steps": der.as_strings()}
    status = 0
    if reg.closed_form is not None:
        R = sp.lambdify(w, reg.closed_form, "numpy")
        worst = 0.0
        for row in table:
            row["closed_form"] = float(R(row["w"]))
            if np.isfinite(row["numeric"]):
                worst = max(worst, (row["closed_form"] - row["numeric"]) / max(abs(row["numeric"]),
                                                                               1e-12))
        # numeric values are upper bounds: a closed form above one of them is wrong.
        agrees = all(row["closed_form"] <= row["numeric"] * (1 + 1e-6) + 1e-9 for row in table)
        result.update(regularizer=sp.sstr(reg.closed_form), latex=sp.latex(reg.closed_form),
                      closed_form=True, numeric_check={"samples": table, "agrees": agrees,
                                                       "max_relative_excess": worst})
        print(f"\nR(w) = {sp.sstr(reg.closed_form)}   (per coordinate; × {sp.sstr(reg.weight)} for "
              f"features with second moment c)")
        for row in table:
            print(f"  w = {row['w']:+.2f}: closed form {row['closed_form']:.8g}, numeric fibre "
                  f"minimum {row['numeric']:.8g}")
        if not agrees:
            print("warning: the numeric fibre minimization found smaller values than the closed form")
            status = 1
    else:
        result.update(regularizer=None, latex=None, closed_form=False, reason=reg.reason,
                      numeric_check={"samples": table, "agrees": None})
        print(f"\nno closed form: {reg.reason}")
        print("numeric fibre minimization (labelled numeric; upper bounds from multi-start SLSQP):")
        for row in table:
            print(f"  w = {row['w']:+.2f}: R(w) ≈ {row['numeric']:.8g} (numeric)")
    if args.json:
        write_json(args.json, {"result": result, "environment": environment()})
    return status
