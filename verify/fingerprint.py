"""Margin fingerprint of an optimizer: which norm's max-margin classifier do its iterates approach?

Normalized steepest descent under a norm N converges in direction to the N-max-margin classifier of
separable data (Gunasekar et al. 2018; Fan, Schmidt, Thrampoulidis 2025: entrywise and Schatten
p-norms, Spectral-GD and Muon → spectral, Adam with ε = 0 → max norm), gradient descent to the ℓ2 one
(Soudry et al. 2018). The fingerprint turns this around: it trains an arbitrary
``factory(params) -> torch.optim.Optimizer`` on two standard separable problems and measures, for a
family of norms, the ratio of the achieved normalized margin to that norm's certified max margin.

Protocol (everything the optimizer sees is set here and reported):
- problems: a binary vector model (``sparse_teacher``: d > n, where the ℓ1, ℓ2, ℓ∞ max-margin
  directions differ) handed to the optimizer as a 1×d matrix, so matrix optimizers apply (every
  Schatten norm of a 1×d matrix is its ℓ2 norm); and a multiclass matrix model (``gaussian_classes``
  with k = 5, d = 5, 4 samples per class: small enough to certify eight max margins in seconds);
- loss: cross-entropy (logistic for the binary model), float64, gradients exact in log space and
  handed to the optimizer as the true gradient exp(log L)·∇ log L;
- schedule: ``lr = η_t = η₀ t^(−1/2)`` set on every param group before every step (the rate of
  Fan et al. 2025), for a sweep of η₀ that covers the step sizes the project derives for every
  norm of the family (κ·η₀*, ``theory.rates.optimal_eta0``), one decade below them (averaging
  methods need smaller steps: ``theory.rates.lag_free_eta0``) and half a decade above. Normalized
  methods (sign, steepest-descent, Adam without ε, Muon) take steps whose size does not depend on
  the gradient's; a method whose step is proportional to the gradient (GD, heavy ball) would only
  approach its limit direction at the 1/log t rate of Soudry et al. 2018. A probe measures the
  degree k of the first step in the gradient's scale (:func:`step_degree`); when k ≥ ½ the
  schedule is loss-normalized, ``lr = η_t / L(W_t)`` (normalized GD, Nacson et al. 2019), which
  makes such a step scale-free without changing the direction it takes;
- horizon: a fixed number of steps, or until the log-loss reaches ``log_loss_floor`` (below
  ½·log of the smallest float64, −354, squared gradients such as Adam's second moment underflow);
  at T/10 only the 3 best runs of the sweep go on (every run's report says where and why it
  stopped). The budget is counted in steps, never in CPU time, so the same command gives the same
  numbers on any machine: at most ``members·T/10 + 3·(T − T/10)`` member-steps per model;
- measurement: for each member of the sweep, the margin ratios of the iterate W_T and of the late
  increment W_T − W_{T/10}. The increment converges to the same limit direction (if it converges,
  so does W_T/‖W_T‖, by Stolz–Cesàro) without the offset the early steps leave in W_T, which decays
  only like 1/log t for gradient descent (Soudry et al. 2018). The member whose increment comes
  closest to some norm's max margin is selected, and the norm is identified from its increment
  gaps (``verify.identification``).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

import numpy as np

from numerics.classification import Classification
from numerics.run_status import RunStatus, status_field
from theory.norms import Norm, parse_norm
from verify.identification import UNDETERMINED, Finding, Identification, identify

FAMILY = {
    "binary": ("lp:1", "lp:1.5", "lp:2", "lp:3", "lp:inf"),
    "multiclass": ("entrywise:1", "entrywise:1.5", "fro", "entrywise:3", "entrywise:inf",
                   "schatten:1", "schatten:3", "schatten:inf"),
}
SETTINGS = {
    "steps": {"quick": 10_000, "full": 100_000},
    "decay": 0.5,                       # η_t = η₀ t^(−decay)
    "kappa": 8.0,                       # as the catalogue's linear max-margin claims
    "sweep_below": 10.0,                # grid from min κη₀*/10 ...
    "sweep_above": 10 ** 0.5,           # ... to max κη₀*·√10,
    "sweep_per_decade": {"quick": 2, "full": 3},
    "log_loss_floor": -300.0,
    # At T/10, only the 3 best members go on, and only if their best increment gap is within 10× of
    # the best one's (it saves most of the training time; bench/bench_fingerprint.py checks that
    # every optimizer of known bias is still identified).
    "prune_at": 0.1,
    "prune_factor": 10.0,
    "prune_keep": 3,
    "certificate_tolerance": 1e-6,      # relative duality gap of every max-margin solution
    "window": 10.0,                     # increment W_T − W_{T/window}
    "probe_scale": 1e-4,                # step_degree compares gradients g and 1e-4·g
    "degree_threshold": 0.5,            # degree ≥ ½: loss-normalized schedule
    # Calibrated by bench/bench_fingerprint.py on the optimizers of known bias (see its output).
    "separation_threshold": 2.0,
    "problems": {
        "binary": {"n": 40, "d": 60},
        "multiclass": {"k": 5, "d": 5, "per_class": 4, "noise": 0.1},
    },
}
MODELS = ("binary", "multiclass")


def fingerprint_problem(model: str, seed: int) -> Classification:
    from numerics.datasets import gaussian_classes, sparse_teacher

    spec = SETTINGS["problems"][model]
    if model == "binary":
        return sparse_teacher(seed=seed, **spec)
    return gaussian_classes(seed=seed, **spec)


@lru_cache(maxsize=64)
def certified_max_margin(model: str, seed: int, norm: Norm):
    """The certified max-margin solution of the fingerprint problem (cached per process)."""
    from numerics.maxmargin import max_margin

    return max_margin(fingerprint_problem(model, seed), norm)


def problem_description(model: str, seed: int) -> dict:
    gen = "sparse_teacher" if model == "binary" else "gaussian_classes"
    return {"generator": f"numerics.datasets.{gen}", **SETTINGS["problems"][model], "seed": seed}


def family(model: str, extra: list[Norm] = ()) -> list[Norm]:
    norms = [parse_norm(n, model) for n in FAMILY[model]]
    return norms + [n for n in extra if n not in norms]


def step_size_grid(problem: Classification, norms: list[Norm], steps: int, per_decade: int) -> list[float]:
    """η₀ values: geometric, from min_N κη₀*(N)/10 to max_N κη₀*(N)·√10 over the family."""
    from theory.rates import optimal_eta0
    from verify.linear_margins import data_radius

    constraints = problem.n * (problem.k - 1)
    derived = [SETTINGS["kappa"] * optimal_eta0(data_radius(problem, n), constraints, steps)
               for n in norms]
    lo, hi = min(derived) / SETTINGS["sweep_below"], max(derived) * SETTINGS["sweep_above"]
    count = int(math.ceil(per_decade * math.log10(hi / lo))) + 1
    return [float(v) for v in np.geomspace(lo, hi, count)]


@dataclass
class MemberRun:
    """One η₀ of the sweep: its schedule, trajectory and the gaps measured at every checkpoint."""

    eta0: float
    schedule: object                    # numerics.optim.PowerSchedule
    loss_normalized: bool = False       # lr = η_t / L(W_t)
    pruned: bool = False                # stopped early: far behind the best run of the sweep
    steps: list = field(default_factory=list)
    iterate_gaps: list = field(default_factory=list)      # per checkpoint: norm → 1 − ratio
    increment_gaps: list = field(default_factory=list)    # per checkpoint: norm → gap, or None
    min_margin: list = field(default_factory=list)        # per checkpoint: min_i A(W)_i
    status: RunStatus = status_field(RunStatus.OK)
    message: str = ""

    def describe(self) -> str:
        return describe_schedule(self.schedule, self.loss_normalized)

    def best_increment_gap(self) -> float:
        last = self.increment_gaps[-1] if self.increment_gaps else None
        return min(last.values()) if last else math.inf

    def summary(self, threshold: float) -> dict:
        out = {"eta0": self.eta0, "schedule": self.describe(), "status": self.status,
               "message": self.message, "steps": self.steps[-1] if self.steps else 0}
        if self.increment_gaps and self.increment_gaps[-1]:
            ident = identify(self.increment_gaps[-1], threshold)
            out.update(best=ident.best, best_gap=ident.best_gap, runner_up=ident.runner_up,
                       separation=ident.separation, separated=bool(self.min_margin[-1] > 0))
        return out


@dataclass
class ModelFingerprint:
    model: str
    problem: dict
    norms: list
    steps: int
    solutions: dict = field(default_factory=dict)        # norm → certificate summary
    members: list = field(default_factory=list)          # MemberRun
    selected: int | None = None
    identification: Identification | None = None
    # what the sweep's runs showed (Finding: identified, undetermined, not-separated), or how they ended
    # when they were not all read (RunStatus: error, interrupted); anything else raises ValueError
    status: Finding | RunStatus = status_field(Finding.UNDETERMINED, kind=(Finding, RunStatus), allowed=(
        Finding.IDENTIFIED, Finding.UNDETERMINED, Finding.NOT_SEPARATED, RunStatus.ERROR, RunStatus.INTERRUPTED))
    message: str = ""
    step_degree: float = math.nan       # degree of the first step in the gradient's scale
    seconds: float = 0.0

    @property
    def member(self) -> MemberRun | None:
        return None if self.selected is None else self.members[self.selected]

    @property
    def identified(self) -> str:
        return self.identification.identified if self.identification else UNDETERMINED

    @property
    def ratios(self) -> dict:
        m = self.member
        return {} if m is None else {n: 1.0 - g for n, g in m.iterate_gaps[-1].items()}

    @property
    def increment_ratios(self) -> dict:
        m = self.member
        return {} if m is None or not m.increment_gaps[-1] else \
            {n: 1.0 - g for n, g in m.increment_gaps[-1].items()}

    def decay_exponent(self) -> float:
        """Fitted log-log slope of the identified norm's iterate gap over the last decade."""
        from verify.linear_margins import fitted_exponent

        m = self.member
        if m is None or self.identification is None:
            return math.nan
        norm = self.identification.best
        return fitted_exponent(m.steps, [g[norm] for g in m.iterate_gaps])

    def record(self) -> dict:
        threshold = SETTINGS["separation_threshold"]
        m = self.member
        return {
            "model": self.model, "status": self.status, "message": self.message,
            "identified": self.identified, "problem": self.problem, "norms": self.norms,
            "identification": self.identification.record() if self.identification else None,
            "ratios": self.ratios, "increment_ratios": self.increment_ratios,
            "schedule": m.describe() if m else None, "step_degree": self.step_degree,
            "eta0": m.eta0 if m else None, "steps": m.steps[-1] if m and m.steps else 0,
            "gap_decay_exponent": self.decay_exponent(),
            "max_margins": self.solutions,
            "sweep": [mm.summary(threshold) for mm in self.members],
            "curves": None if m is None else {
                "steps": m.steps,
                "iterate_gaps": {n: [g[n] for g in m.iterate_gaps] for n in self.norms},
                "increment_gaps": {n: [None if g is None else g[n] for g in m.increment_gaps]
                                   for n in self.norms}},
            "seconds": self.seconds,
        }


