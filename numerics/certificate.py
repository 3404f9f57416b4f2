"""Duality certificates for max-margin problems (the scaled values derived in ``theory.margin``).

Given any classifier W with positive margins and any multipliers λ ≥ 0, weak duality gives

    P = ‖W‖ / min A(W)   ≥   1/γ*   ≥   D = Σλ / ‖A*λ‖_*,

so γ* ∈ [1/P, 1/D] and (P − D)/P bounds the relative suboptimality of W. Nothing about how W and λ
were computed is trusted: the certificate is re-evaluated from the data.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from numerics.classification import Classification
from theory.norms import Norm


@dataclass(frozen=True)
class Certificate:
    primal_value: float   # P, upper bound on 1/γ*
    dual_value: float     # D, lower bound on 1/γ*
    relative_gap: float   # (P − D) / P
    margin_lower: float   # 1/P: the margin attained by W
    margin_upper: float   # 1/D

    def as_dict(self) -> dict:
        return asdict(self)


def certify(problem: Classification, norm: Norm, W, lam) -> Certificate:
    """Evaluate the duality certificate of the pair (W, λ) for the max-margin problem under ``norm``."""
    W = np.asarray(W, dtype=float)
    lam = np.clip(np.asarray(lam, dtype=float), 0.0, None)
    m_min = float(problem.margins(W).min())
    if m_min <= 0:
        primal = np.inf
    else:
        primal = norm.value(W) / m_min
    dual_norm = norm.dual.value(problem.adjoint(lam))
    dual = float(lam.sum() / dual_norm) if dual_norm > 0 else 0.0
    gap = (primal - dual) / primal if np.isfinite(primal) else np.inf
    return Certificate(primal, dual, gap, 1.0 / primal if np.isfinite(primal) else 0.0,
                       1.0 / dual if dual > 0 else np.inf)
