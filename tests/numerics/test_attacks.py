"""Attack search (upper bound) and interval certificate (lower bound) against the derived radii."""
import math

import numpy as np
from hypothesis import given, settings, strategies as st

from numerics.attacks import (ReluNetwork, attack, candidate_directions, certified_radius, cluster_detector_network,
                              line_radius, margin_lower_bound)
from theory.robustness import K, K_NEG, K_POS, RHO, double_edged_sword_derivation

RESULTS = double_edged_sword_derivation().results


def _kkt_network(k, rho):
    means, labels = rho * np.eye(k), np.where(np.arange(k) % 2 == 0, 1.0, -1.0)
    values = {RHO: rho, K_POS: k // 2, K_NEG: k - k // 2}
    sol = {str(e.lhs): float(e.rhs.subs(values)) for e in RESULTS["kkt_solution"]}
    W = np.stack([sol["alpha_+"] * means[labels > 0].sum(0), sol["alpha_-"] * means[labels < 0].sum(0)])
    return ReluNetwork(W, np.zeros(2), np.array([sol["beta_+"], -sol["beta_-"]])), means, labels


def test_attack_along_sum_y_mu_hits_the_derived_radius():
    for k, rho in ((4, 3.0), (16, 5.0)):
        net, means, labels = _kkt_network(k, rho)
        x = means[0]
        v = -(labels @ means) / np.linalg.norm(labels @ means)
        r = line_radius(net, x, 1.0, v, 2 * rho)
        assert math.isclose(r, float(RESULTS["kkt_attack_radius"].subs({RHO: rho, K: k})), rel_tol=1e-9)
        res = attack(net, x, 1.0, candidate_directions(net, x, 1.0, means, labels), 2 * rho)
        assert res.found and res.radius <= r * (1 + 1e-9) and res.certified <= res.radius


def test_robust_construction_is_certified_at_the_derived_radius():
    k, rho = 8, 4.0
    means, labels = rho * np.eye(k), np.where(np.arange(k) % 2 == 0, 1.0, -1.0)
    net = cluster_detector_network(means, labels)
    assert np.allclose(net.b, float(RESULTS["robust_threshold"].subs(RHO, rho)))
    cert = certified_radius(net, means[0], 1.0, 2 * rho)
    assert math.isclose(cert, float(RESULTS["robust_radius"].subs(RHO, rho)), rel_tol=1e-9)
    kill = line_radius(net, means[0], 1.0, -means[0] / rho, 2 * rho)    # switch the detector off
    assert math.isclose(kill, cert, rel_tol=1e-9)


def test_nothing_found_reports_the_lower_bound():
    k, rho = 4, 3.0
    net, means, labels = _kkt_network(k, rho)
    res = attack(net, means[0], 1.0, candidate_directions(net, means[0], 1.0, means, labels), 0.1)
    assert not res.found and res.direction == "" and 0 < res.certified <= 0.1


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), r=st.floats(0.01, 2.0))
def test_interval_bound_is_a_lower_bound(seed, r):
    rng = np.random.default_rng(seed)
    net = ReluNetwork(rng.standard_normal((6, 5)), rng.standard_normal(6) * 0.1, rng.standard_normal(6), 2)
    x = rng.standard_normal(5)
    bound = margin_lower_bound(net, x, 1.0, r)
    z = rng.standard_normal((200, 5))
    z *= r * rng.uniform(0, 1, (200, 1)) / np.linalg.norm(z, axis=1, keepdims=True)
    assert np.all(net.forward(x + z) >= bound - 1e-9)
