"""Durable local writes: file contents and the renames that publish them survive a crash.

Temporary names carry their owner (``<host>~<pid>~<random>``) so that a later run can
tell the leftovers of a killed writer from the work of a live one, and sweep them.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import stat
import time
import uuid

# A temporary older than this is swept even when its owner cannot be checked (another host).
STALE_SECONDS = 30 * 60
_OWNER = re.compile(r"(?P<host>[A-Za-z0-9_]+)~(?P<pid>[0-9]+)~[0-9a-f]+")


def write_synced(path: str, data: bytes, *, exclusive: bool = False) -> None:
    """Write ``data`` and fsync it; ``exclusive`` refuses an existing file."""
    with open(path, "xb" if exclusive else "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def replace_synced(path: str, data: bytes, *, tmp: str) -> None:
    """Replace ``path`` by ``data`` atomically and durably, through the temporary file ``tmp``."""
    try:
        write_synced(tmp, data, exclusive=True)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
    fsync_dir(os.path.dirname(os.path.abspath(path)))


def fsync_dir(path: str) -> None:
    """Make a rename in ``path`` durable, not only the file it moved."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def current_umask() -> int:
    """The process umask, read without changing it (os.umask would, for every thread)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0o022)  # no /proc (macOS): set and restore at once
    os.umask(mask)
    return mask


def follow_umask(fd_or_path: int | str) -> None:
    """Give a file made by tempfile.mkstemp (always 0600) the mode a plain open() would."""
    mode = 0o666 & ~current_umask()
    if isinstance(fd_or_path, int):
        os.fchmod(fd_or_path, mode)
    else:
        os.chmod(fd_or_path, mode)


def owner_tag() -> str:
    """``host~pid~random``: unique, and tells a sweeper whose temporary it is."""
    return f"{host_tag()}~{os.getpid()}~{uuid.uuid4().hex[:16]}"


def host_tag() -> str:
    """This host's name as it appears in temporary names (only [A-Za-z0-9_]: '.' and '-' delimit it)."""
    return re.sub(r"[^A-Za-z0-9]", "_", socket.gethostname())[:64] or "host"


def is_stale(path: str, *, max_age: float = STALE_SECONDS) -> bool:
    """True when the temporary at ``path`` belongs to no live writer.

    Its owner (from the name) is a dead process on this host, or it has not been
    touched for ``max_age`` seconds (owner on another host, or a name without owner).
    """
    match = _OWNER.search(os.path.basename(path))
    if match and match["host"] == host_tag():
        if not _alive(int(match["pid"])):
            return True
    try:
        newest = _newest_mtime(path)
    except FileNotFoundError:  # its owner finished (or another sweeper won) meanwhile
        return False
    return time.time() - newest > max_age


def remove_tree(path: str) -> None:
    """Remove a file or folder; already gone is fine."""
    with contextlib.suppress(FileNotFoundError):
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _newest_mtime(path: str) -> float:
    # A writer updates the files inside a folder, not always the folder itself.
    info = os.lstat(path)
    newest = info.st_mtime
    if stat.S_ISDIR(info.st_mode):
        for entry in os.scandir(path):
            with contextlib.suppress(FileNotFoundError):
                newest = max(newest, entry.stat(follow_symlinks=False).st_mtime)
    return newest
