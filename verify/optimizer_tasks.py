"""The tasks of ``verify optimizer``: one fingerprint part (margin binary, margin multiclass, network
KKT, sharpness) on one seed, run by :func:`run_part` on any executor (``verify.executors``).

A task carries the SPEC *text* (a file SPEC made absolute), never the user's factory: the process
that runs the task loads the factory itself (``verify.spec.load_factory``, once per process and
SPEC), so a Dask worker needs the package and the user's code, not a pickled callable. The result
is plain data: the fingerprint's JSON record, the part's verdict and its checks in the catalogue's
format (``verify.tasks.outcome_data``: name, value, op, tolerance, role, passed, note), the lines
the terminal prints, the HTML section and the figure specs.

A part's verdict, in the catalogue's vocabulary (docs/commands.md):

- margin parts without ``--predict``: ``verified`` when the model identifies a norm (the
  prediction "the late iterates approach one norm's max margin, separated from the runner-up by
  the calibrated factor" holds), ``inconclusive`` when the identification is ``undetermined`` or
  no run separated the data, ``error`` when the optimizer cannot be trained;
- margin parts with ``--predict``: ``verify.identification.judge_prediction`` (``verified``,
  ``failed``, ``inconclusive``), ``error`` as above;
- network and sharpness parts are reported beside the verdict and enter it only by an ``error``.
"""
from __future__ import annotations

import math
import os
import time

from verify.tasks import CallTask, plain, seed_globals

FUNCTION = "verify.optimizer_tasks:run_part"
MARGIN_PARTS = ("binary", "multiclass")
PARTS = MARGIN_PARTS + ("network", "sharpness")

_FACTORIES: dict[str, object] = {}          # SPEC text → factory, per process


class PartInterrupted(KeyboardInterrupt):
    """Ctrl-C during a part run in this process; ``partial`` is the plain result measured so far."""

    def __init__(self, partial: dict):
        super().__init__("interrupted")
        self.partial = partial


def task_spec_text(text: str) -> str:
    """The SPEC a task carries: a file SPEC with its path made absolute (a worker's working
    directory may differ), a module SPEC unchanged."""
    from verify.spec import parse_spec

    spec = parse_spec(text)
    if spec.path is None:
        return spec.text
    return f"{os.path.abspath(spec.path)}:{spec.attr}"


def plan_parts(spec_text: str, profile: str, seeds: list[int], predict: str | None,
               network: bool = True, sharpness: bool = True) -> list[CallTask]:
    """The tasks, seed-major: for each seed the margin parts, then network, then sharpness."""
    parts = list(MARGIN_PARTS) + (["network"] if network else []) + (["sharpness"] if sharpness else [])
    text = task_spec_text(spec_text)
    return [CallTask(f"{part} seed {seed}", FUNCTION,
                     {"spec": text, "part": part, "profile": profile, "seed": int(seed), "predict": predict})
            for seed in seeds for part in parts]


def _factory(text: str):
    if text not in _FACTORIES:
        from verify.spec import load_factory

        _FACTORIES[text] = load_factory(text)
    return _FACTORIES[text]


def run_part(spec: dict, progress=None, on_record=None) -> dict:
    """One fingerprint part on one seed (a task function, ``verify.tasks.execute``). A SPEC that
    cannot be loaded gives ``{"load_error": message}``; Ctrl-C during a margin part raises
    :class:`PartInterrupted` with the partial result."""
    from verify.optimizer_report import predicted_norms
    from verify.spec import SpecLoadError

    part, profile, seed = spec["part"], spec["profile"], int(spec["seed"])
    start = time.perf_counter()
    seed_globals(seed)
    try:
        factory = _factory(spec["spec"])
    except SpecLoadError as exc:
        return {"part": part, "seed": seed, "status": "error", "load_error": str(exc),
                "verdict": {"status": "error", "message": str(exc)}, "checks": [],
                "seconds": round(time.perf_counter() - start, 3)}
    predicted = predicted_norms(spec["predict"]) if spec.get("predict") else None
    if part in MARGIN_PARTS:
        from verify.fingerprint import FingerprintInterrupted, margin_fingerprint

        try:
            fp = margin_fingerprint(factory, part, profile, seed, [predicted[part]] if predicted else [],
                                    progress)
        except FingerprintInterrupted as exc:
            raise PartInterrupted(plain(margin_result(exc.partial, predicted, seed))) from None
        out = margin_result(fp, predicted, seed)
    elif part == "network":
        from verify.network_fingerprint import network_fingerprint

        out = network_result(network_fingerprint(factory, profile, seed, progress,
                                                 predicted["multiclass"] if predicted else None), seed)
    elif part == "sharpness":
        from verify.sharpness_fingerprint import sharpness_fingerprint

        out = sharpness_result(sharpness_fingerprint(factory, profile, seed, progress), seed)
    else:
        raise ValueError(f"unknown fingerprint part {part!r}")
    out["seconds"] = round(time.perf_counter() - start, 3)
    return plain(out)


