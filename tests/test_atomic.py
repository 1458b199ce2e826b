"""atomic.py: a write that fails half way leaves the previous file whole, and leaves no temporary behind."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import textwrap

import pytest

from autograd_scalar.atomic import atomic_file, write_atomic


def _only(folder) -> list[str]:
    return sorted(os.listdir(folder))


def test_write_replaces_the_file(tmp_path):
    path = tmp_path / "a.txt"
    write_atomic(path, "one")
    write_atomic(path, "two")
    write_atomic(tmp_path / "b.bin", b"\x00\x01")
    assert path.read_text() == "two"
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert _only(tmp_path) == ["a.txt", "b.bin"]


class _FailingWrites:
    """A file wrapper whose second write raises ``error``: the failure happens half way."""

    def __init__(self, file, error):
        self.file, self.error, self.calls = file, error, 0

    def write(self, data):
        self.calls += 1
        if self.calls == 2:
            raise self.error
        return self.file.write(data)


@pytest.mark.parametrize(
    "error",
    [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt(), OSError(errno.EFBIG, "File too large")],
)
def test_a_failure_half_way_keeps_the_old_file(tmp_path, error):
    path = tmp_path / "model.json"
    path.write_text("the old model\n")
    with pytest.raises(type(error)):
        with atomic_file(path) as file:
            writer = _FailingWrites(file, error)
            writer.write("{" * 1000)
            writer.write("}")
    assert path.read_text() == "the old model\n"
    assert _only(tmp_path) == ["model.json"]


def test_a_real_file_size_limit_keeps_the_old_file(tmp_path):
    """``ulimit -f``: the kernel refuses the write with EFBIG (SIGXFSZ ignored), as a full disk would."""
    path = tmp_path / "model.json"
    path.write_text("the old model\n")
    script = textwrap.dedent(
        f"""
        import resource, signal, sys
        from autograd_scalar.atomic import write_atomic
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        try:
            write_atomic({str(path)!r}, "x" * 100_000)
        except OSError as error:
            print(error.errno)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(errno.EFBIG)
    assert path.read_text() == "the old model\n"
    assert _only(tmp_path) == ["model.json"]


def test_an_unencodable_string_keeps_the_old_file(tmp_path):
    path = tmp_path / "page.html"
    path.write_text("old page")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(path, "new page \ud800")
    assert path.read_text() == "old page"
    assert _only(tmp_path) == ["page.html"]


def test_permissions_follow_the_replaced_file_or_the_umask(tmp_path):
    old = tmp_path / "kept.txt"
    old.write_text("x")
    os.chmod(old, 0o640)
    write_atomic(old, "y")
    assert old.stat().st_mode & 0o777 == 0o640
    umask = os.umask(0o022)
    try:
        write_atomic(tmp_path / "new.txt", "z")
    finally:
        os.umask(umask)
    assert (tmp_path / "new.txt").stat().st_mode & 0o777 == 0o644


def test_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_atomic(tmp_path / "no" / "such" / "x.txt", "x")


def test_bad_mode_is_refused(tmp_path):
    with pytest.raises(ValueError, match="mode"):
        with atomic_file(tmp_path / "x", "a"):
            pass


def test_a_folder_a_device_or_a_pipe_is_refused_and_left_alone(tmp_path):
    """As root, os.replace would swap /dev/null or a pipe for a regular file: refuse anything not a regular file."""
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    (tmp_path / "folder").mkdir()
    with pytest.raises(IsADirectoryError, match="refusing to write over a folder"):
        write_atomic(tmp_path / "folder", "x")
    with pytest.raises(OSError, match="refusing to write over a named pipe"):
        write_atomic(pipe, "x")
    with pytest.raises(OSError, match="refusing to write over a device") as error:
        write_atomic("/dev/null", "x")
    assert error.value.filename == "/dev/null"
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")
    assert stat.S_ISFIFO(os.stat(pipe).st_mode) and _only(tmp_path) == ["folder", "pipe"]


def test_a_symbolic_link_is_written_through_and_kept(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_atomic(link, "new")
    assert link.is_symlink() and real.read_text() == "new" and _only(tmp_path) == ["link.json", "real.json"]
