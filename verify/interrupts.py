"""Ctrl-C reaches the command line as KeyboardInterrupt, whichever thread or solver would see it.

SCS installs its own SIGINT handler for the length of a solve and reports an interrupted solve as
a failure (cvxpy: ``SolverError``), which a caller that falls back to another solver absorbs: the
user's Ctrl-C would be lost and the run would go on. Python's own handler is no better off when the
kernel delivers the signal to one of the native threads of the BLAS or OpenMP pools.

:func:`route_sigint_to_main` is called first thing by ``python -m verify``, before numpy, torch or
cvxpy start any thread: SIGINT is blocked in the main thread, so every thread created afterwards
inherits the block and no handler ever runs; one daemon thread takes the signal with ``sigwait``
and interrupts the main thread (``_thread.interrupt_main``), which raises KeyboardInterrupt as soon
as it runs Python code again — after the solver returns. Each Ctrl-C is one KeyboardInterrupt.
"""
from __future__ import annotations

import _thread
import signal
import threading


def route_sigint_to_main() -> bool:
    """Install the routing (POSIX, main thread only); returns whether it was installed."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        return False
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})

    def watch() -> None:
        while True:
            signal.sigwait({signal.SIGINT})
            _thread.interrupt_main()

    threading.Thread(target=watch, name="sigint-router", daemon=True).start()
    return True
