import numpy as np
import pytest

from numerics.network_init import mirrored
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
