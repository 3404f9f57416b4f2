"""Ctrl-C during an SCS solve: lost without ``verify.interrupts`` (SCS reports it as a solver failure,
the negative control), a KeyboardInterrupt after the solve with it (what ``python -m verify`` does)."""
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

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
