"""Fixtures shared by the tests of verify/."""
import signal
import subprocess

import pytest

# A test run started with Ctrl-C ignored (a background job of a non-interactive shell, `nohup`) hands
# SIG_IGN on to this process and to every process it starts, and the interrupt tests would then see no
# Ctrl-C at all. Give this process Python's own handler: a handler, unlike SIG_IGN, is reset to the
# default in the processes it starts, so the probes get theirs too.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture
def processes():
    """A list the test appends the processes it starts to (Dask schedulers, workers, runs); at the
    end of the test each one still running is terminated, newest first, and killed if it does not
    exit within 30 s."""
    started: list[subprocess.Popen] = []
    yield started
    for p in reversed(started):
        if p.poll() is None:
            p.terminate()
    for p in reversed(started):
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
