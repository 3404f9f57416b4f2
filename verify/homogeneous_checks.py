"""Checks shared by the homogeneous-network claims (Lyu & Li 2020, Gronich & Vardi 2026, Tsilivis et
al. 2024): the residual series and its settling, and the population check of "each optimizer's limit
direction is a KKT point of the margin problem in its own norm" — train optimizers in lockstep, KKT
residuals in every control norm, own-norm residual, control ratio, margin ranking."""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from numerics.trajectory_metrics import last_half_checkpoints, residual_decay_rate
from theory.norms import block_weight_distortion, parse_norm
from theory.optimizer_geometry import implied_norm
from verify.figures import bar_figure
from verify.numbers import nan_max, nan_min
from verify.outcome import Check, Outcome

L2 = parse_norm("l2", "binary")


@dataclass(frozen=True)
class Optimizer:
    """An optimizer given by its per-block update rules (``theory.optimizer_geometry.BlockRule``; its
    norm is derived from them), numbers for the rules' symbols, and the ``numerics.optim`` transform
    built from those numbers."""
    name: str
    rules: list
    values: dict
    build: Callable[[dict], object]

    @property
    def norm(self):
        return implied_norm(self.rules, self.values)


def same_prediction(own, controls: dict, tolerance: float) -> list[str]:
    """The control norms other than ``own`` whose block weights are within a factor 1 + tolerance of
    its own (``theory.norms.block_weight_distortion``): their KKT conditions differ by closing a relative
    gap below the tolerance, so they are the same prediction at it and cannot serve as its controls
    (on the digits, with the constant coordinate, W is 8×65 and u 1×8, and the shape factors
    √(fan_out/fan_in) scale Muon's two blocks by 0.351 and 0.354, a factor 1.0078 apart)."""
    out = []
    for name, norm in controls.items():
        distortion = block_weight_distortion(own, norm)
        if name != own.name and distortion is not None and distortion <= 1.0 + tolerance:
            out.append(name)
    return out