class OptimizerFailure(Exception):
    """The user's optimizer cannot be trained at all (the factory fails or returns something else,
    the first step raises or produces NaN/Inf); the message is one line."""


def probe_gradient(problem: Classification) -> np.ndarray:
    """The direction of the loss gradient at W = 0 (every margin weighted equally)."""
    C = problem.k - 1
    return -problem.adjoint(np.ones((problem.n, C))) / (problem.n * C)


def step_degree(factory: Callable, problem: Classification, shape: tuple[int, ...]) -> float:
    """The degree k with Δ(c·g) = c^k Δ(g) of the optimizer's first step from W = 0 (lr = 1), from
    gradients g and c·g, c = ``probe_scale``: 0 for normalized methods (sign, steepest descent,
    Adam), 1 for GD; NaN when the optimizer does not move. Raises :class:`OptimizerFailure`."""
    return first_step_degree(factory, [np.zeros(shape)], [probe_gradient(problem).reshape(shape)])


def first_step_degree(factory: Callable, params: list[np.ndarray], grads: list[np.ndarray]) -> float:
    """:func:`step_degree` for any parameter tensors and gradients: the first step's displacement
    from ``params`` under gradients g and c·g."""
    import torch

    from numerics.optim import FactoryError, construct_optimizer
    from verify.spec import one_line

    scale = SETTINGS["probe_scale"]
    sizes = []
    for c in (1.0, scale):
        ps = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in params]
        try:
            opt = construct_optimizer(factory, ps)
        except FactoryError as exc:
            raise OptimizerFailure(str(exc)) from None
        for group in opt.param_groups:
            group["lr"] = 1.0
        for p, g in zip(ps, grads):
            p.grad = c * torch.as_tensor(g, dtype=torch.float64)
        try:
            opt.step()
        except Exception as exc:
            raise OptimizerFailure(f"the optimizer's first step raised {one_line(exc)}") from None
        size = math.sqrt(sum(float((p.detach() - torch.as_tensor(p0)).square().sum())
                             for p, p0 in zip(ps, params)))
        if not math.isfinite(size):
            raise OptimizerFailure("the optimizer's first step produced NaN/Inf")
        sizes.append(size)
    if min(sizes) == 0.0:
        return math.nan
    return math.log(sizes[1] / sizes[0]) / math.log(scale)


