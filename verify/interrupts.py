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

:func:`deferred` holds a Ctrl-C or SIGTERM back until a step that must not be cut in the middle is
done (a Dask ``LocalCluster`` starting or closing: cut, it leaves worker processes half started and
Dask's threads print their tracebacks), then raises it; the third signal still ends the process.
A Ctrl-C before the command has set up its own handling (while the modules import, some of which
turn the KeyboardInterrupt into an ImportError) ends the process with one line, status 130
(:func:`_quiet_excepthook`).
"""
from __future__ import annotations

import _thread
import atexit
import os
import signal
import sys
import threading
from contextlib import contextmanager

FORCE_AFTER = 3          # signals not yet taken by the main thread before the process is ended


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread where Ctrl-C raises KeyboardInterrupt."""


_pending: list[int] = []   # signals passed to the main thread that its handler has not taken yet
_lock = threading.Lock()
_routed: list[int] = []    # every signal the router passed to the main thread (never cleared)


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
            _routed.append(signum)
            _thread.interrupt_main(signal.SIGINT)
            if wake is not None:
                try:
                    signal.pthread_kill(main, wake)
                except (ProcessLookupError, OSError):
                    pass

    threading.Thread(target=watch, name="sigint-router", daemon=True).start()
    sys.excepthook = _quiet_excepthook
    return True


def _caused_by_interrupt(exc: BaseException | None) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def _quiet_excepthook(kind, exc, tb, _previous=sys.excepthook):
    """An exception that ends ``python -m verify`` outside the commands' own handling (a command
    handles Ctrl-C itself: this is the import of the modules, before it runs) after a routed Ctrl-C
    or SIGTERM, or caused by one: one line and status 130 instead of a traceback. Importing a
    C extension turns an interrupt into an ImportError (numpy's "PyCapsule_Import could not import
    module"), hence "after a routed signal", not only "a KeyboardInterrupt". Anything else: the
    usual traceback."""
    if not (_routed or _caused_by_interrupt(exc)):
        return _previous(kind, exc, tb)
    name = "terminated (SIGTERM)" if signal.SIGTERM in _routed else "interrupted"
    try:
        sys.stdout.flush()
    except Exception:
        pass
    try:
        sys.stderr.write(f"{name}\n")
        sys.stderr.flush()
    except Exception:
        pass
    try:
        atexit._run_exitfuncs()
    finally:
        os._exit(130)


_deferring: list[bool] = []


@contextmanager
def deferred():
    """Hold Ctrl-C and SIGTERM back for the block and raise the interrupt after it (the main
    thread only; elsewhere a plain block; a signal whose disposition is SIG_DFL or SIG_IGN keeps
    it). Nested blocks raise at the end of the outermost. A block that fails while an interrupt is
    held raises the interrupt, the failure as its cause. Under :func:`route_sigint_to_main` the
    signals still count towards ``FORCE_AFTER``: the third one ends the process at once."""
    if threading.current_thread() is not threading.main_thread() or _deferring:
        yield
        return
    held: list[int] = []
    saved = {}
    _deferring.append(True)
    failure = None
    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            current = signal.getsignal(signum)
            if callable(current):               # Python's or ours
                saved[signum] = current
                signal.signal(signum, lambda n, f: held.append(n))
        try:
            yield
        except BaseException as exc:
            if not held or isinstance(exc, KeyboardInterrupt):
                raise
            failure = exc
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
        _deferring.clear()
    if held:
        signum = signal.SIGTERM if signal.SIGTERM in held and signal.SIGTERM in saved else held[0]
        try:
            saved[signum](signum, None)         # raises (routed: Terminated if a SIGTERM is due)
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise exc from failure
