"""The catalogue as Markdown, generated from the claim registry (and, when given, a JSON report).

Used by the documentation build (``docs/hooks.py``) and by ``python -m verify list --markdown`` so
that the catalogue pages are never written by hand: each claim's statement, kind, source, section,
its settings per profile (the frozen settings objects of ``verify.experiments.settings`` that its
module uses), the checks it declares (names, roles and tolerances, read from a report when one is
given) and its derivation (the same steps ``python -m verify show`` prints).
"""
from __future__ import annotations

import json
from pathlib import Path

from verify.registry import Claim, all_claims

_STATUS_MARK = {"verified": "verified", "failed": "**failed**", "inconclusive": "*inconclusive*",
                "error": "**error**"}


def load_report(path: str | Path | None) -> dict[str, dict]:
    """Claim records by id from a JSON report written by ``verify all --json`` (empty if none)."""
    if path is None:
        return {}
    data = json.loads(Path(path).read_text())
    if not isinstance(data, dict) or not isinstance(data.get("claims", []), list):
        raise ValueError("not a verify JSON report (no list of claims)")
    return {rec["id"]: rec for rec in data.get("claims", []) if isinstance(rec, dict) and "id" in rec}


def _status(status: str | None) -> str:
    return _STATUS_MARK.get(status or "", status or "—")


def _seed_cells(record: dict | None, seeds: list[int]) -> list[str]:
    per_seed = {s.get("seed"): s.get("status") for s in (record or {}).get("per_seed", [])}
    return [_status(per_seed.get(seed)) if per_seed else "—" for seed in seeds]


def index_page(report: dict[str, dict], report_name: str | None, seeds: list[int],
               link=lambda claim_id: f"{claim_id}.md", claims: list[Claim] | None = None) -> str:
    lines = ["# The catalogue", "",
             "Every claim the project checks, generated from the claim registry when the documentation "
             "is built. Each row links to the claim's page: its statement, the checks it declares and "
             "the derivation behind its prediction.", ""]
    if report_name:
        lines += [f"Verdicts are those of the report `{report_name}` (kept in `docs/results/`; "
                  "see [Reproducing the results](../reproduce.md) for the command that regenerates it).", ""]
    else:
        lines += ["No results report is kept in `docs/results/` yet: the verdict columns are empty.", ""]
    by_section: dict[str, list[Claim]] = {}
    for claim in all_claims() if claims is None else claims:
        by_section.setdefault(claim.section, []).append(claim)
    seed_heads = [f"seed {s}" for s in seeds]
    for section, claims in by_section.items():
        lines += [f"## {section}", "",
                  "| claim | kind | source | verdict | " + " | ".join(seed_heads) + (" |" if seeds else ""),
                  "|---|---|---|---|" + "---|" * len(seeds)]
        for c in claims:
            rec = report.get(c.id)
            kind = c.kind + (f" (expected {c.expected})" if c.expected else "")
            cells = [f"[`{c.id}`]({link(c.id)})", kind, c.source, _status(rec and rec.get("status"))]
            cells += _seed_cells(rec, seeds)
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def settings_of(claim: Claim) -> dict:
    """The settings objects (``verify.experiments.settings.Settings``) the module that registered
    ``claim`` holds at module level, by name (empty for a claim without any)."""
    import importlib

    from verify.experiments.settings import Settings
    from verify.registry import module_of

    name = module_of(claim)
    if name is None:
        return {}
    module = importlib.import_module(name)
    return {key: value for key, value in vars(module).items()
            if isinstance(value, Settings) and not key.startswith("_")}


def settings_lines(settings: dict) -> list[str]:
    """One table per settings object: each field's quick and full value (nested settings as
    ``outer.inner``)."""
    lines = []
    for name, obj in settings.items():
        lines += [f"`{name}` ({type(obj).__name__})", "", "| setting | quick | full |", "|---|---|---|"]
        lines += [f"| `{field}` | {quick} | {full} |" for field, quick, full in obj.rows()]
        lines.append("")
    return lines


