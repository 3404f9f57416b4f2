"""Run claims over seeds: plan tasks, take what the cache holds, run the rest on an executor,
aggregate each claim's seeds (``verify.aggregate``), print, and write the JSON (rewritten after
every finished claim, so an interrupted or crashed run keeps what it finished), HTML and figures.

Ctrl-C and SIGTERM stop the run with the finished claims kept (exit 130, one line); the cache keeps
every finished (claim, seed), so running the same command again resumes. While a local cluster
starts, and while the workers close and the reports are written, they take effect at the end of
that step (``verify.interrupts.deferred``). An executor that stops (a ``--scheduler`` that died)
is one line, the tasks not back are errors and the JSON says ``complete: false``.
"""
from __future__ import annotations

import math
import signal
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from verify import figures as figs
from verify.aggregate import RULE, aggregate, fmt_range, meets_expectation
from verify.cache import ResultCache, source_hash
from verify.interrupts import deferred
from verify.progress import TaskProgress
from verify.registry import Claim, declared_seconds, group_of
from verify.report import (seed_entry, claim_record, environment, evidence, headline, seed_marks, status_text,
                           summary_table, write_json)
from verify.seeds import default_seeds, describe
from verify.tasks import check_claim, error_records, plan_tasks, schedule

__all__ = ["run_claims", "check_claim", "html_sections", "headline", "stub_on_interrupt"]


def _on_sigterm(signum, frame):
    """SIGTERM outside ``python -m verify`` (which routes it, ``verify.interrupts``): like Ctrl-C."""
    raise KeyboardInterrupt("SIGTERM")


def html_sections(records: list[dict], profile: str, seeds: list[int], figures: dict | None = None,
                  interrupted: bool = False) -> list:
    """The sections of the ``--html`` report: a summary table, then one section per claim (its
    statement, its checks over seeds, and the figures of its first seed)."""
    from verify.html import Section, Table

    summary = Section("Summary", None, [f"profile {profile}, seeds {describe(seeds)}"
                                        + ("; interrupted: partial results" if interrupted else ""),
                                        RULE])
    summary.tables.append(Table(["claim", "status", "seeds", "evidence", "seconds"],
                                [[r["id"], r["status"], seed_marks([s["status"] for s in r["per_seed"]]),
                                  evidence(r["status"], r["checks"], r.get("message", "")), r["seconds"]]
                                 for r in records]))
    sections = [summary]
    for rec in records:
        sec = Section(f"{rec['id']}: {rec['title']}", rec["status"],
                      [f"{rec['source']} — {rec['section']}", rec.get("statement", "")])
        if rec.get("message"):
            sec.text.append(f"note: {rec['message']}")
        if rec["checks"]:
            sec.tables.append(Table(["check", "role", "median", "min", "max", "op", "tolerance",
                                     "seeds passed", "note"],
                                    [[c["name"], c["role"], c["median"], c["min"], c["max"], c["op"],
                                      c["tolerance"], f"{c['passed']}/{c['seeds']}", c["note"]]
                                     for c in rec["checks"]]))
        specs = (figures or {}).get(rec["id"], [])
        if specs:
            sec.text.append(f"figures: seed {rec['per_seed'][0]['seed']}")
        sec.figures = list(specs)
        sections.append(sec)
    return sections


