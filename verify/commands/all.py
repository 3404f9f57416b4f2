"""Run the claim catalogue (or the claims whose id matches -k) with a progress display and a
summary table. Exit 0 when every claim is verified, 1 otherwise."""
from __future__ import annotations

from theory.errors import UserInputError
from verify.context import PROFILES
from verify.registry import select
from verify.runner import run_claims

NAME = "all"
HELP = "run the whole catalogue"


def add_arguments(parser) -> None:
    parser.add_argument("--profile", choices=PROFILES, default="quick")
    parser.add_argument("--json", metavar="PATH", help="write the JSON report here")
    parser.add_argument("--figures", metavar="DIR", help="write PNG figures here")
    parser.add_argument("--html", metavar="PATH",
                        help="write one self-contained HTML report (figures embedded) here")
    parser.add_argument("-k", metavar="PATTERN", help="only claims whose id contains every word")
    parser.add_argument("--seed", type=int, default=0)


def run(args) -> int:
    from verify.output import check_output_paths
    check_output_paths(json=args.json, html=args.html, figures=args.figures)   # before any claim runs
    claims = select(args.k)
    if not claims:
        raise UserInputError(f"no claim id matches {args.k!r}; see `python -m verify list`")
    return run_claims(claims, args.profile, args.seed, args.json, args.figures, html_path=args.html)
