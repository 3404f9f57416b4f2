"""Executors: where tasks (``verify.tasks``) run.

- :class:`InProcess` (``--jobs 1``, the default): one after another in this process, no extra
  processes; each claim's record is handed over as soon as it is done. With ``pin_threads``
  (``verify optimizer``) each task runs under one BLAS/torch thread, as in a worker, so its numbers
  equal a worker's bitwise.
- :class:`DaskExecutor` with ``jobs=N``: a ``dask.distributed.LocalCluster`` of N worker processes,
  one thread each, BLAS/OpenMP/torch pinned to one thread; with ``address``: an existing Dask
  cluster (``dask scheduler`` + ``dask worker``, or dask-jobqueue on SLURM/PBS). Tasks go out as
  futures and come back through ``as_completed``; a task whose worker died (Dask retries it on
  another worker first) or that failed in transit comes back as an error message and the other
  tasks' results are kept; a scheduler lost mid-run raises :class:`SchedulerLost`. A Ctrl-C or
  SIGTERM while the local cluster starts or closes takes effect when that is done
  (``verify.interrupts.deferred``): cut midway, half-started workers and Dask's threads print
  tracebacks. Dask's own log messages are off (its errors reach the user as task errors).

``run(tasks)`` yields ``(task, result, error)``: ``result`` is the plain data the task's function
returned (:func:`verify.tasks.execute`: a claims group's :func:`verify.tasks.run_task`, or the
function a :class:`verify.tasks.CallTask` names), or ``error`` a one-line reason.
"""
from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import signal
import socket
import threading
import uuid
from contextlib import contextmanager, nullcontext
from typing import Callable, Iterator

from theory.errors import UserInputError
from verify.interrupts import deferred
from verify.tasks import CallTask, Task, execute

THREAD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
CONNECT_TIMEOUT = 10          # seconds to reach a scheduler
WORKER_TIMEOUT = 15           # seconds to wait for the first worker of an existing cluster


@contextmanager
def one_thread():
    """For its duration, one BLAS/OpenMP/torch thread, as in a worker process (``THREAD_ENV`` for the
    libraries loaded inside, ``threadpoolctl`` for those already loaded); restored afterwards. The
    summation order of a multi-threaded BLAS call depends on the thread count, so an in-process run
    under it gives the numbers of a worker bitwise."""
    import torch
    from threadpoolctl import threadpool_limits

    saved = {k: os.environ.get(k) for k in THREAD_ENV}
    os.environ.update(THREAD_ENV)
    threads = torch.get_num_threads()
    try:
        with threadpool_limits(limits=1):
            torch.set_num_threads(1)
            yield
    finally:
        torch.set_num_threads(threads)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class InProcess:
    workers = 1
    description = "in-process"

    def __init__(self, progress: Callable[[int, int, str], None] | None = None, pin_threads: bool = False):
        """``pin_threads``: run each task under :func:`one_thread` (numbers bitwise equal to a worker's)."""
        self.progress = progress
        self.pin_threads = pin_threads
        if pin_threads:
            self.description = "in-process, one thread"

    def run(self, tasks: list[Task | CallTask], on_record: Callable[[Task, str, dict], None] | None = None,
            on_start: Callable[[Task], None] | None = None) -> Iterator[tuple[Task, dict | None, str | None]]:
        for task in tasks:
            if on_start is not None:
                on_start(task)
            callback = None if on_record is None else (lambda cid, rec, t=task: on_record(t, cid, rec))
            with (one_thread() if self.pin_threads else nullcontext()):
                result = execute(task.spec(), progress=self.progress, on_record=callback)
            yield task, result, None

    def close(self) -> None:
        pass


ROUTED = (signal.SIGINT, signal.SIGTERM)