class _Run:
    """The state of one ``run_claims`` call."""

    def __init__(self, claims, profile, seeds, cache, stream, verbose):
        self.claims, self.profile, self.seeds = claims, profile, seeds
        self.cache, self.stream, self.verbose = cache, stream, verbose
        self.by_id = {c.id: c for c in claims}
        self.per_seed: dict[str, dict[int, dict]] = {c.id: {} for c in claims}
        self.finished: dict[str, dict] = {}            # claim id → JSON record
        self.rows: dict[str, dict] = {}
        self.figure_specs: dict[str, list] = {}
        self.warned_source = False
        self.task_of: dict[str, str] = {}               # claim id → the task group it ran in
        self.reads: dict[str, list[str]] = {}          # claim id → experiments read (this run)
        self.experiment_seconds: dict[str, float] = {}

    def add(self, claim_id: str, record: dict, cached: bool = False, source: str | None = None) -> None:
        record = dict(record, cached=cached)
        self.per_seed[claim_id][record["seed"]] = record
        if not cached and self.cache is not None:
            if source is not None and source != self.cache.source:
                if not self.warned_source:
                    print("warning: a worker runs a different version of the package source; "
                          "its results are reported but not cached", file=sys.stderr, flush=True)
                    self.warned_source = True
            else:
                self.cache.put(claim_id, self.profile, record["seed"], record)

    def complete(self, claim_id: str) -> bool:
        return len(self.per_seed[claim_id]) == len(self.seeds) and claim_id not in self.finished

    def finish(self, claim_id: str, figures_dir: str | None) -> None:
        claim = self.by_id[claim_id]
        per_seed = [self.per_seed[claim_id][s] for s in self.seeds]
        agg = aggregate(per_seed)
        seconds = sum(r["seconds"] for r in per_seed if isinstance(r.get("seconds"), (int, float))
                      and math.isfinite(r["seconds"]))
        cached = sum(bool(r.get("cached")) for r in per_seed)
        record = claim_record(claim, per_seed, agg, seconds, cached)
        record["statement"] = claim.statement
        record["group"] = group_of(claim)
        if claim_id in self.task_of:
            record["task"] = self.task_of[claim_id]
        first_with_figures = next((r for r in per_seed if r.get("figures")), None)
        if first_with_figures is not None:
            self.figure_specs[claim_id] = first_with_figures["figures"]
        if figures_dir:
            paths = []
            for r in per_seed:
                prefix = claim_id if len(self.seeds) == 1 else f"{claim_id}-seed{r['seed']}"
                paths += [str(figs.render(spec, Path(figures_dir), prefix)) for spec in r.get("figures", [])]
            if paths:
                record["figures"] = paths
        self.finished[claim_id] = record
        marks = seed_marks([r["status"] for r in per_seed])
        text = status_text(claim.kind, claim.expected, agg["status"])
        ev = evidence(agg["status"], agg["checks"], agg["message"])
        cached_text = "" if not cached else ("cached" if cached == len(per_seed) else f"{cached}/{len(per_seed)}")
        self.rows[claim_id] = {"id": claim_id, "status": text, "seeds": marks, "evidence": ev,
                               "seconds": seconds, "cached": cached_text, "verdict": agg["status"]}
        extra = f", {cached_text}" if cached_text else ""
        print(f"{claim_id:<36} {text:<12} {marks:<4} {ev}  ({seconds:.1f}s{extra})", file=self.stream, flush=True)
        if self.verbose:
            if len(per_seed) > 1:
                print("    seeds: " + ", ".join(f"{r['seed']} {r['status']}" for r in per_seed), file=self.stream)
            for c in agg["checks"]:
                seeds = f"; {c['passed']}/{c['seeds']} seeds ok" if c["seeds"] > 1 else ""
                mark = "" if c["role"] == "info" else (" ok" if c["passed"] == c["seeds"] else " MISS")
                note = f"; {c['note']}" if c["note"] else ""
                print(f"    [{c['role']}] {c['name']} = {fmt_range(c)} ({c['op']} {c['tolerance']:.4g}:{mark}{seeds}){note}",
                      file=self.stream)
        if agg["status"] != "verified" and agg["message"]:
            print(f"    {agg['message']}", file=self.stream, flush=True)

    def records(self) -> list[dict]:
        return [self.finished[c.id] for c in self.claims if c.id in self.finished]

    def exit_code(self) -> int:
        if len(self.finished) < len(self.claims) or not self.finished:
            return 1
        ok = all(meets_expectation(c.kind, c.expected, self.finished[c.id]["status"]) for c in self.claims)
        return 0 if ok else 1


@contextmanager
def stub_on_interrupt(json_path: str | None, profile: str, seeds: list[int] | None = None,
                      claim_ids: list[str] | None = None):
    """Ctrl-C or SIGTERM before the run's own report exists (modules loading, claims selected, the
    cache opened): the ``--json`` target still gets a report, with no claim, ``complete: false``,
    ``interrupted: true``, the seeds and the claims that did not run (when known: the block may fill
    in ``seeds`` and ``claim_ids`` of the dict it is given); the interrupt goes on."""
    known = {"seeds": seeds, "claim_ids": claim_ids}
    try:
        yield known
    except KeyboardInterrupt:
        if json_path:
            seeds, claim_ids = known["seeds"], known["claim_ids"]
            stub = {"claims": [], "seeds": None if seeds is None else list(seeds), "aggregation": RULE,
                    "environment": environment(profile, None, seeds), "complete": False, "interrupted": True,
                    "seconds": 0.0}
            if claim_ids is not None:
                stub["unfinished"] = list(claim_ids)
            with deferred():
                try:
                    write_json(json_path, stub)
                except (OSError, ValueError) as exc:
                    print(f"warning: could not write the JSON report {json_path}: {exc}", file=sys.stderr,
                          flush=True)
        raise


