"""Run the claim catalogue (or the claims whose id matches -k) on several seeds, with a progress
display and a summary table (one column per seed). Exit 0 when every paper/extension claim is
verified and every reading gets its expected verdict, 1 otherwise, 2 on a usage error, 130
interrupted. Results are cached (per claim, profile, seed and package source): an interrupted run
resumes where it stopped.

With ``--plan`` nothing runs: the tasks the run would hand out are printed with their estimated
cost (from the task costs earlier runs recorded in the cache), the CPU they add up to, the critical
path (the longest task) and the estimated wall on ``--jobs N`` workers (``verify.engine_plan``)."""
from __future__ import annotations

from theory.errors import UserInputError
from verify.context import PROFILES
from verify.engine_options import add_engine_arguments, engine_kwargs
from verify.registry import select
from verify.runner import run_claims, stub_on_interrupt

NAME = "all"
HELP = "run the whole catalogue"


def add_arguments(parser) -> None:
    parser.add_argument("--profile", choices=PROFILES, default="quick")
    parser.add_argument("--json", metavar="PATH", help="write the JSON report here")
    parser.add_argument("--figures", metavar="DIR", help="write PNG figures here")
    parser.add_argument("--html", metavar="PATH",
                        help="write one self-contained HTML report (figures embedded) here")
    parser.add_argument("-k", metavar="PATTERN", help="only claims whose id contains every word")
    parser.add_argument("--plan", action="store_true",
                        help="run nothing: print the task plan, its estimated CPU and the wall on --jobs N "
                             "workers from the cache's recorded task costs")
    add_engine_arguments(parser)


def run(args) -> int:
    if args.plan:
        return plan(args)
    from verify.output import check_output_paths
    check_output_paths(json=args.json, html=args.html, figures=args.figures)   # before any claim runs
    with stub_on_interrupt(args.json, args.profile) as known:      # a Ctrl-C while the catalogue loads
        engine = engine_kwargs(args)
        known["seeds"] = engine["seeds"]
        claims = select(args.k)
    if not claims:
        raise UserInputError(f"no claim id matches {args.k!r}; see `python -m verify list`")
    return run_claims(claims, args.profile, None, args.json, args.figures, html_path=args.html, **engine)


def plan(args) -> int:
    """``--plan``: the tasks, their estimated CPU and wall from the recorded costs; runs nothing."""
    from verify.engine_plan import format_plan, plan_from_cache

    given = [opt for opt, value in (("--json", args.json), ("--html", args.html), ("--figures", args.figures),
                                    ("--scheduler", args.scheduler)) if value]
    if given:
        raise UserInputError(f"--plan runs nothing: it takes no {', '.join(given)} (give --jobs N for the wall "
                             f"on N workers)")
    engine = engine_kwargs(args)          # the run's own reading of --jobs, --seeds and the cache options
    claims = select(args.k)
    if not claims:
        raise UserInputError(f"no claim id matches {args.k!r}; see `python -m verify list`")
    replay = engine["cache_dir"] is not None and not engine["refresh"]
    result = plan_from_cache(claims, args.profile, engine["seeds"], engine["cache_dir"] or engine["costs_dir"],
                             replay=replay)
    print(format_plan(result, [engine["jobs"]], limit=None))
    return 0
