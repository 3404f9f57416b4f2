"""verify.output: what --json/--html/--figures write into (links, devices, FIFOs, modes) and the
one-line refusals of check_output_paths, made before any work."""
import json
import os
import socket
import stat
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.output import OutputError, check_output_paths, write_bytes, write_or_report, write_text
from verify.report import write_json

ROOT = os.geteuid() == 0


@pytest.fixture
def umask():
    """Set a umask for one test and restore the old one."""
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


def _no_temporaries(directory) -> bool:
    return not [p for p in os.listdir(directory) if p.endswith(".tmp")]


# -- regular files: content, mode, atomicity ---------------------------------------------------
@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_a_new_file_gets_0666_minus_the_umask(tmp_path, umask, mask):
    umask(mask)
    write_json(tmp_path / "new.json", {"a": 1})
    assert stat.S_IMODE(os.stat(tmp_path / "new.json").st_mode) == 0o666 & ~mask


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o664, 0o600])
def test_an_existing_file_keeps_its_mode(tmp_path, umask, mode):
    target = tmp_path / "report.json"
    target.write_text("{}")
    os.chmod(target, mode)
    umask(0o077)                               # a umask that would give 0600 to a new file
    write_json(target, {"a": 1})
    assert stat.S_IMODE(os.stat(target).st_mode) == mode
    assert json.loads(target.read_text()) == {"a": 1}


def test_a_regular_file_is_replaced_atomically(tmp_path):
    """A reader that opened the old file keeps the old content (a rename, not a rewrite)."""
    target = tmp_path / "report.json"
    write_json(target, {"old": True})
    with open(target) as reader:
        write_json(target, {"new": True})
        assert json.loads(reader.read()) == {"old": True}
    assert json.loads(target.read_text()) == {"new": True}
    assert _no_temporaries(tmp_path)


def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "report.json"
    write_json(target, {"old": True})

    def interrupted(fd, data):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_json(target, {"new": True})
    monkeypatch.undo()
    assert json.loads(target.read_text()) == {"old": True}
    assert _no_temporaries(tmp_path)


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=5000), existing=st.booleans())
def test_any_bytes_round_trip(tmp_path_factory, data, existing):
    directory = tmp_path_factory.mktemp("rt")
    target = directory / "sub" / "out.bin"
    if existing:
        target.parent.mkdir()
        target.write_bytes(b"previous content")
    write_bytes(target, data)
    assert target.read_bytes() == data
    assert _no_temporaries(target.parent)


# -- symbolic links, devices, FIFOs ------------------------------------------------------------
def test_a_symlink_is_written_through_and_stays_a_link(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("{}")
    os.chmod(real, 0o644)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_json(link, {"through": True})
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert json.loads(real.read_text()) == {"through": True}
    assert stat.S_IMODE(os.stat(real).st_mode) == 0o644


def test_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "made" / "target.json")
    write_json(link, {"x": 1})
    assert link.is_symlink()
    assert json.loads((tmp_path / "made" / "target.json").read_text()) == {"x": 1}


def test_a_fifo_is_written_into_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(open(fifo, "rb").read()), daemon=True)
    reader.start()
    write_json(fifo, {"via": "fifo"})
    reader.join(timeout=60)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert json.loads(received[0]) == {"via": "fifo"}


def test_dev_null_stays_a_device():
    write_json("/dev/null", {"discarded": True})
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)


@pytest.mark.skipif(not ROOT, reason="making a device node needs root")
def test_a_device_node_stays_a_device(tmp_path):
    """The issue's reproduction: a character device (a copy of /dev/null's node) given as --json."""
    node = tmp_path / "null"
    os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    write_json(node, {"x": 1})
    assert stat.S_ISCHR(os.lstat(node).st_mode)


@pytest.mark.skipif(not ROOT, reason="making a device node needs root")
def test_a_block_device_is_refused(tmp_path):
    node = tmp_path / "disk"
    os.mknod(node, stat.S_IFBLK | 0o600, os.makedev(7, 200))      # never opened
    with pytest.raises(OutputError, match="block device"):
        check_output_paths(json=node)
    with pytest.raises(OutputError, match="neither a regular file"):
        write_json(node, {"x": 1})
    assert stat.S_ISBLK(os.lstat(node).st_mode)


def test_a_socket_is_refused(tmp_path):
    path = tmp_path / "s"
    if len(str(path)) > 100:
        pytest.skip("socket path too long for AF_UNIX")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        with pytest.raises(OutputError, match="socket"):
            check_output_paths(html=path)


