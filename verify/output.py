"""Writing reports: every ``--json``, ``--html`` and ``--figures`` file goes through this module.

A path names one of three kinds of target, and each is written the way a shell redirection would
leave it, except that a regular file is never seen half-written:

* a regular file (or nothing yet): the bytes go to a temporary file in the same directory, which is
  then renamed over the target. An existing file keeps its permission bits (and, when the process
  may, its owner and group); a new file gets ``0666 & ~umask`` (the kernel applies the umask, as for
  any file created with mode 0666). When the directory does not allow the temporary file but the
  file itself is writable, the file is rewritten in place instead.
* a symbolic link: written through, to the file the link resolves to (a dangling link creates its
  target); the link itself stays a link.
* a character device or a FIFO (``/dev/null``, a terminal, a named pipe): opened and written
  directly, never replaced. Block devices, sockets and directories are refused in one line.
* one of the process's own open files (``/dev/stdout``, ``/dev/stderr``, ``/dev/fd/N``,
  ``/proc/self/fd/N``): written to that file descriptor, after what the process has printed there,
  whatever it is connected to (a terminal, a pipe, a file the shell redirected it to).

:func:`check_output_paths` checks the same conditions before a command starts computing, so a path
that cannot be written is a usage error (exit 2) rather than a traceback after the work is done;
:func:`write_or_report` is for the end of a command: when writing still fails (the disk filled, the
directory was removed meanwhile), it says in one line what was not written.
"""
from __future__ import annotations

import fcntl
import os
import re
import secrets
import stat
import sys
from pathlib import Path

from theory.errors import UserInputError


class OutputError(UserInputError):
    """An output path that cannot be written (the message is one line)."""


_OWN_FD = re.compile(r"/(?:proc/(?:self|(\d+))|dev)/fd/(\d+)")


def _own_fd(path: str) -> int | None:
    """The descriptor N when ``path`` (or a symbolic link it goes through) is /dev/fd/N or
    /proc/self/fd/N of this process (/dev/stdout is a link to /proc/self/fd/1)."""
    probe = os.path.abspath(path)
    for _ in range(40):                                  # a bound on chains of links
        match = _OWN_FD.fullmatch(probe)
        if match and (match[1] is None or int(match[1]) == os.getpid()):
            return int(match[2])
        if not os.path.islink(probe):
            return None
        probe = os.path.normpath(os.path.join(os.path.dirname(probe), os.readlink(probe)))
    return None


