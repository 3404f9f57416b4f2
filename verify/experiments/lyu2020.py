"""The experiment of ``lyu2020-gd-homogeneous-kkt`` (Lyu & Li 2020): two-layer homogeneous networks
(squared ReLU, ReLU; no biases) trained by gradient descent with the loss-based learning rate on
Gaussian clusters (and, in the full profile, digits odd/even). Two runs in lockstep from the same
small initialization: the constant relative step δ and the step capped at c/|log L|
(``numerics.homogeneous_optim.relative_step``). Read off: the smoothed margin along both runs, the
ℓ2 KKT residual of the constant-step run's normalized final parameters (and over its last half),
and the certified residual lower bounds in the control norms."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from theory.norms import BlockMax, parse_norm
from verify.experiments.settings import Profiled, Settings
from verify.homogeneous_checks import last_half_residuals
from verify.numbers import nan_max, nan_min

L2, LINF, SPECTRAL = parse_norm("l2", "binary"), parse_norm("linf", "binary"), parse_norm("spectral")
CONTROL_NORMS = (LINF, BlockMax((SPECTRAL, SPECTRAL), (1.0, 1.0)))


@dataclass(frozen=True)
class Lyu2020Settings(Settings):
    """Where each value came from: docs/claims/lyu2020-gd-homogeneous-kkt.md."""
    activations: tuple = ("squared_relu", "relu")
    width: int = 16
    init_scale: float = 0.3
    clusters_k: int = 4
    clusters_d: int = 10
    clusters_per_cluster: int = 8
    clusters_noise: float = 0.1
    digits: bool = Profiled(quick=False, full=True)      # add digits odd/even
    digits_n: int = 100
    digits_width: int = 16
    relative_step: float = Profiled(quick=3e-3, full=5e-4)    # δ of the constant relative step
    loss_cap: float = 0.1              # c of the capped run, δ_t = min(δ, c/|log L|)
    steps: int = Profiled(quick=8000, full=30_000)
    checkpoints: int = 60
    kkt_tolerance: float = Profiled(quick=5e-2, full=1e-2)
    #: largest relative decrease of the smoothed margin between checkpoints of the capped run
    margin_drop: float = 1e-4
    control_ratio: float = 3.0
    #: above tolerance, the residual decides only once settled: at 4 log-spaced checkpoints from T/2
    #: to T it moved by at most a factor 2^this
    settled_rate: float = 0.03


SETTINGS = Lyu2020Settings()


def tasks(settings: Lyu2020Settings, seed: int):
    """(name, X, y, width) of each data set under resolved ``settings``."""
    from numerics.network_data import digits_parity, gaussian_clusters
    s = settings
    out = [("clusters", *gaussian_clusters(s.clusters_k, s.clusters_d, s.clusters_per_cluster,
                                           s.clusters_noise, seed=seed), s.width)]
    if s.digits:
        out.append(("digits", *digits_parity(s.digits_n, seed=seed), s.digits_width))
    return out


def margin_path(net, tr, n: int) -> dict:
    """The smoothed margin at the checkpoints where it is defined, its largest relative drop between
    consecutive ones and its gain (last / first)."""
    from numerics.kkt_residual import norm_value
    from numerics.trajectory_metrics import smoothed_margin
    smoothed = [smoothed_margin(ll, n, norm_value(L2, p), net.degree) for ll, p in zip(tr.log_loss, tr.params)]
    defined = [(t, s) for t, s in zip(tr.steps, smoothed) if not math.isnan(s)]
    drops = [(a - b) / abs(a) for (_, a), (_, b) in zip(defined, defined[1:])]
    return {"smoothed_margin": defined, "largest_margin_drop": nan_max(drops),
            "margin_gain": defined[-1][1] / defined[0][1] if defined else math.nan}


def _separated(tr) -> tuple[float, str]:
    return (tr.margins[-1] if tr.margins and tr.status == "ok" else -math.inf), tr.message


def run(settings: Lyu2020Settings, seed: int, activation: str, X, y, width: int,
        progress=lambda done, total, info="": None) -> dict:
    """Both runs on one network and data set under resolved ``settings``, and what the checks read
    (plain data: margins, smoothed-margin paths, KKT residuals and control bounds)."""
    from numerics.homogeneous_optim import relative_step
    from numerics.kkt_residual import kkt_residual
    from numerics.networks import TwoLayerNetwork
    from numerics.optim import TransformOptimizer
    from numerics.train import Member
    from numerics.train_network import train_network
    from numerics.trajectory_metrics import direction_cosines, last_half_checkpoints, residual_decay_rate
    net = TwoLayerNetwork.build(activation, width, X.shape[1])
    steps = settings.steps
    record = sorted(set(np.linspace(1, steps, settings.checkpoints).astype(int).tolist())
                    | set(last_half_checkpoints(steps)))
    delta, cap = settings.relative_step, settings.loss_cap
    members = {"gd": Member(lambda ps: TransformOptimizer(ps, relative_step(delta), "GD (loss-based lr)")),
               "gd_capped": Member(lambda ps: TransformOptimizer(ps, relative_step(delta, cap), "GD (capped)"))}
    runs = train_network(net, X, y, members, steps, net.init(seed, settings.init_scale),
                         record=record, progress=lambda t, total: progress(t, total, activation))
    tr, capped = runs["gd"], runs["gd_capped"]
    out = {"degree": net.degree, "status": tr.status, "relative_step": delta,
           # δ·|log L| at the end of the constant run: its relative step against the step condition
           "step_times_log_loss": delta * abs(tr.log_loss[-1]) if tr.log_loss else math.nan}
    out["min_margin"], out["message"] = _separated(tr)
    out["capped"] = dict(zip(("min_margin", "message"), _separated(capped)))
    if out["capped"]["min_margin"] > 0:
        out["capped"].update(margin_path(net, capped, len(y)))
        out["capped"]["kkt_residual"] = kkt_residual(net, capped.params[-1], X, y, L2).residual
    if out["min_margin"] <= 0:
        return out
    out.update(margin_path(net, tr, len(y)))
    half = [(t, p) for t, p in zip(tr.steps, tr.params) if t >= steps // 2]
    out["cos_min_last_half"] = nan_min(direction_cosines(net, [p for _, p in half]))
    final = tr.params[-1]
    own = kkt_residual(net, final, X, y, L2)
    out["kkt"] = own.as_dict()
    out["residual_series"] = series = last_half_residuals(net, tr.steps, tr.params, X, y, L2, own.residual)
    out["residual_rate"] = residual_decay_rate(*zip(*series))
    out["controls"] = {n.name: kkt_residual(net, final, X, y, n).as_dict() for n in CONTROL_NORMS}
    return out
