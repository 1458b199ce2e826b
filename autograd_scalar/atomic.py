"""Writing files so that a failed write never destroys what was there: one helper, used by every writer.

A file is written to a temporary file in the same folder, flushed and ``fsync``-ed, and only then
moved over the target with ``os.replace``, which is atomic on POSIX and Windows. If anything fails
on the way (a full disk, ``EFBIG``, ``KeyboardInterrupt``, an encoding error half way), the
temporary file is removed and the previous file is left exactly as it was.

>>> import os, tempfile
>>> folder = tempfile.mkdtemp()
>>> path = os.path.join(folder, "model.json")
>>> write_atomic(path, "old\\n")
>>> try:
...     write_atomic(path, "new \\ud800")     # a lone surrogate cannot be encoded as UTF-8
... except UnicodeEncodeError:
...     pass
>>> open(path, encoding="utf-8").read(), os.listdir(folder)
('old\\n', ['model.json'])
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Union

PathLike = Union[str, "os.PathLike[str]"]


@contextmanager
def atomic_file(path: PathLike, mode: str = "w") -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing; on success it replaces ``path``.

    ``mode`` is ``"w"`` (text, UTF-8) or ``"wb"``. The new file gets the permissions a plain
    ``open(path, "w")`` would give it (or keeps those of the file it replaces). On any exception the
    temporary file is deleted and ``path`` is untouched.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "x.txt")
    >>> with atomic_file(path) as f:
    ...     _ = f.write("hello")
    >>> open(path).read()
    'hello'
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_file: mode must be 'w' or 'wb', got {mode!r}")
    target = _regular_target(Path(path))
    folder = target.parent
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if mode == "w" else {})) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, _permissions(target))
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise


def write_atomic(path: PathLike, data: str | bytes) -> None:
    """Write ``data`` (``str`` as UTF-8, or ``bytes``) to ``path`` atomically: all of it or nothing."""
    with atomic_file(path, "wb" if isinstance(data, bytes) else "w") as file:
        file.write(data)


def _regular_target(path: Path) -> Path:
    """The file to replace: ``path``, or the file a symbolic link points to (the link is kept).

    Anything that exists and is not a regular file (a folder, a device such as ``/dev/null``, a
    named pipe) is refused: replacing it with a regular file would destroy it.
    """
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return target
    if stat.S_ISREG(mode):
        return target
    error = IsADirectoryError if stat.S_ISDIR(mode) else OSError
    raise error(errno.EISDIR if stat.S_ISDIR(mode) else errno.EINVAL,
                f"refusing to write over {file_kind(mode)}: give the path of a file", str(path))


def file_kind(mode: int) -> str:
    """What a file that is not a regular one is, for messages: ``"a folder"``, ``"a named pipe"``...

    >>> import os
    >>> file_kind(os.stat("/").st_mode), file_kind(os.stat("/dev/null").st_mode)
    ('a folder', 'a device')
    """
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _permissions(target: Path) -> int:
    """The mode the written file gets: the replaced file's, else 0o666 less the umask."""
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
