"""The check of a reproduction against a paper's reported numbers (Slutzky et al. 2025's mean
extrapolation errors): our mean over seeds within the paper's rounding plus a Student-t half-width."""
from __future__ import annotations

import math

import numpy as np

from verify.numbers import nan_mean
from verify.outcome import Check


def paper_number_checks(tag: str, cfg, clean: np.ndarray, poisoned: np.ndarray,
                        confidence: float = 0.99) -> list[Check]:
    """The paper's own numbers as the criterion (``cfg.paper``, ``cfg.half_unit``: the reported clean
    and poisoned means and half a unit of their last digit): our mean errors over the seeds within half a unit of the paper's last reported digit plus the half-width of the t interval
    (``confidence``) of our mean. The paper's own sampling error is not counted."""
    from scipy import stats
    checks = []
    for label, errs, paper, half in (("clean", clean, cfg.paper[0], cfg.half_unit[0]),
                                     ("poisoned", poisoned, cfg.paper[1], cfg.half_unit[1])):
        errs = np.asarray(errs, dtype=float)
        mean = nan_mean(errs)
        se = float(np.std(errs, ddof=1) / np.sqrt(len(errs))) if len(errs) > 1 else math.nan
        quantile = float(stats.t.ppf(0.5 + confidence / 2, len(errs) - 1)) if len(errs) > 1 else math.nan
        tol = half + quantile * se
        checks.append(Check(
            f"{tag}_gf_{label}_error_vs_paper", abs(mean - paper), "<=", tol if math.isfinite(tol) else 0.0,
            note=f"|our mean − the paper's {paper:g}|: mean {mean:.4g} over {len(errs)} seeds (per seed "
                 f"{', '.join(f'{e:.4g}' for e in errs)}); tolerance {half:g} (the paper's rounding) + "
                 f"{quantile:.3g} SE ({se:.2g}; the {confidence:.0%} t interval)"))
    return checks
