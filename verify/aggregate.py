"""One verdict over seeds, for the whole catalogue.

Each seed's outcome is a plain record (``verify.tasks.outcome_data``): ``seed``, ``status``,
``checks`` (name, value, op, tolerance, role, passed, note), ``metrics``, ``message``. The rule:

- ``verified`` iff verified on every seed;
- ``failed`` iff a prediction or a negative control is contradicted (the seed's outcome is
  ``failed``) on a strict majority of the seeds whose preconditions held (seeds that are
  ``verified`` or ``failed``; inconclusive and error seeds decide nothing);
- ``error`` iff the check broke on every seed;
- otherwise ``inconclusive``, with ``k/N seeds verified`` in the message.

A seed that errors keeps the other seeds' results. Numbers over seeds are NaN-propagating: a
metric's median, and each check's median, minimum and maximum, are NaN when any seed's value is.
"""
from __future__ import annotations

import numpy as np

RULE = ("verdict over seeds: verified iff verified on every seed; failed iff a prediction or control "
        "is contradicted on a strict majority of the seeds whose preconditions held; error iff the "
        "check broke on every seed; otherwise inconclusive (k/N seeds verified). Numbers are the "
        "median [min, max] over seeds.")


def _value(v) -> float:
    return float("nan") if v is None else float(v)


def aggregate_status(statuses: list[str]) -> str:
    n = len(statuses)
    if n == 0:
        return "error"
    if all(s == "verified" for s in statuses):
        return "verified"
    if all(s == "error" for s in statuses):
        return "error"
    decided = [s for s in statuses if s in ("verified", "failed")]
    failed = sum(s == "failed" for s in decided)
    if decided and 2 * failed > len(decided):
        return "failed"
    return "inconclusive"


def check_summaries(per_seed: list[dict]) -> list[dict]:
    """Each check (by name, in order of first appearance) over the seeds that report it: median,
    min, max of its value (NaN-propagating), how many seeds passed it, its tolerance."""
    order: list[str] = []
    by_name: dict[str, list[dict]] = {}
    for rec in per_seed:
        for c in rec.get("checks", []):
            if c["name"] not in by_name:
                order.append(c["name"])
                by_name[c["name"]] = []
            by_name[c["name"]].append(c)
    out = []
    for name in order:
        cs = by_name[name]
        values = np.array([_value(c["value"]) for c in cs], dtype=float)
        tolerances = np.array([_value(c["tolerance"]) for c in cs], dtype=float)
        first = cs[0]
        summary = {"name": name, "role": first["role"], "op": first["op"],
                   "tolerance": float(np.median(tolerances)),
                   "median": float(np.median(values)), "min": float(np.min(values)),
                   "max": float(np.max(values)), "passed": int(sum(bool(c["passed"]) for c in cs)),
                   "seeds": len(cs), "note": first.get("note", ""),
                   "deciding": int(sum(bool(c.get("deciding")) for c in cs))}
        if first.get("unit"):
            summary["unit"] = first["unit"]
        if np.ptp(tolerances) > 0 or np.isnan(tolerances).any():
            summary["tolerance_range"] = [float(np.min(tolerances)), float(np.max(tolerances))]
        out.append(summary)
    return out


def median_metrics(per_seed: list[dict]) -> dict[str, float]:
    """name → median over the seeds that report it (NaN if any of them is NaN)."""
    values: dict[str, list[float]] = {}
    for rec in per_seed:
        for name, v in rec.get("metrics", {}).items():
            if isinstance(v, (int, float)) or v is None:
                values.setdefault(name, []).append(_value(v))
    return {name: float(np.median(np.array(vs, dtype=float))) for name, vs in values.items()}


def _seed_note(rec: dict, width: int = 160) -> str:
    text = rec.get("message") or rec["status"]
    text = text if len(text) <= width else text[: width - 1] + "…"
    return f"seed {rec['seed']} {rec['status']}: {text}"


def aggregate(per_seed: list[dict]) -> dict:
    """status, message, metrics (medians), tolerances and check summaries over the seeds."""
    statuses = [r["status"] for r in per_seed]
    status = aggregate_status(statuses)
    n, k = len(statuses), sum(s == "verified" for s in statuses)
    checks = check_summaries(per_seed)
    tolerances = {c["name"]: c["tolerance"] for c in checks if c["role"] != "info"}
    notes = [_seed_note(r) for r in per_seed if r["status"] != "verified"]
    message = "" if status == "verified" else "; ".join([f"{k}/{n} seeds verified"] + notes)
    if status == "verified":
        seed_messages = [r.get("message", "") for r in per_seed if r.get("message")]
        message = seed_messages[0] if seed_messages and n == 1 else ""
    return {"status": status, "message": message, "metrics": median_metrics(per_seed),
            "tolerances": tolerances, "checks": checks, "verified_seeds": k}


def deciding_summary(status: str, checks: list[dict]) -> dict | None:
    """The check that best explains an aggregated verdict: for ``failed`` the prediction or control
    missed on most seeds, for ``inconclusive`` the precondition missed on most seeds (else the
    decisive check missed on most), for ``verified`` the first prediction. Among those, a check that
    decided its seed's verdict on the most seeds wins (``deciding``: a failed unit's miss, not an
    inconclusive unit's)."""
    def missed(c):
        return c["seeds"] - c["passed"]

    if status == "verified":
        preds = [c for c in checks if c["role"] == "prediction"]
        return preds[0] if preds else None
    decisive = [c for c in checks if c["role"] in ("prediction", "control") and missed(c)]
    pre = [c for c in checks if c["role"] == "precondition" and missed(c)]
    pool = (decisive if status == "failed" else pre or decisive)
    # a seed's deciding checks (``Outcome.deciding_checks``: for a failed multi-unit claim, the misses
    # of the units that failed, not an inconclusive unit's) come first; reports without the count
    # fall back to the misses
    deciding = [c for c in pool if c.get("deciding")]
    if deciding:
        return max(deciding, key=lambda c: (c["deciding"], missed(c)))
    return max(pool, key=missed) if pool else None


def fmt_range(c: dict) -> str:
    """``median [min, max]`` (the median alone when one seed)."""
    if c["seeds"] == 1 or (c["min"] == c["max"]):
        return f"{c['median']:.3g}"
    return f"{c['median']:.3g} [{c['min']:.3g}, {c['max']:.3g}]"


def meets_expectation(kind: str, expected: str | None, status: str) -> bool:
    """Paper results and the project's extensions must be verified; a reading must get the verdict
    it declares."""
    if kind == "reading":
        return status == expected
    return status == "verified"

