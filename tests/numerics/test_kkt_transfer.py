"""The transfer bound's record (numerics.kkt_transfer.TransferBound): its status is a RunStatus with a
message, as every run record's (issue 26); the bound itself is tested against the rival residuals in
tests/verify/test_homogeneous_checks.py."""
import math

import numpy as np
import pytest

from numerics.kkt_residual import kkt_residual
from numerics.kkt_transfer import TransferBound, transfer_bound
from numerics.networks import TwoLayerNetwork
from numerics.run_status import RunStatus
from theory.norms import BlockMax, parse_norm

L2_NORM = parse_norm("l2", "binary")
LAYER_SPECTRAL = BlockMax((parse_norm("spectral"), parse_norm("spectral")), (1.0, 1.0))


def _point(activation: str):
    d = 4
    net = TwoLayerNetwork.build(activation, 2, d)
    X, y = np.array([np.eye(d)[0], 1.5 * np.eye(d)[1]]), np.array([1.0, -1.0])
    rng = np.random.default_rng(0)
    W, u = np.eye(d)[:2] + 0.01 * rng.standard_normal((2, d)), np.array([[0.8, -0.7]])
    return net, X, y, (W, u)


def test_an_achieved_bound_is_ok_and_its_record_writes_the_status_value():
    net, X, y, theta = _point("squared_relu")
    own = kkt_residual(net, theta, X, y, L2_NORM)
    t = transfer_bound(net, theta, X, y, L2_NORM, LAYER_SPECTRAL, own.multipliers)
    assert t.status in (RunStatus.OK, RunStatus.INACCURATE) and math.isfinite(t.bound)
    record = t.as_dict()
    assert record["status"] == t.status.value and "message" in record
    assert not any(k.startswith("_") for k in record)           # the descriptor's slot stays private


@pytest.mark.parametrize("activation, multipliers, why", [
    ("relu", "own", "ReLU kink"), ("squared_relu", None, "no multipliers")])
def test_a_bound_that_cannot_be_computed_says_why(activation, multipliers, why):
    net, X, y, theta = _point(activation)
    if multipliers == "own":
        multipliers = kkt_residual(net, theta, X, y, L2_NORM).multipliers
    t = transfer_bound(net, theta, X, y, L2_NORM, LAYER_SPECTRAL, multipliers)
    assert t.status is RunStatus.NOT_COMPUTED and why in t.message and math.isnan(t.bound)
    assert t.as_dict()["status"] == "not computed"


def test_a_free_text_status_is_refused_where_the_record_is_built():
    with pytest.raises(ValueError, match="unknown run status"):
        TransferBound("l2", "spec", 0.1, 0.0, 0.0, 0.0, 0.0, 0.5, "optimal")
