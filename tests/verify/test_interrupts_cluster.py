"""Ctrl-C at any moment of a ``--jobs N`` run's start-up and shutdown (issue 21): while the modules
import, while Dask's LocalCluster starts, while it closes. Each gives one line, status 130, the
partial JSON once the run has begun, no traceback and no process left. And a ``--scheduler`` whose
scheduler dies mid-run: one line, a non-zero status, the partial JSON."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from verify.interrupts import deferred

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
ENV = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
ON_PROC = Path("/proc/self/stat").exists()


# -- deferred(): the interrupt held back to the end of the block ---------------------------------
def test_a_ctrl_c_inside_a_deferred_block_is_raised_after_it():
    reached = []
    with pytest.raises(KeyboardInterrupt):
        with deferred():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)                 # the handler has run by now: it only noted the signal
            reached.append("end of block")
    assert reached == ["end of block"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_nested_blocks_raise_at_the_end_of_the_outermost():
    reached = []
    with pytest.raises(KeyboardInterrupt):
        with deferred():
            with deferred():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)
            reached.append("after the inner block")
    assert reached == ["after the inner block"]


def test_a_block_that_fails_with_an_interrupt_held_raises_the_interrupt():
    with pytest.raises(KeyboardInterrupt) as info:
        with deferred():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            raise RuntimeError("the cluster did not start")
    assert isinstance(info.value.__cause__, RuntimeError)
    with pytest.raises(RuntimeError):                  # no interrupt: the failure itself
        with deferred():
            raise RuntimeError("the cluster did not start")


def test_without_the_block_the_ctrl_c_cuts_in():
    """The negative control of the tests above: the same code outside deferred() is cut."""
    reached = []
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        reached.append("end of block")
    assert reached == []


# -- helpers for the subprocesses -----------------------------------------------------------------
def _session_processes(sid: int) -> list[str]:
    """Live (not zombie) processes of session ``sid``, as "pid state cmdline"."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[3]) != sid or fields[0] == "Z":      # fields: state, ppid, pgrp, session
                continue
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
        found.append(f"{entry.name} {fields[0]} {cmd[:120]}")
    return found


