"""Paired comparisons over instances: the exact sign-test interval (Clopper–Pearson) of the
probability that one method does better than another on an instance, and the checks built from it
(used by ``li2025-adam-sparser-than-sgd``)."""
from __future__ import annotations

import numpy as np

from verify.outcome import Check


def sign_interval(better: int, worse: int, level: float = 0.95) -> tuple[float, float, float]:
    """(fraction, lower, upper): the exact (Clopper–Pearson) interval for the probability that the
    first method does better on an instance, from ``better`` wins and ``worse`` losses (ties dropped:
    the sign test); NaN without any untied instance."""
    from scipy import stats

    m = better + worse
    if m == 0:
        return float("nan"), float("nan"), float("nan")
    a = (1.0 - level) / 2
    lower = float(stats.beta.ppf(a, better, worse + 1)) if better > 0 else 0.0
    upper = float(stats.beta.ppf(1 - a, better + 1, worse)) if worse > 0 else 1.0
    return better / m, lower, upper


def paired_sign(better_arr, worse_arr, level: float = 0.95, tie: float = 1e-6, same=None):
    """:func:`sign_interval` for per-instance values where smaller is better: the first array's
    method wins an instance when its value is below the second's by more than ``tie``; an instance
    where ``same`` is true (both methods ended at the same solution, within the resolution of the
    runs) is a tie whatever the values; NaN (all three) if any value is not finite."""
    diff = np.asarray(worse_arr, float) - np.asarray(better_arr, float)     # > 0: first is better
    if not np.all(np.isfinite(diff)):
        return float("nan"), float("nan"), float("nan")
    if same is not None:
        diff = np.where(np.asarray(same, bool), 0.0, diff)
    return sign_interval(int(np.sum(diff > tie)), int(np.sum(diff < -tie)), level)


def same_solution(W_a, W_b, tol: float):
    """Per instance: True when every replica of method a ended within relative distance ``tol`` of
    method b's (‖w_a − w_b‖/‖w_b‖, arrays (replicas, S, d)): the two runs reached the same
    interpolator at the resolution the runs have, so neither did better. NaN distances are False."""
    W_a, W_b = np.asarray(W_a, float), np.asarray(W_b, float)
    dist = np.linalg.norm(W_a - W_b, axis=-1) / np.linalg.norm(W_b, axis=-1)   # (replicas, S)
    with np.errstate(invalid="ignore"):
        return np.all(dist <= tol, axis=0)


def sign_checks(name: str, label: str, frac: tuple, count: int, level: float = 0.95,
                role: str = "prediction") -> list[Check]:
    """Two checks from a sign-test interval ``frac`` = (fraction, lower, upper) over ``count``
    instances: the interval's lower end ≥ ½ (``role``), and the precondition that the interval
    excludes ½ (else the instances do not decide the sign: inconclusive). An interval wholly below
    ½ fails the prediction with the precondition met: the comparison is contradicted."""
    from verify.numbers import nan_max

    f, lo, hi = frac
    text = (f"{label}: fraction {f:.3g} of the untied instances, exact {level:.0%} interval "
            f"[{lo:.3g}, {hi:.3g}] (sign test over {count} instances)")
    return [Check(f"{name}_fraction_lower", lo, ">=", 0.5, role=role, note=text),
            Check(f"{name}_interval_resolved", nan_max((lo - 0.5, 0.5 - hi)), ">=", 0.0,
                  role="precondition", note="the interval excludes ½: the instances decide the "
                                            "sign (else the comparison is inconclusive)")]


def paired_sign_checks(risk: dict, support: dict, level: float = 0.95,
                       tie: float = 1e-6, same: dict | None = None) -> list[Check]:
    """The paired comparison of ``li2025-adam-sparser-than-sgd`` from per-instance arrays (keys
    ``adam``, ``trace`` (label-noise SGD), ``gd``): for each comparison the exact sign-test interval of
    the probability that the first method does better on an instance (ties within ``tie`` dropped,
    and the instances where ``same[(a, b)]`` says both methods ended at the same interpolator).
    Prediction/control: the interval's lower end ≥ ½; precondition: the interval excludes ½ (else the
    instances do not decide the sign: inconclusive). An interval wholly below ½ contradicts the claim."""
    S = len(np.asarray(risk["adam"]))
    same = same or {}

    def pair(name, label, better, worse, key, role="prediction"):
        mask = same.get(key)
        ties = "" if mask is None else f"; {int(np.sum(mask))} at the same interpolator (ties)"
        return sign_checks(name, label + ties, paired_sign(better[key[0]], worse[key[1]], level, tie,
                                                           mask), S, level, role)

    return (pair("adam_lower_test_error", "Adam's test error ‖w − w*‖²/‖w*‖² below SGD's",
                 risk, risk, ("adam", "trace"))
            + pair("adam_sparser", "Adam's effective support ‖w‖₁²/‖w‖₂² below SGD's",
                   support, support, ("adam", "trace"))
            + pair("control_adam_lower_test_error_than_gd", "noise-free GD from the same init (a "
                   "dense Q_α interpolator) in SGD's place: Adam's test error below GD's",
                   risk, risk, ("adam", "gd"), role="control")
            + pair("control_sgd_sparser_than_gd", "the instrument sees a sparsity difference where "
                   "one exists: label-noise SGD sparser than noise-free GD",
                   support, support, ("trace", "gd"), role="control"))


def sign_test_power(p: float, m: int, level: float = 0.95) -> float:
    """The probability that the exact interval from m untied instances, each a win with probability
    ``p``, has its lower end above ½ (the sign test decides "better" at this ``level``)."""
    from scipy import stats

    wins = np.arange(1, m + 1)               # no win: the lower end is 0
    lower = stats.beta.ppf((1.0 - level) / 2, wins, m - wins + 1)    # as sign_interval, vectorized
    return float(np.sum(stats.binom.pmf(wins, m, p)[lower > 0.5]))


def instances_for_power(p: float, power: float = 0.9, level: float = 0.95, tie_fraction: float = 0.0,
                        limit: int = 2048) -> int:
    """The smallest number of instances S such that, when a fraction ``tie_fraction`` of them is
    tied and each untied one is a win with probability ``p``, the exact interval's lower end exceeds
    ½ with probability ≥ ``power`` (the expected number of untied instances, rounded down, is used);
    0 when ``p`` ≤ ½ or no S ≤ ``limit`` reaches the power. The sign test's power is not monotone in
    m (the binomial lattice), so S is the smallest m from which on every larger m up to 1.25 m also
    has the power."""
    if not p > 0.5:
        return 0
    untied = 1.0 - tie_fraction
    for S in range(1, limit + 1):
        m = int(np.floor(S * untied))
        if m < 1:
            continue
        if all(sign_test_power(p, k, level) >= power for k in range(m, int(np.ceil(1.25 * m)) + 1)):
            return S
    return 0
