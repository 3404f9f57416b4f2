"""The engine on Dask: local worker processes (``--jobs N``), an existing cluster (``--scheduler``),
a worker killed mid-task, an unreachable scheduler; and the same numbers in process, in a worker,
on a cluster and from the cache. (Results from a worker whose package source differs from this
process's are reported but not cached, so the cache is filled in process here: the working tree
may change while a test runs.)"""
import json
import math
import os
import socket
import subprocess
import sys
import time

import pytest

from verify import executors
from verify.cli import main
from verify.registry import get
from verify.runner import run_claims

FAST = ["wager2013-dropout-ridge", "cao2021-benign-overfitting-max-margin"]   # torch and numpy; seconds each


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_scheduler_is_one_line_within_30_s(monkeypatch, capsys):
    monkeypatch.setattr(executors, "CONNECT_TIMEOUT", 3)
    t0 = time.monotonic()
    code = main(["all", "-k", "wager2013", "--no-cache", "--scheduler", f"tcp://127.0.0.1:{_free_port()}"])
    assert code == 2 and time.monotonic() - t0 < 30
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: cannot reach the Dask scheduler") and "\n" not in err


@pytest.mark.parametrize("reply", [None, b"HTTP/1.1 400 Bad Request\r\n\r\n" * 4])
def test_a_listener_that_is_not_a_scheduler_is_one_line_within_30_s(capsys, reply):
    """A port that accepts and stays silent (default timeouts: no reply within 10 s), or answers in
    another protocol: one line, exit 2, within 30 s."""
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    server.settimeout(0.2)
    stop, conns = threading.Event(), []

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            conns.append(conn)
            if reply:
                conn.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        t0 = time.monotonic()
        code = main(["all", "-k", "wager2013", "--no-cache", "--scheduler",
                     f"tcp://127.0.0.1:{server.getsockname()[1]}"])
        elapsed = time.monotonic() - t0
    finally:
        stop.set()
        thread.join()
        for c in conns:
            c.close()
        server.close()
    err = capsys.readouterr().err.strip()
    assert code == 2 and elapsed < 30 and "\n" not in err
    assert err.startswith("error: no Dask scheduler answers at")
    assert ("no reply within" in err) if reply is None else ("does not answer as a Dask scheduler" in err)


def _values(report: dict) -> dict:
    return {(c["id"], p["seed"], k["name"]): k["value"]
            for c in report["claims"] for p in c["per_seed"] for k in p["checks"]}


def _compare(a: dict, b: dict) -> tuple[int, float]:
    """(number of values not bitwise equal, largest relative difference)."""
    assert a.keys() == b.keys() and a
    worst, unequal = 0.0, 0
    for key in a:
        x, y = a[key], b[key]
        if x is None or y is None:
            assert x is None and y is None, key
            continue
        if x != y:
            unequal += 1
            worst = max(worst, abs(x - y) / max(abs(x), abs(y), 1e-300))
    return unequal, worst


@pytest.mark.slow
def test_same_numbers_in_process_in_local_workers_and_from_the_cache(tmp_path):
    claims = [get(cid) for cid in FAST]
    paths = {name: tmp_path / f"{name}.json" for name in ("inproc", "workers", "cached")}
    cache = str(tmp_path / "c")
    run_claims(claims, seeds=[0, 1], cache_dir=cache, json_path=str(paths["inproc"]))
    run_claims(claims, seeds=[0, 1], jobs=2, json_path=str(paths["workers"]))
    run_claims(claims, seeds=[0, 1], jobs=2, cache_dir=cache, json_path=str(paths["cached"]))
    reports = {k: json.loads(p.read_text()) for k, p in paths.items()}
    assert reports["workers"]["environment"]["executor"] == "2 local worker processes"
    assert "executor" not in reports["cached"]["environment"]        # nothing left to run
    assert all(c["cached_seeds"] == 2 for c in reports["cached"]["claims"])
    values = {k: _values(r) for k, r in reports.items()}
    unequal, worst = _compare(values["inproc"], values["workers"])
    assert worst <= 1e-9, (unequal, worst)
    assert _compare(values["inproc"], values["cached"]) == (0, 0.0)             # the cache is exact
    assert [c["status"] for c in reports["inproc"]["claims"]] == [c["status"] for c in reports["workers"]["claims"]]
    print(f"in process vs 2 local workers: {unequal} of {len(values['inproc'])} values not bitwise equal, "
          f"largest relative difference {worst:.2g}")


