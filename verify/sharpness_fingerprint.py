"""Sharpness fingerprint of an optimizer: which measure Σ_k H_kk^{1−e} does its label-noise drift
follow? (Li, Wen, Lyu 2025; the slow-drift limit of Blanc et al. 2020 and Li, Wang, Arora 2022.)

Near the manifold Γ of interpolators, label-noise SGD drifts along the (projected) gradient of
tr H and an adaptive method x −= η m/(v^e + ε) along the semi-gradient of M_e = Σ_k H_kk^{1−e}
(the flows are derived in ``theory.slow_drift`` and integrated in ``numerics.manifold_flow``). The
fingerprint runs the user's optimizer, at constant step sizes the command sets, on the
label-noise diagonal network of ``li2025-adam-drift`` (w = u⊙u − v⊙v with θ = [u; v] handed to the
optimizer as one 2×d tensor, a start on Γ, fresh ±δ labels every step), averages R independent
replicas in rescaled time t = η²·steps, and fits the exponent e whose flow the replica mean tracks:

    ê = argmin_e Σ_t ‖θ̄(t) − θ_e(t)‖²,   θ_e the flow of M_e (piecewise linear in e between the
                                          integrated exponents),

The replica mean follows the flow only up to O(η) in rescaled time, which biases ê (label-noise
SGD fits e ≈ −0.1 at η = 0.02, −0.04 at η = 0.01), so ê is fitted at 2η and at η and extrapolated,
ê = 2ê(η) − ê(2η) (Richardson), with a 95% confidence interval from a bootstrap over the replicas
of both runs. The interval covers replica noise and not the remaining O(η²) bias: the calibration
on optimizers of known exponent is printed by ``bench/bench_fingerprint.py``.
The fit residual relative to the flow's displacement says whether the optimizer is in the family at
all; normalized methods (sign, spectral) are not (their steps do not vanish at Γ).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

import numpy as np

from numerics.run_status import RunStatus, status_field
from verify.identification import Finding

SETTINGS = {
    "eta": {"quick": 0.02, "full": 0.01},       # runs at 2η and η
    "replicas": {"quick": 16, "full": 64},
    "horizon": 0.3,           # rescaled time η²·steps (as li2025-adam-drift)
    "delta": 1.0,             # label noise ±δ
    "points": 6,              # comparison times in [0, horizon]
    # e < 0 is outside the preconditioned family (v^{−e} amplifies), but brackets e = 0 (SGD) so
    # that its fit is not clipped at the edge of the range.
    "exponents": (-0.25, 0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75),
    "bootstrap": 200,
    # A fit whose residual exceeds this fraction of the fitted flow's displacement is "outside the
    # family": known members (SGD, Adam, e = ¼) fit with residual ≤ 0.25 at η = 0.02, normalized
    # methods with ≥ 1 (bench/bench_fingerprint.py prints both).
    "fit_tolerance": 0.5,
}


@dataclass
class SharpnessFingerprint:
    # how the runs ended (RunStatus: ok, error), or the finding outside-family (Finding) when they ran
    # but no flow of the family tracks them; anything else raises ValueError
    status: RunStatus | Finding = status_field(kind=(RunStatus, Finding), allowed=(
        RunStatus.OK, RunStatus.ERROR, Finding.OUTSIDE_FAMILY))
    message: str = ""
    eta: float = 0.0
    steps: int = 0
    replicas: int = 0
    exponent: float = math.nan         # ê extrapolated to η → 0
    per_eta: dict = field(default_factory=dict)     # step size → ê fitted at that step size
    interval: tuple[float, float] | None = (math.nan, math.nan)   # None: no interval available
    interval_note: str = ""
    residual: float = math.nan         # fit residual / displacement of the fitted flow
    errors: dict = field(default_factory=dict)      # integrated e → RMS tracking error / ‖θ₀‖
    times: list = field(default_factory=list)
    measures: dict = field(default_factory=dict)    # series name → Σ√H_kk along run and flows
    seconds: float = 0.0

    def summary(self) -> str:
        if self.status is RunStatus.ERROR:
            return f"error: {self.message}"
        fits = ", ".join(f"{e:.3f} at η = {h:g}" for h, e in self.per_eta.items())
        if self.interval is None:
            ci = f"({self.interval_note})"
        else:
            lo, hi = self.interval
            ci = f"[95% CI {lo:.3f}, {hi:.3f}]"
        text = (f"e = {self.exponent:.3f} {ci} (extrapolated to η → 0 from "
                f"{fits}), fit residual {self.residual:.2f} of the flow's displacement")
        if self.status is Finding.OUTSIDE_FAMILY:
            text += f" — outside the family Σ H_kk^(1−e): {self.message}"
        elif self.message:
            text += f" ({self.message})"
        return text

    def record(self) -> dict:
        return {"status": self.status, "message": self.message, "eta": self.eta, "steps": self.steps,
                "replicas": self.replicas, "exponent": self.exponent,
                "exponent_by_eta": {f"{h:g}": e for h, e in self.per_eta.items()},
                "interval": None if self.interval is None else list(self.interval),
                "interval_note": self.interval_note, "residual": self.residual,
                "errors_by_exponent": {f"{e:g}": v for e, v in self.errors.items()},
                "schedule": f"constant lr = {2 * self.eta:g}, then {self.eta:g}", "seconds": self.seconds}


def _setting(seed: int):
    """The start on Γ of ``li2025-adam-drift`` (n = 2, d = 4, Gaussian features, θ₀ ∈ [1, 2])."""
    from verify.experiments.li2025 import drift_setting

    return drift_setting(seed)


@lru_cache(maxsize=4)
def flows(seed: int) -> tuple[np.ndarray, dict]:
    """Integrated flows θ_e(t) for every exponent of the family (cached per process)."""
    from numerics.manifold_flow import Preconditioner, integrate_flow

    problem, theta0 = _setting(seed)
    times = np.linspace(0.0, SETTINGS["horizon"], SETTINGS["points"])
    out = {}
    for e in SETTINGS["exponents"]:
        pre = Preconditioner("sgd") if e == 0 else Preconditioner("adam", e)
        out[e] = integrate_flow(problem, theta0, pre, SETTINGS["delta"], times)
    return times, out


def _train(factory: Callable, problem, theta0: np.ndarray, eta: float, marks: list[int],
           replicas: int, seed: int, progress=None):
    """Replica trajectories (R, len(marks), 2, d) of the user's optimizer, or raise RuntimeError."""
    import torch

    from verify.spec import one_line

    rng = np.random.default_rng(seed)
    P = np.repeat(np.asarray(theta0, float)[None], replicas, axis=0)
    thetas = [torch.tensor(P[r], dtype=torch.float64, requires_grad=True) for r in range(replicas)]
    opts = []
    for th in thetas:
        try:
            opt = factory([th])
        except Exception as exc:
            raise RuntimeError(f"the factory raised {one_line(exc)}") from None
        if not isinstance(opt, torch.optim.Optimizer):
            raise RuntimeError(f"the factory returned a {type(opt).__name__}, not a torch.optim.Optimizer")
        for group in opt.param_groups:
            group["lr"] = eta
        opts.append(opt)
    out = np.empty((replicas, len(marks)) + P.shape[1:])
    mi = 0
    if marks[0] == 0:
        out[:, 0] = P
        mi = 1
    delta, steps = SETTINGS["delta"], marks[-1]
    from numerics.optimizer_step import step
    from numerics.train import small_tensor_mode

    with small_tensor_mode(), torch.no_grad():     # one thread, subnormals flushed (tiny tensors)
        for k in range(1, steps + 1):
            noise = delta * (2.0 * rng.integers(0, 2, size=(replicas, problem.n)) - 1.0)
            G = torch.from_numpy(problem.gradient(P, noise))      # a fresh array every step
            for r, (th, opt) in enumerate(zip(thetas, opts)):
                th.grad = G[r]                 # replica r's row: no other replica reads it
                try:
                    step(opt)
                except Exception as exc:
                    raise RuntimeError(f"optimizer step {k} raised {one_line(exc)}") from None
                P[r] = th.detach().numpy()
            if not np.all(np.isfinite(P)):
                raise RuntimeError(f"parameters became NaN/Inf at step {k}")
            if mi < len(marks) and k == marks[mi]:
                out[:, mi] = P
                mi += 1
            if progress is not None:
                progress(k, steps)
    return out