def _check_own_fd(fd: int, option: str, shown: str) -> None:
    try:
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    except OSError:
        raise OutputError(f"{option} {shown}: file descriptor {fd} is not open") from None
    if flags & os.O_ACCMODE == os.O_RDONLY:
        raise OutputError(f"{option} {shown}: file descriptor {fd} is open for reading only")


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _nearest_existing(path: Path) -> Path:
    """``path`` itself or its closest ancestor that exists (following symbolic links)."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe


def _check_creatable_in(parent: Path, option: str, shown: str) -> None:
    """The directory ``parent`` exists and is writable, or can be created."""
    base = _nearest_existing(parent)
    if not base.is_dir():
        raise OutputError(f"{option} {shown}: {base} is not a directory")
    if not os.access(base, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {shown}: directory {base} is not writable")


def _check_file_target(path: str, option: str) -> None:
    if path == "":
        raise OutputError(f"{option} needs a file name, got an empty string")
    fd = _own_fd(path)
    if fd is not None:
        _check_own_fd(fd, option, path)
        return
    target = Path(os.path.realpath(path))
    if path.endswith(os.sep) or target.is_dir():
        raise OutputError(f"{option} {path} is a directory; name a file")
    try:
        st = os.stat(target)
    except (FileNotFoundError, NotADirectoryError):
        _check_creatable_in(target.parent, option, path)
        return
    except OSError as exc:
        raise OutputError(f"{option} {path}: {_reason(exc)}") from None
    mode = st.st_mode
    if stat.S_ISBLK(mode) or stat.S_ISSOCK(mode):
        kind = "a block device" if stat.S_ISBLK(mode) else "a socket"
        raise OutputError(f"{option} {path} is {kind}; name a file, a character device or a FIFO")
    if not os.access(target, os.W_OK):
        raise OutputError(f"{option} {path} is not writable")


def _check_directory_target(path: str, option: str) -> None:
    if path == "":
        raise OutputError(f"{option} needs a directory name, got an empty string")
    target = Path(os.path.realpath(path))
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        _check_creatable_in(target, option, path)
        return
    except OSError as exc:                               # e.g. a loop of symbolic links
        raise OutputError(f"{option} {path}: {_reason(exc)}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{option} {path} is a file; name a directory (it is created if missing)")
    if not os.access(target, os.W_OK | os.X_OK):
        raise OutputError(f"{option} {path}: directory is not writable")


def check_output_paths(json: str | os.PathLike | None = None, html: str | os.PathLike | None = None,
                       figures: str | os.PathLike | None = None) -> None:
    """Raise :class:`OutputError` (one line) unless every given output path can be written: ``json``
    and ``html`` name files (a regular file, a link to one, a character device or a FIFO; missing
    parent directories must be creatable), ``figures`` names a directory (created if missing).
    Nothing is created. Call it before any computation."""
    files = [(os.fspath(p), opt) for p, opt in ((json, "--json"), (html, "--html")) if p is not None]
    for path, option in files:
        _check_file_target(path, option)
    if len(files) == 2 and os.path.realpath(files[0][0]) == os.path.realpath(files[1][0]):
        target = os.path.realpath(files[0][0])
        try:
            special = not stat.S_ISREG(os.stat(target).st_mode)
        except OSError:
            special = False
        if not special:
            raise OutputError(f"--json and --html name the same file {files[0][0]}")
    if figures is not None:
        _check_directory_target(os.fspath(figures), "--figures")
        for path, option in files:
            if os.path.realpath(path) == os.path.realpath(os.fspath(figures)):
                raise OutputError(f"{option} and --figures both name {path} (a file and a directory)")


def replaceable(path: str | os.PathLike) -> bool:
    """Whether writing ``path`` again replaces what was written before (a regular file, or nothing
    yet). A report rewritten as a run goes on (partial JSON after every claim) should be written
    to any other target (a pipe, /dev/stdout, a device) once, at the end: each write there adds."""
    shown = os.fspath(path)
    if _own_fd(shown) is not None:
        return False
    try:
        return stat.S_ISREG(os.stat(os.path.realpath(shown)).st_mode)
    except OSError:
        return True


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _write_in_place(target: Path, data: bytes, flags: int) -> None:
    fd = os.open(target, flags | os.O_WRONLY | os.O_NOCTTY)
    try:
        _write_all(fd, data)
    finally:
        os.close(fd)


def _replace_atomically(target: Path, data: bytes, existing: os.stat_result | None) -> None:
    """Temporary file next to ``target``, then rename over it (the caller handles PermissionError)."""
    tmp = target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp"
    # New file: mode 0666 and the kernel applies the umask; an existing file's bits are copied below.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOCTTY,
                 0o600 if existing is not None else 0o666)
    try:
        try:
            if existing is not None:
                if (existing.st_uid, existing.st_gid) != (os.geteuid(), os.getegid()):
                    try:
                        os.fchown(fd, existing.st_uid, existing.st_gid)
                    except OSError:
                        pass                                   # not permitted: keep ours
                os.fchmod(fd, stat.S_IMODE(existing.st_mode))
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_bytes(path: str | os.PathLike, data: bytes, option: str = "output") -> None:
    """Write ``data`` to ``path`` as described in the module docstring; :class:`OutputError` (one
    line, naming ``option``) when it cannot."""
    shown = os.fspath(path)
    fd = _own_fd(shown)
    if fd is not None:
        _check_own_fd(fd, option, shown)
        for stream in (sys.stdout, sys.stderr):      # what was printed comes first
            try:
                stream.flush()
            except (OSError, ValueError, AttributeError):
                pass
        try:
            _write_all(fd, data)
        except OSError as exc:
            raise OutputError(f"{option} {shown} could not be written: {_reason(exc)}") from None
        return
    if shown == "" or shown.endswith(os.sep):
        raise OutputError(f"{option} {shown!r} names a directory, not a file")
    target = Path(os.path.realpath(shown))           # through symbolic links, to their target
    try:
        try:
            st = os.stat(target)
        except (FileNotFoundError, NotADirectoryError):
            st = None
        if st is not None and stat.S_ISDIR(st.st_mode):
            raise OutputError(f"{option} {shown} is a directory; name a file")
        if st is not None and (stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode)):
            _write_in_place(target, data, os.O_TRUNC if stat.S_ISCHR(st.st_mode) else 0)
            return
        if st is not None and not stat.S_ISREG(st.st_mode):
            raise OutputError(f"{option} {shown} is neither a regular file, a character device nor "
                              f"a FIFO; refusing to replace it")
        if st is not None and not os.access(target, os.W_OK):
            raise OutputError(f"{option} {shown} is not writable")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise OutputError(f"{option} {shown} could not be written: "
                              f"{_nearest_existing(target.parent)} is not a directory") from None
        try:
            _replace_atomically(target, data, st)
        except PermissionError:
            if st is None:
                raise
            _write_in_place(target, data, os.O_TRUNC)   # a writable file in a read-only directory
    except OutputError:
        raise
    except OSError as exc:
        raise OutputError(f"{option} {shown} could not be written: {_reason(exc)}") from None


def write_text(path: str | os.PathLike, text: str, option: str = "output") -> None:
    """:func:`write_bytes` of ``text`` in UTF-8."""
    write_bytes(path, text.encode("utf-8"), option)


def write_or_report(path: str | os.PathLike | None, payload, stream=None, option: str = "--json") -> bool:
    """Write ``payload`` to ``path`` at the end of a command whose results were already printed.

    ``payload``: a dict (written as the JSON report, :func:`verify.report.write_json`), a str, bytes,
    or a callable taking the path (e.g. ``lambda p: write_html(p, ...)``). Returns True when written
    (or ``path`` is None); when writing fails, prints one line to ``stream`` (default stderr) saying
    what was not written and why, and returns False."""
    if path is None:
        return True
    stream = sys.stderr if stream is None else stream
    try:
        if callable(payload):
            payload(path)
        elif isinstance(payload, dict):
            from verify.report import write_json

            write_json(path, payload)
        elif isinstance(payload, str):
            write_text(path, payload, option)
        else:
            write_bytes(path, bytes(payload), option)
    except (OutputError, OSError) as exc:
        text = str(exc) if isinstance(exc, OutputError) else f"{option} {os.fspath(path)}: {_reason(exc)}"
        print(f"error: {text} (not written; the results were printed above)", file=stream, flush=True)
        return False
    return True
