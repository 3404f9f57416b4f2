"""The checks of the depth-N diagonal-network claims (``deep-diagonal-implied-regularizer`` and
``deep-diagonal-adam-implied-regularizer``) over one depth's training result from
:mod:`verify.experiments.deep_diagonal`: the replica mean against the derived regularizer's argmin,
the negative control against the nearest rival's argmin, the precondition that the two differ by
``separation`` tolerances, and the preconditions of the regime. Each check has unit ``depth{N}``."""
from __future__ import annotations

from verify.experiments import deep_diagonal as exp
from verify.outcome import Check


def decisive_checks(N: int, own: float, own_note: str, rival_distance: float, rival_note: str,
                    separation: float, separation_note: str, settings) -> list[Check]:
    """The three checks that decide a depth: the replica mean's relative distance ``own`` to the
    prediction ≤ tolerance; the control, ``rival_distance`` / ``own`` ≥ ``control_ratio``; and the
    precondition that prediction and rival are ``separation`` ≥ ``settings.separation`` tolerances
    apart."""
    s, unit = settings, f"depth{N}"
    return [
        Check(f"depth{N}_distance_to_prediction", own, "<=", s.tolerance, unit=unit, note=own_note),
        Check(f"depth{N}_control_rival_over_own", rival_distance / max(own, 1e-300), ">=", s.control_ratio,
              role="control", unit=unit, note=rival_note),
        Check(f"depth{N}_predictions_differ", separation, ">=", s.separation * s.tolerance,
              role="precondition", unit=unit, note=separation_note),
    ]


def depth_checks(N: int, result: dict, settings=None) -> list[Check]:
    """The checks of one depth's training result (``exp.train_depth``), unit ``depth{N}``: the replica
    mean at η against the prediction and the nearest rival's, and the preconditions."""
    import numpy as np

    from numerics.interpolation import relative_distance
    from verify.numbers import nan_max

    s = exp.SETTINGS if settings is None else settings
    forms = exp.forms()
    rival = exp.nearest_rival(N)
    preds, tol = result["predictions"], s.tolerance
    mean, mean2 = np.mean(result["trained"], axis=0), np.mean(result["trained_at_2eta"], axis=0)
    change = relative_distance(mean, mean2) if np.all(np.isfinite(mean2)) else np.inf
    own = relative_distance(mean, preds[N])
    unit = f"depth{N}"
    kappa = forms[N][1]
    R = len(result["trained"])
    return decisive_checks(
        N, own, f"mean of {R} label-noise GD replicas on u^{N} − v^{N} vs argmin Σ c_j|w_j|^{kappa:.4g} "
                "s.t. Zw = y",
        relative_distance(mean, preds[rival]),
        f"distance to the depth-{rival} regularizer's interpolator (κ = {forms[rival][1]:.4g}) over the "
        "distance to its own",
        relative_distance(preds[rival], preds[N]),
        f"the control can only separate predictions {s.separation:g}× the tolerance apart", s) + [
        Check(f"depth{N}_small_eta_regime", change, "<=", s.eta_stability * tol,
              role="precondition", unit=unit,
              note=f"relative change of the replica mean between η·λ* = {result['eta']:g} and 2η at the "
                   f"same rescaled time η²δ²·steps = {result['rescaled_time']:g} (the prediction is the "
                   f"η → 0 limit; this estimates the finite-η bias; ∞: the run at 2η diverged)"),
        Check(f"depth{N}_settled",
              relative_distance(np.mean(result["trained_at_three_quarters"], axis=0), mean), "<=",
              s.settled * tol, role="precondition", unit=unit,
              note="relative change of the replica mean over the last quarter of the run at η (the "
                   "prediction is where the slow drift ends; a run still moving has not reached it)"),
        # The flow is the clock the horizon is derived from, not the observation: it tells a run that is
        # too short for its draw from a counterexample, so it is a precondition only for a run that
        # misses its prediction. A run within the tolerance that has settled and is η-stable is at the
        # prediction whatever the η → 0 flow's time (the η = 0.05 run can drift faster or slower than
        # the flow on draws with a small certificate slack): info there (docs/claims/deep-diagonal-
        # implied-regularizer.md, session 5).
        Check(f"depth{N}_flow_reached", result["flow_distance"], "<=", s.flow_reached * tol,
              role="precondition" if not own <= tol else "info", unit=unit,
              note=f"relative distance to the prediction of the η → 0 slow flow (gradient flow of tr H "
                   f"along Zw = y from the noise-free limit of u = v = α) at the run's rescaled time "
                   f"{result['rescaled_time']:g}, derived per draw as the first of "
                   f"{', '.join(f'{T:g}' for T in s.horizons_for(N))} where it is within "
                   f"{s.flow_margin:g} × tolerance; above this a run that misses its prediction needs a "
                   "longer run than the budget (its slowest mode, e.g. a small slack of the ℓ1 certificate "
                   "at depth 2), not a counterexample"
                   + ("" if not own <= tol else "; the run is within the tolerance, so this only reports "
                      "the flow (a precondition for a miss only)")),
        Check(f"depth{N}_projection_residual", result["projection_residual"], "<=",
              s.projection_residual, role="precondition", unit=unit),
        Check(f"depth{N}_replica_spread", nan_max(relative_distance(w, mean) for w in result["trained"]),
              ">=", 0.0, role="info", unit=unit,
              note="largest distance of one replica from the mean (fluctuation O(η^(1/2)))"),
    ]


