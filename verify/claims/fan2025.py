"""Fan, Schmidt, Thrampoulidis (2025), "Implicit Bias of Spectral Descent and Muon on Multiclass
Separable Data": on linearly separable multiclass data with cross-entropy loss and η_t = Θ(1/√t),
normalized steepest descent (NSD) and normalized momentum steepest descent (NMD) under an entrywise
or Schatten p-norm converge to that norm's max-margin classifier; Spectral-GD and Muon (NMD with an
exact SVD) to the spectral-norm one; Adam without ε to the max-norm one.

Setting (``verify.experiments.fan2025``): k = 10 classes in d = 25. The max, sum, spectral and
nuclear members and Adam train on the paper's synthetic data; the Frobenius, entrywise-p and
Schatten-p members (p = 4) on data with class means of rank 3 and 5 samples per class, because on
the paper's data their max-margin predictions are closer to each other than the tolerance. On each data set a
population of optimizers is trained in lockstep; torch's own SGD, Adam (default ε) and Muon
(weight_decay = 0, Newton–Schulz in bfloat16) run in the same population so their landing points are
reported beside the idealized methods. Each claim's optimizer is confirmed once its relative gap has
been within the profile's target at two consecutive checkpoints and the gap's envelope over the last
factor 2 of steps has too (step t_c), and is read at 2·t_c
(``verify.linear_margins``): the gap must stay within the target and keep decaying at the theorem's
rate past the confirmation. A run confirmed after half the step budget continues past the budget to
2·t_c (at most 2 × the budget, which every t_c ≤ budget fits), so every confirmed run is read there.
The negative control is the nearest rival of the family (the smallest gap
of the run in any other of the seven norms), and where the certified solutions of the predicted norm
and its nearest rival are less than 3 tolerances apart on the drawn data the claim reads inconclusive
with that reason. Each library optimizer stops with the idealized method it is reported beside
(torch's Muon with Muon, exact SVD; its SGD with normalized momentum GD; its Adam with Adam, ε = 0), so
both are read at the same step.
"""
from __future__ import annotations

from theory.derivation import Derivation
from theory.margin import MarginProblem
from theory.norms import parse_norm
from theory.rates import decay_exponent, rate_derivation
from verify.context import Context
from verify.linear_margins import CONTINUATION, margin_checks, run_population
from verify.experiments.fan2025 import (DATASET, LIBRARY, NORMS, SETTINGS, dataset_of, member_budgets,
                                        member_tolerances, problem, step_budget)
from verify.experiments.fan2025 import optimizers as population
from verify.outcome import Outcome
from verify.registry import Claim, register

SOURCE = "Fan, Schmidt, Thrampoulidis 2025"
SECTION = "1 Steepest descent and max-margin: linear models"

def _population(ctx: Context, dataset: str):
    """The members trained on ``dataset``; each claim's optimizer stops once its gap target holds
    (``run_population``); each library optimizer stops with the idealized method it is compared with
    (``LIBRARY``). The certified solutions of all seven norms are computed on either data set."""
    norms = [parse_norm(v[0]) for v in NORMS.values()]
    optimizers = [o for o in population() if dataset_of(o.key) == dataset]
    keys = [o.key for o in optimizers if o.key not in LIBRARY]
    return run_population(ctx, f"fan2025-{dataset}", problem(ctx.seed, dataset), norms, optimizers,
                          step_budget(dataset, ctx.profile), targets=member_tolerances(keys, ctx.profile),
                          companions=LIBRARY, horizon=SETTINGS["horizon"][ctx.profile],
                          budgets=member_budgets(dataset, ctx.profile))


def _library_report(run, key: str, norm_name: str) -> dict:
    traj = run.trajectories[key]
    if traj.status != "ok":
        return {"optimizer": key, "status": traj.status, "message": traj.message}
    return {"optimizer": key, "norm": norm_name, "relative_gap": float(run.gap_curve(key, norm_name)[-1]),
            "steps": traj.steps[-1], "final_log_loss": traj.log_loss[-1],
            "schedule": run.schedules[key].describe()}


def _make_check(key: str, norm_text: str, rate: str, tolerance_key: str, library: str | None):
    def check(ctx: Context) -> Outcome:
        dataset = dataset_of(key)
        run = _population(ctx, dataset)
        norm_name = parse_norm(norm_text).name
        checks, details, figures = margin_checks(
            run, key, norm_name, run.targets[key],
            decay_exponent(rate), sp_rate_text(rate), SETTINGS["rate_slack"],
            SETTINGS["direction_tolerance"][ctx.profile], nominal=SETTINGS[tolerance_key][ctx.profile])
        notes = []
        if library:
            lib = _library_report(run, library, norm_name)
            details["library_comparison"] = lib
            if "relative_gap" in lib:
                notes.append(f"{library} lands at relative gap {lib['relative_gap']:.3g} in {norm_name} "
                             f"after {lib['steps']} steps")
        details["data"] = dict(SETTINGS["data"][dataset], dataset=dataset, seed=ctx.seed)
        return Outcome.from_checks(checks, details=details, figures=figures, notes=notes)
    return check


def sp_rate_text(rate: str) -> str:
    import sympy as sp

    return sp.sstr(rate_derivation(rate).steps[0].expr)