def _interpolated(flow_stack: np.ndarray, grid: np.ndarray, e) -> np.ndarray:
    """θ_e(t) by linear interpolation in e between integrated exponents (e a number, or an array of
    them: one interpolated trajectory per entry, stacked along a new first axis)."""
    e = np.asarray(e, dtype=float)
    j = np.clip(np.searchsorted(grid, e) - 1, 0, len(grid) - 2)
    w = ((e - grid[j]) / (grid[j + 1] - grid[j])).reshape(e.shape + (1,) * (flow_stack.ndim - 1))
    return (1 - w) * flow_stack[j] + w * flow_stack[j + 1]


def fit_exponent(mean: np.ndarray, flow_stack: np.ndarray, grid: np.ndarray,
                 fine: np.ndarray) -> tuple[float, np.ndarray]:
    """ê minimizing Σ_t ‖mean(t) − θ_e(t)‖² over the fine grid, and the objective on it."""
    obj = np.sum((mean - _interpolated(flow_stack, grid, fine)) ** 2, axis=tuple(range(1, mean.ndim + 1)))
    return float(fine[int(np.argmin(obj))]), obj


def sqrt_diag_measure(problem, P: np.ndarray) -> np.ndarray:
    """Σ_k √H_kk (tr Diag(H)^½, Gauss–Newton diagonal) of parameters (..., 2, d)."""
    return np.sum(np.sqrt(problem.gauss_newton_diagonal(P)), axis=(-2, -1))