def run_optimizer_task(ctx, task: str, net, X, y, init, optimizers: list[Optimizer], controls: dict,
                       steps: int, tolerance: float, control_ratio: float = 3.0,
                       settled_rate: float | None = None, cap: int | None = None) -> dict:
    """Train ``optimizers`` in lockstep from ``init`` for ``steps`` steps (float64, log-space loss) and
    measure, for each that separates the data, the KKT residual of its normalized last parameters in
    every norm of ``controls`` (name → norm), the normalized margins in them, the own-norm residual
    over the last half of the run, cos(θ_t, θ_T) and the last step's change of log L. For every other
    norm whose certified residual is below ``control_ratio`` × the own one (a control that would
    miss), ``transfer`` holds how much of that norm's KKT condition the own certificate implies at
    the same parameters (``numerics.kkt_transfer.transfer_bound``).

    Per-draw horizon (with ``settled_rate`` and a ``cap`` ≥ 2·``steps``): a member whose own-norm
    residual at its horizon T is above ``tolerance`` and has not settled over [T/2, T]
    (:func:`residual_settled` misses) is continued — the same run, its schedule and optimizer state
    carried on (``numerics.train_network.NetworkTraining.advance``) — to 2T, and so on while 2T ≤
    ``cap``; it is read at the horizon where it stops (within tolerance, settled, or at the cap, where
    an unsettled residual still reads inconclusive). Not continued, though unsettled: a falling residual
    whose own measured rate does not reach tolerance by the cap (:func:`continuation_can_decide`).
    Every member is read over the last half of its own horizon; one that needs no continuation is
    read exactly as without it (the same records, bitwise). ``rows[name]["horizon"]`` is that horizon,
    ``["continued"]`` the (T, residual, κ) at each horizon it was continued from."""
    from numerics.kkt_residual import kkt_residual, norm_value, normalized_margin
    from numerics.kkt_transfer import transfer_bound
    from numerics.optim import TransformOptimizer
    from numerics.train import Member
    from numerics.train_network import NetworkTraining
    from numerics.trajectory_metrics import direction_cosines
    norms = {o.name: o.norm for o in optimizers}
    members = {o.name: Member(lambda ps, o=o: TransformOptimizer(ps, o.build(o.values), o.name)) for o in optimizers}
    training = NetworkTraining(net, X, y, members, init)
    traj = training.advance(steps, record=horizon_record(steps),
                            progress=lambda t, total: ctx.progress(t, total, task))
    own_cache: dict[str, dict] = {o.name: {} for o in optimizers}   # name → {t: own-norm KKTResidual}

    def own_residual(name, t, params):
        if t not in own_cache[name]:
            own_cache[name][t] = kkt_residual(net, params, X, y, norms[name])
        return own_cache[name][t]

    horizon = dict.fromkeys(norms, steps)
    continued: dict[str, list] = {name: [] for name in norms}
    T = steps
    while settled_rate is not None and cap is not None and 2 * T <= cap:
        go = []
        for o in optimizers:
            tr = traj[o.name]
            if horizon[o.name] != T or tr.status != "ok" or not tr.margins or tr.margins[-1] <= 0 \
                    or tr.steps[-1] != T:
                continue
            final = own_residual(o.name, T, tr.params[-1]).residual
            if not final > tolerance:
                continue
            window = _window(tr, T)
            series = last_half_residuals(net, [tr.steps[i] for i in window], [tr.params[i] for i in window],
                                         X, y, norms[o.name], final,
                                         lambda t, p, nm=o.name: own_residual(nm, t, p).residual)
            if residual_settled(o.name, series, tolerance, settled_rate).passed:
                continue
            rate = residual_decay_rate(*zip(*series))
            if continuation_can_decide(final, rate, tolerance, T, cap):
                go.append(o.name)
                continued[o.name].append((T, final, rate))
        if not go:
            break
        T *= 2
        training.advance(T, record=horizon_record(T), names=go,
                         progress=lambda t, total: ctx.progress(t, total, f"{task} (continued)"))
        for name in go:
            horizon[name] = T
    rows = {}
    for o in optimizers:
        tr, own = traj[o.name], norms[o.name]
        row = {"status": tr.status, "message": tr.message, "norm": own.name,
               "min_margin": tr.margins[-1] if tr.margins and tr.status == "ok" else -math.inf,
               "same_prediction": same_prediction(own, controls, tolerance),
               "horizon": horizon[o.name], "continued": continued[o.name]}
        rows[o.name] = row
        if tr.status == "ok" and row["min_margin"] <= 0 and not row["message"]:
            row["message"] = not_fit_reason(net, tr.params[-1], X)
        if tr.status != "ok" or row["min_margin"] <= 0:
            continue
        window = _window(tr, horizon[o.name])
        t_steps, t_params, t_loss = ([seq[i] for i in window] for seq in (tr.steps, tr.params, tr.log_loss))
        final, half = t_params[-1], t_params[0]
        row["log_loss"] = t_loss[-1]
        row["cos_min_last_half"] = nan_min(direction_cosines(net, t_params))
        row["dlogL_last_step"] = t_loss[-1] - t_loss[-2]     # momentum tracks when small
        row["residuals"], row["margins"], row["transfer"] = {}, {}, {}
        certificates = {}
        for key, nm in controls.items():
            certificates[key] = r = (own_residual(o.name, t_steps[-1], final) if key == own.name
                                     else kkt_residual(net, final, X, y, nm))
            row["residuals"][key] = r.as_dict()
            row["margins"][key] = normalized_margin(net, final, X, y, nm)
        own_res = certificates[own.name]
        for key, nm in controls.items():
            if key != own.name and not certificates[key].lower_bound >= control_ratio * own_res.residual:
                row["transfer"][key] = transfer_bound(net, final, X, y, own, nm, own_res.multipliers).as_dict()
        row["residual_series"] = series = last_half_residuals(
            net, t_steps, t_params, X, y, own, row["residuals"][own.name]["residual"],
            lambda t, p, nm=o.name: own_residual(nm, t, p).residual)
        row["theta_l2_half_final"] = (norm_value(L2, half), norm_value(L2, final))
        row["residual_rate"] = residual_decay_rate(*zip(*series))
    return {"rows": rows, "norms": {k: v.name for k, v in norms.items()}, "steps": steps, "cap": cap}