def run_claims(claims: list[Claim], profile: str = "quick", seed: int | None = None,
               json_path: str | None = None, figures_dir: str | None = None,
               stream=None, verbose: bool = False, html_path: str | None = None, *,
               seeds: list[int] | None = None, jobs: int = 1, scheduler: str | None = None,
               cache_dir: str | None = None, refresh: bool = False, costs_dir: str | None = None) -> int:
    """Run ``claims`` on ``seeds`` (default: ``[seed]`` when given, else the profile's default) and
    report. ``jobs``/``scheduler`` pick the executor (``verify.executors``); ``cache_dir`` turns the
    result cache on (None: no cache); ``costs_dir``, without a cache, a cache directory whose recorded
    task costs and experiment map are read (never written) to plan and order the tasks. Exit 0 iff every paper/extension claim is verified and every
    reading gets its expected verdict; 1 otherwise; 130 on Ctrl-C or SIGTERM."""
    stream = sys.stdout if stream is None else stream
    if seeds is None:
        seeds = [seed] if seed is not None else default_seeds(profile)
    with stub_on_interrupt(json_path, profile, seeds, [c.id for c in claims]):
        from verify.executors import make_executor

        cache = ResultCache.open(cache_dir, refresh) if cache_dir is not None else None
        costs = cache if cache is not None else (ResultCache(costs_dir) if costs_dir is not None else None)
        run = _Run(claims, profile, seeds, cache, stream, verbose)
        payload = {"claims": [], "seeds": list(seeds), "aggregation": RULE,
                   "environment": environment(profile, seeds[0] if len(seeds) == 1 else None, seeds),
                   "complete": False}
        payload["environment"]["source"] = source_hash()
    json_failed: list[str] = []

    try:
        from verify.output import replaceable

        rewrite = bool(json_path) and replaceable(json_path)
    except (ImportError, OSError):
        rewrite = True

    def save_json(final: bool = False) -> None:
        """After every finished claim when the target can be replaced (a regular file), else once."""
        if not json_path or not (final or rewrite):
            return
        payload["claims"] = run.records()
        partial = {cid: [seed_entry(r) for _, r in sorted(seeds_done.items())]
                   for cid, seeds_done in run.per_seed.items() if seeds_done and cid not in run.finished}
        if partial:
            payload["unfinished_seeds"] = partial     # seeds done of claims not finished yet
        else:
            payload.pop("unfinished_seeds", None)
        try:
            write_json(json_path, payload)
        except (OSError, ValueError) as exc:
            if not json_failed:
                print(f"warning: could not write the JSON report {json_path}: {exc}", file=sys.stderr, flush=True)
            json_failed.append(str(exc))

    previous_term = None
    if threading.current_thread() is threading.main_thread():
        previous_term = signal.signal(signal.SIGTERM, _on_sigterm)
    progress = TaskProgress()
    executor = None
    interrupted = False

    def announce() -> None:
        """The one line an interrupt prints (once)."""
        nonlocal interrupted
        if interrupted:
            return
        interrupted = True
        payload["interrupted"] = True
        progress.clear()
        print("interrupted: " + ("partial results kept" if len(run.finished) < len(claims) else "all results kept")
              + (" (finished seeds are cached: run again to resume)" if cache is not None else ""),
              file=sys.stderr, flush=True)

    t_run = time.perf_counter()
    task_seconds: dict[str, list[float]] = {}
    try:
        if scheduler is not None:      # an unreachable scheduler is a usage error, before any output
            with deferred():           # an interrupt raised once ``executor`` holds what started
                executor = make_executor(jobs, scheduler, progress.update)
        if cache is not None:
            for claim in claims:
                for s in seeds:
                    record = cache.get(claim.id, profile, s)
                    if record is not None:
                        run.add(claim.id, record, cached=True)
        for claim in claims:
            if run.complete(claim.id):
                run.finish(claim.id, figures_dir)
        save_json()
        reads, _ = costs.plan(profile) if costs is not None else ({}, {})
        tasks = plan_tasks(claims, profile, seeds, done=lambda cid, s: s in run.per_seed[cid], reads=reads)
        timings = costs.timings(profile) if costs is not None else {}
        for task in tasks:
            known = [timings.get(cid, float("nan")) for cid in task.claim_ids]
            task.estimate = sum(known)
            if not math.isfinite(task.estimate) and "[" not in task.group:
                task.estimate = declared_seconds(task.group, profile)     # a module's declaration, if any
            for cid in task.claim_ids:
                run.task_of[cid] = task.group
        if tasks:
            if executor is None:
                with deferred():       # Ctrl-C while the local cluster starts: raised once it is up
                    executor = make_executor(min(jobs, len(tasks)), None, progress.update)
            tasks = schedule(tasks, executor.workers)        # longest first on several workers
            payload["environment"]["executor"] = executor.description
            progress.begin(len(tasks), executor.workers, {id(t): t.estimate for t in tasks})

            def on_record(task, cid, record):
                run.add(cid, record, source=source_hash())

            pending = {id(t): t for t in tasks}

            def outcomes():
                try:
                    yield from executor.run(tasks, on_record=on_record,
                                            on_start=lambda t: progress.started(t.name))
                except Exception as exc:   # the executor itself broke: the tasks not back are errors
                    text = f"the executor stopped ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
                    print(f"error: {text}", file=sys.stderr, flush=True)
                    payload["executor_error"] = text     # the report is partial: complete false
                    for t in list(pending.values()):
                        yield t, None, text

            for task, result, error in outcomes():
                pending.pop(id(task), None)
                progress.clear()
                if result is None:
                    records, source = error_records(task, error), None
                else:
                    records, source = result["records"], result.get("source")
                    for cid, keys in (result.get("reads") or {}).items():
                        run.reads[cid] = list(dict.fromkeys(run.reads.get(cid, []) + list(keys)))
                    run.experiment_seconds.update(result.get("experiments") or {})
                for cid, record in records.items():
                    if record["seed"] not in run.per_seed[cid] or run.per_seed[cid][record["seed"]].get("cached"):
                        run.add(cid, record, source=source)
                    if math.isfinite(record.get("seconds", float("nan"))):
                        task_seconds.setdefault(cid, []).append(record["seconds"])
                progress.finish(id(task))
                for cid in task.claim_ids:
                    if run.complete(cid):
                        run.finish(cid, figures_dir)
                save_json()
    except KeyboardInterrupt:
        announce()
    except BaseException:               # a bug: the executor closed, the exception goes on
        _close(executor)
        executor = None
        raise
    finally:
        progress.clear()

    def wrap_up() -> int:
        """Close the executor, save the task costs, the final JSON and HTML, print the table."""
        nonlocal executor
        try:
            if executor is not None:
                _close(executor)
        finally:
            executor = None
        if cache is not None and task_seconds:
            cache.save_timings(profile, {cid: sum(v) / len(v) for cid, v in task_seconds.items()})
        if cache is not None and run.reads:
            cache.save_plan(profile, run.reads, run.experiment_seconds)
        unfinished = [c.id for c in claims if c.id not in run.finished]
        payload["complete"] = not (interrupted and unfinished) and "executor_error" not in payload
        payload["seconds"] = round(time.perf_counter() - t_run, 3)
        if unfinished:
            payload["unfinished"] = unfinished
        save_json(final=True)
        written_ok = not json_failed
        if html_path:
            from verify.html import write_html
            from verify.report import jsonable

            records = run.records()
            title = records[0]["id"] if len(claims) == 1 and records else "Implicit-bias claims"
            try:
                write_html(html_path, title, html_sections(records, profile, seeds, run.figure_specs, interrupted),
                           jsonable(payload))
            except (OSError, ValueError) as exc:
                print(f"warning: could not write the HTML report {html_path}: {exc}", file=sys.stderr, flush=True)
                written_ok = False
        rows = [run.rows[c.id] for c in claims if c.id in run.rows]
        if rows and (len(claims) > 1 or len(seeds) > 1):
            print(f"\nprofile {profile}, seeds {describe(seeds)}; {RULE}", file=stream)
        if rows and len(claims) > 1:
            print(summary_table(rows), file=stream)
        code = run.exit_code()
        return code if written_ok else max(code, 1)

    # The close of the workers and the reports are not cut: a Ctrl-C/SIGTERM meanwhile (even a
    # second one) takes effect once they are written; the third ends the process (verify.interrupts).
    try:
        with deferred():
            code = wrap_up()
    except KeyboardInterrupt:
        announce()
    finally:
        _close(executor)        # only if the wrap-up itself broke before closing it
        if previous_term is not None:
            signal.signal(signal.SIGTERM, previous_term)
    if interrupted:
        return 130
    return code


def _close(executor) -> None:
    """Close an executor (None: nothing to do); its own failure does not hide the run's outcome (a
    cluster already gone); an interrupt during the close (raised after it) propagates."""
    if executor is None:
        return
    try:
        executor.close()
    except Exception:
        pass