def _check(name: str, value: float, op: str, tolerance: float, role: str, passed: bool, note: str = "") -> dict:
    return {"name": name, "value": float(value), "op": op, "tolerance": float(tolerance), "role": role,
            "passed": bool(passed), "note": note}


# -- margin parts -------------------------------------------------------------------------------
def margin_verdict(fp, predicted) -> tuple[str, str]:
    from verify.identification import judge_prediction

    model = fp.model
    if fp.identification is None:
        return ("error" if fp.status == "error" else "inconclusive"), f"{model}: {fp.message}"
    if predicted is None:
        return ("verified" if fp.status == "identified" else "inconclusive"), \
            f"{model}: {fp.identification.describe()}"
    verdict = judge_prediction(predicted[model].name, fp.identification, fp.member.increment_gaps[-1])
    return verdict.status, f"{model}: {verdict.message}"


def margin_checks(fp, predicted) -> list[dict]:
    """Preconditions: every max margin certified, the selected run separates the data. Prediction:
    the separation of the identified (or predicted) norm from the nearest other norm."""
    from verify.fingerprint import SETTINGS

    model, out = fp.model, []
    if fp.solutions:
        gap = max(s["relative_gap"] for s in fp.solutions.values())
        tol = SETTINGS["certificate_tolerance"]
        out.append(_check(f"{model}: max-margin certificates (relative duality gap)", gap, "<=", tol,
                          "precondition", gap <= tol))
    if fp.members:
        m = fp.member
        margins = [mm.min_margin[-1] for mm in fp.members if mm.min_margin]
        value = m.min_margin[-1] if m is not None else (max(margins) if margins else math.nan)
        out.append(_check(f"{model}: smallest margin of the selected run", value, ">", 0.0, "precondition",
                          value > 0, "" if m is not None else "no run selected: the best run's"))
    ident = fp.identification
    if ident is None:
        return out
    threshold = ident.threshold
    if predicted is None:
        out.append(_check(f"{model}: separation (runner-up gap / best gap)", ident.separation, ">=", threshold,
                          "prediction", fp.identified != "undetermined",
                          f"best {ident.best}, runner-up {ident.runner_up}"))
    else:
        name = predicted[model].name
        gaps = fp.member.increment_gaps[-1]
        g_pred = max(gaps[name], 0.0)
        nearest = min(max(g, 0.0) for n, g in gaps.items() if n != name)
        value = math.inf if g_pred <= 0 else nearest / g_pred
        out.append(_check(f"{model}: separation of the predicted {name} (nearest other gap / its gap)",
                          value, ">=", threshold, "prediction", fp.identified == name,
                          f"best {ident.best}"))
    return out


def margin_lines(fp) -> list[str]:
    desc = fp.problem
    shape = f"w handed over as a 1×{desc['d']} matrix" if fp.model == "binary" else \
        f"W of shape {desc['k']}×{desc['d']}"
    lines = [f"{fp.model}: {desc['generator'].split('.')[-1]} "
             + ", ".join(f"{k}={v}" for k, v in desc.items() if k != "generator") + f"; {shape}"]
    m = fp.member
    if m is None:
        return lines + [f"  {fp.status}: {fp.message}"]
    lines += [f"  step degree   {fp.step_degree:.2f} (Δ(c·g) = c^k Δ(g) on the first step; k ≥ 0.5: "
              f"lr divided by L(W_t))",
              f"  selected run  {m.describe()}, {m.steps[-1]} steps" + (f" ({m.message})" if m.message else ""),
              f"  identified    {fp.identification.describe()}",
              f"  {'norm':<15}{'ratio W_T':>12}{'ratio ΔW':>12}   (ΔW = W_T − W_(T/10); ratio = γ_N / γ*_N)"]
    ratios, inc = fp.ratios, fp.increment_ratios
    for n in fp.norms:
        mark = "  <" if n == fp.identification.best else ""
        lines.append(f"  {n:<15}{ratios[n]:>12.5f}{inc[n]:>12.5f}{mark}")
    lines.append(f"  gap decay     slope {fp.decay_exponent():.2f} of log gap vs log t over the last decade "
                 f"(NSD bound of Fan et al. 2025: −0.5 up to logs)")
    return lines


def margin_section(fp) -> dict:
    text = [fp.identification.describe() if fp.identification else fp.message]
    tables = []
    if fp.member is not None:
        text += [f"step degree {fp.step_degree:.2f} (Δ(c·g) = c^k Δ(g) on the first step; k ≥ 0.5: lr "
                 f"divided by the loss L(W_t))",
                 f"selected run: {fp.member.describe()}, {fp.member.steps[-1]} steps"]
        tables.append({"header": ["norm", "γ*_N (certified)", "ratio W_T", "ratio ΔW"],
                       "rows": [[n, fp.solutions[n]["margin"], fp.ratios[n], fp.increment_ratios[n]]
                                for n in fp.norms]})
        tables.append({"header": ["η₀", "steps", "best", "best gap", "runner-up", "separation", "note"],
                       "rows": [[s["eta0"], s["steps"], s.get("best"), s.get("best_gap"), s.get("runner_up"),
                                 s.get("separation"), s["message"] or s["status"]]
                                for s in (m.summary(fp.identification.threshold) for m in fp.members)]})
    return {"heading": f"Margin fingerprint: {fp.model}", "status": fp.status, "text": text, "tables": tables}