def _fit(runs: np.ndarray, stack: np.ndarray, grid: np.ndarray, fine: np.ndarray) -> float:
    return fit_exponent(runs.mean(axis=0), stack, grid, fine)[0]


def bootstrap_interval(boots, per_eta: dict, lowest: float, highest: float):
    """The 95% percentile interval of the bootstrap, or None with the reason when there is none: a fit
    pinned at an end of the searched exponents has no sampling distribution (every resample is
    clipped to the same end), and a degenerate bootstrap is a point, not an interval."""
    edge = [h for h, e in per_eta.items() if e <= lowest + 1e-12 or e >= highest - 1e-12]
    if edge:
        return None, (f"no interval: the fit at η = {', '.join(f'{h:g}' for h in edge)} sits at the end "
                      f"of the searched exponents [{lowest:g}, {highest:g}]")
    boots = np.asarray(boots, dtype=float)
    if not np.all(np.isfinite(boots)):
        return None, "no interval: a bootstrap resample gave no finite exponent"
    lo, hi = float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))
    if not hi > lo:
        return None, "no interval: every bootstrap resample of the replicas gives the same exponent"
    return (lo, hi), ""


def sharpness_fingerprint(factory: Callable, profile: str = "quick", seed: int = 0,
                          progress=None) -> SharpnessFingerprint:
    """Fit ê at the step sizes 2η and η and extrapolate to η → 0: ê = 2ê(η) − ê(2η) (the replica
    mean follows the flow up to O(η) in rescaled time, so this removes the first-order bias);
    the 95% interval bootstraps replicas of both runs."""
    start = time.perf_counter()
    eta = SETTINGS["eta"][profile]
    etas = (2 * eta, eta)
    replicas = SETTINGS["replicas"][profile]
    problem, theta0 = _setting(seed)
    result = SharpnessFingerprint(RunStatus.OK, eta=eta, replicas=replicas)
    try:                               # a factory that fails does so before the flows are derived
        _train(factory, problem, theta0, eta, [0], 1, seed)
    except RuntimeError as exc:
        result.status, result.message = RunStatus.ERROR, str(exc)
        result.seconds = time.perf_counter() - start
        return result
    if progress is not None:
        progress(0, 0, "integrating the flows of Σ H_kk^(1−e)")
    times, flow = flows(seed)
    grid = np.array(sorted(flow))
    stack = np.stack([flow[e] for e in grid])
    marks = {h: [int(round(t / h**2)) for t in times] for h in etas}
    result.steps, result.times = sum(m[-1] for m in marks.values()), [float(t) for t in times]
    total = result.steps
    runs = {}
    try:
        for h in etas:
            done = sum(marks[g][-1] for g in runs)
            runs[h] = _train(factory, problem, theta0, h, marks[h], replicas, seed + 11,
                             None if progress is None else
                             (lambda k, _, done=done, h=h: progress(
                                 done + k, total, f"label-noise replicas (R = {replicas}, η = {h:g})")))
    except RuntimeError as exc:
        result.status, result.message = RunStatus.ERROR, str(exc)
        result.seconds = time.perf_counter() - start
        return result
    fine = np.linspace(grid[0], grid[-1], 241)
    per_eta = {h: _fit(r, stack, grid, fine) for h, r in runs.items()}
    result.per_eta = {float(h): float(e) for h, e in per_eta.items()}
    result.exponent = 2 * per_eta[eta] - per_eta[2 * eta]
    rng = np.random.default_rng(seed + 23)
    boots = [2 * _fit(runs[eta][rng.integers(0, replicas, replicas)], stack, grid, fine)
             - _fit(runs[2 * eta][rng.integers(0, replicas, replicas)], stack, grid, fine)
             for _ in range(SETTINGS["bootstrap"])]
    result.interval, result.interval_note = bootstrap_interval(boots, per_eta, fine[0], fine[-1])
    mean = runs[eta].mean(axis=0)
    e_eta = per_eta[eta]
    fitted = _interpolated(stack, grid, e_eta)
    displacement = float(np.sqrt(np.mean(np.sum((fitted - theta0) ** 2, axis=(-2, -1)))))
    rms = float(np.sqrt(np.mean(np.sum((mean - fitted) ** 2, axis=(-2, -1)))))
    result.residual = rms / displacement
    scale = float(np.linalg.norm(theta0))
    result.errors = {float(e): float(np.sqrt(np.mean(np.sum((mean - flow[e]) ** 2, axis=(-2, -1)))) / scale)
                     for e in grid}
    nearest = float(grid[np.argmin(np.abs(grid - e_eta))])
    result.measures = {"run": sqrt_diag_measure(problem, mean).tolist(),
                       **{f"flow e={e:g}": sqrt_diag_measure(problem, flow[e]).tolist()
                          for e in sorted({0.0, 0.5, nearest})}}
    if result.residual > SETTINGS["fit_tolerance"]:
        result.status = Finding.OUTSIDE_FAMILY
        result.message = (f"no flow of the family tracks the replica mean (best residual "
                          f"{result.residual:.2f} > {SETTINGS['fit_tolerance']:g})")
    elif any(e in (grid[0], grid[-1]) for e in per_eta.values()):
        result.message = f"a fit is at the edge of the fitted range [{grid[0]:g}, {grid[-1]:g}]"
    result.seconds = time.perf_counter() - start
    return result


