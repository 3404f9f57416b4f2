"""List the claim catalogue: ids, titles and sources, grouped by section."""
from __future__ import annotations

from verify.registry import all_claims

NAME = "list"
HELP = "claim ids, titles, sources"


def add_arguments(parser) -> None:
    pass


def run(args) -> int:
    section = None
    for claim in all_claims():
        if claim.section != section:
            section = claim.section
            print(f"\n{section}")
        print(f"  {claim.id:<36} {claim.title}  [{claim.source}]")
    return 0
