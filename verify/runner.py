"""Run claims: verdicts, progress, JSON (rewritten after every claim, so an interrupted or crashed run
keeps what it finished) and figures."""
from __future__ import annotations

import sys
import time
import traceback
from pathlib import Path

from theory.errors import UserInputError
from verify import figures as figs
from verify.context import Context
from verify.outcome import Outcome
from verify.progress import Progress
from verify.registry import Claim
from verify.report import claim_record, environment, headline, summary_table, write_json


def check_claim(claim: Claim, ctx: Context) -> Outcome:
    """Run one check; a crash inside it is the check's ``error``, reported in one line."""
    try:
        return claim.check(ctx)
    except UserInputError as exc:
        return Outcome.error(str(exc))
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # the check itself broke: keep the rest of the catalogue running
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return Outcome.error(f"{type(exc).__name__}: {exc} (at {Path(where.filename).name}:{where.lineno})")


def html_sections(results: list[tuple[Claim, Outcome, float]], profile: str, seed: int,
                  interrupted: bool = False) -> list:
    """The sections of the ``--html`` report: a summary table, then one section per claim (its
    statement, checks and figures)."""
    from verify.html import Section, Table

    summary = Section("Summary", None, [f"profile {profile}, seed {seed}"
                                        + ("; interrupted: partial results" if interrupted else "")])
    summary.tables.append(Table(["claim", "status", "evidence", "seconds"],
                                [[c.id, o.status, headline(o), s] for c, o, s in results]))
    sections = [summary]
    for claim, outcome, seconds in results:
        sec = Section(f"{claim.id}: {claim.title}", outcome.status,
                      [f"{claim.source} — {claim.section}", claim.statement])
        if outcome.message:
            sec.text.append(f"note: {outcome.message}")
        if outcome.checks:
            sec.tables.append(Table(["check", "role", "value", "op", "tolerance", "passed", "note"],
                                    [[c.name, c.role, c.value, c.op, c.tolerance,
                                      "yes" if c.passed else "MISS", c.note] for c in outcome.checks]))
        sec.figures = list(outcome.figures)
        sections.append(sec)
    return sections


def run_claims(claims: list[Claim], profile: str = "quick", seed: int = 0,
               json_path: str | None = None, figures_dir: str | None = None,
               stream=sys.stdout, verbose: bool = False, html_path: str | None = None) -> int:
    progress = Progress()
    ctx = Context(profile=profile, seed=seed, progress=progress.update)
    records, rows, results = [], [], []
    payload = {"claims": records, "environment": environment(profile, seed), "complete": False}
    interrupted = False
    try:
        for i, claim in enumerate(claims, 1):
            progress.start(f"[{i}/{len(claims)}] {claim.id}")
            t0 = time.perf_counter()
            outcome = check_claim(claim, ctx)
            seconds = time.perf_counter() - t0
            progress.clear()
            record = claim_record(claim, outcome, seconds)
            if figures_dir and outcome.figures:
                record["figures"] = [str(figs.render(spec, Path(figures_dir), claim.id))
                                     for spec in outcome.figures]
            records.append(record)
            results.append((claim, outcome, seconds))
            rows.append((claim.id, outcome.status, headline(outcome), seconds))
            line = f"{claim.id:<34} {outcome.status:<12} {headline(outcome)}  ({seconds:.1f}s)"
            print(line, file=stream, flush=True)
            if verbose:
                for check in outcome.checks:
                    print(f"    [{check.role}] {check.describe()}", file=stream)
            if outcome.status != "verified" and outcome.message:
                print(f"    {outcome.message}", file=stream, flush=True)
            if json_path:
                write_json(json_path, payload)
    except KeyboardInterrupt:
        progress.clear()
        interrupted = True
        payload["interrupted"] = True
        print("interrupted: partial results kept", file=sys.stderr)
    payload["complete"] = not interrupted
    if json_path:
        write_json(json_path, payload)
    if html_path:
        from verify.html import write_html
        from verify.report import jsonable

        title = results[0][0].id if len(claims) == 1 and results else "Implicit-bias claims"
        write_html(html_path, title, html_sections(results, profile, seed, interrupted), jsonable(payload))
    if rows and len(claims) > 1:
        print("\n" + summary_table(rows), file=stream)
    if interrupted:
        return 130
    return 0 if rows and all(r[1] == "verified" for r in rows) else 1
