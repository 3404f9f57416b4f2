"""The experiments of the ``rudoler2025-*`` claims (Rudoler, Tan, Hooker, Kording 2025):

- explicit-penalty recovery: a linear regression and a small tanh MLP fitted to stationarity
  (L-BFGS) with L + λR for each dictionary penalty R (and with none), and gradient matching on the
  dictionary at each fit (:func:`recovery_run`);
- dropout's implicit ℓ2: ReLU MLPs trained with dropout at several rates and replicate seeds on a
  synthetic teacher regression or on digits, and gradient matching of the ℓ2 (and per-layer ℓ2)
  component at the tail-averaged weights (:func:`dropout_run`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory.penalties import parse_penalties
from verify.experiments.settings import Profiled, Settings
from verify.numbers import nan_max


@dataclass(frozen=True)
class RecoverySettings(Settings):
    huber: str = "huber:0.05"                  # the smoothed-ℓ1 penalty of the dictionary {ℓ2, Huber}
    linear_n: int = Profiled(quick=200, full=400)
    linear_d: int = Profiled(quick=10, full=20)
    linear_lambda: float = 0.05
    mlp_n: int = 300
    mlp_inputs: int = 5
    mlp_hidden: int = Profiled(quick=8, full=16)
    mlp_lambda: float = 0.01
    teacher_hidden: int = 8
    max_iterations: int = Profiled(quick=600, full=3000)     # L-BFGS budget per fit
    tolerance: float = 1e-2                    # relative error of λ̂, and cross coefficients / λ


RECOVERY = RecoverySettings()


@dataclass(frozen=True)
class DropoutSettings(Settings):
    """One dropout-trend experiment: data size, hidden width, rates, replicate seeds per rate,
    full-batch heavy-ball steps and learning rate."""
    n: int
    hidden: int
    rates: tuple
    replicates: int
    steps: int
    lr: float


SYNTHETIC = DropoutSettings(n=Profiled(quick=200, full=400), hidden=Profiled(quick=16, full=24),
                            rates=Profiled(quick=(0.0, 0.1, 0.25, 0.4), full=(0.0, 0.1, 0.2, 0.3, 0.4, 0.5)),
                            replicates=Profiled(quick=3, full=4), steps=Profiled(quick=1000, full=2500), lr=0.1)
DIGITS = DropoutSettings(n=Profiled(quick=300, full=1000), hidden=Profiled(quick=16, full=32),
                         rates=Profiled(quick=(0.0, 0.2, 0.4), full=(0.0, 0.1, 0.2, 0.3, 0.4)),
                         replicates=Profiled(quick=2, full=4), steps=Profiled(quick=1000, full=2000), lr=0.5)


# -- explicit penalties ------------------------------------------------------------------------
def recovery_problems(settings: RecoverySettings, seed: int):
    """(name, architecture, X, y, true coefficient) for a linear regression and a small tanh MLP."""
    from numerics.mlp import Architecture
    s = settings
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((s.linear_n, s.linear_d))
    y = X @ rng.standard_normal(s.linear_d) + 0.5 * rng.standard_normal(s.linear_n)
    yield "linear", Architecture((s.linear_d, 1), bias=False), X, y, s.linear_lambda
    X = rng.standard_normal((s.mlp_n, s.mlp_inputs))
    yield ("mlp", Architecture((s.mlp_inputs, s.mlp_hidden, 1), "tanh", bias=True), X,
           teacher_targets(X, seed, rng, s.teacher_hidden), s.mlp_lambda)


def teacher_targets(X, seed: int, rng, hidden: int = 8) -> np.ndarray:
    """Targets of a random tanh teacher d-hidden-1 (weights ×2), standardized, plus noise 0.3."""
    import torch
    from numerics.mlp import Architecture
    torch.manual_seed(seed + 999)
    teacher = Architecture((X.shape[1], hidden, 1), "tanh").build()
    with torch.no_grad():
        for p in teacher.parameters():
            p.mul_(2.0)
        clean = teacher(torch.as_tensor(X)).numpy()[:, 0]
    return clean / clean.std() + 0.3 * rng.standard_normal(len(X))


def recovery_run(settings: RecoverySettings, seed: int, progress=lambda done, total, info="": None) -> dict:
    """Every fit (each problem × each dictionary penalty and none) and its gradient-matching
    estimate, under resolved ``settings``: ``rows`` (one per fit), the relative errors, the largest
    cross coefficients, the fits' stationarity, the ℓ2-only residual ratio on the Huber fits, the
    condition numbers, and the unregularized fits' largest |λ̂|/λ per problem (``unregularized``)."""
    import torch
    from numerics.gradient_matching import estimate
    from numerics.mlp import Objective
    from numerics.regularized_fit import fit_to_stationarity
    from numerics.train import small_tensor_mode
    dictionary = parse_penalties(["l2", settings.huber])
    names = [p.name for p in dictionary]
    rows, rel_errors, cross, station, wrong_family, conds = [], [], [], [], [], []
    unreg = {}
    problems = list(recovery_problems(settings, seed))
    with small_tensor_mode():
        for k, (label, arch, X, y, lam) in enumerate(problems):
            torch.manual_seed(seed)
            model = arch.build()
            obj = Objective(model, X, y, "mse")
            theta0 = obj.flat()
            for truth in names + ["none"]:
                coef = np.array([lam if nm == truth else 0.0 for nm in names])
                fit = fit_to_stationarity(obj, dictionary, coef, theta0, max_iterations=settings.max_iterations)
                est = estimate(obj, dictionary, fit.theta, signed=True, cg_iterations=3)
                got = dict(zip(names, est.fit.coefficients))
                row = {"model": label, "trained_with": truth, "true_coefficient": lam if truth != "none" else 0.0,
                       "estimated": got, "residual_ratio": est.fit.residual_ratio,
                       "condition_number": est.fit.condition_number,
                       "fit_gradient_ratio": fit.relative_stationarity, "iterations": fit.iterations,
                       "newton_distance": est.stationarity.distance}
                if truth == "none":
                    unreg[label] = nan_max(abs(v) for v in got.values()) / lam
                    row["loss_gradient_norm"] = fit.loss_gradient_norm
                else:
                    conds.append(est.fit.condition_number)
                    rel_errors.append(abs(got[truth] - lam) / lam)
                    cross.append(nan_max(abs(v) for nm, v in got.items() if nm != truth) / lam)
                    station.append(fit.relative_stationarity)
                    if truth == settings.huber:   # the wrong family: ℓ2 alone on a Huber-trained fit
                        wrong = estimate(obj, dictionary[:1], fit.theta, signed=True, cg_iterations=0)
                        wrong_family.append(wrong.fit.residual_ratio)
                        row["l2_only_residual_ratio"] = wrong.fit.residual_ratio
                rows.append(row)
            progress(k + 1, len(problems), label)
    return {"rows": rows, "relative_errors": rel_errors, "cross": cross, "stationarity": station,
            "wrong_family": wrong_family, "condition_numbers": conds, "unregularized": unreg}


