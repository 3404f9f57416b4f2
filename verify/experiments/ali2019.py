"""The experiment of ``ali2019-early-stopping-ridge`` (Ali, Kolter, Tibshirani 2019; Rudoler et al.
2025): gradient descent on anisotropic least squares at several step sizes, compared at each step t
with the generalized ridge of the derived Λ_t (and with an isotropic ridge and Λ_{t+1}), gradient
matching of its ℓ2 coefficient λ̂(t) against the derived Rayleigh quotient, and SGD with epochs
(independent chains) read at several epochs."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from numerics.datasets import anisotropic_regression
from theory.equivalences import early_stopping_derivation
from theory.penalties import parse_penalty
from verify.experiments.settings import Profiled, Settings


@dataclass(frozen=True)
class SGDSettings(Settings):
    """SGD with epochs (the paper's gradient-matching setting: n = 1000, d = 5, η = 5e-3): step,
    minibatch size, independent chains, and the epochs at which λ̂ is read."""
    eta: float = 5e-3
    batch: int = 10
    chains: int = 64
    epochs: tuple = (1, 2, 3, 5, 8, 10)
    #: an epoch is read only where the chains resolve λ̂: jackknife standard error ≤ this fraction of
    #: the prediction (later epochs are dominated by SGD's stationary noise around least squares)
    resolution: float = 0.05
    #: standard errors allowed on top of the discretization allowance η·s_max
    z_allowed: float = 4.0


@dataclass(frozen=True)
class Ali2019Settings(Settings):
    n: int = Profiled(quick=1000, full=2000)
    d: int = Profiled(quick=5, full=10)
    etas: tuple = Profiled(quick=(5e-3, 5e-2, 2e-1), full=(5e-3, 2e-2, 5e-2, 1e-1, 2e-1))
    steps: tuple = Profiled(quick=(1, 10, 50, 100, 500, 1000), full=(1, 3, 10, 30, 50, 100, 300, 500, 1000, 3000))
    ridge_tolerance: float = 1e-9          # ‖θ_t − θ_ridge(Λ_t)‖/‖θ_t‖
    lambda_tolerance: float = 1e-8         # gradient-matching λ̂ vs the derived Rayleigh quotient
    converged: float = 1e-3                # θ_t this close to least squares: left out of λ̂ and controls
    sgd: SGDSettings = SGDSettings()


SETTINGS = Ali2019Settings()


@lru_cache(maxsize=None)
def _lambda_hat_function(d: int):
    """The derived ``lambda_hat`` (sums over i = 1..d of indexed μ_i, z_i) compiled for a given d."""
    expr = early_stopping_derivation().results["lambda_hat"]
    dim = sp.Symbol("d", integer=True, positive=True)
    mu_i, z_i = sp.IndexedBase("mu"), sp.IndexedBase("z")
    args = [mu_i[i] for i in range(1, d + 1)] + [z_i[i] for i in range(1, d + 1)]
    return sp.lambdify(args, expr.subs(dim, d).doit(), "numpy")


def predicted_lambda_hat(X, y, Lambda) -> float:
    """λ̂ predicted from the derivation alone: the derived Rayleigh quotient at the generalized-ridge
    solution, in the eigenbasis of XᵀX/n (no gradient descent involved)."""
    from numerics.equivalences import generalized_ridge
    V = np.linalg.eigh(X.T @ X / X.shape[0])[1]
    z = V.T @ generalized_ridge(X, y, Lambda)
    mus = np.diag(V.T @ Lambda @ V)
    return float(_lambda_hat_function(len(z))(*mus, *z))


def run(settings: Ali2019Settings, seed: int, progress=lambda done, total, info="": None) -> dict:
    """The experiment under resolved ``settings``. Returns a dict: the data ``X``, ``y``, ``s_max``
    (largest eigenvalue of XᵀX/n), the ``etas`` kept (η·s_max < 1), one ``rows`` entry per (η, t),
    the ridge and λ̂ errors and the two controls' errors over the pairs not yet converged,
    ``nontrivial`` (their count), ``curves`` (per η: t, measured and predicted λ̂) and the SGD
    chains' iterates per epoch (``sgd_iterates``)."""
    from numerics.equivalences import (early_stopping_penalty, generalized_ridge, gradient_descent_path,
                                       sgd_epoch_iterates)
    from numerics.gradient_matching import match
    from numerics.train import small_tensor_mode
    s = settings
    n, d, steps = s.n, s.d, list(s.steps)
    X, y = anisotropic_regression(n, d, 2.0, seed=seed)
    s_max = float(np.linalg.eigvalsh(X.T @ X / n).max())
    etas = [e for e in s.etas if e * s_max < 1]        # the equivalence needs ηs < 1
    l2 = parse_penalty("l2")
    ols = np.linalg.lstsq(X, y, rcond=None)[0]
    rows, errs, lam_errs, ctrl_iso, ctrl_shift, nontrivial = [], [], [], [], [], 0
    curves = []
    with small_tensor_mode():
        for k, eta in enumerate(etas):
            path = gradient_descent_path(X, y, eta, steps)
            ts, measured, predicted = [], [], []
            for t in steps:
                theta = path[t]
                Lam = early_stopping_penalty(X, eta, t)
                ridge = generalized_ridge(X, y, Lam)
                err = np.linalg.norm(theta - ridge) / np.linalg.norm(theta)
                grad = X.T @ (X @ theta - y) / n                       # ∇L(θ_t)
                fit = match(l2.gradient(theta)[:, None], grad, [l2.name], nonnegative=False)
                lam_hat = float(fit.coefficients[0])
                lam_pred = predicted_lambda_hat(X, y, Lam)
                lam_err = abs(lam_hat - lam_pred) / abs(lam_pred)
                errs.append(err)
                # Pairs where GD has (nearly) converged to least squares (θ_t = θ_OLS to 1e-3) make
                # every penalty ≈ 0: they test little and are left out of λ̂ and the controls.
                converged = np.linalg.norm(theta - ols) / np.linalg.norm(theta) < s.converged
                if not converged:
                    nontrivial += 1
                    iso = generalized_ridge(X, y, 2 * lam_hat * np.eye(d))   # isotropic stand-in
                    shifted = generalized_ridge(X, y, early_stopping_penalty(X, eta, t + 1))
                    ctrl_iso.append(np.linalg.norm(theta - iso) / np.linalg.norm(theta))
                    ctrl_shift.append(np.linalg.norm(theta - shifted) / np.linalg.norm(theta))
                    lam_errs.append(lam_err)
                rows.append({"eta": eta, "t": t, "converged": bool(converged), "ridge_relative_error": err, "lambda_hat": lam_hat,
                             "lambda_predicted": lam_pred, "one_over_2_eta_t": 1 / (2 * eta * t),
                             "residual_ratio_scalar_l2": fit.residual_ratio})
                if not converged:
                    ts.append(t)
                    measured.append(lam_hat)
                    predicted.append(lam_pred)
            progress(k + 1, len(etas) + 1, f"eta={eta:g}")
            curves.append({"eta": eta, "t": ts, "measured": measured, "predicted": predicted})
    sgd = s.sgd
    iterates = sgd_epoch_iterates(X, y, sgd.eta, sgd.batch, list(sgd.epochs), sgd.chains, seed=seed + 1)
    progress(len(etas) + 1, len(etas) + 1, "SGD with epochs")
    return {"X": X, "y": y, "s_max": s_max, "etas": etas, "steps": steps, "rows": rows, "errs": errs,
            "lam_errs": lam_errs, "ctrl_iso": ctrl_iso, "ctrl_shift": ctrl_shift, "nontrivial": nontrivial,
            "curves": curves, "sgd_iterates": iterates}
