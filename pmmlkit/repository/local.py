"""Local-filesystem specifics of the repository: links refused, leftovers of killed publishes swept."""
from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator

from ..durable import is_stale, remove_tree
from ..errors import IntegrityError

log = logging.getLogger(__name__)

TMP_PREFIX = ".tmp-"  # a version folder being written
LABELS_TMP = ".tmp-"  # suffix stem of labels.json being replaced: labels.json.tmp-<owner>


def refuse_links(folder: str, files: tuple[str, ...], *, ref: str) -> None:
    """IntegrityError when a version folder (or a file in it) is a symbolic link.

    A link can point outside the repository, at files no publish checked; so a linked
    version is not a version, for every command alike.
    """
    for path in (folder, *(os.path.join(folder, f) for f in files)):
        if os.path.islink(path):
            raise IntegrityError(f"{ref}: {path} is a symbolic link (to {os.readlink(path)}); the repository "
                                 "does not follow links, which could point outside it. Publish the model "
                                 "as a new version instead, and remove the link")


def sweep(model_dir: str, labels_file: str) -> list[str]:
    """Remove temporaries of killed publishes and label updates in ``model_dir``; returns them."""
    removed: list[str] = []
    try:
        entries = list(os.scandir(model_dir))
    except FileNotFoundError:
        return removed
    for entry in entries:
        if entry.name.startswith(TMP_PREFIX) or entry.name.startswith(f"{labels_file}{LABELS_TMP}"):
            if is_stale(entry.path):
                remove_tree(entry.path)
                removed.append(entry.path)
    if removed:
        log.info("removed %d leftover(s) of killed publishes in %s", len(removed), model_dir)
    return removed


@contextlib.contextmanager
def labels_lock(model_dir: str) -> Iterator[None]:
    """An exclusive lock on the labels of the model in ``model_dir`` (flock: released on death)."""
    import fcntl

    with open(f"{model_dir}/.labels.lock", "ab") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
