"""Ctrl-C and SIGTERM reach the command line as KeyboardInterrupt, whichever thread, solver or
blocking call would see them.

SCS installs its own SIGINT handler for the length of a solve and reports an interrupted solve as
a failure (cvxpy: ``SolverError``), which a caller that falls back to another solver absorbs: the
user's Ctrl-C would be lost and the run would go on. Python's own handler is no better off when the
kernel delivers the signal to one of the native threads of the BLAS or OpenMP pools.

:func:`route_sigint_to_main` is called first thing by ``python -m verify``, before numpy, torch or
cvxpy start any thread: SIGINT and SIGTERM are blocked in the main thread, so every thread created
afterwards inherits the block and no handler ever runs there; one daemon thread takes both signals
with ``sigwait`` and interrupts the main thread (``_thread.interrupt_main``, through the SIGINT
handler for both), which raises KeyboardInterrupt (for SIGTERM: :class:`Terminated`, a
KeyboardInterrupt, so that every handler that keeps partial results on Ctrl-C keeps them on SIGTERM
too) as soon as it runs Python code again. Signals that arrive before the main thread has taken
the previous one make one exception.

A main thread blocked in a system call (``time.sleep``, a read, a lock: e.g. a user's SPEC module
that sleeps on import) would run no Python code until the call returns, so the thread also sends
the main thread a wake-up signal (a real-time signal with a do-nothing handler): the call fails
with EINTR and Python raises the pending KeyboardInterrupt at once. Native code that computes
without returning (a solver's loop) cannot be interrupted this way; the third signal in a row that
the main thread has not yet taken ends the process at once (``os._exit``, status 130) with a
one-line message: the results of the interrupted step are lost, the files written
before it stay.
"""
from __future__ import annotations

import _thread
import os
import signal
import threading

FORCE_AFTER = 3          # signals not yet taken by the main thread before the process is ended


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread where Ctrl-C raises KeyboardInterrupt."""


_pending: list[int] = []   # signals passed to the main thread that its handler has not taken yet
_lock = threading.Lock()


def _on_sigint(signum, frame):
    """The main thread's SIGINT handler: raises Terminated when a SIGTERM is among the signals
    routed since it last ran (both are routed through SIGINT, so a SIGTERM handler installed by
    other code does not bypass the count), else KeyboardInterrupt."""
    with _lock:
        taken = list(_pending)
        _pending.clear()
    if signal.SIGTERM in taken:
        raise Terminated("terminated (SIGTERM)")
    raise KeyboardInterrupt


def _on_wake(signum, frame):
    """Only there to make a blocking call in the main thread fail with EINTR."""


def _wake_signal() -> int | None:
    rtmin = getattr(signal, "SIGRTMIN", None)
    return None if rtmin is None else rtmin + 3


def route_sigint_to_main() -> bool:
    """Install the routing of SIGINT and SIGTERM (POSIX, main thread only); returns whether it was
    installed."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        return False
    signals = {signal.SIGINT, signal.SIGTERM}
    signal.signal(signal.SIGINT, _on_sigint)
    wake = _wake_signal()
    if wake is not None:
        signal.signal(wake, _on_wake)           # Python's handlers do not restart system calls
    signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    main = threading.main_thread().ident

    def watch() -> None:
        while True:
            signum = signal.sigwait(signals)
            with _lock:
                _pending.append(signum)
                force = len(_pending) >= FORCE_AFTER
            if force:
                name = "SIGTERM" if signum == signal.SIGTERM else "Ctrl-C"
                try:
                    os.write(2, f"\n{name} ×{FORCE_AFTER} inside a call that does not return: "
                                f"exiting now; results not yet written are lost\n".encode())
                finally:
                    os._exit(130)
            _thread.interrupt_main(signal.SIGINT)
            if wake is not None:
                try:
                    signal.pthread_kill(main, wake)
                except (ProcessLookupError, OSError):
                    pass

    threading.Thread(target=watch, name="sigint-router", daemon=True).start()
    return True

