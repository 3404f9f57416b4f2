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