def keep_signal_mask_in_dask_threads() -> None:
    """Start multiprocessing's resource tracker from this thread, its signal mask restored after.

    ``resource_tracker.ensure_running`` blocks SIGINT/SIGTERM while it spawns the tracker and then
    *unblocks* them in the calling thread, whatever they were before. When the first caller is
    Dask's IO-loop thread (a LocalCluster's first queue or worker process), that thread, the Nanny
    threads it starts and the worker processes they spawn lose the mask ``python -m verify`` set
    (``verify.interrupts``): a Ctrl-C could then land in a Dask thread instead of the router, and
    whether workers see SIGTERM would depend on which thread happened to start the tracker first.
    Started here, every later call finds it running and leaves the masks alone."""
    if not hasattr(signal, "pthread_sigmask"):
        return
    from multiprocessing import resource_tracker

    mask = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    try:
        resource_tracker.ensure_running()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


try:
    from distributed.diagnostics.plugin import WorkerPlugin as _WorkerPlugin
except ImportError:  # pragma: no cover - dask is a dependency
    _WorkerPlugin = object


class WorkerSignals(_WorkerPlugin):
    """Signals in a local worker process (``--jobs N``), whatever mask it inherited from the parent
    (whose main thread blocks SIGINT/SIGTERM, ``verify.interrupts``): SIGTERM unblocked with its
    default action, so the worker dies on it (the Nanny's terminate, a batch system ending the job,
    ``kill``); SIGINT ignored, because Ctrl-C reaches the whole process group and the parent
    handles it: it cancels the tasks, keeps the finished results and closes the cluster (a worker
    dying of the same Ctrl-C would turn its running task into an error first)."""
    name = "verify-worker-signals"

    def setup(self, worker=None):
        if not hasattr(signal, "pthread_sigmask"):
            return
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, ROUTED)


class SchedulerLost(RuntimeError):
    """The Dask scheduler went away during a run (raised from :meth:`DaskExecutor.run`: the caller
    reports it in one line and the tasks not back as errors)."""


QUIET_LOGGERS = ("distributed", "tornado", "asyncio")


