"""Ctrl-C during a convex solve is deferred to the solve's end, not swallowed.

SCS installs its own SIGINT listener and reports an interrupted solve as a solver failure
(cvxpy: ``SolverError``), which a caller that falls back to another solver or records the failure
would treat as an ordinary one: the user's Ctrl-C would be lost and the run would go on. Blocking
SIGINT for the duration of a solve (seconds at most here) keeps the signal pending; Python's handler
receives it, as ``KeyboardInterrupt``, as soon as the solve returns.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager


@contextmanager
def deferred_interrupts():
    """Block SIGINT inside the block (main thread, POSIX); a pending one is delivered on exit."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
