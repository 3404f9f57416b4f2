"""Estimate the (implicit) regularization of a trained model by gradient matching (Rudoler et al. 2025).

MODEL is a torch state dict (torch.save(model.state_dict(), path)) of the architecture given by
--arch: mlp:D,H1,...,K (Linear layers with --activation between them) or linear:D,K; tensors are
matched to layers in order. DATA.npz holds X (n×D) and y: targets (n,) or (n, K) for --loss mse
(L = (1/(2n))Σ‖f(x) − y‖²), integer labels 0..K−1 for --loss cross_entropy.

The coefficients λ_k of the penalties (--penalty, repeatable or comma-separated: l2, layer_l2,
diag_l2, dropout_l2, lp:P, huber:DELTA, nuclear, schatten:P, gradnorm) are fitted by least squares of
−∇L(θ̂) on ∇R_k(θ̂) (λ ≥ 0 unless --signed). The fit is reported with its diagnostics; when θ̂ is not
a stationary point of the fitted objective (residual ratio above --max-residual) the estimate is
still printed but flagged unreliable. Exit 0 when an estimate was computed (reliable or not), 2 on
bad input (checked before the work, output paths included), 1 when the --json file could not be
written at the end (the estimate is printed first, then one line saying so).
"""
from __future__ import annotations

NAME = "estimate"
HELP = "estimate a trained model's regularization by gradient matching"


def add_arguments(parser) -> None:
    parser.add_argument("model", metavar="MODEL.pt", help="torch state dict")
    parser.add_argument("data", metavar="DATA.npz", help="X (n×D) and y")
    parser.add_argument("--arch", required=True, metavar="ARCH", help="mlp:D,H1,...,K or linear:D,K")
    parser.add_argument("--activation", default="relu", help="relu | tanh | gelu (default relu)")
    parser.add_argument("--no-bias", action="store_true", help="the layers have no bias")
    parser.add_argument("--loss", default="mse", help="mse | cross_entropy (default mse)")
    parser.add_argument("--penalty", action="append", metavar="NAME",
                        help="dictionary entry (repeatable, or comma-separated); default l2")
    parser.add_argument("--signed", action="store_true",
                        help="allow negative coefficients (an anti-regularizing effect)")
    parser.add_argument("--max-residual", type=float, default=0.05,
                        help="residual ratio above which the estimate is flagged unreliable")
    parser.add_argument("--cg-iterations", type=int, default=2,
                        help="conjugate-gradient steps of the stationarity check (0 skips it)")
    parser.add_argument("--json", metavar="PATH")


def run(args) -> int:
    from verify.output import check_output_paths

    check_output_paths(json=args.json)                 # before the imports and the work
    import time

    import numpy as np

    from numerics.gradient_matching import diagonal_ridge, estimate
    from numerics.mlp import Objective, load_data, load_state_dict, parse_architecture
    from theory.errors import UserInputError
    from theory.penalties import parse_penalties
    from verify.output import write_or_report
    from verify.report import environment

    if not args.max_residual > 0:
        raise UserInputError(f"--max-residual must be > 0, got {args.max_residual}")
    if args.cg_iterations < 0:
        raise UserInputError(f"--cg-iterations must be ≥ 0, got {args.cg_iterations}")
    penalties = parse_penalties(args.penalty or ["l2"])
    arch = parse_architecture(args.arch, args.activation, bias=not args.no_bias)
    if any(p.weights == "dropout" for p in penalties) and not (arch.is_linear and args.loss == "mse"):
        raise UserInputError("dropout_l2 is the input-dropout penalty of a linear model with the mse "
                             "loss (Wager et al. 2013); use it with linear:D,K and --loss mse")
    X, y = load_data(args.data, arch, args.loss)
    model = load_state_dict(args.model, arch)
    objective = Objective(model, X, y, args.loss)
    theta = objective.flat()
    t0 = time.perf_counter()
    head = {"model": {"architecture": arch.name, "activation": arch.activation, "bias": arch.bias,
                      "parameters": objective.size},
            "data": {"n": int(X.shape[0]), "loss": args.loss},
            "penalties": [p.name for p in penalties], "signed": bool(args.signed)}
    value, grad = objective.value_and_gradient(theta)
    print(f"model       {arch.name} ({arch.activation if len(arch.widths) > 2 else 'linear'}, "
          f"{'bias' if arch.bias else 'no bias'}), {objective.size} parameters; n = {X.shape[0]}, "
          f"loss {args.loss}")
    print(f"loss        L(θ̂) = {value:.6g}, ‖∇L(θ̂)‖ = {np.linalg.norm(grad):.3e}, ‖θ̂‖ = "
          f"{np.linalg.norm(theta):.4g}")
    _require_finite_columns(penalties, objective, theta)
    if penalties[0].split == "coordinate":
        result = _diagonal(theta, grad, diagonal_ridge(theta, grad))
    else:
        est = estimate(objective, penalties, theta, signed=args.signed, max_residual=args.max_residual,
                       cg_iterations=args.cg_iterations)
        result = est.as_dict()
        _print_estimate(est)
    result.update(head, loss_value=value, seconds=time.perf_counter() - t0)
    written = write_or_report(args.json, {"result": result, "environment": environment()})
    return 0 if written else 1          # as `run`/`all`: the work was done, an output is missing