# -- dropout's implicit ℓ2 ---------------------------------------------------------------------
def synthetic_regression(seed: int, n: int, dim: int = 10):
    """Targets of a random tanh teacher (10-8-1), standardized, plus noise 0.3."""
    import torch
    from numerics.mlp import Architecture
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, dim))
    torch.manual_seed(seed + 12345)
    teacher = Architecture((dim, 8, 1), "tanh").build()
    with torch.no_grad():
        clean = teacher(torch.as_tensor(X)).numpy()[:, 0]
    return X, clean / clean.std() + 0.3 * rng.standard_normal(n)


def digits(n: int, seed: int):
    """n images of sklearn's load_digits (shipped with scikit-learn), pixels /16, one-hot targets."""
    from sklearn.datasets import load_digits

    data = load_digits()
    idx = np.random.default_rng(seed).permutation(len(data.target))[:n]
    return data.data[idx] / 16.0, np.eye(10)[data.target[idx]]


def dropout_run(arch, X, y, loss: str, settings: DropoutSettings, seed: int,
                progress=lambda done, total, info="": None) -> dict:
    """Train every (rate, replicate) member (resolved ``settings``) and estimate, at each member's
    tail-averaged weights, the signed ℓ2 coefficient λ̂ with its residual ratio and cosine, and the
    per-layer ℓ2 residual ratio (NaN for a member that diverged, with ``finite`` 0)."""
    from numerics.dropout import train_dropout_mlps
    from numerics.gradient_matching import estimate
    from numerics.mlp import Objective
    from numerics.train import small_tensor_mode
    members = [r for r in settings.rates for _ in range(settings.replicates)]
    with small_tensor_mode():
        thetas = train_dropout_mlps(arch, X, y, members, settings.steps, settings.lr, loss=loss, seed=seed,
                                    progress=lambda t, total: progress(t, total, "training"))
        obj = Objective(arch.build(), X, y, loss)
        l2, layer = parse_penalties(["l2"]), parse_penalties(["layer_l2"])
        results = []
        for theta in thetas:
            if not np.all(np.isfinite(theta)):      # diverged: reported by the precondition
                results.append((np.nan, np.nan, np.nan, np.nan, 0.0))
                continue
            est = estimate(obj, l2, theta, signed=True, cg_iterations=0)
            per_layer = estimate(obj, layer, theta, signed=True, cg_iterations=0)
            results.append((float(est.fit.coefficients[0]), est.fit.residual_ratio, est.fit.cosine,
                            per_layer.fit.residual_ratio, 1.0))
    lam, rr, cos, rr_layer, finite = map(np.array, zip(*results))
    return {"members": members, "lambda_hat": lam, "residual_ratio": rr, "cosine": cos,
            "residual_ratio_layer": rr_layer, "finite": finite, "parameters": int(len(thetas[0]))}
