"""Reports: the JSON contract of DESIGN.md (written atomically), records of claims, summary table."""
from __future__ import annotations

import json
import math
import os
import platform
import tempfile
from importlib import metadata
from pathlib import Path

import numpy as np

from verify.outcome import Outcome

_PACKAGES = ("implicit-bias-verify", "numpy", "scipy", "sympy", "cvxpy", "clarabel", "torch")


def environment(profile: str | None = None, seed: int | None = None) -> dict:
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

    write_text(path, json.dumps(jsonable(payload), indent=1, allow_nan=False), "--json")


def claim_record(claim, outcome: Outcome, seconds: float) -> dict:
    record = {"id": claim.id, "title": claim.title, "source": claim.source, "section": claim.section,
              "status": outcome.status, "metrics": outcome.metrics, "tolerances": outcome.tolerances,
              "seconds": round(seconds, 3), "checks": [
                  {"name": c.name, "value": c.value, "op": c.op, "tolerance": c.tolerance,
                   "role": c.role, "passed": c.passed, "note": c.note} for c in outcome.checks]}
    if outcome.status != "verified" or outcome.message:
        record["message"] = outcome.message
    if outcome.details:
        record["details"] = outcome.details
    return record


def headline(outcome: Outcome) -> str:
    """The table's evidence column: the first check that decides a verdict other than `verified` (a
    missed precondition for `inconclusive`, a missed prediction or control for `failed`), else the
    first prediction."""
    for c in outcome.deciding_checks or [c for c in outcome.checks if c.role == "prediction"]:
        return f"{c.name} {c.value:.3g} ({c.op} {c.tolerance:.3g})"
    return outcome.message[:60]


def summary_table(rows: list[tuple[str, str, str, float]]) -> str:
    """rows: (claim id, status, evidence, seconds)."""
    head = ("claim", "status", "evidence", "s")
    widths = [max(len(head[i]), *(len(r[i]) for r in rows)) for i in range(3)]
    lines = [f"{head[0]:<{widths[0]}}  {head[1]:<{widths[1]}}  {head[2]:<{widths[2]}}  {head[3]:>6}"]
    lines.append("-" * len(lines[0]))
    for r in rows:
        lines.append(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]:6.1f}")
    counts = {}
    for r in rows:
        counts[r[1]] = counts.get(r[1], 0) + 1
    lines.append("-" * len(lines[0]))
    lines.append(", ".join(f"{v} {k}" for k, v in counts.items()) + f"; {len(rows)} claims")
    return "\n".join(lines)