def _require_finite_columns(penalties, objective, theta) -> None:
    """A penalty whose value or gradient is not finite in float64 at θ̂ (u^P overflows for a large
    P once |θ̂_i| or σ_i exceeds 1; u²/(2δ) for a tiny δ) is a usage error, reported in one line."""
    import numpy as np

    from numerics.gradient_matching import evaluate_dictionary
    from theory.errors import UserInputError

    for pen in penalties:
        if pen.kind not in ("entrywise", "spectral") or pen.split == "coordinate":
            continue
        try:
            with np.errstate(all="ignore"):
                dic = evaluate_dictionary([pen], objective, theta)
            finite = bool(np.all(np.isfinite(dic.columns)) and np.all(np.isfinite(dic.values)))
        except (OverflowError, ZeroDivisionError, np.linalg.LinAlgError):
            finite = False
        if not finite:
            what = "singular value" if pen.kind == "spectral" else "|θ̂_i|"
            remedy = "a larger δ" if pen.name.startswith("huber") else "a smaller exponent"
            raise UserInputError(f"penalty {pen.name} is not finite in float64 at θ̂ (its value or "
                                 f"gradient overflows; largest {what} = "
                                 f"{_largest(pen, objective, theta):.4g}); use {remedy}")


def _largest(pen, objective, theta) -> float:
    import numpy as np

    if pen.kind == "spectral":
        values = [np.linalg.norm(b, 2) for b in objective.blocks(theta) if b.ndim == 2 and b.size]
        return float(max(values, default=0.0))
    return float(np.max(np.abs(theta), initial=0.0))


def _diagonal(theta, grad, lam) -> dict:
    import numpy as np

    defined = np.isfinite(lam)
    unexplained = float(np.linalg.norm(grad[~defined]) / np.linalg.norm(grad)) if np.any(grad) else 0.0
    print(f"diag_l2     λ̂_i = −∂_iL/(2θ̂_i) for {int(defined.sum())} of {lam.size} coordinates "
          f"(θ̂_i = 0 elsewhere)")
    if defined.any():
        q = np.quantile(lam[defined], [0.0, 0.5, 1.0])
        print(f"            min {q[0]:.4g}, median {q[1]:.4g}, max {q[2]:.4g}; "
              f"{np.mean(lam[defined] < 0):.1%} negative (anti-regularized coordinates)")
    print(f"fit         residual ratio {unexplained:.3g} (∇L on coordinates with θ̂_i = 0)")
    return {"diagonal": lam, "residual_ratio": unexplained,
            "negative_fraction": float(np.mean(lam[defined] < 0)) if defined.any() else None,
            "undefined": int((~defined).sum()), "reliable": True, "warnings": []}


def _print_estimate(est) -> None:
    fit, st = est.fit, est.stationarity
    width = max(11, *(len(n) for n in fit.names))
    print(f"{'penalty':<{width}}  coefficient")
    for name, value in zip(fit.names, fit.coefficients):
        flag = "  (at bound λ ≥ 0)" if name in fit.at_bound else ""
        print(f"{name:<{width}}  {value: .6e}{flag}")
    print(f"fit         residual ratio {fit.residual_ratio:.3g}, cosine {fit.cosine:.6f}, condition "
          f"number {fit.condition_number:.3g} ({'identifiable' if fit.identifiable else 'NOT identifiable'})")
    if st.iterations:
        print(f"stationary  ‖∇(L + Σλ̂R)‖ = {st.gradient_norm:.3e}; Newton distance to a stationary "
              f"point {st.distance:.3g}·‖θ̂‖ ({st.iterations} CG steps, {st.curvature} curvature)")
    for w in est.warnings:
        print(f"warning     {w}")
    print("verdict     " + ("reliable" if est.reliable else "UNRELIABLE (see warnings)"))