def _routed(pid: int) -> bool:
    """Whether ``python -m verify`` has installed its signal routing (its main thread blocks SIGINT):
    before, Python itself is starting (a Ctrl-C then is Python's own business, not the project's)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("SigBlk:"):
                return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
    except FileNotFoundError:
        pass
    return False


def _interrupt(cmd: list[str], delay: float, json_path: Path | None = None, sig=signal.SIGINT,
               group: bool = True):
    """Start ``cmd`` in its own session; ``delay`` s after its signal routing is installed
    (``json_path`` given: after that file appears, i.e. when the run has begun and the cluster is
    about to start) send ``sig`` to its process group, as a terminal's Ctrl-C does (``group``
    false: to the process alone). Returns (status, stderr, live processes of the session after it
    exited)."""
    proc = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not (json_path.exists() if json_path is not None else _routed(proc.pid)) \
                and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(delay)
        if group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        _, err = proc.communicate(timeout=300)
        left = _session_processes(proc.pid)
        for _ in range(20):                  # a worker's last instant of exiting
            if not left:
                break
            time.sleep(0.1)
            left = _session_processes(proc.pid)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return proc.returncode, err, left


def _check_partial_json(path: Path) -> None:
    report = json.loads(path.read_text())
    assert report["complete"] is False and report["interrupted"] is True
    assert report["claims"] == []


# -- the modules import: one line, 130 ------------------------------------------------------------
IMPORT_PROBE = HERE / "import_interrupt_probe.py"


@pytest.mark.parametrize("mode, how, code, traceback", [
    ("routed", "interrupt", 130, False), ("routed", "capsule", 130, False),
    ("plain", "interrupt", None, True), ("plain", "capsule", 1, True)])   # plain: the negative control
def test_a_ctrl_c_while_the_modules_import_is_one_line(mode, how, code, traceback):
    proc = subprocess.Popen([sys.executable, str(IMPORT_PROBE), mode, how], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert ("Traceback" in err) is traceback, err
    if code is not None:
        assert proc.returncode == code, err
    if not traceback:
        assert err == "interrupted\n"


# -- the local cluster starts: a cheap stand-in run (default suite) and the real command (slow) ---
CLUSTER_PROBE = HERE / "cluster_start_probe.py"


@pytest.mark.skipif(not ON_PROC, reason="lists the processes left from /proc")
@pytest.mark.parametrize("delay", [0.2, pytest.param(0.0, marks=pytest.mark.slow),
                                   pytest.param(0.6, marks=pytest.mark.slow),
                                   pytest.param(1.5, marks=pytest.mark.slow),
                                   pytest.param(3.0, marks=pytest.mark.slow)])
def test_ctrl_c_while_the_local_cluster_starts(tmp_path, delay):
    """``delay`` s after the run's JSON appears (written just before the LocalCluster starts; on
    this 2-core machine the start takes 1-8 s wall): one line, 130, the empty partial JSON, no
    traceback, no worker left. Before the fix: Dask's and the half-started workers' tracebacks
    ("Nanny failed to start", FileNotFoundError in SemLock._rebuild), a process left."""
    _interrupt_cluster_start(tmp_path, delay)


def _interrupt_cluster_start(tmp_path, delay, **signal_options):
    out = tmp_path / "run.json"
    code, err, left = _interrupt([sys.executable, str(CLUSTER_PROBE), str(out)], delay, json_path=out,
                                 **signal_options)
    assert code == 130, err
    assert "Traceback" not in err and err.strip().splitlines() == ["interrupted: partial results kept"], err
    assert left == []
    _check_partial_json(out)


@pytest.mark.slow
@pytest.mark.skipif(not ON_PROC, reason="lists the processes left from /proc")
def test_sigterm_while_the_local_cluster_starts(tmp_path):
    _interrupt_cluster_start(tmp_path, 0.5, sig=signal.SIGTERM, group=False)


@pytest.mark.slow
@pytest.mark.skipif(not ON_PROC, reason="lists the processes left from /proc")
@pytest.mark.parametrize("after_json, delay", [(False, 0.2), (False, 0.5), (False, 1.0), (False, 2.0),
                                                (True, 0.0), (True, 0.5), (True, 1.0), (True, 2.0)])
def test_ctrl_c_at_any_moment_of_verify_all_jobs_2(tmp_path, after_json, delay):
    """``python -m verify all --jobs 2`` (two tasks: soudry2018 on seeds 0 and 1), Ctrl-C ``delay`` s
    after its start (imports, catalogue loading: no JSON yet) or after the JSON appears (the
    cluster starting)."""
    out = tmp_path / "run.json"
    cmd = [sys.executable, "-m", "verify", "all", "--jobs", "2", "-k", "soudry2018", "--seeds", "0:2",
           "--no-cache", "--json", str(out)]
    code, err, left = _interrupt(cmd, delay, json_path=out if after_json else None)
    assert code == 130, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("interrupted")
    assert left == []
    if after_json or out.exists():
        _check_partial_json(out)


# -- --scheduler: the scheduler dies mid-run -------------------------------------------------------
DEATH_PROBE = HERE / "scheduler_death_probe.py"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_a_scheduler_that_dies_mid_run_is_one_line_and_a_partial_json(tmp_path, processes):
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = subprocess.Popen(["dask", "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                  "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 env=ENV)
    processes.append(scheduler)
    out, mark = tmp_path / "run.json", tmp_path / "started"
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    processes.append(subprocess.Popen(["dask", "worker", address, "--nworkers", "1", "--nthreads", "2",
                                       "--no-dashboard"], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, env=ENV))
    run = subprocess.Popen([sys.executable, str(DEATH_PROBE), address, str(out), str(mark)], cwd=ROOT,
                           env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    processes.append(run)
    deadline = time.monotonic() + 300
    while not mark.exists() and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert mark.exists(), run.stderr.read() if run.poll() is not None else "no task started"
    time.sleep(0.5)
    scheduler.kill()                                  # the scheduler dies: no goodbye to anyone
    scheduler.wait(timeout=30)
    _, err = run.communicate(timeout=120)
    assert run.returncode == 1, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("error: the executor stopped (SchedulerLost: lost the Dask scheduler at")
    report = json.loads(out.read_text())
    assert report["complete"] is False and "SchedulerLost" in report["executor_error"]
    assert [(c["id"], c["status"]) for c in report["claims"]] == [("probe-done", "verified"),
                                                                   ("probe-blocked", "error")]
