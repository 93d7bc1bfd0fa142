"""Durable local writes: file contents and the renames that publish them survive a crash."""
from __future__ import annotations

import os


def write_synced(path: str, data: bytes, *, exclusive: bool = False) -> None:
    """Write ``data`` and fsync it; ``exclusive`` refuses an existing file."""
    with open(path, "xb" if exclusive else "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def fsync_dir(path: str) -> None:
    """Make a rename in ``path`` durable, not only the file it moved."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