class DaskExecutor:
    address: str | None = None

    def __init__(self, jobs: int | None = None, address: str | None = None):
        try:
            from dask.distributed import Client
        except ImportError as exc:  # pragma: no cover - dask is a dependency
            raise UserInputError(f"--jobs/--scheduler need dask.distributed ({exc})")
        self.cluster = None
        self.client = None
        self._futures: dict = {}
        self._children_before: set[int] = set()
        self._quiet_logs()
        if address is not None:
            self.address = address
            check_scheduler(address)
            try:
                self.client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
            except Exception as exc:
                raise UserInputError(f"cannot reach the Dask scheduler at {address!r} "
                                     f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})")
            try:
                self.client.wait_for_workers(1, timeout=WORKER_TIMEOUT)
            except Exception:
                self.client.close()
                raise UserInputError(f"the Dask scheduler at {address!r} has no worker "
                                     f"(waited {WORKER_TIMEOUT} s)")
            self.workers = max(1, len(self.client.scheduler_info().get("workers", {})))
            self.description = f"Dask cluster at {address} ({self.workers} workers)"
        else:
            keep_signal_mask_in_dask_threads()
            try:
                with deferred():    # a Ctrl-C/SIGTERM while the cluster starts: raised once it is up
                    self._start_local(jobs)
            except BaseException:   # that interrupt, or a failed start: stop what started
                try:
                    self.close()
                except BaseException:
                    pass
                raise
            self.workers = jobs
            self.description = f"{jobs} local worker processes"

    @staticmethod
    def _quiet_logs() -> None:
        """Dask's own log messages off for the rest of the process (a lost scheduler, a worker
        dying, a close that finds the cluster gone: logged with tracebacks, some from Dask's
        threads after the client closed): what matters reaches the user as a task's error or the
        executor's one-line failure."""
        names = [n for n in list(logging.root.manager.loggerDict) if n.split(".")[0] in QUIET_LOGGERS]
        for name in set(names) | set(QUIET_LOGGERS):      # Dask's configuration sets some levels
            logging.getLogger(name).setLevel(logging.CRITICAL + 1)

    def _start_local(self, jobs: int) -> None:
        """A LocalCluster of ``jobs`` worker processes and a client; on failure, what started is
        closed (the clusters Dask registered since, whether or not the constructor returned)."""
        from dask.distributed import Client, LocalCluster
        from distributed.deploy.spec import SpecCluster

        before = set(SpecCluster._instances)
        self._children_before = {p.pid for p in multiprocessing.active_children()}
        try:
            self.cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                        # workers' own Dask logs off below CRITICAL, as the parent's
                                        # (_quiet_logs): a worker busy when the run is interrupted
                                        # logged "Failed to communicate with scheduler during
                                        # heartbeat" with a traceback (2026-12-07, load 10)
                                        dashboard_address=None, silence_logs=logging.CRITICAL,
                                        # no dashboard; its HTTP server (health routes) on a free
                                        # port, not 8787 (taken by another run: a warning)
                                        scheduler_kwargs={"dashboard_address": ":0"},
                                        env=dict(THREAD_ENV))
            self.client = Client(self.cluster, set_as_default=False)
            self.client.register_plugin(WorkerSignals(), name=WorkerSignals.name)
        except BaseException:
            try:
                self.close()
            finally:
                for cluster in set(SpecCluster._instances) - before:
                    _quietly_close(cluster)
                reap_children(self._children_before)
            raise

    def run(self, tasks: list[Task | CallTask], on_record=None, on_start=None):
        from dask.distributed import as_completed

        run_id = uuid.uuid4().hex[:8]
        futures = {}
        for i, task in enumerate(tasks):
            future = self.client.submit(execute, task.spec(), True, key=f"verify-{run_id}-{i}-{task.name.replace(' ', '-')}",
                                        pure=False, priority=len(tasks) - i)
            futures[future] = task
        self._futures = futures
        for future in as_completed(list(futures), loop=self.client.loop):
            task = futures[future]
            try:
                result, error = future.result(), None
            except Exception as exc:
                if self._scheduler_lost(exc):
                    raise SchedulerLost(f"lost the Dask scheduler at {self.address}: it stopped or cannot be "
                                        f"reached; the tasks not back are errors") from None
                text = str(exc).splitlines()[0] if str(exc) else ""
                result, error = None, f"task {task.name} did not complete on the cluster ({type(exc).__name__}: {text})"
            finally:
                future.release()
            yield task, result, error

    def _scheduler_lost(self, exc: Exception) -> bool:
        """A task cancelled because the client lost its scheduler (it died, or the network failed)."""
        if getattr(exc, "reason", None) == "scheduler-connection-lost":
            return True
        return self.client is not None and self.client.status in ("connecting", "closing", "closed")

    def close(self) -> None:
        """Cancel the tasks, close the client and the local cluster (if any). Idempotent; a
        Ctrl-C/SIGTERM meanwhile is raised once all is closed (cut, the cluster's worker processes
        would outlive the close and Dask's threads print tracebacks)."""
        client, cluster = self.client, self.cluster
        self.client = self.cluster = None
        with deferred():
            try:
                if self._futures and client is not None:
                    client.cancel(list(self._futures))
            except Exception:
                pass
            self._futures = {}
            try:
                if client is not None:
                    client.close()
            finally:
                if cluster is not None:
                    try:
                        cluster.close()
                    finally:
                        reap_children(self._children_before)
                        _stop_resource_tracker_at_exit()


def reap_children(before: set[int], timeout: float = 5.0) -> None:
    """Wait for the multiprocessing children of this process started since ``before`` (pids: a
    closed local cluster's worker processes, ending), terminating those still there after
    ``timeout`` s: none outlives the run, none is left a zombie."""
    import time

    deadline = time.monotonic() + timeout
    ours = [p for p in multiprocessing.active_children() if p.pid not in before]
    for child in ours:
        child.join(max(0.0, deadline - time.monotonic()))
    for child in ours:
        if child.is_alive():
            child.terminate()
            child.join(1.0)


