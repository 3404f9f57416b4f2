"""MkDocs hook: generate the catalogue pages and the command reference at build time.

The catalogue comes from the claim registry (``verify.catalogue_markdown``) and the newest JSON report
kept in ``docs/results/``; the command reference from the command line's own parser, so neither can
drift from the code.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from mkdocs.structure.files import File


def _newest_report(docs_dir: Path) -> Path | None:
    reports = sorted(p for p in (docs_dir / "results").glob("*.json") if not p.name.startswith("gallery-"))
    return reports[-1] if reports else None


def _command_reference() -> str:
    from verify.cli import build_parser

    parser = build_parser()
    lines = ["# Command reference", "",
             "Generated from the command line's own parser when the documentation is built. "
             "Exit codes, the JSON contract and the norm grammar are on [Commands and outputs](../commands.md).", ""]
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, cmd in sorted(sub.choices.items()):
        cmd.formatter_class = lambda prog: argparse.HelpFormatter(prog, width=100, max_help_position=32)
        lines += [f"## `{name}`", "", "```text", cmd.format_help().rstrip(), "```", ""]
    return "\n".join(lines)


def on_files(files, config):
    from verify.catalogue_markdown import claim_page, index_page, load_report
    from verify.registry import all_claims

    docs_dir = Path(config["docs_dir"])
    report_path = _newest_report(docs_dir)
    report = load_report(report_path)
    seeds: list[int] = []
    for rec in report.values():
        for entry in rec.get("per_seed", []):
            if entry.get("seed") not in seeds:
                seeds.append(entry.get("seed"))
    name = f"results/{report_path.name}" if report_path else None
    files.append(File.generated(config, "catalogue/index.md", content=index_page(report, name, seeds)))
    for claim in all_claims():
        has_notes = (docs_dir / "claims" / f"{claim.id}.md").exists()
        files.append(File.generated(config, f"catalogue/{claim.id}.md",
                                    content=claim_page(claim, report.get(claim.id), has_notes)))
    files.append(File.generated(config, "reference/cli.md", content=_command_reference()))
    import json

    from verify.catalogue_markdown import gallery_page

    galleries = sorted((docs_dir / "results").glob("gallery-*.json"))
    gallery = json.loads(galleries[-1].read_text()) if galleries else None
    files.append(File.generated(config, "gallery.md",
                                content=gallery_page(gallery, f"results/{galleries[-1].name}" if galleries else None)))
    return files