def describe_schedule(schedule, loss_normalized: bool) -> str:
    text = schedule.describe()
    return text + " / L(W_t)" if loss_normalized else text


class FingerprintInterrupted(KeyboardInterrupt):
    """Ctrl-C during a fingerprint; ``partial`` holds what was measured so far."""

    def __init__(self, partial):
        super().__init__("interrupted")
        self.partial = partial


def _gaps(problem: Classification, solutions: dict, norms: dict, W: np.ndarray) -> dict:
    return {name: 1.0 - problem.normalized_margin(W, norms[name]) / sol.margin
            for name, sol in solutions.items()}


class _Recorder:
    """Measures every new checkpoint of every member as training proceeds (``on_record``), and
    once, at the first checkpoint past ``prune_step``, stops the members of the sweep whose best
    increment gap is more than ``prune_factor`` times the best member's or that do not rank among
    the ``prune_keep`` best."""

    def __init__(self, problem, solutions, norms, members: dict[str, MemberRun], window: float,
                 prune_step: int, prune_factor: float, prune_keep: int):
        self.problem, self.solutions, self.norms = problem, solutions, norms
        self.members, self.window = members, window
        self.prune_step, self.prune_factor, self.prune_keep = prune_step, prune_factor, prune_keep
        self.done = {key: 0 for key in members}
        self.info = ""

    def __call__(self, t, trajectories) -> list[str]:
        for key, tr in trajectories.items():
            run = self.members[key]
            for i in range(self.done[key], len(tr.steps)):
                W = tr.params[i]
                run.steps.append(tr.steps[i])
                run.iterate_gaps.append(_gaps(self.problem, self.solutions, self.norms, W))
                run.min_margin.append(float(self.problem.margins(W).min()))
                steps = np.asarray(tr.steps[:i + 1], float)
                j = int(np.argmin(np.abs(np.log(steps[:i]) - math.log(steps[i] / self.window)))) \
                    if i > 0 else 0
                if i > 0 and steps[j] <= steps[i] / math.sqrt(self.window):
                    run.increment_gaps.append(_gaps(self.problem, self.solutions, self.norms,
                                                    W - tr.params[j]))
                else:
                    run.increment_gaps.append(None)
            self.done[key] = len(tr.steps)
        best = min(self.members.values(), key=MemberRun.best_increment_gap)
        if best.increment_gaps and best.increment_gaps[-1]:
            gaps = best.increment_gaps[-1]
            name = min(gaps, key=gaps.get)
            self.info = f"best so far {name} (gap {gaps[name]:.2g}, η₀ = {best.eta0:.2g})"
        if self.prune_step is None or t < self.prune_step:
            return []
        self.prune_step = None
        running = [key for key, run in self.members.items() if run.steps and run.steps[-1] == t]
        order = sorted(running, key=lambda key: self.members[key].best_increment_gap())
        if not order:
            return []
        top = min(run.best_increment_gap() for run in self.members.values())
        losers = order[self.prune_keep:] + [key for key in order[:self.prune_keep] if not
                                            self.members[key].best_increment_gap() <= self.prune_factor * top]
        for key in losers:
            self.members[key].pruned = True
        return losers


