"""Reports: the JSON contract of docs/commands.md (written atomically), records of claims, summary table."""
from __future__ import annotations

import json
import math
import os
import platform
from importlib import metadata

import numpy as np

from verify.outcome import STATUSES, Outcome, Verdict

_PACKAGES = ("implicit-bias-verify", "numpy", "scipy", "sympy", "cvxpy", "clarabel", "torch")


def environment(profile: str | None = None, seed: int | None = None,
                seeds: list[int] | None = None) -> dict:
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    env = {"python": platform.python_version(), "platform": platform.platform(),
           "packages": versions, "dtype": "float64"}
    if profile is not None:
        env["profile"] = profile
    if seed is not None:
        env["seed"] = seed
    if seeds is not None:
        env["seeds"] = list(seeds)
    return env


def jsonable(obj):
    """Numbers as JSON numbers (non-finite floats become null), arrays as nested lists."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def write_json(path: str | os.PathLike, payload: dict) -> None:
    """Write the report with :func:`verify.output.write_text` (a regular file atomically, through
    symbolic links, into devices and FIFOs; :class:`verify.output.OutputError` when it cannot)."""
    from verify.output import write_text

    write_text(path, json.dumps(jsonable(payload), indent=1, allow_nan=False) + "\n", "--json")


def claim_record(claim, per_seed: list[dict], agg: dict, seconds: float, cached: int = 0) -> dict:
    """The JSON record of one claim over its seeds (docs/commands.md): the aggregated ``status``,
    ``metrics`` (medians), ``tolerances``, ``checks`` (median, min, max, seeds passed), and the
    ``per_seed`` records ``{seed, status, checks, ...}``."""
    record = {"id": claim.id, "title": claim.title, "source": claim.source, "section": claim.section,
              "kind": claim.kind, "status": agg["status"],
              "seeds": [r["seed"] for r in per_seed], "metrics": agg["metrics"],
              "tolerances": agg["tolerances"], "seconds": round(seconds, 3),
              "checks": agg["checks"], "per_seed": [seed_entry(r) for r in per_seed]}
    if claim.kind == "reading":
        record["expected"] = claim.expected
        record["meets_expected"] = agg["status"] == claim.expected
    if cached:
        record["cached_seeds"] = cached
    if agg["status"] != "verified" or agg["message"]:
        record["message"] = agg["message"]
    return record


def seed_entry(rec: dict) -> dict:
    entry = {"seed": rec["seed"], "status": rec["status"], "checks": rec["checks"],
             "metrics": rec.get("metrics", {}), "seconds": rec.get("seconds"),
             "cached": bool(rec.get("cached", False))}
    if rec.get("message"):
        entry["message"] = rec["message"]
    if rec.get("details"):
        entry["details"] = rec["details"]
    return entry


def headline(outcome: Outcome) -> str:
    """The table's evidence column: the first check that decides a verdict other than `verified` (a
    missed precondition for `inconclusive`, a missed prediction or control for `failed`), else the
    first prediction."""
    for c in outcome.deciding_checks or [c for c in outcome.checks if c.role == "prediction"]:
        return f"{c.name} {c.value:.3g} ({c.op} {c.tolerance:.3g})"
    return outcome.message[:60]


def evidence(status: str, checks: list[dict], message: str = "") -> str:
    """The table's evidence column over seeds: the deciding check (``verify.aggregate``) as
    ``name median [min, max] (op tolerance)``."""
    from verify.aggregate import deciding_summary, fmt_range

    c = deciding_summary(status, checks)
    if c is None:
        return message[:60]
    seeds = f", {c['passed']}/{c['seeds']} ok" if c["seeds"] > 1 and c["passed"] < c["seeds"] else ""
    return f"{c['name']} {fmt_range(c)} ({c['op']} {c['tolerance']:.3g}{seeds})"


def _mark(status: str) -> str:
    return Verdict(status).mark if status in STATUSES else "?"


def seed_marks(statuses: list[str]) -> str:
    """One letter per seed (v verified, F failed, i inconclusive, E error); counts beyond 12 seeds."""
    if len(statuses) <= 12:
        return "".join(_mark(s) for s in statuses)
    counts = {}
    for s in statuses:
        counts[_mark(s)] = counts.get(_mark(s), 0) + 1
    return " ".join(f"{n}{m}" for m, n in counts.items())


def status_text(kind: str, expected: str | None, status: str) -> str:
    """A reading's verdict says whether it is the one the reading expects."""
    if kind != "reading":
        return status
    return f"{status} (as expected)" if status == expected else f"{status} (expected {expected})"


def summary_table(rows: list[dict]) -> str:
    """rows: dicts with ``id``, ``status`` (text), ``seeds`` (marks), ``evidence``, ``seconds``,
    ``cached`` ("" or "k/N"), ``verdict`` (the aggregated status, for the counts)."""
    head = {"id": "claim", "status": "status", "seeds": "seeds", "evidence": "evidence",
            "seconds": "s", "cached": "cached"}
    cols = ["id", "status", "seeds", "evidence"]
    widths = {k: max(len(head[k]), *(len(str(r[k])) for r in rows)) for k in cols + ["cached"]}
    title = "  ".join(f"{head[k]:<{widths[k]}}" for k in cols) + f"  {head['seconds']:>7}  {head['cached']}"
    lines = [title, "-" * len(title)]
    for r in rows:
        lines.append("  ".join(f"{str(r[k]):<{widths[k]}}" for k in cols)
                     + f"  {r['seconds']:7.1f}  {r['cached']}")
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    lines.append("-" * len(title))
    lines.append(", ".join(f"{v} {k}" for k, v in counts.items()) + f"; {len(rows)} claims"
                 + ("; seeds: v verified, F failed, i inconclusive, E error; s: compute seconds "
                    "over seeds (cached seeds count their original cost)"))
    return "\n".join(lines)
