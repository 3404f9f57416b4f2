"""Certified max-margin classifier of your data under a norm.

DATA.npz holds X (n×d) and y (n labels). Two classes give the binary vector model (labels ±1 or
0/1); --multiclass forces the matrix model. The answer comes with a duality certificate: the margin
attained by the returned W and an upper bound from a dual-feasible λ; their relative gap is printed.
"""
from __future__ import annotations


import argparse
import math
import sys

NAME = "maxmargin"
HELP = "max-margin classifier of a data file under a norm, with a duality certificate"


def add_arguments(parser) -> None:
    parser.add_argument("data", metavar="DATA.npz")
    parser.add_argument("--norm", required=True, metavar="NORM",
                        help="entrywise:P | schatten:P | lp:P (P ≥ 1 or inf) | max | sum | fro | "
                             "spectral | nuclear | l1 | l2 | linf")
    parser.add_argument("--multiclass", action="store_true", help="use the matrix model for 2 classes")
    parser.add_argument("--tol", type=_gap_tolerance, default=1e-6,
                        help="target relative duality gap, in (0, 1) (default 1e-6)")
    parser.add_argument("--json", metavar="PATH")


def _gap_tolerance(text: str) -> float:
    """A relative duality gap in (0, 1) (argparse type: a bad value is a one-line usage error)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and 0.0 < value < 1.0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a relative gap in (0, 1)")
    return value


def run(args) -> int:
    from verify.output import check_output_paths
    check_output_paths(json=args.json)                 # before any work: a bad path is a usage error
    import numpy as np

    from numerics.classification import load_npz
    from numerics.maxmargin import SolverError, max_margin
    from theory.norms import parse_norm
    from verify.report import environment, write_json

    problem = load_npz(args.data, "multiclass" if args.multiclass else None)
    norm = parse_norm(args.norm, problem.model)
    try:
        sol = max_margin(problem, norm, tol=args.tol)
    except SolverError as exc:   # not a usage error: the computation could not finish (exit 1)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    cert = sol.certificate
    print(f"model     {problem.model} (n = {problem.n}, d = {problem.d}"
          + (f", k = {problem.k})" if problem.model == "multiclass" else ")"))
    if problem.model == "binary":
        print(f"labels    +1 = class {problem.classes[1]}, −1 = class {problem.classes[0]}")
    print(f"norm      {norm.name}")
    print(f"margin    γ* = {cert.margin_lower:.10g}  (certified: γ* ∈ [{cert.margin_lower:.10g}, "
          f"{cert.margin_upper:.10g}])")
    print(f"gap       {cert.relative_gap:.2e} relative duality gap  ({sol.status}, solver {sol.solver}, "
          f"{sol.seconds:.2f}s)")
    support = int(np.sum(np.isclose(problem.margins(sol.W), 1.0, rtol=0, atol=1e-6)))
    print(f"support   {support} active margin constraints (A(W) = 1)")
    if args.json:
        write_json(args.json, {"result": {
            "norm": norm.name, "model": problem.model, "classes": list(problem.classes),
            "margin": cert.margin_lower,
            "margin_upper": cert.margin_upper, "W": sol.W, "duality_gap": cert.relative_gap,
            "solver": sol.solver, "status": sol.status, "seconds": sol.seconds, "note": sol.note},
            "environment": environment()})
    if not sol.status.ok:
        print(f"warning: the certificate did not reach the target gap {args.tol:g}: certified is only "
              f"γ* ∈ [{cert.margin_lower:.15g}, {cert.margin_upper:.15g}] (relative gap "
              f"{cert.relative_gap:.2e}), the best pair (W, λ) any solver for {norm.name} reached "
              f"(from {sol.solver})" + (f"; why: {sol.note}" if sol.note else ""))
        return 1
    return 0
