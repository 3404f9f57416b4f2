"""The experiment behind the max-margin claims of linear classifiers.

One population of optimizers is trained in lockstep on one separable data set; the certified
max-margin solution of every catalogue norm is computed once; each claim then reads off its
optimizer's relative margin gap ``(γ*_N − γ_N(W_t)) / γ*_N`` in the predicted norm N, the decay of
that gap, a negative control (the same run measured in the nearest other norm of the family) and,
for strictly convex norms, the distance of the direction to the unique max-margin direction.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from numerics.classification import Classification
from theory.rates import lag_free_eta0, optimal_eta0
from theory.norms import Norm
from verify.context import Context
from verify.numbers import nan_max, nan_min
from verify.outcome import Check
from verify import figures as figs

#: a target counts as reached once the gap is within it at this many consecutive checkpoints (and its
#: recent upper envelope is too: ``gap_envelope``)
CONFIRMING_CHECKPOINTS = 2
#: a run that reached its target at step t_c continues to step CONTINUATION · t_c, where it is read;
#: the envelope that confirms it looks back over the same span, [t/CONTINUATION, t]
CONTINUATION = 2.0
#: a certificate with (P − D)/P below this is broken (weak duality violated beyond the rounding of the
#: sums over ≤ 10⁴ constraints, ~10⁴ · 2⁻⁵³ ≈ 1e-12)
BROKEN_CERTIFICATE = -1e-12
#: the predicted solution must be ≥ this many tolerances suboptimal in the nearest rival norm (and the
#: rival's in the predicted norm) for the control to be able to separate them
SEPARATION_FACTOR = 3.0
#: the control's threshold, in tolerances: halfway between the rival's own acceptance (1 tolerance) and
#: the smallest separation the precondition admits (SEPARATION_FACTOR tolerances)
CONTROL_FACTOR = (1.0 + SEPARATION_FACTOR) / 2

# numerics.maxmargin (cvxpy), numerics.optim and numerics.train (torch) are imported where used, so
# that loading the claim catalogue (`verify list`, `verify show`) stays fast.


@dataclass(frozen=True)
class Optimizer:
    """A population member: a label in the papers' vocabulary, how to build it for a schedule, and
    its schedule η_t = η₀ t^{−decay}.

    With ``geometry`` a norm name, η₀ = κ·η₀*, where η₀* minimizes the NSD gap bound at the run's
    horizon T (``theory.rates.step_size_derivation``: it depends on the data only through
    R = max_i ‖A_i‖_* in that norm's dual and the number of constraints). Methods that average
    gradients (``ema = (β, power)``: momentum β₁ with power 1, Adam's β₂ with power 2) are further
    capped so that the average tracks the current gradient from t₀ = √T on — the lag phase is then
    a vanishing fraction 1/√T of the run (``theory.rates.momentum_lag_derivation``; it uses the
    max margin γ* of the geometry).
    With ``geometry = None``, η₀ = κ (e.g. a fixed GD step with decay = 0)."""

    key: str
    label: str
    make: Callable          # schedule -> numerics.train.Member
    geometry: str | None
    kappa: float
    decay: float = 0.5
    ema: tuple[float, int] | None = None

    def schedule(self, problem: Classification, norms: dict[str, Norm], solutions: dict,
                 horizon: int):
        from numerics.optim import PowerSchedule

        if self.geometry is None:
            return PowerSchedule(self.kappa, self.decay)
        radius = data_radius(problem, norms[self.geometry])
        eta0 = self.kappa * optimal_eta0(radius, problem.n * (problem.k - 1), horizon)
        if self.ema is not None:
            beta, power = self.ema
            eta0 = min(eta0, lag_free_eta0(beta, solutions[self.geometry].margin, math.sqrt(horizon), power))
        return PowerSchedule(eta0, self.decay)


def gap_bound_at_best(radius: float, constraints: int, steps: float, gamma: float) -> float:
    """The relative-gap bound of ``theory.rates.step_size_derivation`` at its minimizing η₀* for a
    run of ``steps`` steps: R·√(log N · log T / 2) / (γ*·√T) (R = max_i ‖A_i‖_*, N constraints, γ*
    the max margin in the same norm). NaN if an input is not finite."""
    values = (radius, constraints, steps, gamma)
    if not all(np.isfinite(v) and v > 0 for v in values):
        return float("nan")
    return float(_gap_at_best()(*values))


def _gap_at_best():
    global _GAP_AT_BEST
    if _GAP_AT_BEST is None:
        import sympy as sp
        from theory.rates import step_size_derivation

        expr = step_size_derivation().results["gap_at_best"]
        sym = {s.name: s for s in expr.free_symbols}
        _GAP_AT_BEST = sp.lambdify([sym["R"], sym["N"], sym["T"], sym["gamma"]], expr, "math")
    return _GAP_AT_BEST


_GAP_AT_BEST = None


def steps_to_bound(level: float, radius: float, constraints: int, gamma: float) -> float:
    """The step count T at which ``gap_bound_at_best`` falls to ``level`` (the bound decreases in T
    for T > e; bisection in log T over [e, 1e15]). NaN if an input is not finite or the bound does not
    reach the level by 1e15 steps."""
    if not (np.isfinite(level) and level > 0) or math.isnan(gap_bound_at_best(radius, constraints, 3.0, gamma)):
        return float("nan")
    lo, hi = 1.0, math.log(1e15)
    if gap_bound_at_best(radius, constraints, math.exp(hi), gamma) > level:
        return float("nan")
    if gap_bound_at_best(radius, constraints, math.exp(lo), gamma) <= level:
        return math.e
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if gap_bound_at_best(radius, constraints, math.exp(mid), gamma) > level else (lo, mid)
    return math.exp(hi)


def draw_tolerance(separation: float, tolerance: float, floor: float | None) -> float:
    """A member's tolerance on one draw: ``tolerance``, or, when the prediction's nearest rival is
    closer than ``SEPARATION_FACTOR`` tolerances (``separation``, ``PopulationRun.nearest_separation``),
    separation / ``SEPARATION_FACTOR`` rounded down to 3 significant figures, so that the control can
    still tell the two apart (it narrows, never widens); never below ``floor`` (then the precondition
    ``rival_predictions_differ`` fails and the claim reads inconclusive: as the separation → 0 the steps
    needed grow without bound). ``tolerance`` when ``floor`` is None (the rule off) or the separation
    is NaN (the certificate preconditions report that)."""
    if floor is None or not np.isfinite(separation) or separation >= SEPARATION_FACTOR * tolerance:
        return tolerance
    narrowed = separation / SEPARATION_FACTOR
    if narrowed < floor:
        return float(floor)
    scale = 10.0 ** (math.floor(math.log10(narrowed)) - 2)
    tau = math.floor(narrowed / scale) * scale
    while SEPARATION_FACTOR * tau > separation:        # rounding must not leave 3τ above the separation
        tau = math.nextafter(tau, 0.0)
    return float(max(tau, floor))


def bound_step_budget(run: "PopulationRun", geometries, level: float, margin: float, floor: int) -> int:
    """A step budget derived per draw from the step-size derivation's gap bound: the step t̂ at which
    the largest of the geometries' bounds at η₀* (``gap_bound_at_best``; R and γ* of this draw) falls
    to ``level``, times ``margin`` (a late draw's slack) times ``CONTINUATION`` (the run is read at
    2·t_c), and at least ``floor``. The bound scales as (R/γ*)·√(log N log T / T), so a draw whose
    data radius is large against its max margin gets proportionally more steps. ``floor`` if the
    bound cannot be evaluated (e.g. a NaN margin: the certificate preconditions report that)."""
    constraints = run.problem.n * (run.problem.k - 1)
    hats = [steps_to_bound(level, data_radius(run.problem, run.norms[g]), constraints,
                           run.solutions[g].margin) for g in geometries]
    t_hat = nan_max(hats) if hats else float("nan")
    if not np.isfinite(t_hat):
        return int(floor)
    return int(max(floor, math.ceil(CONTINUATION * margin * t_hat)))


def data_radius(problem: Classification, norm: Norm) -> float:
    """R = max_i ‖A_i‖_* over the rows of the margin map, in the dual norm."""
    rows = problem.constraint_matrix()
    return float(norm.dual.values(rows.reshape(len(rows), *problem.param_shape)).max())


def transform_member(make: Callable, name: str) -> Callable:
    """A member built from a ``numerics.optim`` transformation factory ``make(schedule)``."""
    def build(sched):
        from numerics.optim import TransformOptimizer
        from numerics.train import Member

        return Member(lambda params: TransformOptimizer(params, make(sched), name))
    return build


@dataclass
class PopulationRun:
    problem: Classification
    schedules: dict                                   # optimizer key → its PowerSchedule
    steps: int
    solutions: dict                                   # canonical norm name → MaxMarginSolution
    trajectories: dict                                # optimizer key → numerics.train.Trajectory
    norms: dict[str, Norm] = field(default_factory=dict)
    confirmed: dict = field(default_factory=dict)     # optimizer key → step its target was confirmed
    cap: int | None = None                            # last step a late-confirmed member may continue to
    targets: dict = field(default_factory=dict)       # optimizer key → its tolerance on this draw
    budgets: dict = field(default_factory=dict)       # optimizer key → its own step budget, where it
                                                      # differs from ``steps`` (``draw_tolerance``)
    cap_factor: float = CONTINUATION

    def budget_of(self, key: str) -> int:
        """The step budget of member ``key``: its own (``budgets``) or the population's."""
        return int(self.budgets.get(key, self.steps))

    def cap_of(self, key: str) -> int | None:
        """The last step member ``key`` may continue to once confirmed: the population's cap, or
        ``cap_factor`` × its own budget."""
        if key not in self.budgets:
            return self.cap
        return max(self.budgets[key], int(math.ceil(self.cap_factor * self.budgets[key])))

    def relative_gap(self, W: np.ndarray, norm_name: str) -> float:
        """(γ* − γ(W)) / γ* in the norm (negative margins give gaps > 1)."""
        margin = self.solutions[norm_name].margin
        return (margin - self.problem.normalized_margin(W, self.norms[norm_name])) / margin

    def gap_curve(self, key: str, norm_name: str) -> np.ndarray:
        """Relative margin gap at every recorded step."""
        return np.array([self.relative_gap(W, norm_name) for W in self.trajectories[key].params])

    def cross_gap(self, predicted: str, rival: str) -> float:
        """Relative gap of the certified max-margin solution of ``predicted`` measured in ``rival``:
        where a run converging to the prediction would read the rival's gap."""
        return self.relative_gap(self.solutions[predicted].W, rival)

    def separation(self, predicted: str, rival: str) -> float:
        """How far apart the two predictions are: the smaller of the two cross gaps (each certified
        solution measured in the other's norm). For a norm whose max-margin solution is not unique
        this is measured at the solver's solution."""
        return nan_min([self.cross_gap(predicted, rival), self.cross_gap(rival, predicted)])

    def nearest_separation(self, norm_name: str) -> tuple[float, str | None, dict]:
        """(the smallest ``separation`` of ``norm_name`` from any other certified norm, that norm, every
        separation by norm): how far the prediction is from its nearest rival (NaN-propagating)."""
        rivals = [n for n in self.solutions if n != norm_name]
        separation = {n: self.separation(norm_name, n) for n in rivals}
        if not rivals:
            return float("nan"), None, separation
        nearest = min(rivals, key=lambda n: separation[n] if np.isfinite(separation[n]) else -np.inf)
        return nan_min(separation.values()), nearest, separation

    def direction_error(self, key: str, norm_name: str) -> float:
        """‖W_T/‖W_T‖ − W*/‖W*‖‖ in the norm itself (meaningful when W* is unique)."""
        norm, W = self.norms[norm_name], self.trajectories[key].final
        return norm.value(W / norm.value(W) - self.solutions[norm_name].direction)


def run_population(ctx: Context, tag: str, problem: Classification, norms: list[Norm],
                   optimizers: list[Optimizer], steps: int | Callable, loss: str = "cross_entropy",
                   targets: dict[str, float] | None = None,
                   companions: dict[str, str] | None = None,
                   horizon: int | None = None, cap_factor: float = CONTINUATION,
                   budgets: Callable | None = None) -> PopulationRun:
    """Solve the max-margin problems and train the population (both cached for the whole run).

    ``horizon`` (default ``steps``): the T for which the schedules' η₀ are derived and over which the
    120 log-spaced checkpoints run; a larger step budget ``steps`` extends the checkpoints with the
    same spacing, so that a run confirmed late (t_c up to the horizon) can still be read at 2·t_c
    while every run that stops earlier is unchanged. ``steps`` may be a function of the run (its
    problem, norms and certified solutions, e.g. ``bound_step_budget``), evaluated once the solutions
    are computed; ``horizon`` is then required.

    ``targets`` (optimizer key → tolerance): each listed optimizer's target is *confirmed* at the
    first checkpoint t_c where its relative margin gap in its own geometry has been ≤ the tolerance
    at that checkpoint and at the one before (120 log-spaced checkpoints, ≈ 10% apart: a
    single-checkpoint dip does not count) and its envelope over [t_c/2, t_c] is too
    (``confirmation_step``: a dip of a fluctuating gap does not count either); it then continues to
    the first checkpoint ≥ ``CONTINUATION`` · t_c and stops there, so that the claims read it past its
    confirmation (the gap must stay within the tolerance and keep decaying). ``run.confirmed`` holds each t_c.
    Confirmation is looked for up to the step budget only. A listed member confirmed after half the
    budget is *continued* past the budget (the same run: its schedule η_t is defined for every t, the
    checkpoints keep their spacing) to 2·t_c, at most to the cap ``run.cap`` = ``cap_factor`` × budget
    (default ``CONTINUATION``: t_c ≤ budget, so every confirmed member reaches 2·t_c by construction,
    and a late member costs at most one more budget of its own steps). A member never confirmed
    within the budget stops at the budget, as every member did before; the members that stop by the
    budget are stepped, recorded and read exactly as without the continuation.

    ``targets`` may be a function of the run (its certified solutions: e.g. a tolerance narrowed per
    draw, ``draw_tolerance``), and ``budgets`` a function of the run giving some listed members a
    budget of their own (``run.budgets``; cap ``cap_factor`` × that budget, ``run.cap_of``); the others
    keep the population's budget, checkpoints and iterates. The unlisted ones
    (e.g. library optimizers shown for comparison) run until every listed one has stopped, and the
    step budget bounds them all. ``companions`` (optimizer key → listed key) stop with their partner
    instead (past the budget too): a library optimizer is then read at the step where the idealized
    method it is compared with stopped. The claims read each optimizer where it stopped."""
    from numerics.maxmargin import max_margin
    from numerics.train import train_linear

    if callable(steps) and horizon is None:
        raise ValueError("run_population: a step budget computed per draw needs an explicit horizon")

    def compute():
        solutions = {}
        for i, n in enumerate(norms):
            ctx.progress(i, len(norms), f"certified max margin in {n.name}")
            solutions[n.name] = max_margin(problem, n)
        by_name = {n.name: n for n in norms}
        schedules = {o.key: o.schedule(problem, by_name, solutions, horizon or steps) for o in optimizers}
        members = {o.key: o.make(schedules[o.key]) for o in optimizers}
        run = PopulationRun(problem, schedules, 0, solutions, {}, by_name, cap_factor=cap_factor)
        run.steps = int(steps(run)) if callable(steps) else steps
        budget = run.steps
        # the continuation cap: the last step a member confirmed within the budget may run to
        run.cap = max(budget, int(math.ceil(cap_factor * budget))) if targets else budget
        run.targets = dict((targets(run) if callable(targets) else targets) or {})
        run.budgets = {k: int(b) for k, b in ((budgets(run) if budgets else None) or {}).items()
                       if k in run.targets and int(b) > budget}
        tolerances = run.targets
        total = max([run.cap] + [run.cap_of(k) for k in run.budgets])
        geometry = {o.key: o.geometry for o in optimizers}
        curves: dict[str, list] = {}             # optimizer → its gap at every checkpoint so far
        stopped: set[str] = set()

        def on_record(t, trajectories):
            for key, tol in tolerances.items():
                tr = trajectories[key]
                if key in stopped or not tr.steps or tr.steps[-1] != t:
                    continue
                if key not in run.confirmed:
                    curve = curves.setdefault(key, [])
                    curve.append(run.relative_gap(tr.params[-1], geometry[key]))
                    if curve[-1] <= tol and confirmation_step(tr.steps[-len(curve):], curve, tol) == t:
                        run.confirmed[key] = t
                if key in run.confirmed and t >= CONTINUATION * run.confirmed[key]:
                    stopped.add(key)
                if t >= run.cap_of(key):       # its cap (only reached when a member's own cap is larger)
                    stopped.add(key)
            if t >= budget:    # only members confirmed within their budget (and their companions) go on
                late = {k for k in run.confirmed if k not in stopped}
                own = {k for k in run.budgets if k not in stopped and k not in run.confirmed
                       and t < run.budgets[k]}                   # still looking, within its own budget
                stopped.update(k for k in trajectories
                               if k not in late | own and (companions or {}).get(k) not in late | own)
            stopped.update(k for k, partner in (companions or {}).items() if partner in stopped)
            if tolerances and stopped >= set(tolerances):          # the unlisted ones stop too
                return set(trajectories)
            return stopped

        def progress(t, total):       # against the budget; past it (late members only) against the cap
            ctx.progress(t, budget if t <= budget else total, f"training {len(members)} optimizers ({tag})")

        run.trajectories = train_linear(problem, members, total, loss=loss, progress=progress,
                                        record=sorted(set(continued_record_steps(horizon or budget, budget,
                                                                                 total))
                                                      | {run.cap_of(k) for k in tolerances})
                                        if tolerances else None,
                                        on_record=on_record if tolerances else None)
        return run

    return ctx.shared(("linear-population", tag), compute)


def record_steps(horizon: int, steps: int, count: int = 120) -> list[int]:
    """``count`` log-spaced checkpoints over 1..horizon (``numerics.train.checkpoints``), continued with
    the same ratio up to the budget ``steps`` (which is always recorded); equal to
    ``checkpoints(steps, count)`` when horizon = steps."""
    from numerics.train import checkpoints

    grid = checkpoints(horizon, count)
    ratio, t = horizon ** (1.0 / (count - 1)), float(horizon)
    while steps > horizon:
        t *= ratio
        if round(t) >= steps:
            break
        grid.append(int(round(t)))
    return sorted(set(grid) | {steps})


def continued_record_steps(horizon: int, budget: int, cap: int, count: int = 120) -> list[int]:
    """The checkpoints of a population with a continuation: ``record_steps(horizon, budget)`` (so a
    member that stops by the budget sees exactly the checkpoints it saw without the continuation),
    then the same log spacing on to ``cap`` (always recorded)."""
    base = record_steps(horizon, budget, count)
    if cap <= budget:
        return base
    return sorted(set(base) | {s for s in record_steps(horizon, cap, count) if s > budget})


def fitted_exponent(steps, gaps, window: float = 10.0, start: float | None = None) -> float:
    """Least-squares slope of log gap vs log t over the last ``window``-fold range of steps (or from
    step ``start`` on). NaN if a gap in the range is NaN or not positive (a log slope of a gap that
    reached or crossed zero is undefined), or if fewer than 3 checkpoints fall in the range."""
    steps, gaps = np.asarray(steps, float), np.asarray(gaps, float)
    keep = steps >= (steps[-1] / window if start is None else start)
    if keep.sum() < 3 or not np.all(gaps[keep] > 0):
        return float("nan")
    return float(np.polyfit(np.log(steps[keep]), np.log(gaps[keep]), 1)[0])


def gap_envelope(steps, gaps, window: float = CONTINUATION) -> np.ndarray:
    """At each checkpoint t, the upper envelope of the gap's recent fluctuations: the log-log line
    fitted to the checkpoints in [t/window, t], raised until it touches the highest of them, read at t.

    The theorems bound the envelope sup_{s ≥ t} gap(s) by a decaying B(t); they do not make the gap
    itself monotone (a normalized steepest-descent step moves W by a fixed fraction ~1/(2t) of its
    norm, and the active margin constraint switches), so a gap can dip below a tolerance while its
    envelope is still above it. Causal (uses checkpoints ≤ t only); ≥ the gap; equal to it for an
    exact power law. NaN where a gap in the window is NaN; the gap itself where fewer than 3
    checkpoints fall in the window or a gap there is ≤ 0 (no log)."""
    steps, gaps = np.asarray(steps, float), np.asarray(gaps, float)
    return np.array([_envelope_at(steps, gaps, i, window) for i in range(len(steps))])


def _envelope_at(steps: np.ndarray, gaps: np.ndarray, i: int, window: float) -> float:
    keep = (steps >= steps[i] / window) & (steps <= steps[i])
    window_gaps = gaps[keep]
    if np.isnan(window_gaps).any():
        return float("nan")
    if keep.sum() < 3 or not np.all(window_gaps > 0):
        return float(gaps[i])
    x, y = np.log(steps[keep]), np.log(window_gaps)
    slope, intercept = np.polyfit(x, y, 1)
    fit = intercept + slope * x
    return max(float(gaps[i]), float(np.exp(fit[-1] + np.max(y - fit))))


def confirmation_step(steps, gaps, tolerance: float) -> int | None:
    """The first recorded step t_c at which the gap has been ≤ tolerance at ``CONFIRMING_CHECKPOINTS``
    consecutive checkpoints and its envelope over [t_c/CONTINUATION, t_c] (``gap_envelope``) is ≤
    tolerance as well, so that a dip of a fluctuating gap does not confirm (the stopping rule of
    ``run_population``); None if never."""
    steps, gaps = np.asarray(steps, float), np.asarray(gaps, float)
    run_length = 0
    for i, g in enumerate(gaps):
        run_length = run_length + 1 if g <= tolerance else 0
        if run_length >= CONFIRMING_CHECKPOINTS and _envelope_at(steps, gaps, i, CONTINUATION) <= tolerance:
            return int(steps[i])
    return None


def _narrowed_note(tolerance: float, nominal: float | None) -> str:
    if nominal is None or tolerance == nominal:
        return ""
    return (f"; the tolerance on this draw is {tolerance:.3g}, narrowed from {nominal:g} to a third of the "
            f"separation (rounded down), at least the floor")


def certificate_checks(run: PopulationRun, names=None) -> list[Check]:
    """Two-sided duality-gap preconditions over every norm the claim uses (prediction and rivals):
    the worst relative gap (P − D)/P ≤ 1e-6, and none below ``BROKEN_CERTIFICATE`` (P < D violates
    weak duality: the certificate is broken, not tight)."""
    names = list(run.solutions) if names is None else list(names)
    gaps = {n: float(run.solutions[n].certificate.relative_gap) for n in names}
    worst = max(gaps, key=lambda n: (not np.isfinite(gaps[n]), gaps[n] if np.isfinite(gaps[n]) else 0))
    lowest = min(gaps, key=lambda n: gaps[n] if np.isfinite(gaps[n]) else -np.inf)
    return [
        Check("solver_duality_gap", nan_max(gaps.values()), "<=", 1e-6, "precondition",
              f"largest certified (P − D)/P over {len(gaps)} norms: {worst} ({run.solutions[worst].solver})"),
        Check("certificate_weak_duality", nan_min(gaps.values()), ">=", BROKEN_CERTIFICATE, "precondition",
              f"smallest (P − D)/P over the same norms ({lowest}): negative means P < D, a broken "
              f"certificate"),
    ]


def margin_checks(run: PopulationRun, key: str, norm_name: str, tolerance: float,
                  rate_exponent: float, rate_text: str, rate_slack: float,
                  direction_tolerance: float, nominal: float | None = None
                  ) -> tuple[list[Check], dict, list[dict]]:
    """The checks of a max-margin claim for optimizer ``key`` and predicted norm ``norm_name``.

    Preconditions: every norm's certificate (``certificate_checks``); the data separated at the end;
    the run read at ≥ ``CONTINUATION`` × its confirmation step t_c (``confirmation_step``: the first
    step at which the gap was ≤ tolerance at two consecutive checkpoints and its envelope was too);
    the predictions differ: the nearest rival norm of the family (smallest
    ``PopulationRun.separation``) is ≥ ``SEPARATION_FACTOR`` × tolerance away.

    (a) relative gap in the predicted norm ≤ tolerance where the run is read, and at every
        checkpoint from t_c on (it stays within the tolerance past its confirmation);
    (b) fitted decay exponent of the gap ≤ the theorem's exponent + slack, over the last decade and
        over the continuation [t_c, end] (it keeps decaying at the theorem's rate; the theorem gives
        an upper bound on the gap, so decaying faster is consistent with it);
    (c) negative control, against the nearest rival: the same run measured in every other norm of
        the family stays at a relative gap ≥ ``CONTROL_FACTOR`` × tolerance (the minimum over the
        rivals is checked);
    (d) direction: ‖W/‖W‖ − W*/‖W*‖‖ ≤ direction_tolerance when W* is unique (strictly convex norm).

    ``nominal``: the claim's tolerance when ``tolerance`` is the one narrowed on this draw
    (``draw_tolerance``); the notes and details then say so.
    """
    traj, sol, norm = run.trajectories[key], run.solutions[norm_name], run.norms[norm_name]
    checks = certificate_checks(run)
    rivals = [n for n in run.solutions if n != norm_name]
    smallest, nearest, separation = run.nearest_separation(norm_name)
    checks.append(Check("rival_predictions_differ", smallest, ">=",
                        SEPARATION_FACTOR * tolerance, "precondition",
                        f"nearest rival {nearest}: the certified solutions of {norm_name} and {nearest}, "
                        f"each measured in the other's norm, are ≥ this suboptimal (else the control "
                        f"cannot tell them apart at this tolerance)" + _narrowed_note(tolerance, nominal)))
    if traj.status != "ok":
        checks.append(Check("training_completed", 0.0, ">=", 1.0, "precondition", traj.message))
        return checks, {}, []
    gaps = run.gap_curve(key, norm_name)
    steps = np.asarray(traj.steps, float)
    final_margin = run.problem.margins(traj.final).min()
    checks.append(Check("data_separated", float(final_margin > 0), ">=", 1.0, "precondition",
                        "every training margin positive at the end"))
    t_c = confirmation_step(traj.steps, gaps, tolerance)
    slope = fitted_exponent(traj.steps, gaps)              # the last decade's log-log slope
    checks.append(Check("relative_margin_gap", gaps[-1], "<=", tolerance,
                        note=f"in {norm_name} after {traj.steps[-1]} steps"))
    if t_c is None and gaps[-1] <= tolerance:   # within the target at the last checkpoint only
        checks.append(Check("read_past_confirmation", 0.0, ">=", CONTINUATION, "precondition",
                            f"never confirmed within the budget of {traj.steps[-1]} steps (a gap within "
                            "the target at the last checkpoint alone does not confirm convergence)"))
    elif t_c is None and slope <= rate_exponent + rate_slack:
        # outside the target at the end but still falling at the theorem's rate (gap_decay_exponent
        # below): the budget is too short to decide; a stalled gap fails that check instead
        checks.append(Check("confirmed_within_budget", 0.0, ">=", 1.0, "precondition",
                            f"the gap {gaps[-1]:.3g} is still decaying at the theorem's rate when the budget "
                            f"of {traj.steps[-1]} steps ends: too short to decide, not a contradiction"))
    elif t_c is not None:
        after = steps >= t_c
        checks.append(Check("read_past_confirmation", steps[-1] / t_c, ">=", CONTINUATION, "precondition",
                            f"confirmed at step {t_c}, read at step {traj.steps[-1]} (a run confirmed "
                            f"within the budget of {run.budget_of(key)} steps continues to {CONTINUATION:g}× its "
                            f"confirmation step{'' if run.cap_of(key) is None else f', up to the cap {run.cap_of(key)}'})"))
        checks.append(Check("max_gap_after_confirmation", nan_max(gaps[after]), "<=", tolerance,
                            note=f"largest gap at the checkpoints from step {t_c} on"))
        checks.append(Check("continuation_decay_exponent",
                            fitted_exponent(steps, gaps, start=t_c), "<=", rate_exponent + rate_slack,
                            note=f"log-log slope of the gap over steps {t_c}–{traj.steps[-1]}; theorem: "
                                 f"{rate_text}"))
    checks.append(Check("gap_decay_exponent", slope, "<=", rate_exponent + rate_slack,
                        note=f"last decade; theorem: upper bound {rate_text}, i.e. exponent ≈ {rate_exponent:g}"))
    # (c) negative control: the minimum over the rivals of the run's gap in the rival norm
    rival_gaps = {n: float(run.gap_curve(key, n)[-1]) for n in rivals}
    control = min(rivals, key=lambda n: rival_gaps[n] if np.isfinite(rival_gaps[n]) else -np.inf)
    checks.append(Check("control_margin_gap", nan_min(rival_gaps.values()), ">=", CONTROL_FACTOR * tolerance,
                        "control",
                        f"the same run measured in each other norm of the family; smallest in {control} "
                        f"(nearest rival by the predictions: {nearest})"))
    if norm.strictly_convex:
        checks.append(Check("direction_error", run.direction_error(key, norm_name), "<=",
                            direction_tolerance, note=f"unique max-margin direction in {norm_name}"))
    all_gaps = {n: float(run.gap_curve(key, n)[-1]) for n in run.solutions}
    details = {
        "optimizer": key, "predicted_norm": norm_name, "schedule": run.schedules[key].describe(),
        "steps": traj.steps[-1], "confirmed_at": t_c, "step_budget": run.budget_of(key),
        "step_cap": run.cap_of(key), "continued_past_budget": bool(traj.steps[-1] > run.budget_of(key)),
        "max_margin": sol.margin,
        "solver": sol.solver, "nearest_rival": nearest, "separation_by_norm": separation,
        "final_margin": sol.margin * (1 - gaps[-1]), "relative_gap_by_norm": all_gaps,
        "direction_note": None if norm.strictly_convex else
        f"{norm_name} is not strictly convex: max-margin directions need not be unique, so only margins are compared",
    }
    if nominal is not None and tolerance != nominal:
        details["tolerance"] = {"nominal": nominal, "on_this_draw": tolerance}
    t = np.asarray(traj.steps, float)
    bound = gaps[len(gaps) // 2] * (t / t[len(t) // 2]) ** rate_exponent
    figures = [
        figs.line_figure("margin-gap", f"{key}: relative margin gap in {norm_name}", "step t",
                         "(γ* − γ(W_t)) / γ*",
                         [figs.series(f"{norm_name} (predicted)", t, gaps, "o-"),
                          figs.series(f"{control} (control)", t, run.gap_curve(key, control), "s-"),
                          figs.series(f"theorem rate {rate_text} (shape)", t, bound, "--")]),
        figs.bar_figure("gap-by-norm", f"{key}: final relative margin gap by norm", "relative gap",
                        list(all_gaps), list(all_gaps.values()), reference=tolerance,
                        highlight=norm_name),
    ]
    return checks, details, figures
