"""Ctrl-C during an SCS solve: lost without ``verify.interrupts`` (SCS reports it as a solver failure,
the negative control), a KeyboardInterrupt after the solve with it (what ``python -m verify`` does).
Ctrl-C and SIGTERM during a blocking call, and SIGTERM's partial JSON."""
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from verify.interrupts import FORCE_AFTER

PROBE = Path(__file__).with_name("scs_interrupt_probe.py")


def _interrupted(mode: str) -> int:
    proc = subprocess.Popen([sys.executable, str(PROBE), mode, "200000"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.5)                 # inside the solve (about 1.5 s of SCS iterations)
    proc.send_signal(signal.SIGINT)
    return proc.wait(timeout=60)


@pytest.mark.parametrize("mode, code", [("plain", 3), ("routed", 130)])
def test_ctrl_c_during_an_scs_solve(mode, code):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _interrupted(mode) == code


def test_the_routing_is_only_installed_from_the_main_thread():
    import threading

    from verify.interrupts import route_sigint_to_main

    result = []
    thread = threading.Thread(target=lambda: result.append(route_sigint_to_main()))
    thread.start()
    thread.join()
    assert result == [False]


# -- a blocking call in the main thread, SIGTERM, and the escape from native code ----------------
RUNNER_PROBE = Path(__file__).with_name("runner_interrupt_probe.py")
SLEEPING_SPEC = '''
print("importing", flush=True)
import time
time.sleep(3600)


def make(params):
    raise RuntimeError("not reached")
'''


def _wait_for(proc, word: str) -> None:
    for line in proc.stdout:
        if word in line:
            return
    raise AssertionError(f"the subprocess ended before printing {word!r}: {proc.stderr.read()}")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_interrupts_a_spec_whose_import_sleeps_and_keeps_the_json(tmp_path, sig):
    """The SPEC's import blocks in time.sleep(3600) in the main thread: without the wake-up signal
    Ctrl-C waits for the hour (the wait below times out), and SIGTERM kills the process without a
    report (status -15). With it: status 130 and the partial JSON report."""
    (tmp_path / "slow.py").write_text(SLEEPING_SPEC)
    out = tmp_path / "report.json"
    proc = subprocess.Popen([sys.executable, "-m", "verify", "optimizer", f"{tmp_path / 'slow.py'}:make",
                             "--json", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        _wait_for(proc, "importing")
        time.sleep(0.2)                 # inside time.sleep
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted: partial results kept" in err
    result = json.loads(out.read_text())["result"]
    assert result["interrupted"] is True


def test_sigterm_keeps_the_partial_json_of_a_run(tmp_path):
    """run_claims keeps the finished claim and marks the report incomplete, as on Ctrl-C."""
    out = tmp_path / "run.json"
    proc = subprocess.Popen([sys.executable, str(RUNNER_PROBE), str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(proc, "ready")
        time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    report = json.loads(out.read_text())
    assert report["complete"] is False and report["interrupted"] is True
    assert [c["id"] for c in report["claims"]] == ["probe-done"]


def _scs_with_signals(count: int) -> tuple[int, str]:
    proc = subprocess.Popen([sys.executable, str(PROBE), "routed", "200000"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.5)                 # inside the solve (SCS takes no Ctrl-C: it is blocked)
        for _ in range(count):
            proc.send_signal(signal.SIGINT)
            time.sleep(0.05)
        _, err = proc.communicate(timeout=300)
    finally:
        proc.kill()
    return proc.returncode, err


@pytest.mark.slow
def test_the_third_untaken_ctrl_c_ends_a_native_call():
    """Inside an SCS solve (native code that never returns to Python) one Ctrl-C waits for the
    solve to end and is then a KeyboardInterrupt; the third one ends the process at once, saying so."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code, err = _scs_with_signals(FORCE_AFTER)
    assert code == 130 and "exiting now" in err
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code, err = _scs_with_signals(FORCE_AFTER - 1)
    assert code == 130 and "exiting now" not in err


ENGINE_PROBE = Path(__file__).with_name("engine_signal_probe.py")


def _mask(pid: int, field: str) -> int:
    """A signal set of process ``pid``'s main thread from /proc (bit n-1: signal n)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1], 16)
    raise AssertionError(field)


def _gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        time.sleep(0.1)
    return False


def _ready_pid(proc) -> int:
    for line in proc.stdout:
        if line.startswith("ready "):
            return int(line.split()[1])
    raise AssertionError(f"the probe ended before a worker was ready: {proc.stderr.read()}")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads signal masks from /proc")
@pytest.mark.parametrize("how", ["sigterm", pytest.param("ctrl-c", marks=pytest.mark.slow)])
def test_local_workers_die_on_sigterm_and_leave_ctrl_c_to_the_parent(tmp_path, how):
    """``--jobs 2`` from a parent whose main thread blocks SIGINT/SIGTERM (``python -m verify``): the
    worker's main thread does not block SIGTERM and ignores SIGINT (the parent's Ctrl-C handling
    keeps the partial results); a SIGTERM sent to the worker itself ends it (with the mask inherited
    it stayed pending and the worker lived on); the task is retried on the Nanny's new worker; then
    SIGTERM to the parent, or Ctrl-C to the whole process group, gives status 130, the finished
    claim in the JSON, and no worker left."""
    out = tmp_path / "run.json"
    proc = subprocess.Popen([sys.executable, str(ENGINE_PROBE), str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        worker = _ready_pid(proc)
        for _ in range(600):                        # the other claim's result is back and written
            if out.exists() and '"probe-done"' in out.read_text():
                break
            time.sleep(0.1)
        assert not _mask(worker, "SigBlk") & (1 << (signal.SIGTERM - 1))
        assert _mask(worker, "SigIgn") & (1 << (signal.SIGINT - 1))
        os.kill(worker, signal.SIGTERM)
        assert _gone(worker, 20), "the worker outlived its SIGTERM"
        second = _ready_pid(proc)                   # Dask retries the task on the Nanny's new worker
        assert second != worker
        if how == "sigterm":
            proc.send_signal(signal.SIGTERM)
        else:
            os.killpg(proc.pid, signal.SIGINT)      # what a terminal's Ctrl-C sends
        _, err = proc.communicate(timeout=120)
        assert _gone(second, 20), "a worker outlived its parent"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted: partial results kept" in err
    report = json.loads(out.read_text())
    assert report["interrupted"] is True and [c["id"] for c in report["claims"]] == ["probe-done"]
    assert report["claims"][0]["status"] == "verified"
