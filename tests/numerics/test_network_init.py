import numpy as np
import pytest

from numerics.network_data import gaussian_clusters
from numerics.network_init import initialize, mirrored, unserved_points
from numerics.networks import TwoLayerNetwork


def test_every_direction_has_an_active_neuron_of_each_output_sign():
    net = TwoLayerNetwork.build("squared_relu", 8, 10)
    W, u = mirrored(net, 3, 0.1)
    assert W.shape == (8, 10) and u.shape == (1, 8)
    np.testing.assert_array_equal(W[0::2], -W[1::2])
    np.testing.assert_array_equal(u[0, 0::2], u[0, 1::2])
    directions = np.random.default_rng(0).standard_normal((1000, 10))
    active = directions @ W.T > 0
    for sign in (1.0, -1.0):
        assert np.all((active & (np.sign(u[0]) == sign)).any(axis=1))   # a serving neuron for either label
    # the i.i.d. initialization misses some: a neuron serves a given direction and label w.p. 1/4
    W0, u0 = net.init(3, 0.1)
    active0 = directions @ W0.T > 0
    assert not all(np.all((active0 & (np.sign(u0[0]) == s)).any(axis=1)) for s in (1.0, -1.0))


def test_odd_or_too_small_widths_are_refused():
    for m in (3, 7, 2):
        with pytest.raises(ValueError):
            mirrored(TwoLayerNetwork.build("squared_relu", m, 10), 0)


def test_initialize_by_name_and_unknown_names_refused():
    net = TwoLayerNetwork.build("squared_relu", 8, 10)
    for a, b in zip(initialize(net, 5, 0.1, "iid"), net.init(5, 0.1)):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(initialize(net, 5, 0.1, "mirrored"), mirrored(net, 5, 0.1)):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="unknown initialization"):
        initialize(net, 5, 0.1, "orthogonal")


def test_unserved_points_finds_the_cluster_no_neuron_serves():
    """Seed 2's clusters (gronich2026's quick task): the i.i.d. draw leaves the +1 cluster without a
    serving neuron (the cluster that ends dead for every optimizer); mirrored pairs serve every point. A
    sabotaged mirrored init (every output weight of one sign) leaves the other label's points unserved."""
    X, y = gaussian_clusters(2, 10, 8, 0.1, seed=2, noise_in_mean_span=True)
    net = TwoLayerNetwork.build("squared_relu", 8, 10)
    unserved = unserved_points(net.init(2, 0.1), X, y)
    assert unserved.size == 8 and np.all(y[unserved] == 1.0)
    W, u = mirrored(net, 2, 0.1)
    assert unserved_points((W, u), X, y).size == 0
    bad = unserved_points((W, np.abs(u)), X, y)
    assert bad.size == int(np.sum(y == -1.0)) and np.all(y[bad] == -1.0)


def test_expected_neuron_sizes_are_the_draws_means():
    from numerics.network_init import expected_neuron_sizes
    net = TwoLayerNetwork.build("squared_relu", 4, 10)
    rows, outs = [], []
    for seed in range(2000):
        W, u = mirrored(net, seed, 0.1)
        rows.append(np.linalg.norm(W[0::2], axis=1))
        outs.append(np.abs(u[0, 0::2]))
    size_w, size_u = expected_neuron_sizes(net.shapes, 0.1)
    assert np.mean(rows) == pytest.approx(size_w, rel=0.02) and np.mean(outs) == pytest.approx(size_u, rel=0.03)