def horizon_record(steps: int) -> list[int]:
    """The steps a run of horizon ``steps`` = T is read at: the last half's checkpoints
    (``last_half_checkpoints``: from T/2 to T) and T − 1 (the last step's change of log L)."""
    return sorted(set(last_half_checkpoints(steps)) | {steps - 1})


def _window(trajectory, horizon: int) -> list[int]:
    """Indices of the trajectory's records read at ``horizon`` = T: those of ``horizon_record(T)``."""
    wanted = set(horizon_record(horizon))
    return [i for i, t in enumerate(trajectory.steps) if t in wanted]


def continuation_can_decide(residual: float, rate: float, tolerance: float, steps: int, cap: int) -> bool:
    """Whether continuing an unsettled run from ``steps`` can decide it by ``cap``: a residual that
    rises or fluctuates (κ ≤ 0 or NaN: a transient may settle) can, and a falling one can when its own
    measured rate κ, extrapolated (:func:`steps_to_tolerance`), reaches ``tolerance`` by the cap.
    A falling residual that cannot stays inconclusive without the cost of continuing it."""
    if not rate > 0:
        return True
    return steps_to_tolerance(residual, rate, tolerance, steps) <= cap


def not_fit_reason(net, params, X) -> str:
    """Why a run ends without fitting the data, for the precondition's note: the training points on
    which every hidden neuron is inactive (⟨w_j, x_i⟩ ≤ 0 for all j). Such a point gets no gradient
    (σ'(z) = 0 for z ≤ 0), so the state is absorbing: the theorems assume the data are fit at some
    time, and on this draw training does not get there."""
    W = np.asarray(params[0], dtype=float)
    dead = np.nonzero((np.asarray(X, dtype=float) @ W.T <= 0).all(axis=1))[0]
    if dead.size:
        return (f"the data are not fit: {dead.size} training point(s) (index {', '.join(map(str, dead[:5]))}) "
                "with every neuron inactive, which gradients cannot undo (σ'(z) = 0 for z ≤ 0); the "
                "theorem assumes the data are fit")
    return "the data are not fit (some margin ≤ 0)"


