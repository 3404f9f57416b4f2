"""The experiment of the ``fan2025-*`` claims (Fan, Schmidt, Thrampoulidis 2025): the data, the
population of optimizers (NSD and NMD under seven norms, Adam with ε = 0, torch's versions) and the
settings they share. The claims, ``bench/bench_linear_trainer.py`` and the tests read it here.

Two data sets (docs/claims/fan2025-family.md). The claims' control is the nearest other norm of
the family, so on each claim's data its prediction and that rival must differ by ≥ 3 tolerances.
``paper``: the paper's synthetic data (Gaussian centres, 50 per class) serves the max, sum, spectral
and nuclear members and Adam. There the Frobenius and Schatten-p solutions are only 0.003–0.012 apart:
the Frobenius solution's singular values are nearly flat and about as many margin constraints are
active as it has free directions. The cross gap of two solutions is at most 1 − ‖σ‖₂²/(‖σ‖_p‖σ‖_q)
(Hölder, σ the Frobenius solution's singular values or entries, 1/p + 1/q = 1; equality with one
active constraint), so ``spread`` — which serves the Frobenius, entrywise-p and Schatten-p members —
has a spread σ and few active constraints: class means of rank 3
(``numerics.datasets.low_rank_classes``) and 5 samples per class. The family's p is 4, the midpoint of
the Frobenius (p = 2) and spectral/max (p = ∞) neighbours on the interpolation scale 1/p
(1/4 = (1/2 + 0)/2); the cross gap to p = 2 grows with p − 2 (Schatten-3 → Schatten-4: 0.034 →
0.079 from the Frobenius prediction on seed 10000). The non-smooth members stay on the paper's data: on ``spread`` NSD under the
max, sum, spectral and nuclear norms is far slower (gap 0.015–0.06 after 8e4 steps on seed 10000)."""
from __future__ import annotations

from numerics.datasets import gaussian_classes, low_rank_classes
from theory.norms import parse_norm
from verify.linear_margins import Optimizer, transform_member

# claim-id suffix → (norm, NSD name, NMD name) in the paper's vocabulary
NORMS = {
    "max": ("max", "SignGD", "Signum"),
    "sum": ("sum", "NSD (sum norm)", "NMD (sum norm)"),
    "fro": ("fro", "NGD", "normalized momentum GD"),
    "spectral": ("spectral", "Spectral-GD", "Muon (exact SVD)"),
    "nuclear": ("nuclear", "NucGD", "NMD (nuclear norm)"),
    "entrywise-p": ("entrywise:4", "NSD (entrywise 4-norm)", "NMD (entrywise 4-norm)"),
    "schatten-p": ("schatten:4", "NSD (Schatten 4-norm)", "NMD (Schatten 4-norm)"),
}
SETTINGS = {
    # the data sets (module docstring); spread: rank-3 class means, 5 samples per class, chosen on seeds
    # 10000–10010 (docs/claims/fan2025-family.md)
    "data": {"paper": {"k": 10, "d": 25, "per_class": 50, "noise": 0.1},
             "spread": {"k": 10, "d": 25, "per_class": 5, "noise": 0.1, "rank": 3}},
    # η₀ = κ·η₀* (η₀* minimizes the NSD gap bound, theory.rates.step_size_derivation), capped for
    # momentum and Adam so their averages track the current gradient (verify.linear_margins.Optimizer).
    "kappa": 8.0, "beta1": 0.9, "adam_betas": (0.9, 0.9),   # Adam: β₁ ≤ β₂ as assumed; ε = 0
    # horizon: the T the schedules' η₀ are derived for; steps: the budget, 2 × horizon, so that a run
    # confirmed as late as the horizon can still be read at twice its confirmation step. A run confirmed
    # later (within the budget) is continued past it to 2·t_c, at most to 2 × the budget
    # (verify.linear_margins.run_population): no setting of its own, every t_c ≤ budget fits.
    "horizon": {"quick": 40_000, "full": 2_000_000},
    "steps": {"quick": 80_000, "full": 4_000_000},
    # spread data (quick): the budget is derived per draw (``step_budget``): 2 × 1.5 × the step at which
    # the step-size derivation's gap bound at η₀* (theory.rates.step_size_derivation, R and γ* of the
    # draw, the largest over the spread members' norms) falls to ``bound_level``, and at least
    # ``steps``. bound_level: the smallest value of that bound at the latest confirmation step of the
    # spread members over the tuning seeds 10000–10004 and 10007 (κ = 8, T = 4e4), so that every tuning draw had
    # confirmed by the step it gives; 1.5: the late-draw slack of gunasekar2018's horizon rule.
    # docs/claims/fan2025-family.md (2026-12-07, session 3). Full profile: the fixed budget.
    "bound_level": {"quick": 0.61, "full": None},
    "budget_margin": 1.5,
    "gap_tolerance": {"quick": 1e-2, "full": 1e-3},
    # quick tolerances: the largest of 1, 2, 3, 4, 5 × 10⁻² at most a third of the smallest nearest-rival
    # separation on seeds ≥ 10000 (docs/claims/fan2025-family.md), so that the control can tell each
    # prediction from its nearest rival: spread, 10000–10010: 0.0367 → 1e-2; Adam (paper data, max ↔
    # entrywise-4) 0.100 on 10000–10003 → 3e-2
    "adam_gap_tolerance": {"quick": 3e-2, "full": 5e-3},
    "direction_tolerance": {"quick": 0.15, "full": 0.05},
    # a member whose prediction is closer than 3 tolerances to its nearest rival's on the drawn data
    # (``verify.linear_margins.draw_tolerance``) is read at a third of that separation, never below
    # its tolerance / ``floor_divisor`` (below: inconclusive), with its own step budget
    # (``member_budgets``). docs/claims/fan2025-family.md (session 5)
    "floor_divisor": 3.0,
    "rate_slack": 0.2,
}