_tracker_stop_registered = []


def _stop_resource_tracker_at_exit() -> None:
    """At exit, stop multiprocessing's resource tracker (started for the local cluster) and wait
    for it, unless a cluster is still open: by itself it ends just after this process, a zombie
    for a moment (a process left behind, for whoever watches). What it does on stopping (release
    what is still registered) is what it does at exit anyway."""
    if _tracker_stop_registered:
        return
    _tracker_stop_registered.append(True)
    atexit.register(_stop_resource_tracker)


def _stop_resource_tracker() -> None:
    from multiprocessing import resource_tracker

    try:
        from distributed.core import Status
        from distributed.deploy.spec import SpecCluster

        if any(getattr(c, "status", Status.closed) != Status.closed for c in list(SpecCluster._instances)):
            return                           # Dask's own exit hook closes it after this one
    except ImportError:  # pragma: no cover
        pass
    stop = getattr(resource_tracker._resource_tracker, "_stop", None)
    if stop is not None:
        try:
            stop()
        except Exception:
            pass


def _quietly_close(cluster) -> None:
    """Close a cluster whose start was interrupted (its workers may still be starting, which Dask's
    own exit hook reports as a traceback): its worker processes end with this process anyway
    (each watches its parent)."""
    try:
        cluster.close(timeout=5)
    except BaseException:
        pass
    try:
        from distributed.deploy.spec import SpecCluster

        SpecCluster._instances.discard(cluster)
    except Exception:  # pragma: no cover
        pass


def check_scheduler(address: str) -> None:
    """A one-line usage error for a malformed or unreachable TCP address, found with a plain socket
    before any Dask client exists (a client that fails to connect hangs at exit, closing itself)."""
    from distributed.comm import parse_address
    from distributed.comm.addressing import parse_host_port

    try:
        scheme, location = parse_address(address.strip())
        if scheme not in ("tcp", "tls"):
            return                                   # other transports: let Dask connect
        host, port = parse_host_port(location)
    except (ValueError, TypeError) as exc:
        raise UserInputError(f"--scheduler {address!r} is not a Dask address such as tcp://host:8786 ({exc})")
    import asyncio

    from distributed.comm import connect

    async def identity():
        comm = await connect(address.strip(), timeout=CONNECT_TIMEOUT)
        try:
            await comm.write({"op": "identity", "reply": True})
            reply = await comm.read()
        finally:
            comm.abort()
        if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
            raise ValueError("it answers, but not as a Dask scheduler")

    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT).close()
    except OSError as exc:
        raise UserInputError(f"cannot reach the Dask scheduler at {address!r} ({exc.strerror or exc})")
    try:
        asyncio.run(asyncio.wait_for(identity(), CONNECT_TIMEOUT))
    except (asyncio.TimeoutError, TimeoutError):
        raise UserInputError(f"no Dask scheduler answers at {address!r} (no reply within {CONNECT_TIMEOUT} s)")
    except Exception as exc:       # something listens there, but it does not speak Dask's protocol
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserInputError(f"no Dask scheduler answers at {address!r}: something listens there but does "
                             f"not answer as a Dask scheduler ({type(exc).__name__}: {reason[:80]})")


def shut_down(executor) -> None:
    """Close an executor (None: nothing to close) without letting its teardown hide the run's own
    outcome (a second Ctrl-C, a cluster already gone)."""
    if executor is None:
        return
    try:
        executor.close()
    except BaseException:
        pass


def make_executor(jobs: int = 1, scheduler: str | None = None, progress=None, pin_threads: bool = False):
    """``pin_threads``: in process, one BLAS/torch thread per task too (workers always have one)."""
    if scheduler is not None:
        return DaskExecutor(address=scheduler)
    if jobs == 1:
        return InProcess(progress, pin_threads)
    return DaskExecutor(jobs=jobs)
