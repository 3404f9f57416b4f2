"""Training with a known explicit penalty to a stationary point: the ground truth that gradient
matching must recover (Rudoler et al. 2025, explicit ℓ2 and ℓ1 penalties).

Minimizes J(θ) = L(θ) + Σ_k λ_k R_k(θ) over a flat θ with L-BFGS (scipy), using the same compiled
penalty values and gradients as the estimator, and reports the stationarity reached:
‖∇J‖ and ‖∇J‖/‖∇L‖ (the residual ratio the estimator would see with the true coefficients).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.optimize import minimize

from numerics.gradient_matching import evaluate_dictionary
from numerics.mlp import Objective
from theory.penalties import Penalty


@dataclass
class PenalizedFit:
    theta: np.ndarray
    objective_gradient_norm: float   # ‖∇J(θ)‖
    loss_gradient_norm: float        # ‖∇L(θ)‖
    iterations: int
    message: str

    @property
    def relative_stationarity(self) -> float:
        """‖∇J‖/‖∇L‖ (‖∇J‖ itself when ∇L = 0)."""
        if self.loss_gradient_norm == 0:
            return self.objective_gradient_norm
        return self.objective_gradient_norm / self.loss_gradient_norm


def penalized(objective: Objective, penalties: Sequence[Penalty], coefficients: Sequence[float]):
    """θ ↦ (J(θ), ∇J(θ))."""
    lam = np.asarray(coefficients, dtype=float)

    def fun(theta):
        value, grad = objective.value_and_gradient(theta)
        if not penalties:
            return value, grad
        dic = evaluate_dictionary(penalties, objective, theta)
        return value + float(dic.values @ lam), grad + dic.columns @ lam

    return fun


def fit_to_stationarity(objective: Objective, penalties: Sequence[Penalty],
                        coefficients: Sequence[float], theta0: np.ndarray,
                        max_iterations: int = 20000) -> PenalizedFit:
    """L-BFGS on J from θ₀ until the gradient stops decreasing (gtol 0: run to round-off)."""
    fun = penalized(objective, penalties, coefficients)
    res = minimize(fun, np.asarray(theta0, dtype=float), jac=True, method="L-BFGS-B",
                   options={"maxiter": max_iterations, "maxcor": 30, "gtol": 0.0, "ftol": 0.0,
                            "maxls": 50})
    theta = res.x
    grad_j = fun(theta)[1]
    grad_l = objective.gradient(theta)
    return PenalizedFit(theta, float(np.linalg.norm(grad_j)), float(np.linalg.norm(grad_l)),
                        int(res.nit), str(res.message))