# claim-id suffix (or "adam") → the data set its members are trained on
DATASET = {"max": "paper", "sum": "paper", "spectral": "paper", "nuclear": "paper", "adam": "paper",
           "fro": "spread", "entrywise-p": "spread", "schatten-p": "spread"}


def problem(seed: int, dataset: str = "paper"):
    """One of the claims' data sets (``SETTINGS["data"]``) for one seed."""
    if dataset == "spread":
        return low_rank_classes(**SETTINGS["data"]["spread"], seed=seed)
    return gaussian_classes(**SETTINGS["data"]["paper"], seed=seed)


def step_budget(dataset: str, profile: str):
    """The step budget of the population trained on ``dataset``: ``SETTINGS["steps"]`` (2 × the
    horizon), or on the spread data (quick profile) a function of the draw
    (``verify.linear_margins.bound_step_budget`` over the spread members' norms; see ``SETTINGS``).

    Why: η₀* (and so the schedule) does not depend on the max margin γ*, but the steps a run needs to
    reach a relative gap do: the bound at η₀* is (R/γ*)·√(log N log T/(2T)). On the spread data
    R/γ* (Frobenius) is 14–39 on seeds 10000–10009 against 4–7 on the paper's data, so the horizon
    chosen for the paper's data is too short for most spread draws, and by a factor that varies
    with the draw."""
    from verify.linear_margins import bound_step_budget

    fixed = SETTINGS["steps"][profile]
    level = SETTINGS["bound_level"][profile] if dataset == "spread" else None
    if level is None:
        return fixed
    geometries = sorted({parse_norm(NORMS[s][0]).name for s, d in DATASET.items()
                         if d == dataset and s in NORMS})
    return lambda run: bound_step_budget(run, geometries, level, SETTINGS["budget_margin"], fixed)


def nominal_tolerance(key: str, profile: str) -> float:
    """A claim member's tolerance as its statement gives it (Adam's, or the family's)."""
    return SETTINGS["adam_gap_tolerance" if key == "adam" else "gap_tolerance"][profile]


def tolerance_floor(key: str, profile: str) -> float:
    """The smallest tolerance a member may be narrowed to on a draw: its nominal tolerance over
    ``floor_divisor`` (= the separation factor 3, so the predictions must differ by at least one
    nominal tolerance). Why a floor: the steps a run needs grow as the tolerance's inverse square
    (the bound's t^{−1/2}), so without one a near-degenerate draw would ask for an unbounded run; this
    one caps the narrowed member's budget near 9 × (log factor) its nominal one."""
    return nominal_tolerance(key, profile) / SETTINGS["floor_divisor"]


def member_tolerances(keys, profile: str):
    """A function of the solved draw: each listed member's tolerance on it
    (``verify.linear_margins.draw_tolerance`` of its prediction's nearest-rival separation)."""
    from verify.linear_margins import draw_tolerance

    def tolerances(run):
        geometry = {o.key: o.geometry for o in optimizers() if o.key in keys}
        return {k: draw_tolerance(run.nearest_separation(geometry[k])[0], nominal_tolerance(k, profile),
                                  tolerance_floor(k, profile)) for k in keys}
    return tolerances