def claim_page(claim: Claim, record: dict | None, has_notes: bool) -> str:
    lines = [f"# `{claim.id}`", "", f"**{claim.title}**", "",
             f"- source: {claim.source}", f"- section: {claim.section}",
             f"- kind: {claim.kind}" + (f", expected verdict `{claim.expected}`" if claim.expected else ""),
             "", "## Statement", "", claim.statement, ""]
    settings = settings_of(claim)
    if settings:
        lines += ["## Settings", "", "The settings objects of the claim's module, per profile:", "",
                  *settings_lines(settings)]
    if record:
        lines += ["## Checks (from the kept report)", "",
                  f"Verdict: {_status(record.get('status'))}"
                  + (f" — {record['message']}" if record.get("message") else ""), "",
                  "| check | role | op | tolerance | value |", "|---|---|---|---|---|"]
        for chk in record.get("checks", []):
            value = chk.get("value")
            if isinstance(chk.get("median"), (int, float)):
                value = chk["median"]
            lines.append(f"| `{chk.get('name')}` | {chk.get('role')} | `{chk.get('op')}` | "
                         f"{chk.get('tolerance')} | {value} |")
        lines.append("")
    lines += ["## Derivation", "", f"What `python -m verify show {claim.id}` prints "
              f"(`--latex` gives LaTeX):", "", "```text"]
    try:
        lines.append(claim.derivation().pretty())
    except Exception as exc:  # a broken derivation is shown, not hidden
        lines.append(f"(the derivation raised {type(exc).__name__}: {exc})")
    lines += ["```", ""]
    if has_notes:
        lines += ["## Lab notes", "", f"Measurements and decisions, dated: [lab notes](../claims/{claim.id}.md).", ""]
    return "\n".join(lines)


def _agree(found: str | None, predicted: str | None) -> str:
    if predicted is None:
        return "—"
    if found is None:
        return "not run"
    return "agrees" if found == predicted else f"**differs** (predicted {predicted})"