def figures(fp: SharpnessFingerprint) -> list[dict]:
    from verify import figures as figs

    if fp.status is RunStatus.ERROR:
        return []
    t = fp.times
    series = [figs.series(f"your optimizer (mean of {fp.replicas} replicas)" if name == "run" else name,
                          t, values, "o-" if name == "run" else "--")
              for name, values in fp.measures.items()]
    lo, hi = fp.interval if fp.interval is not None else (math.nan, math.nan)
    ci = f"[{lo:.3f}, {hi:.3f}]" if fp.interval is not None else "(no interval)"
    errs = list(fp.errors.items())
    top = max(v for _, v in errs)
    caveat = " — outside the family" if fp.status is Finding.OUTSIDE_FAMILY else ""
    return [
        figs.line_figure("sharpness-trajectory",
                         f"Label-noise diagonal net: tr Diag(H)^½ along the run (η = {fp.eta:g}){caveat}",
                         "rescaled time η²·steps", "Σ_k √H_kk", series, logx=False, logy=False),
        figs.line_figure("sharpness-exponent-fit",
                         f"Preconditioner exponent: ê = {fp.exponent:.3f} {ci} "
                         f"(η → 0){caveat}", "exponent e of the flow Σ H_kk^(1−e)",
                         "RMS distance of replica mean to flow / ‖θ₀‖",
                         [figs.series(f"distance to each integrated flow (η = {fp.eta:g})",
                                      [e for e, _ in errs], [v for _, v in errs], "o-"),
                          *[figs.series(f"fit at η = {h:g}: {e:.3f}", [e, e], [0, top], "--")
                            for h, e in fp.per_eta.items()],
                          figs.series("ê extrapolated to η → 0", [fp.exponent, fp.exponent], [0, top], "-"),
                          *([figs.series("95% bootstrap CI (replicas)", [lo, lo, math.nan, hi, hi],
                                         [0, top, math.nan, 0, top], ":")] if fp.interval is not None else [])],
                         logx=False, logy=False),
    ]
