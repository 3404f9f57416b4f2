"""Run one claim on its seeds and print every check as median [min, max] over the seeds."""
from __future__ import annotations

from verify.context import PROFILES
from verify.engine_options import add_engine_arguments, engine_kwargs
from verify.registry import get
from verify.runner import run_claims, stub_on_interrupt

NAME = "run"
HELP = "run one claim"


def add_arguments(parser) -> None:
    parser.add_argument("claim_id", metavar="CLAIM_ID")
    parser.add_argument("--profile", choices=PROFILES, default="quick")
    parser.add_argument("--json", metavar="PATH", help="write the JSON report here")
    parser.add_argument("--figures", metavar="DIR", help="write PNG figures here")
    parser.add_argument("--html", metavar="PATH",
                        help="write one self-contained HTML report (figures embedded) here")
    add_engine_arguments(parser)


def run(args) -> int:
    from verify.output import check_output_paths
    check_output_paths(json=args.json, html=args.html, figures=args.figures)   # before the claim runs
    with stub_on_interrupt(args.json, args.profile) as known:      # a Ctrl-C while the claim loads
        engine = engine_kwargs(args)
        known["seeds"] = engine["seeds"]
        claim = get(args.claim_id)
    print(f"{claim.title}  [{claim.source}]\n{claim.statement}\n")
    return run_claims([claim], args.profile, None, args.json, args.figures, verbose=True,
                      html_path=args.html, **engine)