def _select(members: list[MemberRun]) -> int | None:
    """The member whose late increment is closest to some norm's max margin, among those that ran
    their course (not pruned) and whose iterate and increment separate the data."""
    ok = [i for i, m in enumerate(members)
          if m.status == RunStatus.OK and not m.pruned and m.min_margin and m.min_margin[-1] > 0
          and m.increment_gaps and m.increment_gaps[-1] and m.best_increment_gap() < 1.0]
    return min(ok, key=lambda i: members[i].best_increment_gap()) if ok else None


def margin_fingerprint(factory: Callable, model: str, profile: str = "quick", seed: int = 0,
                       extra_norms: list[Norm] = (), progress=None) -> ModelFingerprint:
    """Train ``factory`` over the η₀ sweep on the ``model`` problem and identify its norm.

    ``progress(done, total, info)`` is called during the max-margin solves and the training.
    Raises :class:`FingerprintInterrupted` (with the partial fingerprint) on Ctrl-C."""
    from numerics.optim import PowerSchedule
    from numerics.train import Member, train_linear

    start = time.perf_counter()
    problem = fingerprint_problem(model, seed)
    norms = family(model, extra_norms)
    steps = SETTINGS["steps"][profile]
    result = ModelFingerprint(model, problem_description(model, seed), [n.name for n in norms], steps)
    threshold = SETTINGS["separation_threshold"]
    shape = (1, problem.d) if model == "binary" else problem.param_shape
    try:
        try:
            result.step_degree = step_degree(factory, problem, shape)
        except OptimizerFailure as exc:
            result.status, result.message = RunStatus.ERROR, str(exc)
            result.seconds = time.perf_counter() - start
            return result
        normalized = result.step_degree >= SETTINGS["degree_threshold"]
        solutions = {}
        for i, norm in enumerate(norms):
            if progress is not None:
                progress(i, len(norms), f"{model}: certified max margin in {norm.name}")
            solutions[norm.name] = certified_max_margin(model, seed, norm)
        uncertified = [n for n, sol in solutions.items()
                       if not sol.certificate.relative_gap <= SETTINGS["certificate_tolerance"]]
        if uncertified:
            result.status = RunStatus.ERROR
            result.message = (f"the max-margin solver did not certify {', '.join(uncertified)} "
                              f"(relative duality gap above {SETTINGS['certificate_tolerance']:g})")
        result.solutions = {n: {"margin": s.margin, "relative_gap": s.certificate.relative_gap,
                                "solver": s.solver, "status": s.status} for n, s in solutions.items()}
        if uncertified:
            result.seconds = time.perf_counter() - start
            return result
        grid = step_size_grid(problem, norms, steps, SETTINGS["sweep_per_decade"][profile])
        runs = {f"eta0={e:.3g}": MemberRun(e, PowerSchedule(e, SETTINGS["decay"]), normalized)
                for e in grid}
        result.members = list(runs.values())
        recorder = _Recorder(problem, solutions, {n.name: n for n in norms}, runs, SETTINGS["window"],
                             int(SETTINGS["prune_at"] * steps), SETTINGS["prune_factor"],
                             SETTINGS["prune_keep"])

        def on_progress(t, total):
            if progress is not None:
                progress(t, total, f"{model}: {len(runs)} step sizes; {recorder.info}")

        members = {key: Member(factory, run.schedule, normalized) for key, run in runs.items()}
        trajectories = train_linear(problem, members, steps, shape=shape,
                                    log_loss_floor=SETTINGS["log_loss_floor"],
                                    progress=on_progress, on_record=recorder)
    except KeyboardInterrupt:
        result.status, result.message = RunStatus.INTERRUPTED, "interrupted by the user"
        _finish(result, threshold)
        result.seconds = time.perf_counter() - start
        raise FingerprintInterrupted(result) from None
    for key, tr in trajectories.items():
        runs[key].status, runs[key].message = RunStatus.of(tr.status), tr.message
        if runs[key].pruned:
            runs[key].message = (f"stopped after step {runs[key].steps[-1]}: behind the best runs "
                                 f"of the sweep at T/{1 / SETTINGS['prune_at']:g}")
    _finish(result, threshold)
    result.seconds = time.perf_counter() - start
    return result


