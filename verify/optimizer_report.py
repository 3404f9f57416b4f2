"""The report of ``verify optimizer`` over seeds: verdict, terminal output, JSON (docs/commands.md
contract), figures and HTML, from the plain results of the fingerprint parts
(``verify.optimizer_tasks``: margin binary and multiclass, network KKT, sharpness; one per seed).

Verdicts use the catalogue's vocabulary. On one seed: ``verified`` when both models identify a norm
(with ``--predict``: identify the predicted one), ``failed`` (``--predict`` only) when another norm
is clearly closer in a model, ``inconclusive`` when a model is undetermined or never separated the
data, ``error`` when the optimizer cannot be loaded or trained (factory fails, returns a
non-optimizer, raises, produces NaN/Inf) in any of the fingerprints; the worst of the models'
verdicts (error, failed, inconclusive, verified) is the seed's. The network and sharpness
fingerprints are reported beside the verdict and enter it only by an error. Over seeds: the
catalogue's rule (``verify.aggregate``), and without ``--predict`` the seeds must also identify
the same norm in each model (else ``inconclusive``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from theory.norms import Entrywise, Norm, parse_norm
from verify.aggregate import RULE
from verify.outcome import Verdict

MARGIN_PARTS = ("binary", "multiclass")
OPTIMIZER_RULE = (RULE + " A seed is verified when both models identify a norm (with --predict: the "
                  "predicted one); without --predict the seeds must also identify the same norm in each "
                  "model, else inconclusive.")


def vector_restriction(norm: Norm) -> Norm:
    """The ℓp norm that equals ``norm`` on 1×d matrices (the binary model's w as one row):
    entrywise:p → lp:p; every Schatten norm → lp:2 (a 1×d matrix has the single singular value
    ‖w‖₂). Found by evaluation on random rows, not assumed."""
    p = getattr(norm, "p", None)
    candidates = [Entrywise(p, vector=True)] if p is not None else []
    candidates.append(parse_norm("lp:2", "binary"))
    rows = np.random.default_rng(0).standard_normal((5, 7))
    for cand in candidates:
        if all(math.isclose(norm.value(r[None, :]), cand.value(r), rel_tol=1e-12) for r in rows):
            return cand
    raise ValueError(f"{norm.name} has no ℓp restriction to vectors among {[c.name for c in candidates]}")


def predicted_norms(text: str) -> dict[str, Norm]:
    """``--predict NORM``: the matrix norm for the multiclass model and its vector restriction."""
    matrix = parse_norm(text, "multiclass")
    return {"multiclass": matrix, "binary": vector_restriction(matrix)}


@dataclass
class Report:
    spec: str
    profile: str
    seeds: list | int
    predicted: dict | None = None                       # model → Norm (--predict)
    results: dict = field(default_factory=dict)         # (seed, part) → plain part result
    load_error: str = ""
    interrupted: bool = False
    executor: str = "in-process"

    def __post_init__(self):
        if isinstance(self.seeds, int):
            self.seeds = [self.seeds]
        self.seeds = [int(s) for s in self.seeds]

    # -- results -----------------------------------------------------------------------------
    def fail(self, message: str) -> None:
        self.load_error = message

    def add(self, result: dict, stream=None) -> None:
        """Keep one part's plain result and print its lines (prefixed by the seed when several)."""
        import sys

        if result.get("load_error"):
            self.fail(result["load_error"])
            return
        self.results[(int(result["seed"]), result["part"])] = result
        lines = list(result.get("lines", []))
        if lines and len(self.seeds) > 1:
            lines[0] = f"[seed {result['seed']}] {lines[0]}"
        if lines:
            print("\n".join(lines), file=stream or sys.stdout, flush=True)

    def part_error(self, seed: int, part: str, message: str) -> dict:
        """The result of a part whose task did not come back (its worker died, the cluster went away)."""
        from numerics.run_status import RunStatus

        return {"part": part, "seed": int(seed), "status": RunStatus.ERROR, "interrupted": False,
                "verdict": {"status": Verdict.ERROR, "message": f"{part}: {message}"}, "checks": [],
                "lines": [f"{part}: error: {message}"],
                "section": {"heading": part, "status": RunStatus.ERROR, "text": [message], "tables": []},
                "figures": []}

    def of_seed(self, seed: int) -> dict:
        return {p: r for (s, p), r in self.results.items() if s == seed}

    # -- verdicts ----------------------------------------------------------------------------
    def seed_verdict(self, seed: int) -> tuple[str, str]:
        if self.load_error:
            return Verdict.ERROR, self.load_error
        parts = self.of_seed(seed)
        verdicts = {p: (parts[p]["verdict"]["status"], parts[p]["verdict"]["message"])
                    for p in MARGIN_PARTS if p in parts}
        for p in ("network", "sharpness"):
            if p in parts and parts[p]["verdict"]["status"] == Verdict.ERROR:
                verdicts[p] = (Verdict.ERROR, parts[p]["verdict"]["message"])
        if not verdicts:
            return Verdict.INCONCLUSIVE, "no fingerprint finished"
        status = Verdict.worst(s for s, _ in verdicts.values())
        incomplete = [p for p in MARGIN_PARTS if p not in parts or parts[p].get("interrupted")]
        if incomplete and status not in (Verdict.ERROR, Verdict.FAILED):
            status = Verdict.INCONCLUSIVE
        message = "; ".join(m for s, m in verdicts.values() if s != Verdict.VERIFIED)
        if incomplete:
            note = f"{' and '.join(incomplete)} did not finish"
            message = f"{note}; {message}" if message else note
        return status, message

    def seed_record(self, seed: int) -> dict:
        """One seed as the catalogue's per-seed record: ``seed``, ``status``, ``message``, ``checks``
        and ``metrics``, plus the fingerprints' own records."""
        status, message = self.seed_verdict(seed)
        parts = self.of_seed(seed)
        rec = {"seed": seed, "status": status, "message": message,
               "checks": [c for p in ("binary", "multiclass", "network", "sharpness") if p in parts
                          for c in parts[p].get("checks", [])],
               "metrics": {k: v for p in parts.values() for k, v in p.get("metrics", {}).items()},
               "identified": {p: parts[p]["identified"] for p in ("binary", "multiclass", "network")
                              if p in parts and "identified" in parts[p]},
               "models": {m: parts[m]["record"] for m in MARGIN_PARTS if "record" in parts.get(m, {})},
               "seconds": round(sum(p.get("seconds", 0.0) for p in parts.values()), 3),
               "interrupted": any(p.get("interrupted") for p in parts.values())}
        for p in ("network", "sharpness"):
            if "record" in parts.get(p, {}):
                rec[p] = parts[p]["record"]
        return rec

    def verdict(self) -> tuple[str, str, dict]:
        """(status, message, the aggregation over seeds: ``verify.aggregate.aggregate``)."""
        from verify.aggregate import aggregate

        per_seed = [self.seed_record(s) for s in self.seeds]
        agg = aggregate(per_seed)
        status = agg["status"]
        message = per_seed[0]["message"] if len(per_seed) == 1 else agg["message"]
        if len(per_seed) > 1 and status != Verdict.VERIFIED and \
                len({(r["status"], r["message"]) for r in per_seed}) == 1:     # the same on every seed
            message = f"0/{len(per_seed)} seeds verified; every seed {per_seed[0]['status']}: {per_seed[0]['message']}"
        if self.load_error:
            status, message = Verdict.ERROR, self.load_error
        elif status == Verdict.VERIFIED and self.predicted is None:
            split = [m for m in MARGIN_PARTS if len({r["identified"].get(m) for r in per_seed}) > 1]
            if split:
                status = Verdict.INCONCLUSIVE
                message = "; ".join(f"{m}: the seeds identify different norms ("
                                    + ", ".join(f"seed {r['seed']} {r['identified'].get(m)}" for r in per_seed)
                                    + ")" for m in split)
        if self.interrupted:
            message = "interrupted; " + message if message else "interrupted"
        return status, message, dict(agg, per_seed=per_seed)

    def consensus(self, part: str) -> str:
        """The norm every seed identifies in ``part``, else ``undetermined``."""
        from verify.identification import UNDETERMINED

        names = {self.results[(s, part)].get("identified") if (s, part) in self.results else None
                 for s in self.seeds}
        return names.pop() if len(names) == 1 and None not in names else UNDETERMINED

    # -- JSON --------------------------------------------------------------------------------
    def _median_ratios(self, key: str) -> dict:
        out = {}
        for m in MARGIN_PARTS:
            records = [self.results[(s, m)]["record"] for s in self.seeds
                       if "record" in self.results.get((s, m), {})]
            if not records:
                continue
            names = list(dict.fromkeys(n for r in records for n in r[key]))
            out[m] = {n: float(np.median(np.array([r[key].get(n, math.nan) for r in records], dtype=float)))
                      for n in names}
        return out

    @staticmethod
    def _seed_entry(rec: dict) -> dict:
        """The catalogue's per-seed entry (``verify.report.seed_entry``; nothing is cached here), with
        the seed's identifications and fingerprints."""
        from verify.report import seed_entry

        entry = {k: v for k, v in seed_entry(rec).items() if k != "cached"}
        return dict(entry, **{k: rec[k] for k in ("identified", "models", "network", "sharpness", "interrupted")
                              if k in rec})

    def result(self) -> dict:
        from verify.fingerprint import SETTINGS

        status, message, agg = self.verdict()
        first = self.seeds[0]
        models = {m: self.results[(first, m)]["record"] for m in MARGIN_PARTS
                  if "record" in self.results.get((first, m), {})}
        out = {"spec": self.spec, "status": status, "message": message, "profile": self.profile,
               "seed": first, "seeds": list(self.seeds), "aggregation": OPTIMIZER_RULE,
               "identified": {m: self.consensus(m) for m in MARGIN_PARTS},
               "ratios": self._median_ratios("ratios"),
               "increment_ratios": self._median_ratios("increment_ratios"),
               "schedule": {
                   "rule": f"lr = eta_t = eta0 * t^(-{SETTINGS['decay']:g}) on every param group "
                           f"before every step, eta0 swept per model; divided by the loss L(W_t) "
                           f"when the optimizer's step is proportional to the gradient (measured "
                           f"step degree >= {SETTINGS['degree_threshold']:g})",
                   **{m: rec["schedule"] for m, rec in models.items()}},
               "steps": {m: rec["steps"] for m, rec in models.items()},
               "models": models, "checks": agg["checks"], "metrics": agg["metrics"],
               "per_seed": [self._seed_entry(r) for r in agg["per_seed"]],
               "executor": self.executor, "interrupted": self.interrupted}
        if self.predicted is not None:
            from verify.aggregate import aggregate_status

            verdicts = {}
            for m in MARGIN_PARTS:
                done = [(s, self.results[(s, m)]["verdict"]) for s in self.seeds if (s, m) in self.results]
                if not done:
                    continue
                verdicts[m] = {"status": aggregate_status([v["status"] for _, v in done]),
                               "message": done[0][1]["message"] if len(self.seeds) == 1 else
                               "; ".join(f"seed {s}: {v['message']}" for s, v in done)}
            out["prediction"] = {"norms": {m: n.name for m, n in self.predicted.items()}, "verdicts": verdicts}
        for part in ("network", "sharpness"):
            if "record" in self.results.get((first, part), {}):
                out[part] = self.results[(first, part)]["record"]
        return out

    # -- terminal ----------------------------------------------------------------------------
    def print_summary(self, stream=None) -> None:
        """Over several seeds: each seed's verdict, then every check as median [min, max]."""
        import sys

        from verify.aggregate import fmt_range
        from verify.seeds import describe

        stream = stream or sys.stdout
        if len(self.seeds) < 2 or self.load_error:
            return
        _, _, agg = self.verdict()
        print(f"\nprofile {self.profile}, seeds {describe(self.seeds)}; {OPTIMIZER_RULE}", file=stream)
        print("seeds: " + ", ".join(f"{r['seed']} {r['status']}" for r in agg["per_seed"]), file=stream)
        for m in MARGIN_PARTS + ("network",):
            names = [r["identified"].get(m) for r in agg["per_seed"] if m in r["identified"]]
            if names:
                print(f"  {m}: identified " + ", ".join(names), file=stream)
        for c in agg["checks"]:
            seeds = f"{c['passed']}/{c['seeds']} seeds"
            verdict = f"{seeds} within" if c["role"] == "info" else \
                ("ok" if c["passed"] == c["seeds"] else "MISS") + f"; {seeds} ok"
            print(f"    [{c['role']}] {c['name']} = {fmt_range(c)} ({c['op']} {c['tolerance']:.4g}: {verdict})",
                  file=stream)
        for name, value in agg["metrics"].items():
            values = [r["metrics"][name] for r in agg["per_seed"] if name in r["metrics"]]
            print(f"    {name} = {value:.3g} (median of " + ", ".join(f"{v:.3g}" for v in values) + ")",
                  file=stream)
        stream.flush()

    # -- outputs -----------------------------------------------------------------------------
    def _ordered(self) -> list[dict]:
        order = {p: i for i, p in enumerate(("binary", "multiclass", "network", "sharpness"))}
        return [self.results[k] for k in sorted(self.results, key=lambda k: (self.seeds.index(k[0])
                                                                               if k[0] in self.seeds else 0,
                                                                               order.get(k[1], 9)))]

    def finish(self, args, seconds: float) -> int:
        from verify import figures as figs
        from verify.output import write_or_report
        from verify.report import environment, jsonable

        self.print_summary()
        status, message, _ = self.verdict()
        print(f"verdict: {status}" + (f" — {message}" if message else "") + f"  ({seconds:.1f}s)", flush=True)
        one = len(self.seeds) == 1
        payload = {"result": {**self.result(), "seconds": seconds},
                   "environment": environment(self.profile, self.seeds[0] if one else None, self.seeds)}
        written = True
        if args.figures and any(r.get("figures") for r in self.results.values()):
            paths = []

            def render(d):
                for r in self._ordered():
                    prefix = "optimizer" if one else f"optimizer-seed{r['seed']}"
                    paths.extend(str(figs.render(s, Path(d), prefix)) for s in r.get("figures", []))

            written = write_or_report(args.figures, render, option="--figures")
            payload["result"]["figures"] = paths
        written &= write_or_report(args.json, payload, option="--json")
        if args.html:
            from verify.html import write_html

            written &= write_or_report(args.html, lambda p: write_html(
                p, f"Implicit-bias fingerprint of {self.spec}", self.sections(), jsonable(payload)),
                option="--html")
        if self.interrupted:
            return 130
        if not written:             # as `run`/`all`: the verdict was printed, an output is missing
            return 1
        return 0 if status == Verdict.VERIFIED else 1

    def sections(self):
        """The claim pipeline's HTML (``verify.runner.html_sections``: a summary row and the checks
        over seeds), then each seed's identifications and each part's own section."""
        from verify.html import Section, Table
        from verify.runner import html_sections

        status, message, agg = self.verdict()
        record = {"id": "optimizer", "title": f"implicit-bias fingerprint of {self.spec}",
                  "source": self.spec, "section": f"{self.executor}", "statement": OPTIMIZER_RULE,
                  "status": status, "message": message or "every model identified a norm on every seed",
                  "checks": agg["checks"], "per_seed": agg["per_seed"],
                  "seconds": round(sum(r["seconds"] for r in agg["per_seed"]), 3)}
        secs = html_sections([record], self.profile, self.seeds, interrupted=self.interrupted)
        secs[-1].tables.insert(0, Table(["seed", "status", "binary", "multiclass", "network", "sharpness e",
                                         "message"],
                                        [[r["seed"], r["status"], r["identified"].get("binary"),
                                          r["identified"].get("multiclass"), r["identified"].get("network"),
                                          r["metrics"].get("sharpness: exponent e"), r["message"]]
                                         for r in agg["per_seed"]]))
        for r in self._ordered():
            sec = r.get("section") or {"heading": r["part"], "status": r["status"], "text": [], "tables": []}
            heading = sec["heading"] if len(self.seeds) == 1 else f"seed {r['seed']}: {sec['heading']}"
            secs.append(Section(heading, sec["status"], list(sec["text"]),
                                [Table(t["header"], t["rows"]) for t in sec["tables"]],
                                list(r.get("figures", []))))
        return secs
