"""Print a claim's derivation: every step and derived expression (pretty text, or LaTeX)."""
from __future__ import annotations

from verify.aggregate import RULE
from verify.registry import get

NAME = "show"
HELP = "the derivation behind a claim's prediction"


def add_arguments(parser) -> None:
    parser.add_argument("claim_id", metavar="CLAIM_ID")
    parser.add_argument("--latex", action="store_true", help="LaTeX instead of pretty text")


def run(args) -> int:
    claim = get(args.claim_id)
    derivation = claim.derivation()
    print(f"{claim.title}  [{claim.source}]\n{claim.statement}\n")
    expected = f"; expected verdict: {claim.expected}" if claim.expected else ""
    print(f"kind: {claim.kind}{expected}\n{RULE[0].upper() + RULE[1:]}\n")
    print(derivation.latex() if args.latex else derivation.pretty())
    return 0