def gallery_page(data: dict | None, name: str | None) -> str:
    """The gallery of real optimizers' fingerprints from ``bench/make_gallery.py``'s dated JSON."""
    lines = ["# Gallery: the implicit bias of torch's optimizers", "",
             "`python -m verify optimizer` on every `torch.optim` optimizer that applies, with torch's "
             "defaults and with ε = 0 where it has one (each in a fresh process, quick profile). "
             "`undetermined` is an honest answer: no norm of the family is close enough, or two are too "
             "close to call; the reason is given below the table. Where the literature predicts a bias "
             "for this form of the method, the last columns say whether the fingerprint agrees.", "",
             "Reading it: torch's optimizers receive the gradient of the cross-entropy as a float64 "
             "array, which underflows to exactly 0 once the loss is below about e^−745. With ε = 0 the "
             "adaptive methods then divide 0 by 0 (the network fingerprint's first step already does, "
             "on coordinates whose gradient is 0: an `error` with that reason), so they cannot show the "
             "ℓ∞ limit the theory predicts for Adam with ε = 0; the project's own Adam keeps its second "
             "moment in log space and is identified as ℓ∞ (see the benchmarks). With torch's default ε, "
             "Adam-type methods turn GD-like once the gradient falls below ε and are `undetermined` "
             "within the budget.", ""]
    if not data:
        return "\n".join(lines + ["No gallery results are kept in `docs/results/` yet: run "
                                  "`python bench/make_gallery.py`."])
    lines += [f"From `{name}` ({data.get('date')}, profile {data.get('profile')}; command "
              f"`{data.get('command')}`).", "",
              "| optimizer | binary (separation) | multiclass (separation) | network KKT (separation) | "
              "sharpness e [interval] | agrees with the literature? | source |",
              "|---|---|---|---|---|---|---|"]
    notes = []

    def cell(found, sep):
        if found is None:
            return "—"
        return f"`{found}`" + (f" ({sep:.3g})" if isinstance(sep, (int, float)) else "")

    for row in data.get("optimizers", []):
        ident, sep, lit = row.get("identified", {}), row.get("separation", {}), row.get("literature", {})
        net = row.get("network", {})
        sh = row.get("sharpness", {})
        e = sh.get("exponent")
        interval = sh.get("interval")
        sharp = "—" if not isinstance(e, (int, float)) else (
            f"{e:.3f}" + (f" [{interval[0]:.3f}, {interval[1]:.3f}]" if interval else " (no interval)")
            + ("" if sh.get("status") == "ok" else f" ({sh.get('status')})"))
        agree = "; ".join(f"{m}: {_agree(found, lit.get(m))}" for m, found in
                          (("binary", ident.get("binary")), ("multiclass", ident.get("multiclass")),
                           ("network", net.get("identified"))) if lit.get(m)) or "—"
        lines.append(f"| {row['name']} | {cell(ident.get('binary'), sep.get('binary'))} | "
                     f"{cell(ident.get('multiclass'), sep.get('multiclass'))} | "
                     f"{cell(net.get('identified'), net.get('separation'))} | {sharp} | {agree} | "
                     f"{lit.get('source', '')} |")
        for m in ("binary", "multiclass"):
            if ident.get(m) == "undetermined" and row.get("reason", {}).get(m):
                notes.append(f"- **{row['name']}**, {m}: {row['reason'][m]}")
        if net.get("identified") == "undetermined" and net.get("reason"):
            notes.append(f"- **{row['name']}**, network: {net['reason']}")
        if row.get("status") not in ("ok", "verified") and row.get("message"):
            notes.append(f"- **{row['name']}**: {row['status']} — {row['message']}")
    if notes:
        lines += ["", "## Why undetermined", ""] + notes
    return "\n".join(lines) + "\n"


_CLAIM_LEVEL = ("note", "op", "tolerance", "role", "unit")   # kept once, on the claim-level check


def _compact_seed(entry: dict) -> dict:
    """One seed's entry without ``details``/``figures``, its checks reduced to name, value and
    passed (the rest is on the claim-level check), and the metrics that only repeat a check's value."""
    out = {k: v for k, v in entry.items() if k not in ("details", "figures")}
    if "checks" in entry:
        out["checks"] = [{k: v for k, v in c.items() if k not in _CLAIM_LEVEL} for c in entry["checks"]]
        values = {c.get("name"): c.get("value") for c in entry["checks"]}
        if "metrics" in entry:
            out["metrics"] = {k: v for k, v in entry["metrics"].items()
                              if not (k in values and (values[k] == v or (v != v and values[k] != values[k])))}
    return out


def compact_report(data: dict) -> dict:
    """The report the documentation keeps: everything the catalogue pages read (statuses per seed,
    checks, metrics, tolerances, messages), without each seed's ``details`` tables and figures; each
    seed's checks keep name, value and passed (note, op, tolerance, role are on the claim-level
    check) and its metrics only where they are not a check's value."""
    out = {k: v for k, v in data.items() if k != "claims"}
    out["claims"] = []
    for rec in data.get("claims", []):
        rec = {k: v for k, v in rec.items() if k not in ("details", "figures")}
        rec["per_seed"] = [_compact_seed(s) for s in rec.get("per_seed", [])]
        out["claims"].append(rec)
    return out


if __name__ == "__main__":   # python -m verify.catalogue_markdown REPORT.json OUT.json
    import sys

    if len(sys.argv) != 3:
        sys.exit("usage: python -m verify.catalogue_markdown REPORT.json OUT.json  (the compact copy the docs keep)")
    Path(sys.argv[2]).write_text(json.dumps(compact_report(json.loads(Path(sys.argv[1]).read_text())),
                                            separators=(",", ":"), allow_nan=False) + "\n")