def optimizer_task_checks(task: str, result: dict, tolerance: float, settled_rate: float,
                          control_ratio: float) -> tuple[list[Check], dict, list]:
    """Checks of one task of :func:`run_optimizer_task`, per optimizer, each optimizer its own unit
    ``task/name`` (``verify.outcome``: a decisive miss in one unit is not hidden by another's
    precondition): the data are separated; the own-norm residual's solve is decisive and the residual
    has settled or is within ``tolerance``; the own-norm residual is within it; the smallest certified
    residual in another norm (not the same prediction) is ≥ ``control_ratio`` × it (negative control,
    against the nearest rival); the own-norm normalized margin is the largest among the optimizers of
    other norms whose endpoints are not themselves own-norm KKT points within ``tolerance`` (the
    theorems say nothing about which of two KKT points has the larger margin); cos(θ_t, θ_T) reported.

    A rival whose prediction coincides with the own one on the drawn data cannot be told apart by the
    control: when the rival norm's own optimizer reached a point that is KKT in this optimizer's norm
    too (its certified residual there below ``control_ratio`` × this optimizer's own residual, at most
    × ``tolerance``: the separation the control asks for; :func:`rival_coincides`),
    the control against that rival goes to a unit of its own, ``task/name vs rival``, with a
    precondition that the predictions differ (so it reads inconclusive with that reason), and the
    optimizer's own control is read against the nearest rival that does differ. The same holds for a
    one-way coincidence at this optimizer's own endpoint θ (:func:`implied_by_own`): the own KKT
    certificate at θ is a rival one with residual ≤ U (``numerics.kkt_transfer``: U ≤ √((D + E)² + cs²),
    D the distance from the own norm's gradient direction to the rival's subdifferential at θ), and
    U is below the separation asked — then no run ending at θ could pass that control, and its unit's
    precondition ``rival_separable_at_endpoint`` reads inconclusive. A rival that could be separated
    at θ (U at least the separation asked) and is not stays the decisive control: failed. Returns
    (checks, metrics, figures)."""
    checks, metrics, figures = [], {}, []
    rows = result["rows"]
    for name, row in rows.items():
        key = f"{task}/{name}"
        unit = []
        own = row["norm"]
        unit.append(Check(f"{key}: min_margin", row["min_margin"], ">=", np.finfo(float).tiny, "precondition",
                          row["message"] or "the data are separated"))
        if "residuals" not in row:
            checks += [replace(c, unit=key) for c in unit]
            continue
        res = row["residuals"]
        own_res = res[own]["residual"]
        unit += [
            solver_status(key, res[own]["status"], own_res, tolerance),
            residual_settled(key, row["residual_series"], tolerance, settled_rate),
            Check(f"{key}: kkt_residual", own_res, "<=", tolerance,
                  note=f"own norm {own} (τ = {res[own]['tolerance']:.2g}, stationarity "
                       f"{res[own]['stationarity']:.3g}, slackness {res[own]['complementary_slackness']:.3g})"
                       + continuation_note(row)),
        ]
        same = row["same_prediction"]
        others = {n: r["lower_bound"] for n, r in res.items() if n != own and n not in same}
        # the separation the control asks for: control_ratio × the own residual (at most the tolerance)
        asked = control_ratio * min(own_res, tolerance)
        coincide = {n: rival_coincides(rows, own, n, tolerance, asked) or implied_by_own(row, n, asked)
                    for n in others}
        separable = {n: v for n, v in others.items() if coincide[n] is None}
        same_note = f"; not controls, the same prediction at this tolerance: {', '.join(same)}" if same else ""
        if separable:
            nearest = min(separable, key=lambda n: (not math.isnan(separable[n]), separable[n]))
            unit.append(Check(f"{key}: kkt_control_ratio", separable[nearest] / max(own_res, 1e-300), ">=",
                              control_ratio, "control",
                              note=f"smallest certified residual in another norm ({nearest}) / own residual"
                                   + same_note))
        checks += [replace(c, unit=key) for c in unit]
        nearest_all = min(others, key=lambda n: (not math.isnan(others[n]), others[n])) if others else None
        if nearest_all is not None and coincide[nearest_all] is not None:
            # the nearest rival coincides on these data: its control is its own, undecidable, unit
            pair = f"{key} vs {nearest_all}"
            if isinstance(coincide[nearest_all], dict):         # one way, at this endpoint
                t = coincide[nearest_all]
                precondition = Check(
                    f"{pair}: rival_separable_at_endpoint", t["bound"] / max(asked / control_ratio, 1e-300), ">=",
                    control_ratio, "precondition",
                    note=f"at {name}'s endpoint its own KKT certificate (residual {own_res:.3g}) is a {nearest_all} "
                         f"one with residual ≤ {t['bound']:.3g} (numerics.kkt_transfer: r_rival ≤ √((D + E)² + cs²), "
                         f"subgradient distance D = {t['distance']:.3g}, own stationarity carried into the rival's "
                         f"dual norm E = {t['transported']:.3g}, cs = {t['own_slackness']:.3g}): every {own} KKT "
                         f"point there is within that of a {nearest_all} one, so a control asking "
                         f"{control_ratio:g}× the own residual cannot separate the two predictions at this point",
                    unit=pair)
            else:
                rival, value = coincide[nearest_all]
                precondition = Check(
                    f"{pair}: rival_prediction_differs", value / max(asked / control_ratio, 1e-300), ">=",
                    control_ratio, "precondition",
                    note=f"{rival}'s limit (the {nearest_all} prediction) has certified residual {value:.3g} in "
                         f"{own}, against {own_res:.3g} for {name}'s own: the two predictions coincide on these "
                         f"data (they must differ by ≥ {control_ratio:g}× the own residual for the control to "
                         "separate them)", unit=pair)
            checks += [
                precondition,
                Check(f"{pair}: kkt_control_ratio", others[nearest_all] / max(own_res, 1e-300), ">=",
                      control_ratio, "control",
                      note=f"certified residual in {nearest_all} / own residual", unit=pair),
            ]
        candidates = {o: rows[o]["margins"][own] for o in rows
                      if rows[o]["norm"] != own and rows[o]["norm"] not in same and "margins" in rows[o]}
        # an endpoint that is itself a KKT point of the own norm (achieved residual within tolerance) is
        # the own prediction too: the theorems do not rank the margins of two KKT points
        own_kkt = sorted(o for o in candidates if rows[o]["residuals"][own]["residual"] <= tolerance)
        rivals = {o: v for o, v in candidates.items() if o not in own_kkt}
        if rivals:
            best = max(rivals, key=lambda o: (math.isnan(rivals[o]), rivals[o]))
            skipped = (f"; not compared, their endpoints are {own} KKT points within tolerance: {', '.join(own_kkt)}"
                       if own_kkt else "")
            checks.append(Check(f"{key}: margin_rank", row["margins"][own] / rivals[best], ">=", 1.0,
                                note=f"own-norm normalized margin / the best other optimizer's ({best})" + skipped,
                                unit=key))
        checks.append(Check(f"{key}: cos_last_half", row["cos_min_last_half"], ">=", -1.0, "info",
                            note="min over the last half of cos(θ_t, θ_T) (directional convergence, assumed)",
                            unit=key))
        metrics[f"{key}: residual_rate"] = row["residual_rate"]
        if row.get("continued"):
            metrics[f"{key}: horizon"] = row["horizon"]
        metrics[f"{key}: dlogL_last_step"] = row["dlogL_last_step"]
    names = [n for n in rows if "residuals" in rows[n]]
    if names:
        figures.append(bar_figure(f"{task}-kkt", f"KKT residual in the own norm ({task})", "residual",
                                  names, [rows[n]["residuals"][rows[n]["norm"]]["residual"] for n in names],
                                  reference=tolerance))
    return checks, metrics, figures