def member_budgets(dataset: str, profile: str):
    """A function of the solved draw (its ``run.targets`` set): the step budget of each member whose
    tolerance τ was narrowed below its nominal τ₀ on this draw — the same gap bound as the spread
    data's budget (``step_budget``), at the level scaled by τ/τ₀: the step t̂ at which the bound at η₀*
    in the member's norm falls to L·τ/τ₀, times ``CONTINUATION`` (× ``budget_margin`` where L is
    ``bound_level``), at least the population's budget. L: ``bound_level`` on the spread data (quick);
    otherwise the bound at the horizon T, the step by which the nominal tolerance is meant to be
    reached (so τ = τ₀ gives 2T, the population's budget). Members at τ₀, and members held at the
    floor (their precondition fails: inconclusive whatever the run), keep the population's."""
    from verify.linear_margins import SEPARATION_FACTOR, bound_step_budget, data_radius, gap_bound_at_best

    level = SETTINGS["bound_level"][profile] if dataset == "spread" else None
    horizon = SETTINGS["horizon"][profile]

    def budgets(run):
        geometry = {o.key: o.geometry for o in optimizers() if o.key in run.targets}
        out = {}
        for key, tau in run.targets.items():
            nominal = nominal_tolerance(key, profile)
            g = geometry[key]
            if not tau < nominal or run.nearest_separation(g)[0] < SEPARATION_FACTOR * tau:
                continue          # at its nominal tolerance, or below the floor (inconclusive anyway)
            if level is None:
                base = gap_bound_at_best(data_radius(run.problem, run.norms[g]),
                                         run.problem.n * (run.problem.k - 1), horizon, run.solutions[g].margin)
                margin = 1.0
            else:
                base, margin = level, SETTINGS["budget_margin"]
            out[key] = bound_step_budget(run, [g], base * tau / nominal, margin, run.steps)
        return out
    return budgets


def dataset_of(key: str) -> str:
    """The data set of a population member (``nsd-fro`` → spread; a library optimizer goes with the
    idealized method it is reported beside)."""
    key = LIBRARY.get(key, key)
    return DATASET["adam" if key == "adam" else key.split("-", 1)[1]]


def optimizers() -> list[Optimizer]:
    """The population: NSD and NMD under the seven norms, Adam (ε = 0), and the library versions."""
    import torch

    from numerics.optim import adam, nmd, nsd
    from numerics.train import Member

    out = []
    beta1, kappa = SETTINGS["beta1"], SETTINGS["kappa"]
    for suffix, (norm_text, nsd_label, nmd_label) in NORMS.items():
        norm = parse_norm(norm_text)
        out.append(Optimizer(f"nsd-{suffix}", nsd_label,
                             transform_member(lambda s, n=norm: nsd(n, s), "nsd"),
                             norm.name, kappa))
        out.append(Optimizer(f"nmd-{suffix}", nmd_label,
                             transform_member(lambda s, n=norm: nmd(n, s, beta1), "nmd"),
                             norm.name, kappa, ema=(beta1, 1)))
    b1, b2 = SETTINGS["adam_betas"]
    out.append(Optimizer("adam", "Adam (ε = 0)",
                         transform_member(lambda s: adam(s, b1, b2, eps=0.0), "adam"),
                         "entrywise:inf", kappa, ema=(b2, 2)))
    # The library versions, with the trainer setting lr = η_t before each step.
    out.append(Optimizer("torch-muon", "torch.optim.Muon (Newton–Schulz, bf16, weight_decay=0)",
                         lambda s: Member(lambda p: torch.optim.Muon(p, lr=s(1), weight_decay=0.0), s),
                         "schatten:inf", kappa, ema=(0.95, 1)))
    out.append(Optimizer("torch-adam", "torch.optim.Adam (ε = 1e-8)",
                         lambda s: Member(lambda p: torch.optim.Adam(p, lr=s(1), betas=SETTINGS["adam_betas"]), s),
                         "entrywise:inf", kappa, ema=(b2, 2)))
    out.append(Optimizer("torch-sgd", "torch.optim.SGD (momentum 0.9)",
                         lambda s: Member(lambda p: torch.optim.SGD(p, lr=s(1), momentum=0.9), s),
                         "fro", kappa, ema=(0.9, 1)))
    return out


# torch's implementation → the idealized method it is reported beside (and stops with)
LIBRARY = {"torch-muon": "nmd-spectral", "torch-sgd": "nmd-fro", "torch-adam": "adam"}
