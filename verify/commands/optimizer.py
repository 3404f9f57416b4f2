"""What implicit bias does your optimizer have? Its margin and sharpness fingerprints.

SPEC is module.path:factory or path/to/file.py:factory, with factory(params) returning a
torch.optim.Optimizer (e.g. torch.optim:Adam, or my_opt.py:make). The command sets lr on every
param group before every step; the optimizer's other hyperparameters are its own.

Margin fingerprint: the optimizer trains a binary vector model (handed over as a 1×d matrix) and a
multiclass matrix model on separable data with cross-entropy, under lr = η₀·t^(−1/2) for a sweep of
η₀; for each norm of the family (entrywise p ∈ {1, 1.5, 2, 3, ∞}, Schatten p ∈ {1, 2, 3, ∞}; ℓp for
the binary model) it reports the ratio of the achieved normalized margin to the certified max
margin, and identifies the norm whose max margin the late iterates approach (with the runner-up
and the separation between them; "undetermined" when too close to call).

Network KKT fingerprint: on a two-layer squared-ReLU network (3-homogeneous) trained under
lr = η₀·t^(−0.7) for a sweep of η₀, the norm among ℓ2, ℓ∞, the layers' spectral max, max{‖W‖_sp,
‖u‖_∞} and the layers' Frobenius max in which the trained direction is closest to a KKT point of the
margin problem (Gronich & Vardi 2026 turned around; "undetermined" when too close to call).

Sharpness fingerprint: on the label-noise diagonal network (w = u⊙u − v⊙v, constant lr = η), the
exponent e of the sharpness measure Σ_k H_kk^(1−e) whose drift the optimizer follows (e = 0:
label-noise SGD, tr H; e = ½: Adam, tr Diag(H)^½), with a bootstrap confidence interval.

--predict NORM turns the margin fingerprint into a verdict: verified (identified in both models;
for the binary model the norm's restriction to 1×d matrices), failed (another norm is clearly
closer), or inconclusive. It also joins the network family, as a norm of all of θ (entrywise) or
the max over layers (Schatten), when the KKT residual supports it (entrywise p, Schatten 1 and ∞);
whether the network identifies it is reported beside the verdict. Exit codes: 0 fingerprint
identified / prediction verified, 1 any other verdict or an output (--json, --html, --figures)
that could not be written at the end (said in one line after the verdict), 2 usage error (output
paths are checked before any training), 130 interrupted by Ctrl-C or SIGTERM (the partial JSON is
written).
"""
from __future__ import annotations

import sys
import time

from verify.context import PROFILES

NAME = "optimizer"
HELP = "implicit-bias fingerprint of an optimizer factory (margin norm, sharpness exponent)"


def add_arguments(parser) -> None:
    parser.add_argument("spec", metavar="SPEC", help="module.path:factory or path/to/file.py:factory")
    parser.add_argument("--predict", metavar="NORM",
                        help="expected max-margin norm: entrywise:P | schatten:P | lp:P | max | sum | "
                             "fro | spectral | nuclear | l1 | l2 | linf")
    parser.add_argument("--profile", choices=PROFILES, default="quick")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="PATH", help="write the JSON report here")
    parser.add_argument("--figures", metavar="DIR", help="write PNG figures here")
    parser.add_argument("--html", metavar="PATH", help="write a self-contained HTML report here")
    parser.add_argument("--no-network", action="store_true", help="skip the network KKT fingerprint")
    parser.add_argument("--no-sharpness", action="store_true", help="skip the sharpness fingerprint")


def run(args) -> int:
    from verify.optimizer_report import Report, predicted_norms
    from verify.progress import Progress
    from verify.output import check_output_paths
    from verify.spec import SpecLoadError, load_factory, parse_spec

    check_output_paths(json=args.json, html=args.html, figures=args.figures)
    spec = parse_spec(args.spec)                                   # usage errors: exit 2
    predicted = predicted_norms(args.predict) if args.predict else None
    report = Report(spec.text, args.profile, args.seed, predicted)
    progress = Progress()
    start = time.perf_counter()
    try:                                   # Ctrl-C anywhere below still writes the partial report
        from verify.fingerprint import MODELS, FingerprintInterrupted, margin_fingerprint
        from verify.network_fingerprint import network_fingerprint
        from verify.sharpness_fingerprint import sharpness_fingerprint

        try:
            factory = load_factory(spec)
        except SpecLoadError as exc:
            report.fail(str(exc))
            return report.finish(args, time.perf_counter() - start)
        try:
            for model in MODELS:
                progress.start(f"margin fingerprint ({model})")
                report.models[model] = margin_fingerprint(
                    factory, model, args.profile, args.seed,
                    [predicted[model]] if predicted else [], progress.update)
                progress.clear()
                report.print_model(model)
        except FingerprintInterrupted as exc:
            report.models[exc.partial.model] = exc.partial
            raise KeyboardInterrupt from None
        if not args.no_network:
            progress.start("network KKT fingerprint")
            report.network = network_fingerprint(factory, args.profile, args.seed, progress.update,
                                                 predicted["multiclass"] if predicted else None)
            progress.clear()
            report.print_network()
        if not args.no_sharpness:
            progress.start("sharpness fingerprint")
            report.sharpness = sharpness_fingerprint(factory, args.profile, args.seed, progress.update)
            progress.clear()
            report.print_sharpness()
    except KeyboardInterrupt:
        progress.clear()
        report.interrupted = True
        print("interrupted: partial results kept", file=sys.stderr)
    return report.finish(args, time.perf_counter() - start)