def margin_result(fp, predicted, seed: int) -> dict:
    from verify import fingerprint

    status, message = margin_verdict(fp, predicted)
    return {"part": fp.model, "seed": seed, "status": fp.status, "identified": fp.identified,
            "interrupted": fp.status == "interrupted",
            "verdict": {"status": status, "message": message}, "checks": margin_checks(fp, predicted),
            "record": fp.record(), "lines": margin_lines(fp), "section": margin_section(fp),
            "figures": fingerprint.figures(fp)}


# -- network ------------------------------------------------------------------------------------
def network_lines(nf) -> list[str]:
    from verify.network_fingerprint import SETTINGS, label

    c = SETTINGS["clusters"]
    lines = [f"network: two-layer {SETTINGS['activation']} net, width {SETTINGS['width']}, "
             f"{c['k']} clusters in R^{c['d']} ({c['k'] * c['per_cluster']} points); W and u handed over as "
             f"two matrices"]
    if nf.run is None:
        return lines + [f"  {nf.status}: {nf.message}"]
    lines += [f"  step degree   {nf.step_degree:.2f}; {nf.schedule}", f"  identified    {nf.summary()}"]
    if nf.predicted or nf.prediction_note:
        lines.append(f"  predicted     {nf.prediction()}")
    lines.append(f"  {'norm':<20}{'':<42}{'KKT residual':>14}")
    for name in nf.norms:
        mark = "  <" if name == nf.identification.best else ""
        short = label(name) if label(name) != name else "predicted"     # a --predict outside the family
        lines.append(f"  {short:<20}{name:<42}{nf.run.residuals[name]:>14.4g}{mark}")
    return lines


def network_result(nf, seed: int) -> dict:
    from verify import network_fingerprint

    text = [nf.summary(), nf.schedule, f"step degree {nf.step_degree:.2f}"] + \
        ([f"predicted: {nf.prediction()}"] if nf.predicted or nf.prediction_note else [])
    tables = []
    if nf.runs:
        tables.append({"header": ["η₀", "steps", "log L", "last step Δlog L", "min margin", "note"] + nf.norms,
                       "rows": [[r.eta0, r.steps, r.log_loss, r.log_loss_step, r.min_margin, r.message or r.status]
                                + [r.residuals.get(n, math.nan) for n in nf.norms] for r in nf.runs]})
    checks = []
    if nf.identification is not None:
        ident = nf.identification
        checks = [_check("network: separation (runner-up residual / best residual)", ident.separation, ">=",
                         ident.threshold, "info", nf.identified != "undetermined", f"best {ident.best}"),
                  _check("network: best KKT residual", ident.best_gap, "<=", ident.fit_tolerance, "info",
                         ident.best_gap <= ident.fit_tolerance)]
    verdict = ({"status": "error", "message": f"network: {nf.message}"} if nf.status == "error" else
               {"status": "info", "message": f"network: {nf.summary()}"})
    return {"part": "network", "seed": seed, "status": nf.status, "identified": nf.identified,
            "interrupted": False, "verdict": verdict, "checks": checks, "record": nf.record(),
            "lines": network_lines(nf),
            "section": {"heading": "Network KKT fingerprint", "status": nf.status, "text": text, "tables": tables},
            "figures": network_fingerprint.figures(nf)}


# -- sharpness ----------------------------------------------------------------------------------
def sharpness_result(sh, seed: int) -> dict:
    from verify import sharpness_fingerprint
    from verify.sharpness_fingerprint import SETTINGS

    lines = [f"sharpness: label-noise diagonal net, constant lr = {2 * sh.eta:g} and {sh.eta:g}, "
             f"{sh.steps} steps in all × {sh.replicas} replicas", f"  {sh.summary()}"]
    checks, metrics = [], {}
    if sh.status != "error":
        checks = [_check("sharpness: fit residual / flow displacement", sh.residual, "<=",
                         SETTINGS["fit_tolerance"], "info", sh.residual <= SETTINGS["fit_tolerance"])]
        metrics = {"sharpness: exponent e": sh.exponent}
    verdict = ({"status": "error", "message": f"sharpness: {sh.message}"} if sh.status == "error" else
               {"status": "info", "message": f"sharpness: {sh.summary()}"})
    return {"part": "sharpness", "seed": seed, "status": sh.status, "interrupted": False,
            "verdict": verdict, "checks": checks, "metrics": metrics, "record": sh.record(), "lines": lines,
            "section": {"heading": "Sharpness fingerprint", "status": sh.status,
                        "text": [sh.summary(), f"constant lr = {2 * sh.eta:g} and {sh.eta:g}, "
                                               f"{sh.steps} steps in all, {sh.replicas} replicas"],
                        "tables": []},
            "figures": sharpness_fingerprint.figures(sh)}
