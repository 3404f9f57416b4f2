"""``adam_flow_landing``: each label-noise Adam replica against the Adam flow on Γ started from that
replica's own projected state (the diagnostic behind docs/claims/deep-diagonal-adam-implied-regularizer.md,
2026-12-07, helper F), on a small instance."""
from dataclasses import replace

import numpy as np
import pytest

from numerics.interpolation import relative_distance
from numerics.run_status import RunStatus
from verify.experiments import deep_diagonal as exp

SMALL = replace(exp.ADAM_SETTINGS, d=8, replicas=2, eta=0.05, horizon=(2.0, 2.0, 2.0))


def test_each_replica_is_compared_with_the_flow_from_its_own_start():
    out = exp.adam_flow_landing(10007, 3, SMALL, start_time=0.5)
    assert out["status"] == "ok"
    assert out["trained"].shape == out["flow_end"].shape == (2, 8)
    # a numerics.run_status.RunStatus since session 7 (was the words "rest", "horizon", "degenerate")
    assert set(out["flow_status"]) <= {RunStatus.OK, RunStatus.NOT_CONVERGED, RunStatus.DEGENERATE}
    assert np.all(out["flow_time"] <= 2.0 - 0.5 + 1e-12)
    for w, v, d in zip(out["trained"], out["flow_end"], out["end_to_flow"]):
        assert d == pytest.approx(relative_distance(w, v), rel=1e-12)
    assert np.all(out["start_residual"] < 0.05)          # projected onto Γ before the flow starts


def test_start_time_outside_the_run_is_refused():
    with pytest.raises(ValueError, match="must lie inside the run"):
        exp.adam_flow_landing(10007, 3, SMALL, start_time=2.0)