# -- check_output_paths: every refusal is one line, nothing is created ---------------------------
@pytest.mark.parametrize("kwargs, fragment", [
    ({"json": "{d}"}, "--json {d} is a directory"),
    ({"json": "{d}/sub/"}, "is a directory"),
    ({"html": "{d}"}, "--html {d} is a directory"),
    ({"figures": "{f}"}, "--figures {f} is a file"),
    ({"json": "{f}/x.json"}, "{f} is not a directory"),
    ({"figures": "{f}/a/b"}, "{f} is not a directory"),
    ({"json": ""}, "--json needs a file name"),
    ({"json": "{d}/same.json", "html": "{d}/same.json"}, "name the same file"),
    ({"json": "{d}/out", "figures": "{d}/out"}, "--json and --figures both name"),
])
def test_check_output_paths_refusals(tmp_path, kwargs, fragment):
    (tmp_path / "sub").mkdir()
    (tmp_path / "file").write_text("x")
    fill = {"d": str(tmp_path), "f": str(tmp_path / "file")}
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(OutputError) as info:
        check_output_paths(**{k: v.format(**fill) for k, v in kwargs.items()})
    message = str(info.value)
    assert fragment.format(**fill) in message and "\n" not in message
    assert sorted(os.listdir(tmp_path)) == before


def test_check_output_paths_accepts_what_can_be_written(tmp_path):
    (tmp_path / "existing.json").write_text("{}")
    link = tmp_path / "link.html"
    link.symlink_to(tmp_path / "not-yet.html")
    check_output_paths(json=tmp_path / "existing.json", html=link, figures=tmp_path / "new" / "figs")
    check_output_paths(json=tmp_path / "a" / "b" / "c.json", figures=tmp_path)
    check_output_paths(json="/dev/null", html="/dev/null")       # a device may take both
    assert sorted(os.listdir(tmp_path)) == ["existing.json", "link.html"]   # nothing created


@pytest.mark.skipif(ROOT, reason="root writes into read-only directories")
def test_unwritable_directory_and_file(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "ro.json").write_text("{}")
    os.chmod(locked / "ro.json", 0o444)
    os.chmod(locked, 0o555)
    try:
        with pytest.raises(OutputError, match="not writable"):
            check_output_paths(json=locked / "new.json")
        with pytest.raises(OutputError, match="not writable"):
            check_output_paths(figures=locked / "figs")
        with pytest.raises(OutputError, match="not writable"):
            check_output_paths(json=locked / "ro.json")
    finally:
        os.chmod(locked, 0o755)


@pytest.mark.skipif(ROOT, reason="root writes into read-only directories")
def test_a_writable_file_in_a_read_only_directory_is_rewritten_in_place(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "rw.json").write_text("{}")
    os.chmod(locked, 0o555)
    try:
        write_json(locked / "rw.json", {"x": 1})
        assert json.loads((locked / "rw.json").read_text()) == {"x": 1}
    finally:
        os.chmod(locked, 0o755)


# -- write_or_report ---------------------------------------------------------------------------
def test_write_or_report_says_in_one_line_what_was_not_written(tmp_path, capsys):
    blocker = tmp_path / "gone"
    blocker.write_text("a file where a directory is needed")
    assert write_or_report(blocker / "r.json", {"a": 1}) is False
    assert write_or_report(blocker / "r.html", lambda p: write_text(p, "", "--html"),
                           option="--html") is False
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "Traceback" not in err
    assert f"--json {blocker / 'r.json'} could not be written: {blocker} is not a directory" in err
    assert "not written" in err and "--html" in err
    assert write_or_report(tmp_path / "ok.json", {"a": 1}) is True
    assert write_or_report(None, {"a": 1}) is True
    assert json.loads((tmp_path / "ok.json").read_text()) == {"a": 1}


def test_the_optimizer_report_writes_through_the_same_writer(tmp_path, capsys):
    """verify optimizer's end: --json through a link, --html into /dev/null; a path that fails at
    the end is one line per output after the verdict."""
    from types import SimpleNamespace

    from verify.optimizer_report import Report

    report = Report("missing.py:make", "quick", 0, None)
    report.fail("missing.py: no such file")
    real = tmp_path / "real.json"
    (tmp_path / "link.json").symlink_to(real)
    report.finish(SimpleNamespace(json=str(tmp_path / "link.json"), html="/dev/null", figures=None), 0.0)
    assert (tmp_path / "link.json").is_symlink() and json.loads(real.read_text())["result"]["status"] == "error"
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)
    (tmp_path / "file").write_text("")
    capsys.readouterr()
    report.finish(SimpleNamespace(json=str(tmp_path / "file" / "r.json"),
                                  html=str(tmp_path / "file" / "r.html"), figures=None), 0.0)
    captured = capsys.readouterr()
    assert captured.out.startswith("verdict: error")
    assert captured.err.count("\n") == 2 and "--json" in captured.err and "--html" in captured.err
    assert "Traceback" not in captured.err


