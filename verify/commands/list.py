"""List the claim catalogue: ids, titles and sources, grouped by kind (the papers' results, the
project's extensions, readings tested on purpose with their expected verdict), then by section."""
from __future__ import annotations

from verify.registry import KINDS, all_claims

NAME = "list"
HELP = "claim ids, titles, sources"


def add_arguments(parser) -> None:
    pass


def run(args) -> int:
    claims = all_claims()
    for kind in KINDS:
        members = [c for c in claims if c.kind == kind]
        if not members:
            continue
        print(f"\n== {_HEADINGS[kind]} ({len(members)})")
        section = None
        for claim in members:
            if claim.section != section:
                section = claim.section
                print(f"\n{section}")
            expected = f"  (expected: {claim.expected})" if claim.expected else ""
            print(f"  {claim.id:<36} {claim.title}  [{claim.source}]{expected}")
    return 0


_HEADINGS = {"paper": "paper: results the papers state",
             "extension": "extension: the project's derived extensions",
             "reading": "reading: stronger or popular readings, tested on purpose"}
