"""The experiment of ``cao2021-benign-overfitting-max-margin`` (Cao, Gu, Belkin 2021): a sweep of
Gaussian mixtures x = yμ + ξ over (n, d) pairs and radii ‖μ‖ = f·(d/n)^{1/4}, several draws per
point, each solved by the certified hard-margin SVM with its exact Gaussian test error
(``numerics.benign_overfitting.sweep_point``)."""
from __future__ import annotations

from dataclasses import dataclass

from verify.experiments.settings import Profiled, Settings


@dataclass(frozen=True)
class Cao2021Settings(Settings):
    pairs: tuple = Profiled(quick=((10, 250), (40, 1000), (20, 1000), (10, 1000)),
                            full=((10, 250), (40, 1000), (20, 1000), (10, 1000), (20, 4000), (10, 2500)))
    #: radii of the sweep, in units of (d/n)^{1/4}
    radius_factors: tuple = (0.5, 0.71, 1.0, 1.41, 2.0, 2.83, 4.0)
    #: draws per sweep point (seeds seed, seed + 1, ...): chosen on seeds 10000–10009
    #: (docs/claims/cao2021-benign-overfitting-max-margin.md)
    draws: int = 4
    #: the test-error level that defines the transition radius
    transition_level: float = 0.1
    #: largest relative deviation of the transition radius from the exact root of E = E_c; the
    #: rival's radius must miss by as much, and the two predicted radii differ by 3× it
    #: (measurements in docs/claims/cao2021-benign-overfitting-max-margin.md)
    transition_tolerance: float = 0.1


SETTINGS = Cao2021Settings()


def run(settings: Cao2021Settings, seed: int, progress=lambda done, total, info="": None) -> list:
    """Every sweep point (``numerics.benign_overfitting.SweepPoint``), in (pair, radius, draw)
    order, under resolved ``settings``."""
    from numerics.benign_overfitting import sweep_point

    seeds = [seed + i for i in range(settings.draws)]
    points = []
    total = len(settings.pairs) * len(settings.radius_factors) * len(seeds)
    for nn, dd in settings.pairs:
        for f in settings.radius_factors:
            for s in seeds:
                points.append(sweep_point(nn, dd, f * (dd / nn) ** 0.25, s))
                progress(len(points), total, f"n={nn} d={dd}")
    return points