def continuation_note(row: dict) -> str:
    """The note's account of a row's per-draw horizon (:func:`run_optimizer_task`): read at step T
    after continuing from the horizons where the residual was above tolerance and unsettled."""
    if not row.get("continued"):
        return ""
    steps = ", ".join(f"{r:.3g} at step {t} (κ = {k:.2g})" for t, r, k in row["continued"])
    return (f"; read at step {row['horizon']}: the same run continued (above tolerance and not settled: "
            f"{steps})")


def implied_by_own(row: dict, rival: str, within: float) -> dict | None:
    """The row's ``transfer`` entry for ``rival`` (``numerics.kkt_transfer.TransferBound.as_dict``)
    when its bound U is below ``within`` (the separation the control asks for): at this optimizer's
    endpoint the own KKT certificate is, as it stands, a rival KKT certificate with residual ≤ U, so
    the rival's residual is below the control's threshold whatever the optimizer does — the one-way
    coincidence (every own KKT point at θ is a rival one within U; not conversely). None otherwise,
    and when no bound was computed (NaN): the control then stands."""
    t = row.get("transfer", {}).get(rival)
    if t is not None and t["bound"] < within:
        return t
    return None


def rival_coincides(rows: dict, own: str, rival: str, tolerance: float, within: float):
    """(optimizer, residual) when an optimizer whose norm is ``rival`` separated the data, reached its
    own prediction (own-norm residual within ``tolerance``) and its limit is also a KKT point of
    ``own`` within ``within`` (certified lower bound): on these data the two predictions coincide at
    that resolution. None when no such optimizer exists. (Only a coincidence both ways is seen so: a
    one-sided one, where every KKT point of ``own`` is one of ``rival`` but not conversely, as for an
    ℓ2 KKT point whose layers have equal singular values and are balanced, and the layers' spectral
    max, is :func:`implied_by_own`'s.)"""
    for name, row in rows.items():
        if row["norm"] != rival or "residuals" not in row:
            continue
        reached = row["residuals"][rival]["residual"] <= tolerance
        there = row["residuals"].get(own, {}).get("lower_bound", math.nan)
        if reached and there < within:
            return name, float(there)
    return None