def _make_derivation(norm_text: str, rate: str, algorithm: str):
    def derivation() -> Derivation:
        norm = parse_norm(norm_text)
        d = Derivation(f"{algorithm} under {norm.name}: prediction and how it is checked")
        d.step(f"Prediction ({SOURCE}): the iterates' normalized margin γ_N(W_t) = min_ic A(W_t)_ic / "
               f"‖W_t‖ converges to the max margin γ*_N of N = {norm.name}.")
        d.extend(norm.derivation())
        d.extend(MarginProblem("multiclass", norm).derivation())
        d.extend(rate_derivation(rate))
        return d
    return derivation


def _sci(x: float) -> str:
    """1e-2, 4e4: a round number as it is written in the statements."""
    return f"{x:.0e}".replace("e-0", "e-").replace("e+0", "e")


def _data_text(dataset: str) -> str:
    data = SETTINGS["data"][dataset]
    if dataset == "paper":
        return (f"the paper's synthetic data (k = {data['k']} classes, d = {data['d']}, Gaussian centres, "
                f"{data['per_class']} samples per class, noise {data['noise']:g})")
    return (f"k = {data['k']} classes, d = {data['d']} with class means of rank {data['rank']} on the "
            f"sphere of radius √d, {data['per_class']} samples per class, noise {data['noise']:g} (on the "
            f"paper's data the Frobenius and Schatten/entrywise-p predictions are closer than 3 tolerances)")


def _how(tolerance_key: str, dataset: str) -> str:
    tol = SETTINGS[tolerance_key]
    return (f"Checked on {_data_text(dataset)}: relative margin gap ≤ {_sci(tol['quick'])} (quick; full {_sci(tol['full'])}) at "
            f"2× the step where it was confirmed (within the target at two consecutive checkpoints, its "
            f"envelope over the last factor 2 too) and at every checkpoint in between, decay exponent "
            f"≤ the bound's + {SETTINGS['rate_slack']:g}; control: the run's gap in every other norm of "
            f"the family ≥ 2 tolerances; precondition: the nearest rival's certified solution is ≥ 3 "
            f"tolerances away. {_narrowing_text()} η₀ = {SETTINGS['kappa']:g}·η₀* (η₀* minimizes the NSD gap bound at the "
            f"horizon T = {_sci(SETTINGS['horizon']['quick'])}, quick); {_budget_text(dataset)}.")


def _narrowing_text() -> str:
    return (f"Where it is closer on the drawn data, the tolerance on that draw is a third of that separation "
            f"(rounded down to 3 significant figures), at least the nominal tolerance / "
            f"{SETTINGS['floor_divisor']:g} (below that floor the claim reads inconclusive), and that run's "
            f"step budget is the step at which the gap bound at η₀* (below) falls to its level at the nominal "
            f"target × (tolerance on the draw / nominal), times 2, at least the population's.")


def _budget_text(dataset: str) -> str:
    level = SETTINGS["bound_level"]["quick"] if dataset == "spread" else None
    late = (f"; a run confirmed within the budget but after its half continues to {CONTINUATION:g}× its "
            f"confirmation step (the same run and schedule), at most to {CONTINUATION:g}× the budget, "
            f"and is read there; a run not confirmed within the budget is read at the budget")
    if level is None:
        return "step budget 2T" + late
    factor = SETTINGS["budget_margin"] * 2
    return (f"step budget derived per draw: {factor:g}× the step at which that bound at η₀* (R and γ* of "
            f"the draw, the largest over the Frobenius, entrywise-p and Schatten-p norms) falls to "
            f"{level:g}, at least 2T (quick)" + late)


def _register_all() -> None:
    for suffix, (norm_text, nsd_label, nmd_label) in NORMS.items():
        name = parse_norm(norm_text).name
        for kind, label, rate in (("nsd", nsd_label, "nsd"), ("nmd", nmd_label, "nmd")):
            momentum = kind == "nmd"
            library = next((lib for lib, ideal in LIBRARY.items() if ideal == f"{kind}-{suffix}"), None)
            register(Claim(
                id=f"fan2025-{kind}-{suffix}",
                title=f"{label} → {name} max-margin",
                source=SOURCE, section=SECTION,
                statement=(f"Multiclass linear model, cross-entropy, separable data, η_t ∝ 1/√t"
                           f"{', momentum β₁ = 0.9' if momentum else ''}: "
                           f"{'NMD' if momentum else 'NSD'} under {name} converges to the {name} "
                           f"max-margin classifier; gap bound {sp_rate_text(rate)}. {_how('gap_tolerance', DATASET[suffix])}"),
                check=_make_check(f"{kind}-{suffix}", norm_text, rate, "gap_tolerance", library),
                derivation=_make_derivation(norm_text, rate, label),
                tags=("linear", "multiclass", kind)))
    register(Claim(
        id="fan2025-adam-max", title="Adam (ε = 0) → max-norm max-margin", source=SOURCE,
        section=SECTION,
        statement=("Multiclass linear model, cross-entropy, separable data, η_t ∝ 1/√t, β₁ ≤ β₂, ε = 0: "
                   f"Adam converges to the max-norm (entrywise ∞) max-margin classifier; gap bound "
                   f"{sp_rate_text('adam')}. {_how('adam_gap_tolerance', DATASET['adam'])}"),
        check=_make_check("adam", "max", "adam", "adam_gap_tolerance", "torch-adam"),
        derivation=_make_derivation("max", "adam", "Adam (ε = 0)"),
        tags=("linear", "multiclass", "adam")))


_register_all()
