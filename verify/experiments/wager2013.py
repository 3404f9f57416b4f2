"""The experiment of ``wager2013-dropout-ridge`` (Wager, Wang, Liang 2013; Rudoler et al. 2025):
anisotropic linear regression, its dropout ridge w* (derived) and the brute-force minimizer over all
masks, constant-step dropout-SGD chains at several step sizes, and gradient matching at w* and at
the averaged SGD iterate."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from numerics.datasets import anisotropic_regression
from theory.penalties import parse_penalties
from verify.experiments.settings import Profiled, Settings


@dataclass(frozen=True)
class Wager2013Settings(Settings):
    n: int = Profiled(quick=200, full=400)
    d: int = Profiled(quick=5, full=8)
    rate: float = 0.3                      # dropout rate p
    etas: tuple = Profiled(quick=(0.02, 0.01, 0.005), full=(0.02, 0.01, 0.005, 0.0025))
    horizon: float = Profiled(quick=30.0, full=60.0)      # η·steps, the same for every η
    chains: int = Profiled(quick=64, full=256)
    batch: int = 10
    rms_exponent_tolerance: float = Profiled(quick=0.15, full=0.1)
    average_tolerance: float = Profiled(quick=1e-2, full=5e-3)
    matching_tolerance: float = Profiled(quick=2e-2, full=1e-2)


SETTINGS = Wager2013Settings()


def kappa_hat(X, y, w, penalty_names) -> tuple[float, float]:
    """Gradient matching at w on the linear model: (coefficient, residual ratio)."""
    from numerics.gradient_matching import estimate
    from numerics.mlp import Architecture, Objective
    model = Architecture((X.shape[1], 1), bias=False).build()
    est = estimate(Objective(model, X, y, "mse"), parse_penalties(penalty_names), w, signed=True,
                   cg_iterations=0)
    return float(est.fit.coefficients[0]), est.fit.residual_ratio


def run(settings: Wager2013Settings, seed: int, progress=lambda done, total, info="": None) -> dict:
    """The experiment under resolved ``settings``: a dict of the data (X, y), κ = p/(1−p), w*, the
    brute-force error, the last-iterate RMS distance to w* per η, the chains'
    spread around their own mean per η, the averaged iterate at the smallest η,
    the fitted RMS exponent, and the gradient-matching coefficients and residual ratios."""
    from numerics.dropout import dropout_sgd_linear
    from numerics.equivalences import dropout_coefficient, dropout_ridge, enumerated_dropout_minimizer
    from numerics.train import small_tensor_mode
    s = settings
    etas = list(s.etas)
    X, y = anisotropic_regression(s.n, s.d, 3.0, seed=seed)
    kappa = dropout_coefficient(s.rate)
    w_star = dropout_ridge(X, y, s.rate)
    scale = np.linalg.norm(w_star)
    enum_err = np.linalg.norm(enumerated_dropout_minimizer(X, y, s.rate) - w_star) / scale

    rms, spread, runs = [], [], []
    with small_tensor_mode():
        for k, eta in enumerate(etas):
            sgd = dropout_sgd_linear(X, y, s.rate, eta, int(s.horizon / eta), chains=s.chains, batch=s.batch,
                                     seed=seed + 1 + k)
            rms.append(float(np.sqrt(np.mean(np.sum((sgd.final - w_star) ** 2, axis=1))) / scale))
            centre = sgd.final.mean(axis=0)         # the chains' own spread, blind to the prediction
            spread.append(float(np.sqrt(np.mean(np.sum((sgd.final - centre) ** 2, axis=1))) / scale))
            runs.append(sgd)
            progress(k + 1, len(etas), f"eta={eta:g}")
        slope = float(np.polyfit(np.log(etas), np.log(rms), 1)[0])
        w_bar = runs[-1].average                          # smallest step: chain and tail average
        kappa_exact, rr_exact = kappa_hat(X, y, w_star, ["dropout_l2"])
        kappa_sgd, rr_sgd = kappa_hat(X, y, w_bar, ["dropout_l2"])
        _, rr_isotropic = kappa_hat(X, y, w_star, ["l2"])
    return {"X": X, "y": y, "etas": etas, "kappa": kappa, "w_star": w_star, "scale": scale,
            "enumerated_error": enum_err, "rms": rms, "spread": spread, "w_bar": w_bar, "slope": slope,
            "kappa_exact": kappa_exact, "rr_exact": rr_exact, "kappa_sgd": kappa_sgd, "rr_sgd": rr_sgd,
            "rr_isotropic": rr_isotropic}
