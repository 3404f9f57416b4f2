"""The experiment of ``frei2023-homogeneous-double-edged-sword`` (Frei, Vardi, Bartlett, Srebro
2023): on a grid of (k, d), k nearly orthogonal clusters (means μ_j ~ N(0, I_d), labels alternating
±1 by cluster, points μ_j + N(0, I_d)); a two-layer ReLU network (no biases) trained by gradient
descent with the loss-based relative step (Lyu & Li 2020) from a small initialization; on fresh test
points its test error and the smallest flipping ℓ2 radius found by bisection along −y Σ_j y_j μ_j and
−y ∇_x f (with a certified interval-bound lower bound); the certified radius of the robust
construction (one detector per cluster); and the ℓ2 KKT residual of the trained network."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from theory.norms import parse_norm
from verify.experiments.settings import Profiled, Settings


@dataclass(frozen=True)
class Frei2023Settings(Settings):
    """Where each value came from: docs/claims/frei2023-homogeneous-double-edged-sword.md."""
    k: tuple = Profiled(quick=(4, 16), full=(4, 8, 16, 32))
    d: tuple = Profiled(quick=(200, 800), full=(200, 400, 800, 1600))
    per_cluster: int = 5
    test_per_cluster: int = 10
    noise: float = 1.0
    width: int = 32
    init_scale: float = 1e-2
    relative_step: float = 3e-3
    steps: int = 4000
    #: the theorem's assumption: the trained network is near a KKT point of the ℓ2 margin problem
    kkt_tolerance: float = 0.2
    attacked_points: int = Profiled(quick=20, full=50)
    exponent_tolerance: float = Profiled(quick=0.15, full=0.1)
    test_error: float = Profiled(quick=0.05, full=0.03)
    found_fraction: float = 0.9
    #: measured robust/attack ratio ≥ this × the derived √k/2 at the largest k
    ratio_fraction: float = 0.75


SETTINGS = Frei2023Settings()


def run_config(settings: Frei2023Settings, seed: int, k: int, dim: int) -> dict:
    """Train and attack one (k, d) configuration under resolved ``settings``: plain data (radii,
    test errors, the KKT residual, the attack's certified bounds)."""
    from numerics.attacks import ReluNetwork, attack, candidate_directions, cluster_detector_network
    from numerics.homogeneous_optim import relative_step
    from numerics.kkt_residual import NotSeparatedError, kkt_residual
    from numerics.network_data import orthogonal_clusters
    from numerics.networks import TwoLayerNetwork
    from numerics.optim import TransformOptimizer
    from numerics.train import Member
    from numerics.train_network import train_network
    s = settings
    train = orthogonal_clusters(k, dim, s.per_cluster, s.noise, seed=seed)
    test = orthogonal_clusters(k, dim, s.test_per_cluster, s.noise, seed=seed + 1, means=train.means)
    net = TwoLayerNetwork.build("relu", s.width, dim)
    member = Member(lambda ps: TransformOptimizer(ps, relative_step(s.relative_step), "GD (loss-based lr)"))
    steps = s.steps
    traj = train_network(net, train.X, train.y, {"gd": member}, steps,
                         net.init(seed, s.init_scale), record=[steps])["gd"]
    params = traj.params[-1]
    trained = ReluNetwork.homogeneous(params, net.power)
    robust = cluster_detector_network(train.means, train.cluster_labels)
    rho = float(np.median(np.linalg.norm(train.means, axis=1)))
    points = list(zip(test.X[:s.attacked_points], test.y[:s.attacked_points]))
    r_max = 2.0 * rho
    att = [attack(trained, x, y, candidate_directions(trained, x, y, train.means, train.cluster_labels), r_max)
           for x, y in points]
    rob = [attack(robust, x, y, candidate_directions(robust, x, y, train.means, train.cluster_labels), r_max)
           for x, y in points]
    found = [a.radius for a in att if a.found]
    try:
        # the theorem's assumption (a KKT point of the ℓ2 margin problem), a precondition: first without
        # kink freedom (τ = 0, the least-squares problem, cheap), and only when that exceeds the
        # tolerance with the Clarke intervals of the near-kink pairs (a conic program, seconds per
        # network); both are achieved residuals, so the smaller one is.
        l2 = parse_norm("l2", "binary")
        kkt = kkt_residual(net, params, train.X, train.y, l2, taus=(0.0,)).residual
        if kkt > s.kkt_tolerance:
            kkt = min(kkt, kkt_residual(net, params, train.X, train.y, l2).residual)
    except NotSeparatedError:
        kkt = math.inf
    return {
        "k": k, "d": dim, "rho": rho, "train_min_margin": float(net.margins(params, train.X, train.y).min()),
        "log_loss": traj.log_loss[-1], "status": traj.status,
        "test_error": float(np.mean(np.sign(trained.forward(test.X)) != test.y)),
        "robust_test_error": float(np.mean(np.sign(robust.forward(test.X)) != test.y)),
        "attack_radius": float(np.median(found)) if found else math.inf,
        "found_fraction": len(found) / len(att),
        "certified_lower_bound": float(np.median([a.certified for a in att])),
        "unfound_certified": [a.certified for a in att if not a.found],
        "directions": {name: sum(a.direction == name for a in att) for name in ("sum_y_mu", "input_gradient")},
        "robust_certified": float(np.median([a.certified for a in rob])),
        "robust_attack_radius": float(np.median([a.radius for a in rob])),
        "kkt_residual_l2": kkt, "seconds": traj.seconds,
    }


def run(settings: Frei2023Settings, seed: int, progress=lambda done, total, info="": None) -> list[dict]:
    """:func:`run_config` over the (k, d) grid, k-major."""
    rows = []
    total = len(settings.k) * len(settings.d)
    for k in settings.k:
        for dim in settings.d:
            rows.append(run_config(settings, seed, k, dim))
            progress(len(rows), total, f"k={k} d={dim}")
    return rows