_PRINT_AROUND = ("import sys; print('before'); from verify.report import write_json; "
                 "write_json(sys.argv[1], {'a': 1}); print('after')")


@pytest.mark.parametrize("name", ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"])
def test_dev_stdout_is_the_process_own_stdout(tmp_path, name):
    """Into a pipe, and into a file the shell redirected stdout to (the same file, after what was
    printed: neither replaced by a new file nor rewritten from its start)."""
    import subprocess
    import sys

    piped = subprocess.run([sys.executable, "-c", _PRINT_AROUND, name], capture_output=True, text=True)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == 'before\n{\n "a": 1\n}\nafter\n'
    target = tmp_path / "out.txt"
    with open(target, "w") as f:
        inode = os.fstat(f.fileno()).st_ino
        subprocess.run([sys.executable, "-c", _PRINT_AROUND, name], stdout=f, check=True)
    assert os.stat(target).st_ino == inode
    assert target.read_text() == 'before\n{\n "a": 1\n}\nafter\n'


def test_a_descriptor_that_is_not_open_for_writing_is_refused():
    read_end, write_end = os.pipe()
    try:
        with pytest.raises(OutputError, match="open for reading only"):
            check_output_paths(json=f"/dev/fd/{read_end}")
        with pytest.raises(OutputError, match="open for reading only"):
            write_json(f"/proc/self/fd/{read_end}", {})
    finally:
        os.close(read_end)
        os.close(write_end)
    with pytest.raises(OutputError, match="is not open"):
        check_output_paths(json=f"/dev/fd/{read_end}")


def test_replaceable_tells_files_from_streams(tmp_path):
    from verify.output import replaceable

    (tmp_path / "f.json").write_text("{}")
    (tmp_path / "link").symlink_to(tmp_path / "f.json")
    os.mkfifo(tmp_path / "pipe")
    assert replaceable(tmp_path / "f.json") and replaceable(tmp_path / "link")
    assert replaceable(tmp_path / "new.json")
    assert not replaceable(tmp_path / "pipe") and not replaceable("/dev/null")
    assert not replaceable("/dev/stdout") and not replaceable("/dev/fd/2")


_NAMES = st.sampled_from(["a", "b", "c"])


@settings(max_examples=60, deadline=None)
@given(layout=st.dictionaries(_NAMES, st.sampled_from(["file", "dir", "link-file", "link-dir",
                                                       "link-missing", "link-self"]), max_size=3),
       inner=st.dictionaries(_NAMES, st.sampled_from(["file", "dir"]), max_size=2),
       parts=st.lists(_NAMES, min_size=1, max_size=3), slash=st.booleans(),
       option=st.sampled_from(["json", "figures"]))
def test_the_check_agrees_with_the_writer(tmp_path_factory, layout, inner, parts, slash, option):
    """Over small trees of files, directories and links (dangling, looping): a path the check
    accepts is written (--json: the report; --figures: a figure in the directory, as
    verify.figures.render writes it), a path it refuses is refused by the writer too — never
    another exception."""
    root = tmp_path_factory.mktemp("tree")
    (root / "target-dir").mkdir()
    for name, kind in inner.items():
        (root / "target-dir" / name).mkdir() if kind == "dir" else (root / "target-dir" / name).write_text("x")
    (root / "target-file").write_text("x")
    for name, kind in layout.items():
        path = root / name
        if kind == "file":
            path.write_text("old")
        elif kind == "dir":
            path.mkdir()
        else:
            path.symlink_to({"link-file": root / "target-file", "link-dir": root / "target-dir",
                             "link-missing": root / "nowhere" / "x", "link-self": path}[kind])
    path = str(root.joinpath(*parts)) + ("/" if slash else "")
    if option == "json":
        def write():
            write_json(path, {"a": 1})
            assert json.loads(open(path).read()) == {"a": 1}
    else:
        def write():
            write_bytes(os.path.join(path, "fig.png"), b"png", "--figures")
            assert open(os.path.join(path, "fig.png"), "rb").read() == b"png"
    try:
        check_output_paths(**{option: path})
    except OutputError:
        with pytest.raises(OutputError):
            write()
    else:
        write()
