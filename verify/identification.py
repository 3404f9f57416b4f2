"""Which norm's max margin does a trained classifier approach? Identification from margin ratios.

For each norm N of a family, the ratio ρ_N = γ_N(W) / γ*_N ≤ 1 of the normalized margin of W to the
certified max margin, and its gap g_N = 1 − ρ_N. An optimizer whose iterates converge in direction
to the N-max-margin classifier drives g_N → 0, while every other norm keeps a gap bounded below by
how far the N-max-margin direction is from its own (Gunasekar et al. 2018; Fan, Schmidt,
Thrampoulidis 2025). Neighbouring norms of the family have nearby max-margin directions (the ratio
of the N-solution in N' is 1 − O((p − p')²) by the envelope theorem), so what decides is not the
difference of the ratios but the *separation* s = g_runner-up / g_best: how many times farther the
runner-up norm is than the best one. The identification is "undetermined" when s is below a
threshold calibrated on optimizers of known bias (``bench/bench_fingerprint.py`` prints the
calibration: the largest separation of any wrong identification and the smallest of the right ones).

What an identification finds is a :class:`Finding` (one enumeration with messages, for the margin,
network and sharpness fingerprints alike): not how a run ended (``numerics.run_status.RunStatus``)
and not a verdict (``verify.outcome.Verdict``: a verdict is read from findings).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from numerics.run_status import status_field
from verify.outcome import Verdict


class Finding(StrEnum):
    """What a fingerprint found in its runs. A ``str`` enumeration: a member equals, prints and is
    written to JSON as its value (the words the fingerprints' records always used). A fingerprint's
    ``status`` is a finding once its runs were read, and otherwise the ``RunStatus`` that ended them
    (``error``, ``interrupted``): ``status_field(kind=(Finding, RunStatus))``."""

    IDENTIFIED = "identified"
    UNDETERMINED = "undetermined"
    NOT_SEPARATED = "not-separated"
    OUTSIDE_FAMILY = "outside-family"

    @property
    def message(self) -> str:
        """What the finding means (the record's own ``message`` says what was measured)."""
        return _FINDING_MESSAGES[self]


_FINDING_MESSAGES = {
    Finding.IDENTIFIED: "one member of the family fits the runs and is separated from the runner-up by the "
                        "threshold",
    Finding.UNDETERMINED: "no member of the family can be named: the best is not separated from the "
                          "runner-up by the threshold, none fits, or no run reached the regime read (the "
                          "record's message says which)",
    Finding.NOT_SEPARATED: "no run of the sweep separated (fit) the data: there is no limit direction to read",
    Finding.OUTSIDE_FAMILY: "no member of the family tracks the runs: the best fit's residual is above the "
                            "family's tolerance",
}

UNDETERMINED = Finding.UNDETERMINED      # what ``Identification.identified`` names when it names no norm


@dataclass(frozen=True)
class Identification:
    best: str
    runner_up: str
    best_gap: float
    runner_up_gap: float
    threshold: float
    quantity: str = "gap"        # what the gaps are (the network fingerprint uses KKT residuals)
    fit_tolerance: float = math.inf   # the best gap must not exceed it (a norm of the family fits)

    @property
    def separation(self) -> float:
        """g_runner-up / g_best (inf when the best gap is 0 to machine precision)."""
        if self.best_gap <= 0:
            return math.inf
        return self.runner_up_gap / self.best_gap

    @property
    def identified(self) -> str:
        """The identified norm's name, or :data:`UNDETERMINED`."""
        fits = self.best_gap <= self.fit_tolerance
        return self.best if fits and self.separation >= self.threshold else UNDETERMINED

    @property
    def finding(self) -> Finding:
        """``identified`` when a norm is named, else ``undetermined``."""
        return Finding.UNDETERMINED if self.identified == UNDETERMINED else Finding.IDENTIFIED

    def describe(self) -> str:
        sep = "∞" if math.isinf(self.separation) else f"{self.separation:.3g}"
        if self.best_gap > self.fit_tolerance:
            verdict = (f"undetermined (no norm of the family fits: the best {self.quantity} is above "
                       f"{self.fit_tolerance:g})")
        elif self.identified == UNDETERMINED:
            verdict = f"undetermined (separation {sep} < {self.threshold:g})"
        else:
            verdict = self.identified
        q = self.quantity
        return (f"{verdict}: best {self.best} ({q} {self.best_gap:.3g}), runner-up {self.runner_up} "
                f"({q} {self.runner_up_gap:.3g}), separation {sep}")

    def record(self) -> dict:
        return {"identified": self.identified, "best": self.best, "runner_up": self.runner_up,
                "best_gap": self.best_gap, "runner_up_gap": self.runner_up_gap,
                "separation": self.separation, "threshold": self.threshold, "quantity": self.quantity,
                "fit_tolerance": self.fit_tolerance}


def identify(gaps: dict[str, float], threshold: float, quantity: str = "gap",
             fit_tolerance: float = math.inf) -> Identification:
    """The norm with the smallest gap, its runner-up and their separation. Gaps are clipped at 0
    (a ratio can exceed 1 only by the solver's certified tolerance). Any non-negative measure of
    distance to a norm's prediction serves as the gap (``quantity`` names it in the description);
    with a ``fit_tolerance`` the best gap must be within it too."""
    if len(gaps) < 2:
        raise ValueError("identification needs at least two norms")
    order = sorted(gaps, key=lambda n: (gaps[n], n))
    best, second = order[0], order[1]
    return Identification(best, second, max(gaps[best], 0.0), max(gaps[second], 0.0), threshold, quantity,
                          fit_tolerance)


@dataclass(frozen=True)
class PredictionVerdict:
    status: Verdict = status_field(kind=Verdict)   # VERIFIED | FAILED | INCONCLUSIVE (others raise)
    message: str


def judge_prediction(predicted: str, ident: Identification, gaps: dict[str, float]) -> PredictionVerdict:
    """``verified`` when the identified norm is the predicted one; ``failed`` when the predicted
    norm's gap is at least ``threshold`` times the best gap (another norm is clearly closer);
    ``inconclusive`` when the predicted norm is among the norms that cannot be told apart."""
    g_pred = max(gaps[predicted], 0.0)
    if ident.identified == predicted:
        return PredictionVerdict(Verdict.VERIFIED, f"identified {predicted}: its gap {g_pred:.3g} is "
                                             f"{ident.separation:.3g}× smaller than the runner-up's "
                                             f"({ident.runner_up}, {ident.runner_up_gap:.3g})")
    ratio = math.inf if ident.best_gap <= 0 else g_pred / ident.best_gap
    if predicted != ident.best and ratio >= ident.threshold:
        return PredictionVerdict(Verdict.FAILED, f"{ident.best} fits better: gap {ident.best_gap:.3g} vs "
                                           f"{g_pred:.3g} for the predicted {predicted} "
                                           f"({ratio:.3g}× larger)")
    return PredictionVerdict(Verdict.INCONCLUSIVE, f"{predicted} cannot be told apart from {ident.best if predicted != ident.best else ident.runner_up}: "
                                             f"gaps {g_pred:.3g} vs "
                                             f"{(ident.best_gap if predicted != ident.best else ident.runner_up_gap):.3g} "
                                             f"(separation below {ident.threshold:g})")
