"""List the claim catalogue: ids, titles and sources, grouped by kind (the papers' results, the
project's extensions, readings tested on purpose with their expected verdict), then by section.
With --markdown, print the catalogue as one Markdown document instead (the index table, then each
claim's statement, settings per profile, checks and derivation: the pages the documentation build
generates, ``verify.catalogue_markdown``), with verdicts from --report when given."""
from __future__ import annotations

from pathlib import Path

from theory.errors import UserInputError
from verify.registry import KINDS, select

NAME = "list"
HELP = "claim ids, titles, sources (--markdown: the catalogue as Markdown)"
NOTES = Path(__file__).resolve().parents[2] / "docs" / "claims"


def add_arguments(parser) -> None:
    parser.add_argument("--markdown", action="store_true",
                        help="print the catalogue as Markdown (statements, settings per profile, "
                             "checks, derivations)")
    parser.add_argument("-k", dest="pattern", metavar="PATTERN",
                        help="only claims whose id contains every word (as in `verify all -k`)")
    parser.add_argument("--report", metavar="PATH",
                        help="with --markdown: fill the verdict columns and checks from this JSON "
                             "report (written by `verify all --json`)")


def markdown(report_path: str | None, claims: list) -> str:
    """The catalogue (``claims``) as one Markdown document."""
    from verify.catalogue_markdown import claim_page, index_page, load_report

    try:
        report = load_report(report_path)
    except (OSError, ValueError) as exc:
        raise UserInputError(f"cannot read the report {report_path}: {type(exc).__name__}: "
                             f"{' '.join(str(exc).split())}") from None
    seeds: list = []
    for rec in report.values():
        for entry in rec.get("per_seed", []) if isinstance(rec.get("per_seed"), list) else []:
            if isinstance(entry, dict) and entry.get("seed") not in seeds:
                seeds.append(entry.get("seed"))
    parts = [index_page(report, report_path, seeds, link=lambda claim_id: f"#{claim_id}", claims=claims)]
    for claim in claims:
        page = claim_page(claim, report.get(claim.id), (NOTES / f"{claim.id}.md").exists())
        parts.append(page.replace("# `", "## `", 1).replace("\n## ", "\n### "))
    return "\n".join(parts)


def run(args) -> int:
    if args.report and not args.markdown:
        raise UserInputError("--report needs --markdown")
    claims = select(args.pattern)
    if not claims:
        raise UserInputError(f"no claim id matches -k {args.pattern!r}; see `python -m verify list`")
    if args.markdown:
        print(markdown(args.report, claims))
        return 0
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
