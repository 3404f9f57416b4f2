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

Seeds (``--seeds SPEC``, as ``all`` and ``run``; default quick 3, full 10; ``--seed N`` is one seed):
a seed draws the problems, initializations and label noise afresh. The work is planned as tasks, one
per fingerprint part and seed (``verify.optimizer_tasks``), and runs on the engine's executors: in
this process by default, on N local Dask workers with ``--jobs N``, on a Dask cluster with
``--scheduler ADDRESS``; each process loads the factory from the SPEC text itself.

Verdicts are the catalogue's (``verify.optimizer_report``): per seed, verified when both models
identify a norm, inconclusive when one is undetermined or never separated the data, error when the
optimizer cannot be loaded or trained; over seeds the catalogue's rule (``verify.aggregate``), and
the seeds must identify the same norm in each model. --predict NORM makes the prediction explicit:
verified (identified in both models; for the binary model the norm's restriction to 1×d
matrices), failed (another norm is clearly closer), or inconclusive. It also joins the network
family, as a norm of all of θ (entrywise) or the max over layers (Schatten), when the KKT residual
supports it (entrywise p, Schatten 1 and ∞); whether the network identifies it is reported beside
the verdict. Exit codes: 0 verified, 1 any other verdict or an output (--json, --html, --figures)
that could not be written at the end (said in one line after the verdict), 2 usage error (SPEC,
--predict, --seeds, --jobs, --scheduler and output paths are checked before any training), 130
interrupted by Ctrl-C or SIGTERM (the partial JSON is written).
"""
from __future__ import annotations

import sys
import time

from verify.context import PROFILES
from verify.engine_options import add_engine_arguments

NAME = "optimizer"
HELP = "implicit-bias fingerprint of an optimizer factory (margin norm, sharpness exponent)"


def add_arguments(parser) -> None:
    parser.add_argument("spec", metavar="SPEC", help="module.path:factory or path/to/file.py:factory")
    parser.add_argument("--predict", metavar="NORM",
                        help="expected max-margin norm: entrywise:P | schatten:P | lp:P | max | sum | "
                             "fro | spectral | nuclear | l1 | l2 | linf")
    parser.add_argument("--profile", choices=PROFILES, default="quick")
    parser.add_argument("--json", metavar="PATH", help="write the JSON report here")
    parser.add_argument("--figures", metavar="DIR", help="write PNG figures here")
    parser.add_argument("--html", metavar="PATH", help="write a self-contained HTML report here")
    parser.add_argument("--no-network", action="store_true", help="skip the network KKT fingerprint")
    parser.add_argument("--no-sharpness", action="store_true", help="skip the sharpness fingerprint")
    add_engine_arguments(parser, cache=False)


def run(args) -> int:
    from verify.engine_options import engine_kwargs
    from verify.executors import make_executor, shut_down
    from verify.optimizer_report import Report, predicted_norms
    from verify.optimizer_tasks import PartInterrupted, plan_parts
    from verify.output import check_output_paths
    from verify.progress import TaskProgress
    from verify.spec import parse_spec

    check_output_paths(json=args.json, html=args.html, figures=args.figures)
    spec = parse_spec(args.spec)                                   # usage errors: exit 2
    predicted = predicted_norms(args.predict) if args.predict else None
    engine = engine_kwargs(args)                                   # --seeds/--jobs/--scheduler: exit 2
    seeds = engine["seeds"]
    report = Report(spec.text, args.profile, seeds, predicted)
    tasks = plan_parts(spec.text, args.profile, seeds, args.predict,
                       network=not args.no_network, sharpness=not args.no_sharpness)
    progress = TaskProgress()
    executor = None
    pending = {id(t): t for t in tasks}
    start = time.perf_counter()
    try:                                   # Ctrl-C anywhere below still writes the partial report
        executor = make_executor(min(engine["jobs"], len(tasks)), engine["scheduler"], progress.update,
                                 pin_threads=True)     # in process as in a worker: the same numbers
        report.executor = executor.description
        progress.begin(len(tasks), executor.workers)
        try:
            for task, result, error in executor.run(tasks, on_start=lambda t: progress.started(t.name)):
                pending.pop(id(task), None)
                progress.clear()
                if result is None:
                    result = report.part_error(task.args["seed"], task.args["part"], error)
                report.add(result)
                progress.finish(id(task))
                if report.load_error:      # the SPEC does not load: no part can run
                    break
        except PartInterrupted as exc:     # a margin part in this process: keep what it measured
            progress.clear()
            report.add(exc.partial)
            raise KeyboardInterrupt from None
        except Exception as exc:           # the executor itself broke: the parts not back are errors
            progress.clear()
            text = f"the executor stopped ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
            print(f"error: {text}", file=sys.stderr, flush=True)
            for task in pending.values():
                report.add(report.part_error(task.args["seed"], task.args["part"], text))
    except KeyboardInterrupt:
        progress.clear()
        report.interrupted = True
        print("interrupted: partial results kept", file=sys.stderr)
    finally:
        progress.clear()
        shut_down(executor)
    return report.finish(args, time.perf_counter() - start)