def last_half_residuals(net, steps, params, X, y, norm, final_residual: float,
                        residual: Callable | None = None) -> list[tuple[int, float]]:
    """[(t, r)] at the recorded checkpoints t ∈ ``last_half_checkpoints(T)`` of a run of T = ``steps[-1]``
    steps: the KKT residual in ``norm`` (∞ where the parameters do not separate the data), the final
    one given (already computed with its certificate). ``residual(t, params)``: how to compute it
    (default ``numerics.kkt_residual.kkt_residual(...).residual``; e.g. a cache of those)."""
    from numerics.kkt_residual import NotSeparatedError, kkt_residual
    total, settle = steps[-1], set(last_half_checkpoints(steps[-1]))
    series = []
    for t, p in zip(steps, params):
        if t == total:
            series.append((t, final_residual))
        elif t in settle:
            try:
                series.append((t, residual(t, p) if residual is not None else
                               kkt_residual(net, p, X, y, norm).residual))
            except NotSeparatedError:
                series.append((t, math.inf))
    return series


def residual_settled(key: str, series, tolerance: float, rate_tolerance: float) -> Check:
    """Precondition for deciding a KKT residual: the final one is within tolerance, or the residual has
    settled over the last half of the run, i.e. at the checkpoints ``series`` = [(t, r), ...] from T/2
    to T (t the step count) it moved by at most a factor 2^``rate_tolerance`` (max r / min r: a flat
    trend is not enough when the residual fluctuates about it). A residual still falling (the limit is
    not reached), rising (a transient) or fluctuating (the direction still moves) cannot show that the
    limit is not a KKT point. The note gives κ of the fit r ∝ t^(−κ) and, for a falling residual, the
    run length at which that rate reaches tolerance (:func:`steps_to_tolerance`)."""
    steps, residuals = zip(*series)
    final, low, high = residuals[-1], nan_min(residuals), nan_max(residuals)
    spread = math.log2(high / low) if low > 0 and math.isfinite(high) else math.inf
    rate = residual_decay_rate(steps, residuals)
    value = 1.0 if final <= tolerance else rate_tolerance - spread
    note = (f"residual {final:.3g} within tolerance, or settled: over the last half of the run ({len(series)} "
            f"checkpoints from step {steps[0]}) it moved by a factor 2^{spread:.3g} (settled if the exponent "
            f"is ≤ {rate_tolerance:g}), r ∝ t^(−κ) with κ = {rate:.3g}")
    if final > tolerance and rate > 0:
        note += (f"; at this rate r reaches {tolerance:g} after about "
                 f"{steps_to_tolerance(final, rate, tolerance, steps[-1]):.2g} steps")
    return Check(f"{key}: residual_settled", value, ">=", 0.0, "precondition", note)


def steps_to_tolerance(residual: float, rate: float, tolerance: float, steps: int) -> float:
    """The run length at which r ∝ t^(−κ), measured up to T = ``steps``, reaches ``tolerance``:
    T·(r/tol)^(1/κ) (an extrapolation of the measured rate κ > 0, not a bound)."""
    return steps * (residual / tolerance) ** (1.0 / rate)


def solver_status(key: str, status: str, residual: float, tolerance: float) -> Check:
    """Precondition on the own-norm residual solve: its value is an achieved residual (an upper
    bound on the best multipliers' residual), decisive when the solve is OK (the solver reported
    optimal: ``RunStatus.from_solver``) or when it is already within tolerance. ``status`` is the
    ``KKTResidual``'s; read back from JSON it is a plain string, taken through ``RunStatus.of`` (a
    string outside the enumeration raises)."""
    from numerics.run_status import RunStatus
    status = RunStatus.of(status)
    return Check(f"{key}: solver_status", float(status.ok or residual <= tolerance), ">=", 1.0,
                 "precondition", f"own-norm residual solve: {status} (an achieved value; decisive when "
                 "ok or within tolerance)")


