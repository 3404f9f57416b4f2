"""Fixtures shared by the tests of verify/."""
import subprocess

import pytest


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