KILLER = '''
import os, signal
from theory.derivation import Derivation
from verify.outcome import Check, Outcome
from verify.registry import Claim


def dies(ctx):
    from distributed import get_worker
    get_worker()                          # only in a worker: never kill the test process
    os.kill(os.getpid(), signal.SIGKILL)


def fine(ctx):
    return Outcome.from_checks([Check("gap", 0.5 + ctx.seed, "<=", 10.0)])


CLAIMS = [Claim("k-dies", "dies", "Test 2026", "9 Test", "s", dies, lambda: Derivation("d")),
          Claim("k-fine", "fine", "Test 2026", "9 Test", "s", fine, lambda: Derivation("d"))]
'''


TRIVIAL = '''
import numpy as np
from theory.derivation import Derivation
from verify.outcome import Check, Outcome
from verify.registry import Claim


def noisy(ctx):
    value = float(np.random.default_rng(ctx.seed).standard_normal(50) @ np.arange(50.0))
    return Outcome.from_checks([Check("gap", abs(value) / 1e4, "<=", 1.0),
                                Check("control", 2.0 + ctx.seed, ">=", 1.0, "control")])


CLAIMS = [Claim("t-" + str(i), "t", "Test 2026", "9 Test", "s", noisy, lambda: Derivation("d"))
          for i in range(2)]
'''


def test_two_local_workers_give_the_in_process_numbers(tmp_path, monkeypatch):
    """Unregistered claims travel to the workers as objects; the results are those of this process."""
    (tmp_path / "trivial_claims.py").write_text(TRIVIAL)
    monkeypatch.syspath_prepend(str(tmp_path))
    import trivial_claims

    here, there = tmp_path / "here.json", tmp_path / "there.json"
    assert run_claims(trivial_claims.CLAIMS, seeds=[0, 1, 2], json_path=str(here)) == 0
    assert run_claims(trivial_claims.CLAIMS, seeds=[0, 1, 2], jobs=2, json_path=str(there)) == 0
    a, b = json.loads(here.read_text()), json.loads(there.read_text())
    assert b["environment"]["executor"] == "2 local worker processes"
    assert _compare(_values(a), _values(b)) == (0, 0.0)


@pytest.mark.slow
def test_a_killed_worker_is_an_error_and_the_other_results_are_kept(tmp_path, monkeypatch):
    import dask

    (tmp_path / "killer_claims.py").write_text(KILLER)
    monkeypatch.syspath_prepend(str(tmp_path))          # spawned workers inherit sys.path
    import killer_claims

    out = tmp_path / "r.json"
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):    # retried once, then given up
        code = run_claims(killer_claims.CLAIMS, seeds=[0, 1], jobs=2, json_path=str(out))
    assert code == 1
    dies, fine = json.loads(out.read_text())["claims"]
    assert dies["status"] == "error" and "KilledWorker" in dies["message"]
    assert fine["status"] == "verified" and [p["seed"] for p in fine["per_seed"]] == [0, 1]


@pytest.mark.slow
def test_a_real_dask_scheduler_and_workers_give_the_in_process_numbers(tmp_path, processes):
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    sched_file = tmp_path / "scheduler.json"
    processes.append(subprocess.Popen(["dask", "scheduler", "--host", "127.0.0.1", "--port", str(_free_port()),
                                       "--no-dashboard", "--scheduler-file", str(sched_file)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
    for _ in range(120):
        if sched_file.exists() and sched_file.read_text().strip():
            break
        time.sleep(0.5)
    address = json.loads(sched_file.read_text())["address"]
    processes.append(subprocess.Popen(["dask", "worker", address, "--nworkers", "2", "--nthreads", "1",
                                       "--no-dashboard"], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, env=env))
    cluster_json, local_json = tmp_path / "cluster.json", tmp_path / "local.json"
    args = [sys.executable, "-m", "verify", "all", "-k", "wager2013 or cao2021",
            "--seeds", "2", "--no-cache"]
    done = subprocess.run(args + ["--scheduler", address, "--json", str(cluster_json)],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode in (0, 1), done.stderr        # 1: a verdict other than verified
    local = subprocess.run(args + ["--json", str(local_json)], capture_output=True, text=True, timeout=900)
    assert local.returncode == done.returncode, local.stderr
    cluster, here = json.loads(cluster_json.read_text()), json.loads(local_json.read_text())
    assert "Dask cluster at" in cluster["environment"]["executor"] and cluster["complete"] is True
    unequal, worst = _compare(_values(here), _values(cluster))
    assert worst <= 1e-9, (unequal, worst)
    assert [c["status"] for c in cluster["claims"]] == [c["status"] for c in here["claims"]]
    assert all(math.isfinite(v) for v in _values(cluster).values() if v is not None)
    print(f"in process vs a dask scheduler + 2 workers: {unequal} of {len(_values(here))} values not "
          f"bitwise equal, largest relative difference {worst:.2g}")