def adam_depth_checks(N: int, result: dict, settings=None) -> list[Check]:
    """The checks of one depth's Adam result (``exp.train_adam_depth``), unit ``depth{N}``: the
    replica mean (each replica's iterate average over the last quarter, projected) against the global argmin
    of the derived Adam-implied regularizer and against the nearer of the two rivals (label-noise SGD's
    tr H argmin, the c^{1/2}-weighted ℓ1 argmin), and the replicas that stopped elsewhere.

    What decides (the regularizer is concave, every vertex of Zw = y is a local minimum where the
    drift can stop, and Adam's O(η) steps can collapse a coordinate before the run interpolates):
    - a replica that has stopped — its own last-quarter average within ``settled`` × tolerance of its
      third-quarter average — at ≥ ``elsewhere`` × tolerance from the global argmin contradicts
      "reaches the global argmin" whether or not it interpolates (prediction
      ``replicas_settled_elsewhere`` = 0). Then the replica mean's motion and the projection residual
      change nothing and are reported as info;
    - otherwise the replica mean must have settled (precondition: a run still moving reads
      inconclusive) and lie within the tolerance of the argmin; a run at the argmin must also be on
      Zw = y (the projection residual: a precondition only for a run within the tolerance)."""
    import numpy as np

    from numerics.interpolation import relative_distance
    from verify.numbers import nan_max, nan_min

    s = exp.ADAM_SETTINGS if settings is None else settings
    tol, pred = s.tolerance, result["prediction"]
    K, kappa = exp.forms("adam")[N]
    rivals = result["rivals"]
    gaps = {name: relative_distance(w, pred) for name, w in rivals.items()}
    rival = min(gaps, key=gaps.get)
    W = np.asarray(result["trained"])
    last, third = np.asarray(result["last_quarter"]), np.asarray(result["third_quarter"])
    mean = np.mean(last, axis=0)
    own = relative_distance(mean, pred)
    c = result["problem"].c
    weights = K * np.sqrt(c)
    scale = float(np.linalg.norm(pred))

    def objective(w):
        return float(np.sum(weights * np.abs(w) ** kappa))

    Z, y = result["problem"].Z, result["problem"].y

    def on_support(w):
        # the nearest point of Zw = y with the same support (least-norm correction on it), so that
        # regularizer values compare on the constraint set (the projection leaves a small residual)
        keep = np.abs(w) > s.support_threshold * np.max(np.abs(w))
        out = np.where(keep, w, 0.0)
        out[keep] += np.linalg.lstsq(Z[:, keep], y - Z @ out, rcond=None)[0]
        return out if np.linalg.norm(Z @ out - y) <= 1e-8 * np.linalg.norm(y) else \
            w + np.linalg.lstsq(Z, y - Z @ w, rcond=None)[0]

    support = [int(np.sum(np.abs(w) > s.support_threshold * np.max(np.abs(w)))) for w in W]
    # per replica: its own motion between the windows, and its distance to the argmin
    motion = np.linalg.norm(last - third, axis=-1) / max(scale, 1e-300)
    distance = np.array([relative_distance(w, pred) for w in last])
    stopped = motion <= s.settled * tol
    elsewhere = stopped & (distance >= s.elsewhere * tol)
    settled = relative_distance(np.mean(third, axis=0), mean) if third.size else np.inf
    residuals = np.linalg.norm(last @ Z.T - y, axis=-1) / np.linalg.norm(y)
    unit = f"depth{N}"
    names = {"trace": f"label-noise SGD's argmin (Σ c_j|w_j|^{2 * (N - 1) / N:.4g})",
             "l1": "the c^(1/2)-weighted ℓ1 argmin (κ → 1, N → ∞)"}
    decided = bool(np.any(elsewhere))
    where = ", ".join(f"{d:.3g} (residual {r:.2g})" for d, r in zip(distance[elsewhere], residuals[elsewhere]))
    return decisive_checks(
        N, own, f"mean of {len(W)} label-noise Adam replicas on u^{N} − v^{N} (each its iterate average "
                f"over {s.window_points} steps of the last quarter, projected) vs the global argmin of "
                f"Σ c_j^(1/2)|w_j|^{kappa:.4g} s.t. Zw = y (support enumeration)",
        relative_distance(mean, rivals[rival]),
        f"distance to the nearer rival, {names[rival]}, over the distance to the prediction",
        gaps[rival],
        f"the nearer rival ({rival}) must be {s.separation:g}× the tolerance from the prediction "
        f"(other rival: {nan_max(v for k, v in gaps.items() if k != rival):.3g})", s) + [
        Check(f"depth{N}_replicas_settled_elsewhere", float(np.sum(elsewhere)), "<=", 0.0, unit=unit,
              note=f"replicas that stopped (own last-quarter vs third-quarter average ≤ "
                   f"{s.settled * tol:g}) at ≥ {s.elsewhere * tol:g} from the global argmin, on Zw = y "
                   "or not: a run that stopped there does not reach it"
                   + (f"; their distances: {where}" if decided else "")),
        Check(f"depth{N}_settled", settled, "<=", s.settled * tol,
              role="info" if decided else "precondition", unit=unit,
              note="relative change of the replica mean between the third- and last-quarter averages "
                   "(the prediction is where the slow drift ends; a run still moving has not reached it)"
                   + ("; info: a replica has stopped elsewhere, which decides" if decided else "")),
        Check(f"depth{N}_projection_residual", nan_max([result["projection_residual"], *residuals]), "<=",
              s.projection_residual, role="precondition" if own <= tol and not decided else "info",
              unit=unit, note="largest relative residual ‖Zw − y‖/‖y‖ after noise-free GD (the "
                              "endpoints and the last-quarter averages; a run at "
                              "the prediction must interpolate; a run that stopped off Zw = y after "
                              "collapsing coordinates (Adam's O(η) steps) is read where it stopped)"),
        Check(f"depth{N}_replicas_moving", float(np.sum(~stopped)), ">=", 0.0, role="info", unit=unit,
              note=f"replicas whose own last-quarter average moved > {s.settled * tol:g} from their "
                   "third-quarter one (largest motion "
                   f"{nan_max(motion):.3g})"),
        Check(f"depth{N}_replicas_at_prediction",
              float(np.mean(distance <= tol)), ">=", 0.0, role="info",
              unit=unit, note="fraction of replicas (last-quarter averages) within the tolerance of the "
                              "global argmin"),
        Check(f"depth{N}_endpoint_support", float(nan_max(support)), ">=", 0.0, role="info", unit=unit,
              note=f"largest support over replicas (|w_j| > {s.support_threshold:g}·‖w‖_∞; a vertex of "
                   f"Zw = y has ≤ n = {len(result['problem'].y)}): local minima of the concave "
                   "regularizer are vertices"),
        Check(f"depth{N}_objective_excess",
              float(nan_min(objective(on_support(w)) for w in W)) / objective(pred) - 1.0, ">=", 0.0,
              role="info", unit=unit,
              note="least regularizer value over replicas (each put on Zw = y within its support) over "
                   "the global minimum, − 1 (> 0 at a vertex: a local, not the global, minimum)"),
    ]
