"""Frei, Vardi, Bartlett, Srebro (2023), "The Double-Edged Sword of Implicit Bias: Generalization vs.
Robustness in ReLU Networks": on data from k clusters with nearly orthogonal means, two-layer ReLU
networks trained by gradient flow (which converges in direction to a KKT point of the ℓ2 margin
problem) generalize, yet a small ℓ2 perturbation flips their predictions, while a network with one
detector per cluster fits the same data and is robust at a much larger radius.

Setting (Frei et al.'s convention ‖μ_j‖ ≈ √d): k means μ_j ~ N(0, I_d), labels alternating ±1 by
cluster, points μ_j + N(0, I_d); two-layer ReLU network (no biases, L = 2) of width m, gradient
descent with the loss-based step of Lyu & Li (2020) (each step moves θ by a fraction δ of its norm: a
time reparametrization of gradient flow) from a small initialization, on a grid of (k, d). For fresh
test points: test error; the smallest flipping ℓ2 radius found by bisection along −y Σ_j y_j μ_j and
−y ∇_x f (with a certified interval-bound lower bound, reported when the search finds nothing); the
robust construction's certified radius. Predictions (``theory.robustness``, derived for exactly
orthogonal means): attack radius ρ/√k and robust radius ρ/2 with ρ = √d, i.e. scaling exponents
(−1/2, +1/2) and (0, +1/2) in (k, d); their ratio √k/2.
"""
from __future__ import annotations

import math

import numpy as np

from theory.derivation import Derivation
from theory.homogeneous import two_layer_network
from theory.robustness import K, double_edged_sword_derivation
from verify.context import Context
from verify.experiments import frei2023 as experiment
from verify.experiments.frei2023 import SETTINGS
from verify.figures import line_figure, series
from verify.numbers import nan_max, nan_min
from verify.outcome import Check, Outcome
from verify.registry import Claim, register

SOURCE = "Frei, Vardi, Bartlett, Srebro 2023"
SECTION = "2 Homogeneous networks: KKT points of margin problems"

def _derivation() -> Derivation:
    d = Derivation("Generalization vs robustness of KKT networks (Frei, Vardi, Bartlett, Srebro 2023)")
    d.extend(two_layer_network("relu").derivation())
    d.extend(double_edged_sword_derivation())
    return d


def _exponents(rows, key) -> tuple[float, float]:
    """Least-squares (a, b) in log r = c + a log k + b log d."""
    A = np.array([[1.0, math.log(r["k"]), math.log(r["d"])] for r in rows])
    b = np.array([math.log(r[key]) for r in rows])
    coef, *_ = np.linalg.lstsq(A, b, rcond=None)
    return float(coef[1]), float(coef[2])