def _finish(result: ModelFingerprint, threshold: float) -> None:
    """Select a member and identify (also on partial data after an interrupt)."""
    members = result.members
    result.selected = _select(members)
    if result.selected is not None:
        m = members[result.selected]
        result.identification = identify(m.increment_gaps[-1], threshold)
        if result.status is not RunStatus.INTERRUPTED:
            result.status = result.identification.finding
            result.message = "" if result.status is Finding.IDENTIFIED else result.identification.describe()
        return
    if result.status is RunStatus.INTERRUPTED:
        return
    errors = [m for m in members if m.status != RunStatus.OK]
    if members and len(errors) == len(members):
        result.status = RunStatus.ERROR
        result.message = errors[0].message + ("" if len(errors) == 1 else
                                              f" (and in all {len(errors)} runs of the step-size sweep)")
    else:
        result.status = Finding.NOT_SEPARATED
        longest = max((m.steps[-1] for m in members if m.steps), default=0)
        result.message = (f"no run of the step-size sweep separated the data with a late increment "
                          f"that does (after up to {longest} steps)")


def figures(fp: ModelFingerprint) -> list[dict]:
    """Gap curves (log-log, with the NSD rate of Fan et al. 2025 overlaid) and the ratio chart."""
    from theory.rates import decay_exponent
    from verify import figures as figs

    m = fp.member
    if m is None or fp.identification is None:
        return []
    ident = fp.identification
    t = np.asarray(m.steps, float)
    keep = t >= 1
    series = []
    for name, style in ((ident.best, "o-"), (ident.runner_up, "s-")):
        series.append(figs.series(f"iterate W_t, {name}", t[keep],
                                  np.array([g[name] for g in m.iterate_gaps])[keep], style))
    inc = [(s, g) for s, g in zip(m.steps, m.increment_gaps) if g is not None]
    if inc:
        for name, style in ((ident.best, "o--"), (ident.runner_up, "s--")):
            series.append(figs.series(f"increment W_t − W_(t/10), {name}", [s for s, _ in inc],
                                      [g[name] for _, g in inc], style))
    gaps_best = np.array([g[ident.best] for g in m.iterate_gaps])
    mid = len(t) // 2
    if gaps_best[mid] > 0:
        rate = decay_exponent("nsd")
        series.append(figs.series(f"NSD rate t^({rate:g}) up to logs (Fan et al. 2025), shape",
                                  t[mid:], gaps_best[mid] * (t[mid:] / t[mid]) ** rate, ":"))
    ratios, increments = fp.ratios, fp.increment_ratios
    labels = list(ratios)
    return [
        figs.line_figure(f"{fp.model}-margin-gap",
                         f"{fp.model}: relative margin gap (γ* − γ)/γ*, {m.describe()}",
                         "step t", "relative margin gap", series),
        figs.bar_figure(f"{fp.model}-fingerprint",
                        f"{fp.model}: margin gap 1 − γ_N/γ*_N per norm N (identified: {fp.identified})",
                        "1 − achieved margin / certified max margin (log)", labels, [],
                        highlight=ident.best, annotate=True, logy=True, groups=[
                            {"label": f"iterate W_T (T = {m.steps[-1]})",
                             "values": [1.0 - ratios[n] for n in labels]},
                            {"label": "late increment W_T − W_(T/10)",
                             "values": [1.0 - increments[n] for n in labels]}]),
    ]
