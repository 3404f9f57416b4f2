"""The run status enumeration: one vocabulary, plain strings in records and JSON."""
import json

import pytest

from numerics.run_status import RunStatus


def test_members_are_their_strings():
    assert RunStatus.OK == "ok" and f"{RunStatus.NOT_CONVERGED}" == "not converged"
    assert json.dumps({"status": RunStatus.ERROR}) == '{"status": "error"}'
    assert RunStatus.OK.ok and not RunStatus.ERROR.ok


def test_every_member_has_a_message():
    assert all(s.message for s in RunStatus)


def test_unknown_status_is_named():
    assert RunStatus.of("interrupted") is RunStatus.INTERRUPTED
    with pytest.raises(ValueError, match="unknown run status 'finished'; known: ok, error"):
        RunStatus.of("finished")


def test_records_hold_members_and_reject_a_status_outside_the_enum():
    """Every run record of the linear, SSM, sweep and label-noise trainers declares its status with
    ``status_field``: the old strings become members, anything else raises where it is written."""
    import dataclasses

    import numpy as np

    from numerics.benign_overfitting import SweepPoint
    from numerics.kkt_residual import KKTResidual
    from numerics.label_noise_runs import LabelNoiseResult
    from numerics.ssm import FlowRun
    from numerics.ssm_train import GDRun
    from numerics.train import Trajectory

    traj = Trajectory("gd")
    assert traj.status is RunStatus.OK
    traj.status = "error"                               # an old string: stored as the member
    assert traj.status is RunStatus.ERROR and traj.status == "error"
    with pytest.raises(ValueError, match="unknown run status 'finished'"):
        traj.status = "finished"
    flow = FlowRun(np.zeros(2), 0.0, "not converged", "", 1.0, 1, 1, 1, 1e-10, "LSODA", 0.0)
    assert flow.status is RunStatus.NOT_CONVERGED
    assert dataclasses.asdict(flow)["status"] == "not converged"
    with pytest.raises(dataclasses.FrozenInstanceError):     # a frozen record stays frozen
        flow.status = RunStatus.OK
    made = {
        "FlowRun": lambda s: FlowRun(np.zeros(2), 0.0, s, "", 1.0, 1, 1, 1, 1e-10, "LSODA", 0.0),
        "GDRun": lambda s: GDRun(np.zeros(2), 0.0, 0, s),
        "SweepPoint": lambda s: SweepPoint(1, 1, 1.0, 0, s, 0.0, 0.0),
        "LabelNoiseResult": lambda s: LabelNoiseResult(np.empty(0), 0.0, [], np.empty(0), s, "", 0.0),
        "Trajectory": lambda s: Trajectory("gd", status=s),
        "KKTResidual": lambda s: KKTResidual("l2", 0.0, 0.0, 0.0, 0.0, 1, "nnls", s),
    }
    for name, make in made.items():
        assert make("ok").status is RunStatus.OK, name
        for bad in ("optimal", "not-separated", "converged", ""):
            with pytest.raises(ValueError, match="unknown run status"):
                make(bad)
    with pytest.raises(TypeError):                      # a required status has no default
        GDRun(np.zeros(2), 0.0, 0)
    assert json.loads(json.dumps({"s": GDRun(np.zeros(2), 0.0, 0, "error").status})) == {"s": "error"}


def test_a_solvers_own_status_maps_to_a_member_and_keeps_its_text():
    assert RunStatus.from_solver("optimal") == (RunStatus.OK, "")
    assert RunStatus.from_solver("optimal_inaccurate") == (RunStatus.INACCURATE, "optimal_inaccurate")
    for text in ("infeasible", "unbounded_inaccurate", "user_limit", "solver error: x", "not solved"):
        assert RunStatus.from_solver(text) == (RunStatus.ERROR, text)


def test_a_status_field_of_another_enumeration_coerces_to_its_members():
    import dataclasses
    from enum import StrEnum

    from numerics.run_status import status_field

    class Colour(StrEnum):
        RED = "red"

    @dataclasses.dataclass(frozen=True)
    class Paint:
        colour: Colour = status_field(kind=Colour)
        shade: Colour = status_field("red", kind=Colour)

    assert Paint("red").colour is Colour.RED and Paint("red").shade is Colour.RED
    with pytest.raises(ValueError, match="unknown Colour 'ok'; known: red"):
        Paint("ok")


def test_the_sweep_and_tracking_records_reject_a_status_outside_the_enum():
    import numpy as np

    from numerics.diagonal_nets import Run
    from numerics.manifold_flow import Tracking
    from verify.fingerprint import MemberRun
    from verify.network_fingerprint import NetworkRun
    for record in (Run("gd"), MemberRun(0.1, None), NetworkRun(0.1), Tracking(0.1, 1, np.zeros(1), np.zeros((1, 1, 1)), {})):
        assert record.status is RunStatus.OK
        record.status = "not converged"
        assert record.status is RunStatus.NOT_CONVERGED
        with pytest.raises(ValueError, match="unknown run status 'finished'"):
            record.status = "finished"


def test_a_status_field_over_two_enumerations_keeps_each_members_kind_and_narrows_to_allowed():
    """A fingerprint's status is a finding or the run status that ended it: each value becomes a
    member of the enumeration that has it; ``allowed`` refuses the members the record cannot have,
    and text that neither enumeration has is refused where the record is built."""
    import dataclasses
    import json
    from enum import StrEnum

    from numerics.run_status import status_field

    class Found(StrEnum):
        FOUND = "found"
        NOTHING = "nothing"

    @dataclasses.dataclass
    class Record:
        status: Found | RunStatus = status_field(Found.NOTHING, kind=(Found, RunStatus))
        narrow: Found | RunStatus = status_field(Found.NOTHING, kind=(Found, RunStatus),
                                                 allowed=(Found.FOUND, Found.NOTHING, RunStatus.ERROR))

    r = Record()
    assert r.status is Found.NOTHING and Record("error").status is RunStatus.ERROR
    r.status = "found"
    assert r.status is Found.FOUND and json.dumps(r.status) == '"found"'
    assert Record("not converged").status is RunStatus.NOT_CONVERGED
    with pytest.raises(ValueError, match="unknown Found or RunStatus 'finished'; known: found, nothing, ok"):
        Record("finished")
    assert Record(narrow="error").narrow is RunStatus.ERROR
    for bad in ("ok", "not converged", "finished", ""):
        with pytest.raises(ValueError, match="for this record; allowed: found, nothing, error"):
            Record(narrow=bad)
    with pytest.raises(ValueError, match="share the values"):
        status_field(kind=(RunStatus, StrEnum("Clash", {"OK": "ok"})))


def test_degenerate_is_a_run_end_with_its_own_message():
    assert RunStatus.of("degenerate") is RunStatus.DEGENERATE and "singular" in RunStatus.DEGENERATE.message
