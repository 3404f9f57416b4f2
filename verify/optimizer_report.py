"""The report of ``verify optimizer``: verdict, terminal output, JSON (docs/commands.md contract), figures
and HTML, from the margin fingerprints (``verify.fingerprint``), the network KKT fingerprint
(``verify.network_fingerprint``) and the sharpness fingerprint (``verify.sharpness_fingerprint``).

Verdicts: without ``--predict``, ``ok`` when both models identify a norm, ``inconclusive`` when a
model is undetermined or never separated the data, ``error`` when the optimizer cannot be loaded or
trained (factory fails, returns a non-optimizer, raises, produces NaN/Inf) in any of the fingerprints.
With ``--predict``, ``verified`` / ``failed`` / ``inconclusive`` per model
(``verify.identification.judge_prediction``), combined: any failed → failed, all verified → verified.
The network and sharpness fingerprints are reported beside the verdict and enter it only by an
error.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from theory.norms import Entrywise, Norm, parse_norm

_STATUS_ORDER = ("error", "failed", "inconclusive", "verified", "ok")


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
    seed: int
    predicted: dict | None = None
    models: dict = field(default_factory=dict)          # model → ModelFingerprint
    network: object = None                              # NetworkFingerprint
    sharpness: object = None                            # SharpnessFingerprint
    load_error: str = ""
    interrupted: bool = False

    # -- verdict -----------------------------------------------------------------------------
    def fail(self, message: str) -> None:
        self.load_error = message

    def model_verdicts(self) -> dict[str, tuple[str, str]]:
        from verify.identification import judge_prediction

        out = {}
        for model, fp in self.models.items():
            if fp.identification is None:
                out[model] = ("error" if fp.status == "error" else "inconclusive",
                              f"{model}: {fp.message}")
            elif self.predicted is None:
                out[model] = ("ok" if fp.status == "identified" else "inconclusive",
                              f"{model}: {fp.identification.describe()}")
            else:
                name = self.predicted[model].name
                verdict = judge_prediction(name, fp.identification, fp.member.increment_gaps[-1])
                out[model] = (verdict.status, f"{model}: {verdict.message}")
        return out

    def verdict(self) -> tuple[str, str]:
        if self.load_error:
            return "error", self.load_error
        verdicts = self.model_verdicts()
        if not verdicts:
            return "inconclusive", "interrupted before any fingerprint finished"
        if self.network is not None and self.network.status == "error":
            verdicts["network"] = ("error", f"network: {self.network.message}")
        if self.sharpness is not None and self.sharpness.status == "error":
            verdicts["sharpness"] = ("error", f"sharpness: {self.sharpness.message}")
        statuses = [s for s, _ in verdicts.values()]
        status = min(statuses, key=_STATUS_ORDER.index)
        if self.interrupted or len(self.models) < 2:
            status = status if status in ("error", "failed") else "inconclusive"
        message = "; ".join(m for s, m in verdicts.values() if s not in ("ok", "verified"))
        if self.interrupted:
            message = "interrupted; " + message if message else "interrupted"
        return status, message

    # -- JSON --------------------------------------------------------------------------------
    def result(self) -> dict:
        from verify.fingerprint import MODELS, SETTINGS
        from verify.identification import UNDETERMINED

        status, message = self.verdict()
        out = {"spec": self.spec, "status": status, "message": message, "profile": self.profile,
               "seed": self.seed,
               "identified": {m: (self.models[m].identified if m in self.models else UNDETERMINED)
                              for m in MODELS},
               "ratios": {m: fp.ratios for m, fp in self.models.items()},
               "increment_ratios": {m: fp.increment_ratios for m, fp in self.models.items()},
               "schedule": {
                   "rule": f"lr = eta_t = eta0 * t^(-{SETTINGS['decay']:g}) on every param group "
                           f"before every step, eta0 swept per model; divided by the loss L(W_t) "
                           f"when the optimizer's step is proportional to the gradient (measured "
                           f"step degree >= {SETTINGS['degree_threshold']:g})",
                   **{m: (fp.member.describe() if fp.member else None)
                      for m, fp in self.models.items()}},
               "steps": {m: (fp.member.steps[-1] if fp.member and fp.member.steps else 0)
                         for m, fp in self.models.items()},
               "models": {m: fp.record() for m, fp in self.models.items()},
               "interrupted": self.interrupted}
        if self.predicted is not None:
            out["prediction"] = {"norms": {m: n.name for m, n in self.predicted.items()},
                                 "verdicts": {m: {"status": s, "message": msg}
                                              for m, (s, msg) in self.model_verdicts().items()}}
        if self.network is not None:
            out["network"] = self.network.record()
        if self.sharpness is not None:
            out["sharpness"] = self.sharpness.record()
        return out

    # -- terminal ----------------------------------------------------------------------------
    def print_model(self, model: str) -> None:
        fp = self.models[model]
        desc = fp.problem
        shape = f"w handed over as a 1×{desc['d']} matrix" if model == "binary" else \
            f"W of shape {desc['k']}×{desc['d']}"
        print(f"{model}: {desc['generator'].split('.')[-1]} "
              + ", ".join(f"{k}={v}" for k, v in desc.items() if k != "generator") + f"; {shape}")
        m = fp.member
        if m is None:
            print(f"  {fp.status}: {fp.message}")
            return
        print(f"  step degree   {fp.step_degree:.2f} (Δ(c·g) = c^k Δ(g) on the first step; k ≥ 0.5: "
              f"lr divided by L(W_t))")
        print(f"  selected run  {m.describe()}, {m.steps[-1]} steps"
              + (f" ({m.message})" if m.message else ""))
        print(f"  identified    {fp.identification.describe()}")
        print(f"  {'norm':<15}{'ratio W_T':>12}{'ratio ΔW':>12}   (ΔW = W_T − W_(T/10); ratio = "
              f"γ_N / γ*_N)")
        ratios, inc = fp.ratios, fp.increment_ratios
        for n in fp.norms:
            mark = "  <" if n == fp.identification.best else ""
            print(f"  {n:<15}{ratios[n]:>12.5f}{inc[n]:>12.5f}{mark}")
        print(f"  gap decay     slope {fp.decay_exponent():.2f} of log gap vs log t over the last decade "
              f"(NSD bound of Fan et al. 2025: −0.5 up to logs)")

    def print_network(self) -> None:
        from verify.network_fingerprint import SETTINGS, label

        nf, c = self.network, SETTINGS["clusters"]
        print(f"network: two-layer {SETTINGS['activation']} net, width {SETTINGS['width']}, "
              f"{c['k']} clusters in R^{c['d']} ({c['k'] * c['per_cluster']} points); W and u handed over as "
              f"two matrices")
        if nf.run is None:
            print(f"  {nf.status}: {nf.message}")
            return
        print(f"  step degree   {nf.step_degree:.2f}; {nf.schedule}")
        print(f"  identified    {nf.summary()}")
        if nf.predicted or nf.prediction_note:
            print(f"  predicted     {nf.prediction()}")
        print(f"  {'norm':<20}{'':<42}{'KKT residual':>14}")
        for name in nf.norms:
            mark = "  <" if name == nf.identification.best else ""
            short = label(name) if label(name) != name else "predicted"     # a --predict outside the family
            print(f"  {short:<20}{name:<42}{nf.run.residuals[name]:>14.4g}{mark}")

    def print_sharpness(self) -> None:
        sh = self.sharpness
        print(f"sharpness: label-noise diagonal net, constant lr = {2 * sh.eta:g} and {sh.eta:g}, "
              f"{sh.steps} steps in all × {sh.replicas} replicas")
        print(f"  {sh.summary()}")

    # -- outputs -----------------------------------------------------------------------------
    def figures(self) -> list[dict]:
        from verify import fingerprint, network_fingerprint, sharpness_fingerprint

        out = [f for fp in self.models.values() for f in fingerprint.figures(fp)]
        if self.network is not None:
            out += network_fingerprint.figures(self.network)
        if self.sharpness is not None:
            out += sharpness_fingerprint.figures(self.sharpness)
        return out

    def finish(self, args, seconds: float) -> int:
        from verify import figures as figs
        from verify.output import write_or_report
        from verify.report import environment, jsonable

        status, message = self.verdict()
        print(f"verdict: {status}" + (f" — {message}" if message else "") + f"  ({seconds:.1f}s)")
        payload = {"result": {**self.result(), "seconds": seconds},
                   "environment": environment(self.profile, self.seed)}
        specs = self.figures()
        written = True
        if args.figures and specs:
            paths = []
            written = write_or_report(args.figures, lambda d: paths.extend(
                str(figs.render(s, Path(d), "optimizer")) for s in specs), option="--figures")
            payload["result"]["figures"] = paths
        written &= write_or_report(args.json, payload, option="--json")
        if args.html:
            from verify.html import write_html

            written &= write_or_report(args.html, lambda p: write_html(
                p, f"Implicit-bias fingerprint of {self.spec}", self.sections(specs), jsonable(payload)),
                option="--html")
        if self.interrupted:
            return 130
        if not written:             # as `run`/`all`: the verdict was printed, an output is missing
            return 1
        return 0 if status in ("ok", "verified") else 1

    def sections(self, specs: list[dict]):
        from verify.html import Section, Table

        status, message = self.verdict()
        head = Section("Verdict", status, [message or "every model identified a norm",
                                           f"profile {self.profile}, seed {self.seed}"])
        secs = [head]
        for model, fp in self.models.items():
            sec = Section(f"Margin fingerprint: {model}", fp.status,
                          [fp.identification.describe() if fp.identification else fp.message])
            if fp.member is not None:
                sec.text.append(f"step degree {fp.step_degree:.2f} (Δ(c·g) = c^k Δ(g) on the first "
                                f"step; k ≥ 0.5: lr divided by the loss L(W_t))")
                sec.text.append(f"selected run: {fp.member.describe()}, "
                                f"{fp.member.steps[-1]} steps")
                sec.tables.append(Table(["norm", "γ*_N (certified)", "ratio W_T", "ratio ΔW"],
                                        [[n, fp.solutions[n]["margin"], fp.ratios[n],
                                          fp.increment_ratios[n]] for n in fp.norms]))
                sec.tables.append(Table(["η₀", "steps", "best", "best gap", "runner-up", "separation",
                                         "note"],
                                        [[s["eta0"], s["steps"], s.get("best"), s.get("best_gap"),
                                          s.get("runner_up"), s.get("separation"),
                                          s["message"] or s["status"]]
                                         for s in (m.summary(fp.identification.threshold)
                                                   for m in fp.members)]))
            sec.figures = [s for s in specs if s["name"].startswith(model)]
            secs.append(sec)
        if self.network is not None:
            nf = self.network
            sec = Section("Network KKT fingerprint", nf.status, [nf.summary(), nf.schedule,
                                                                 f"step degree {nf.step_degree:.2f}"]
                          + ([f"predicted: {nf.prediction()}"] if nf.predicted or nf.prediction_note else []))
            if nf.runs:
                sec.tables.append(Table(["η₀", "steps", "log L", "last step Δlog L", "min margin", "note"]
                                        + nf.norms,
                                        [[r.eta0, r.steps, r.log_loss, r.log_loss_step, r.min_margin,
                                          r.message or r.status]
                                         + [r.residuals.get(n, float("nan")) for n in nf.norms]
                                         for r in nf.runs]))
            sec.figures = [s for s in specs if s["name"].startswith("network")]
            secs.append(sec)
        if self.sharpness is not None:
            sh = self.sharpness
            secs.append(Section("Sharpness fingerprint", sh.status,
                                [sh.summary(), f"constant lr = {2 * sh.eta:g} and {sh.eta:g}, "
                                               f"{sh.steps} steps in all, {sh.replicas} replicas"],
                                figures=[s for s in specs if s["name"].startswith("sharpness")]))
        return secs
