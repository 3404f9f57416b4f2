"""NaN-propagating aggregation for checks and metrics.

Python's ``max``/``min`` drop a NaN unless it comes first (``max(0.0, nan, 1e-12) == 1e-12``), and a
running extremum that starts at ``inf`` turns an all-NaN list into a passing value. Every claim
aggregates measured numbers through these functions instead: a NaN anywhere makes the result NaN,
and a NaN check value can never pass (:class:`verify.outcome.Check` requires a finite value).
"""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np


def _reduce(values: Iterable[float], how) -> float:
    """``how`` of the values as floats; NaN if any value is NaN or there are none."""
    arr = np.asarray([float(v) for v in values], dtype=float)
    return float(how(arr)) if arr.size else math.nan


def nan_max(values: Iterable[float]) -> float:
    """The largest value; NaN if any value is NaN or there are none."""
    return _reduce(values, np.max)


def nan_min(values: Iterable[float]) -> float:
    """The smallest value; NaN if any value is NaN or there are none."""
    return _reduce(values, np.min)


def nan_median(values: Iterable[float]) -> float:
    """The median; NaN if any value is NaN or there are none."""
    return _reduce(values, np.median)


def nan_mean(values: Iterable[float]) -> float:
    """The mean; NaN if any value is NaN or there are none."""
    return _reduce(values, np.mean)
