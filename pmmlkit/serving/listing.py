"""One poll's view of the repository, gathered before anything is loaded or unloaded.

A listing is trusted only when it *succeeded*: the root was there (and not empty)
both before and after the models were listed, and no read failed. The manager
unloads a version only on a trusted listing that no longer shows it, so a root
that is moved away for a moment (unmount, NFS hiccup, redeploy) changes nothing.

One corrupt entry affects only itself: a version whose manifest cannot be read
is a ``problem`` of that version, and a broken labels.json is a ``label_error``
of that model; the other versions and models are listed as usual.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import fsspec

from ..errors import PmmlkitError
from ..repository import Repository, Version


@dataclass(frozen=True)
class ModelListing:
    """The published versions of one model, as one successful listing saw them."""

    versions: dict[int, Version] = field(default_factory=dict)
    problems: dict[int, str] = field(default_factory=dict)  # number -> why its entry is unreadable
    labels: dict[str, int] | None = None  # None: labels.json is unreadable (label_error says why)
    label_error: str = ""


@dataclass(frozen=True)
class RepositoryListing:
    """Every listed model, the models whose listing failed, or why the whole listing failed."""

    models: dict[str, ModelListing] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # model -> why; nothing changes for it
    error: str = ""  # non-empty: nothing may change anywhere on this listing

    @property
    def ok(self) -> bool:
        return not self.error


def _describe(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}"


def probe_root(repository: Repository) -> str:
    """Why the repository root cannot be trusted now ('' when it can).

    A root that is missing, unreadable or empty is an outage, not a repository with
    no models: a repository that ever held a model keeps its model folders (a delete
    leaves a tombstone), and an unmounted mount point is an empty folder.
    """
    try:
        fs, path = fsspec.core.url_to_fs(repository.root)
        fs.invalidate_cache(path)
        entries = fs.ls(path, detail=False)
    except FileNotFoundError:
        return f"the repository root {repository.root} is missing"
    except Exception as e:  # noqa: BLE001 - any failure to look is an outage, reported as such
        return f"cannot list the repository root {repository.root}: {_describe(e)}"
    if not entries:
        return f"the repository root {repository.root} is empty (unmounted?)"
    return ""


def list_model(repository: Repository, name: str) -> ModelListing:
    """The versions, per-version problems and labels of ``name``; raises when the listing fails."""
    scan = repository.scan_versions(name)  # good versions and the unreadable ones; raises when listing fails
    versions = {v.number: v for v in scan.versions}
    problems = {p.number: p.error for p in scan.problems}
    try:
        labels: dict[str, int] | None = repository.labels(name)
        label_error = ""
    except (OSError, PmmlkitError) as e:
        labels, label_error = None, _describe(e)
    return ModelListing(versions, problems, labels, label_error)


def list_repository(repository: Repository, *, names: list[str] | None,
                    also: Sequence[str] = ()) -> RepositoryListing:
    """List ``names`` (default: every model in the repository) and the models in ``also``."""
    error = probe_root(repository)
    if error:
        return RepositoryListing(error=error)
    try:
        listed = names if names is not None else repository.models()
    except Exception as e:  # noqa: BLE001 - a failed listing changes nothing
        return RepositoryListing(error=f"cannot list the models in {repository.root}: {_describe(e)}")
    models: dict[str, ModelListing] = {}
    failed: dict[str, str] = {}
    for name in sorted(set(listed) | set(also)):
        try:
            models[name] = list_model(repository, name)
        except Exception as e:  # noqa: BLE001 - this model's listing failed: nothing changes for it
            failed[name] = f"cannot list the versions of {name!r}: {_describe(e)}"
    # The root may have gone while we listed: a model that looked empty may just be unreachable.
    error = probe_root(repository)
    if error:
        return RepositoryListing(error=error)
    return RepositoryListing(models, failed)