def _check(ctx: Context) -> Outcome:
    s = ctx.settings(experiment.SETTINGS)
    results = _derivation().results
    pred = {key: float(results[key]) for key in
            ("kkt_k_exponent", "kkt_d_exponent", "robust_k_exponent", "robust_d_exponent")}
    ks, ds = s.k, s.d
    rows = experiment.run(s, ctx.seed, ctx.progress)
    tol = s.exponent_tolerance
    separated = nan_min(r["train_min_margin"] for r in rows)
    found = nan_min(r["found_fraction"] for r in rows)
    checks = [
        Check("train_min_margin", separated, ">=", np.finfo(float).tiny, "precondition",
              "gradient descent has separated the training data in every (k, d)"),
        Check("kkt_residual_l2", nan_max(r["kkt_residual_l2"] for r in rows), "<=", s.kkt_tolerance,
              "precondition", "the trained networks are near KKT points of the ℓ2 margin problem, as the theorem "
              "assumes (largest achieved residual over the grid)"),
        Check("attack_found_fraction", found, ">=", s.found_fraction, "precondition",
              "the attack search found a flip for most test points (else see the certified lower bounds)"),
        Check("test_error", nan_max(r["test_error"] for r in rows), "<=", s.test_error,
              note="the trained network generalizes (largest test error over the grid)"),
    ]
    metrics = {}
    if all(math.isfinite(r["attack_radius"]) for r in rows):
        a_kkt, b_kkt = _exponents(rows, "attack_radius")
        a_rob, b_rob = _exponents(rows, "robust_certified")
        metrics.update({"attack_k_exponent": a_kkt, "attack_d_exponent": b_kkt,
                        "robust_k_exponent": a_rob, "robust_d_exponent": b_rob})
        largest = max(ks)
        ratio = float(np.median([r["robust_certified"] / r["attack_radius"] for r in rows if r["k"] == largest]))
        ratio_pred = float(results["radius_ratio"].subs(K, largest))
        checks += [
            Check("attack_k_exponent_error", abs(a_kkt - pred["kkt_k_exponent"]), "<=", tol,
                  note=f"measured {a_kkt:.3f}, derived {pred['kkt_k_exponent']:g} (ρ/√k)"),
            Check("attack_d_exponent_error", abs(b_kkt - pred["kkt_d_exponent"]), "<=", tol,
                  note=f"measured {b_kkt:.3f}, derived {pred['kkt_d_exponent']:g} (ρ = √d)"),
            Check("robust_k_exponent_error", abs(a_rob - pred["robust_k_exponent"]), "<=", tol,
                  note=f"measured {a_rob:.3f}, derived {pred['robust_k_exponent']:g} (ρ/2)"),
            Check("robust_d_exponent_error", abs(b_rob - pred["robust_d_exponent"]), "<=", tol,
                  note=f"measured {b_rob:.3f}, derived {pred['robust_d_exponent']:g}"),
            Check("robust_vs_kkt_k_exponent", abs(a_rob - pred["kkt_k_exponent"]), ">=", 2 * tol, "control",
                  note="the k-scaling check rejects the robust network (its radius does not shrink as 1/√k)"),
            Check("robust_to_attack_ratio", ratio, ">=", s.ratio_fraction * ratio_pred,
                  note=f"at k = {largest}: robust certified / trained attack radius (derived √k/2 = {ratio_pred:.3g})"),
        ]
    table = [{key: (val if not isinstance(val, float) or math.isfinite(val) else None) for key, val in r.items()}
             for r in rows]
    fig = line_figure("radii", "Flipping radius vs number of clusters", "k", "ℓ2 radius",
                      [series(f"trained attack, d={dim}", [r["k"] for r in rows if r["d"] == dim],
                              [r["attack_radius"] for r in rows if r["d"] == dim], "o-") for dim in ds]
                      + [series(f"robust certified, d={dim}", [r["k"] for r in rows if r["d"] == dim],
                                [r["robust_certified"] for r in rows if r["d"] == dim], "--") for dim in ds])
    notes = []
    for r in rows:
        if r["unfound_certified"]:
            notes.append(f"k={r['k']} d={r['d']}: no flip found for {len(r['unfound_certified'])} points; "
                         f"certified lower bounds {np.round(r['unfound_certified'], 3).tolist()}")
    return Outcome.from_checks(checks, metrics=metrics, details={"grid": table, "predicted": pred},
                               figures=[fig], notes=notes)


register(Claim(
    id="frei2023-homogeneous-double-edged-sword",
    title="KKT networks on clustered data generalize but are not robust; a robust network exists",
    source=SOURCE, section=SECTION,
    statement=("Two-layer ReLU networks trained by gradient flow on k nearly orthogonal clusters "
               "(‖μ‖ ≈ √d) generalize, but a perturbation of radius ≈ ‖μ‖/√k along −Σ_j y_j μ_j flips "
               "them; one detector per cluster is certified robust at ‖μ‖/2. Checked: test error, the "
               "(k, d) scaling exponents of the best attack radius and of the robust certified radius "
               f"(derived −1/2, +1/2 and 0, +1/2; tolerance {SETTINGS.values('exponent_tolerance')}), "
               f"test error ≤ {SETTINGS.values('test_error')}, and their ratio (≥ {SETTINGS.ratio_fraction:g} "
               "of the derived √k/2 at the largest k); precondition: each trained network's ℓ2 "
               f"KKT residual ≤ {SETTINGS.values('kkt_tolerance')}. k ∈ {SETTINGS.values('k')}, d ∈ "
               f"{SETTINGS.values('d')}, width {SETTINGS.width}, {SETTINGS.values('steps')} steps of relative "
               f"size {SETTINGS.relative_step:g}, {SETTINGS.values('attacked_points')} attacked test points."),
    check=_check, derivation=_derivation, tags=("homogeneous", "robustness")))