def design_separation_check(separation: dict, tolerance: float, control_ratio: float,
                            role: str = "info") -> Check:
    """Whether the ℓ2 and the layers' spectral-max predictions differ on the drawn data's noiseless
    design (before training; ``verify.experiments.gronich2026.design_separation``: each one's KKT
    point in closed form for the draw's means): by ≥ ``control_ratio`` × ``tolerance`` both ways,
    the certified residual of each point in the rival norm. Where they coincide (means at cosine
    ≥ 0) the ℓ2 / spectral-max pair units are expected: only the noise can separate the two
    predictions. ``role`` "info" (the claims: evidence for a pair unit's reason, the noise may still
    separate them) or "precondition" (a design that must separate them)."""
    weaker = nan_min([separation["spectral_at_l2"], separation["l2_at_spectral"]])
    return Check("design_predictions_differ", weaker / tolerance, ">=", control_ratio, role,
                 f"noiseless design, means at cosine {separation['cosine']:g}: the ℓ2 KKT point has certified "
                 f"residual {separation['spectral_at_l2']:.3g} in the layers' spectral max, the spectral-max "
                 f"one {separation['l2_at_spectral']:.3g} in ℓ2 (the weaker / tolerance {tolerance:g}; they must "
                 f"differ by ≥ {control_ratio:g}× the tolerance for the ℓ2 / spectral-max controls to separate them)")


def optimizer_kkt_outcome(ctx, settings: dict, tasks: list, optimizers: Callable, controls: Callable,
                          extra_checks: list[Check] = ()) -> Outcome:
    """The check of "each optimizer's limit direction is a KKT point of the margin problem in its own
    norm": the schedule η₀ t^(−decay) is admissible for the network's derived degree (precondition),
    then for each task (name, X, y, width, steps) the population ``optimizers(net)`` is trained and
    checked (:func:`run_optimizer_task` with the norms ``controls(optimizers)``,
    :func:`optimizer_task_checks`). ``settings`` gives activation, decay, init_scale, kkt_tolerance
    (per profile), settled_rate, control_ratio and optionally init (``numerics.network_init.initialize``:
    "iid", the default, or "mirrored") and continuation (per profile: the cap of the per-draw horizon as
    a multiple of each task's steps, :func:`run_optimizer_task`; absent, no run is continued); each
    task's details record the points with no serving neuron at initialization. ``extra_checks`` (e.g. :func:`design_separation_check`) are added as they are."""
    from numerics.network_init import initialize, unserved_points
    from numerics.networks import TwoLayerNetwork
    from theory.homogeneous import two_layer_network
    from theory.schedules import is_admissible
    s = settings
    ok, reason = is_admissible(s["decay"], two_layer_network(s["activation"]).degree)
    checks = [Check("schedule_admissible", float(ok), ">=", 1.0, "precondition", reason), *extra_checks]
    tol = ctx.pick(**s["kkt_tolerance"])
    metrics, details, figures = {}, {}, []
    for task, X, y, width, steps in tasks:
        net = TwoLayerNetwork.build(s["activation"], width, X.shape[1])
        opts = optimizers(net)
        init = initialize(net, ctx.seed, s["init_scale"], s.get("init", "iid"))
        factor = ctx.pick(**s["continuation"]) if "continuation" in s else None
        result = run_optimizer_task(ctx, task, net, X, y, init, opts, controls(opts), steps, tol,
                                    s["control_ratio"], s["settled_rate"],
                                    None if factor is None else int(factor * steps))
        result["init"] = s.get("init", "iid")
        result["unserved_at_init"] = unserved_points(init, X, y).tolist()
        details[task] = result
        task_checks, task_metrics, task_figures = optimizer_task_checks(task, result, tol, s["settled_rate"],
                                                                        s["control_ratio"])
        checks += task_checks
        metrics.update(task_metrics)
        figures += task_figures
    return Outcome.from_checks(checks, metrics=metrics, details=details, figures=figures)
