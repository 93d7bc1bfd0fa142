"""Versioned models on shared storage (any fsspec root: path, file://, s3://, gs://...).

Layout::

    ROOT/<name>/<n>/model.pmml      n = 1, 2, 3 ...; a number is never reused
    ROOT/<name>/<n>/manifest.json   written last: its presence is what publishes n
    ROOT/<name>/labels.json         {"stable": 3}, replaced atomically

Readers see only ``<n>`` folders that hold ``manifest.json``; they ignore folders
without one and dot-folders (``.tmp-*``), and refuse ``<n>`` entries that are links.

Publish protocol:

* Local filesystem: model.pmml, then manifest.json, are written and fsynced into
  ``ROOT/<name>/.tmp-<host>~<pid>~<random>/``; that folder is then renamed to ``ROOT/<name>/<n>``.
  The rename is the claim. rename(2) of a directory fails (EEXIST/ENOTEMPTY) when
  the target is a non-empty directory, and a version folder is never empty: it is
  only created, full, by this rename, and ``delete`` leaves a ``.deleted`` tombstone
  in it. So of two racing publishers (threads or processes) exactly one gets n; the
  other lists again and retries with the next free number. (A rename onto an empty
  directory would succeed, but such a folder holds nothing to lose.) A reader sees
  no folder or a complete one, never half a version.
* Other filesystems (object stores have no rename): n is claimed by an exclusive
  create of ``<n>/.claim`` (``open(mode="xb")``; S3 does it with If-None-Match),
  then model.pmml is written, then manifest.json last; one PUT is atomic.

On S3, labels.json is rewritten with a conditional PUT (If-Match its ETag, or
If-None-Match when new), retried on 412: concurrent label updates are never lost.
A delete racing a label update never leaves the label on a deleted version: the
delete marks the version first and the label update checks for the mark after
writing (locally both hold a lock).
An S3-compatible server (MinIO, moto...) is chosen with the standard settings:
``AWS_ENDPOINT_URL`` (botocore) or ``FSSPEC_S3_ENDPOINT_URL`` (fsspec config).

A publisher killed halfway leaves a ``.tmp-*`` folder or a claimed number without
manifest: invisible to readers; the number is burnt. Deleted numbers are not reused
either, so ``name:n`` always means the same bytes (caches rely on it). Locally the
next publish of that model sweeps such folders (their owner process is dead, or they
are untouched for 30 minutes). An OSError while publishing (disk full...) is a
RepositoryError saying that nothing was published.

One corrupt entry affects only itself: ``scan_versions`` lists a version whose
manifest.json is unreadable, or whose folder is a symbolic link (refused everywhere:
it could point outside the repository), as a problem beside the good versions. A
corrupt labels.json fails ``labels()`` and ``@label`` references, but not listing,
``delete`` (with a warning) or ``set_label``, which keeps the bad file as
``labels.json.corrupt-<time>`` and writes a fresh one (with a warning).
"""
from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import shutil
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from ..durable import fsync_dir, owner_tag, replace_synced, write_synced
from ..errors import IntegrityError, InvalidModelName, ModelNotFoundError, RepositoryError, RepositoryNotFound
from . import artifacts
from .local import LABELS_TMP, TMP_PREFIX, labels_lock, refuse_links, sweep
from .manifest import Manifest, utc_now
from .objectstore import is_s3, update_labels_s3
from .version import _NAME, _NUMBER, VersionProblem, VersionScan
from .version import Version as Version
from .version import check_name as check_name  # re-exported: callers check names through the store

log = logging.getLogger(__name__)

MODEL, MANIFEST, LABELS = "model.pmml", "manifest.json", "labels.json"
_TOMBSTONE, _CLAIM = ".deleted", ".claim"
_REF = re.compile(r"^(?P<name>[^:@]*)(?::(?P<number>[0-9]+)|@(?P<label>[^:@]*))?$")
_MAX_CLAIMS = 1000


def open_repository(repo: Repository | str | None, *, must_exist: bool = False,
                    create: bool = False) -> Repository:
    """``repo`` itself when it is a Repository, else the Repository at that root (default ./models).

    ``must_exist``: a root that does not exist (a typo, a missing bucket) is a RepositoryNotFound
    instead of an empty repository; ``create`` makes the root instead (where that means anything:
    a local folder; an object store needs only its bucket).
    """
    repository = repo if isinstance(repo, Repository) else Repository(repo)
    if create:
        repository.create_root()
    elif must_exist:
        repository.require_root()
    return repository


def parse_ref(ref: str) -> tuple[str, int | None, str | None]:
    """``name`` / ``name:3`` / ``name@stable`` -> (name, number or None, label or None), checked."""
    match = _REF.match(ref) if isinstance(ref, str) else None
    if not match:
        raise InvalidModelName(f"invalid model reference {ref!r}: expected NAME, NAME:VERSION or NAME@LABEL")
    label = match["label"]
    return (check_name(match["name"]), None if match["number"] is None else int(match["number"]),
            None if label is None else check_name(label, kind="label"))


class Repository:
    """Publish, resolve and list model versions under one root."""

    def __init__(self, root: str | None = None):
        root = root or os.environ.get("PMMLKIT_REPO") or "./models"
        self._fs, path = fsspec.core.url_to_fs(root)
        self._local = isinstance(self._fs, LocalFileSystem)
        self._base = path.rstrip("/") or "/"
        self.root: str = self._base if self._local else self._fs.unstrip_protocol(self._base)

    def require_root(self) -> None:
        """Raise RepositoryNotFound when the root folder (locally) or the bucket (object stores) is missing."""
        where = self._base if self._local else self._base.split("/", 1)[0]
        try:
            found = self._fs.isdir(where) if self._local else self._fs.exists(where)
        except OSError as e:  # permissions, network: the repository cannot be read at all
            raise RepositoryError(f"cannot read the model repository {self.root}: {e}") from e
        if found:
            return
        what = "no such folder" if self._local else f"bucket {where!r} does not exist"
        raise RepositoryNotFound(f"model repository {self.root} not found ({what}); check --repo or "
                                 "PMMLKIT_REPO for a typo (pmmlkit train creates a repository when it "
                                 "first publishes)")

    def create_root(self) -> None:
        """Make the root folder (locally); on object stores the bucket must exist already."""
        if self._local:
            os.makedirs(self._base, exist_ok=True)
        else:
            self.require_root()

    # --- reading ----------------------------------------------------------

    def models(self) -> list[str]:
        """Names with at least one published version, sorted."""
        self._fs.invalidate_cache(self._base)  # object-store listings are cached
        names = set()
        for path in self._fs.glob(f"{self._base}/*/*/{MANIFEST}"):
            name, number = path.rstrip("/").split("/")[-3:-1]
            if _NAME.match(name) and ".." not in name and _NUMBER.match(number):
                names.add(name)
        return sorted(names)

    def versions(self, name: str) -> list[Version]:
        """Readable published versions of ``name``, ascending; [] when there are none.

        Unreadable ones are left out with a logged warning; ``scan_versions`` returns them.
        """
        scan = self.scan_versions(name)
        for problem in scan.problems:
            log.warning("%s is left out: %s", problem.ref, problem.error)
        return scan.versions

    def scan_versions(self, name: str) -> VersionScan:
        """Every published version of ``name``: the readable ones, and a problem for each other one.

        One unreadable entry affects only itself. A version whose manifest.json is not a valid
        manifest, or whose folder is a symbolic link, is a ``VersionProblem`` (``number`` and
        ``error``, naming the file and why) and the other versions are listed as usual. A
        version deleted since the folder listing is left out. Any other failure to read (I/O,
        network) raises: the listing as a whole failed, and a caller should change nothing.
        """
        numbers, linked = self._entries(name)
        problems = {n: VersionProblem(name, n, self._link_error(name, n)) for n in linked}
        if self._local:  # a linked manifest.json or model.pmml in a real folder is refused too
            for n in numbers:
                if error := self._link_error(name, n):
                    problems[n] = VersionProblem(name, n, error)
            numbers = [n for n in numbers if n not in problems]
        paths = [self._path(name, n, MANIFEST) for n in numbers]
        # One batched call: concurrent on object stores.
        raw = self._fs.cat(paths, on_error="return") if paths else {}
        versions = []
        for number, path in zip(numbers, paths):
            got = raw.get(path, FileNotFoundError(path))
            if isinstance(got, FileNotFoundError):
                continue
            if isinstance(got, BaseException):
                raise RepositoryError(f"cannot read {self._uri(path)}: {got}") from got
            try:
                versions.append(self._version(name, number, got))
            except IntegrityError as e:
                problems[number] = VersionProblem(name, number, str(e))
        return VersionScan(versions, [problems[n] for n in sorted(problems)])

    def latest(self, name: str) -> Version:
        numbers = self._published(name)
        if not numbers:
            raise ModelNotFoundError(self._missing(name, ""))
        return self._load(name, numbers[-1])

    def resolve(self, ref: str) -> Version:
        """``name`` (latest), ``name:3`` or ``name@stable`` -> Version."""
        name, number, label = parse_ref(ref)
        if number is not None:
            return self._load(name, number)
        if label is not None:
            labels = self.labels(name)
            if label not in labels:
                raise ModelNotFoundError(f"model {name!r} has no label {label!r}; labels: {labels}")
            return self._load(name, labels[label])
        return self.latest(name)

    def read_pmml(self, version: Version) -> bytes:
        """The model bytes, checked against the manifest's size and sha256."""
        m = version.manifest
        return self._read_checked(version, MODEL, {"size": m.size, "sha256": m.sha256})

    def read_file(self, version: Version, file: str) -> bytes:
        """A file published with ``version`` (see publish's ``files``), checked against the manifest."""
        expected = version.manifest.files.get(file)
        if not isinstance(expected, dict):
            raise ModelNotFoundError(f"{version.ref} was published without a file {file!r}; "
                                     f"its files: {sorted(version.manifest.files)}")
        if self._local:
            refuse_links(self._path(version.name, version.number), (file,), ref=version.ref)
        return self._read_checked(version, file, expected)

    def _read_checked(self, version: Version, file: str, expected: dict[str, Any]) -> bytes:
        """``file`` of ``version``: its bytes when they have the size and sha256 the manifest recorded."""
        path = self._path(version.name, version.number, file)
        try:
            data: bytes = self._fs.cat_file(path)
        except FileNotFoundError:
            raise ModelNotFoundError(f"{version.ref}: {self._uri(path)} is gone (deleted?)") from None
        return artifacts.verify(version.ref, self._uri(path), data, expected)

    def labels(self, name: str) -> dict[str, int]:
        """Label -> version number; IntegrityError when labels.json is not valid."""
        path = f"{self._dir(name)}/{LABELS}"
        try:
            raw = self._fs.cat_file(path)
        except FileNotFoundError:
            return {}
        return self._parse_labels(raw, path)

    def _parse_labels(self, raw: bytes, path: str) -> dict[str, int]:
        try:
            labels = json.loads(raw)
            if not isinstance(labels, dict) or not all(
                    isinstance(v, int) and not isinstance(v, bool) for v in labels.values()):
                raise ValueError("expected an object of label -> version number")
        except ValueError as e:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise IntegrityError(f"{self._uri(path)} is not a valid labels file: {e}") from None
        return labels

    def _salvaged_labels(self, raw: bytes, path: str) -> dict[str, int]:
        """The labels in ``raw``; a corrupt file is kept aside and replaced by no labels, with a warning."""
        try:
            return self._parse_labels(raw, path)
        except IntegrityError as e:
            backup = f"{path}.corrupt-{utc_now().replace(':', '')}"
            self._fs.pipe_file(backup, raw)
            log.warning("%s; kept as %s and started afresh (other labels must be set again)",
                        e, self._uri(backup))
            return {}

    # --- writing ----------------------------------------------------------

    def publish(self, name: str, pmml: bytes, *, manifest: dict[str, Any] | None = None,
                files: Mapping[str, bytes] | None = None) -> Version:
        """Store ``pmml`` as the next version of ``name``; atomic, race-free.

        ``files`` (name -> bytes: report.html, profile.json, plots/roc.svg...) are published with
        it: readers see the version with all its files or not at all (``read_file``).
        """
        check_name(name)
        if not isinstance(pmml, (bytes, bytearray)) or not pmml:
            got = "empty bytes" if isinstance(pmml, (bytes, bytearray)) else type(pmml).__name__
            raise RepositoryError(f"publish({name!r}): pmml must be non-empty bytes, got {got}")
        pmml = bytes(pmml)
        extras = artifacts.checked(files, reserved=(MODEL, MANIFEST, _CLAIM))
        info = Manifest.create(pmml, manifest, artifacts.digests(extras))
        document = info.to_json().encode()
        base = self._dir(name)
        publish = self._publish_by_rename if self._local else self._publish_by_claim
        try:
            self._fs.makedirs(base, exist_ok=True)
            number = publish(base, pmml, document, extras)
        except OSError as e:
            raise RepositoryError(
                f"publishing {name!r} in {self._uri(base)} failed: {e}; nothing was published (readers see "
                "no new version). Free space or fix permissions, then publish again") from e
        return Version(name, number, self._uri(self._path(name, number, MODEL)), info)

    def set_label(self, name: str, label: str, number: int) -> None:
        """Point ``label`` at published version ``number`` of ``name``."""
        check_name(label, kind="label")
        number = int(number)
        self._load(name, number)  # no such model or version: ModelNotFoundError before any lock

        def add(labels: dict[str, int]) -> dict[str, int]:
            self._load(name, number)  # published; locally under the lock a delete also takes
            return {**labels, label: number}

        self._update_labels(name, add)
        if self._local:
            return
        # No lock here: a delete marks the version before it reads the labels, so if the
        # mark is there now, that delete may have missed this label. Take it back.
        self._fs.invalidate_cache(self._path(name, number))
        if self._fs.exists(self._path(name, number, _TOMBSTONE)):
            self._update_labels(name, lambda labels: {k: v for k, v in labels.items()
                                                      if not (k == label and v == number)})
            raise ModelNotFoundError(f"{name}:{number} was deleted while label {label!r} was being set")

    def remove_label(self, name: str, label: str) -> int:
        """Take ``label`` off ``name``; returns the version it pointed at. No such label: ModelNotFoundError."""
        check_name(label, kind="label")
        removed: list[int] = []

        def drop(labels: dict[str, int]) -> dict[str, int]:
            if label not in labels:
                raise ModelNotFoundError(f"model {name!r} has no label {label!r}; labels: {labels}")
            removed.append(labels[label])
            return {k: v for k, v in labels.items() if k != label}

        self._load_any(name)
        self._update_labels(name, drop)
        return removed[-1]

    def _load_any(self, name: str) -> None:
        """ModelNotFoundError naming the models there when ``name`` has no published version."""
        if not self._published(name):
            raise ModelNotFoundError(self._missing(name, ""))

    def _update_labels(self, name: str, change: Callable[[dict[str, int]], dict[str, int]]) -> None:
        """Read-modify-write of labels.json that never loses a concurrent update.

        Locally under a lock; on S3 as a conditional PUT, retried when someone wrote in between.
        A corrupt labels.json is kept aside and replaced (see ``_salvaged_labels``).
        """
        path = f"{self._dir(name)}/{LABELS}"
        if is_s3(self._fs):
            update_labels_s3(self._fs, path, change, lambda raw: self._salvaged_labels(raw, path))
            return
        with self._labels_lock(name):
            try:
                labels = self._salvaged_labels(self._fs.cat_file(path), path)
            except FileNotFoundError:
                labels = {}
            body = json.dumps(change(labels), indent=2, sort_keys=True).encode()
            try:
                self._write_atomic(path, body)
            except OSError as e:  # the write is atomic: nothing changed
                raise RepositoryError(f"updating {self._uri(path)} failed: {e}; the labels are unchanged. "
                                      "Free space or fix permissions, then try again") from e

    def delete(self, name: str, number: int) -> None:
        """Unpublish a version; refused while a label points at it.

        The tombstone goes in first (readers ignore it), then the labels are read. On S3,
        where there is no lock, a label set concurrently either is seen here (and the
        delete is refused) or sees the tombstone and takes itself back (set_label).
        """
        version = self._load(name, number)
        folder = self._path(name, number)
        with self._labels_lock(name):  # local: no label may be set on it meanwhile
            # The tombstone also keeps the folder non-empty: the number stays claimed.
            self._fs.pipe_file(f"{folder}/{_TOMBSTONE}", b"")
            self._fs.invalidate_cache(f"{self._dir(name)}/{LABELS}")
            try:
                held = sorted(label for label, n in self.labels(name).items() if n == number)
            except IntegrityError as e:  # unreadable labels resolve nothing: they cannot hold it
                log.warning("%s; deleting %s without checking its labels", e, version.ref)
                held = []
            if held:
                self._fs.rm_file(f"{folder}/{_TOMBSTONE}")
                raise RepositoryError(f"{version.ref} carries label(s) {held}; move them first "
                                      f"(pmmlkit models label {name} LABEL VERSION)")
            self._fs.rm_file(f"{folder}/{MANIFEST}")  # unpublished from here on
            self._fs.rm_file(f"{folder}/{MODEL}")

    # --- internals ----------------------------------------------------------

    def _dir(self, name: str) -> str:
        return f"{self._base}/{check_name(name)}"

    def _path(self, name: str, number: int, file: str | None = None) -> str:
        folder = f"{self._dir(name)}/{int(number)}"
        return folder if file is None else f"{folder}/{file}"

    def _uri(self, path: str) -> str:
        return path if self._local else self._fs.unstrip_protocol(path)

    def _published(self, name: str) -> list[int]:
        return self._entries(name)[0]

    def _entries(self, name: str) -> tuple[list[int], list[int]]:
        """(published numbers, numbers whose folder is a symbolic link), ascending."""
        base = self._dir(name)
        if self._local:  # no glob: it would follow links
            try:
                entries = [e for e in os.scandir(base) if _NUMBER.match(e.name)]
            except (FileNotFoundError, NotADirectoryError):
                return [], []
            linked = sorted(int(e.name) for e in entries if e.is_symlink())
            published = sorted(int(e.name) for e in entries if not e.is_symlink()
                               and os.path.isfile(os.path.join(e.path, MANIFEST)))
            return published, linked
        self._fs.invalidate_cache(base)
        numbers = (path.rstrip("/").split("/")[-2] for path in self._fs.glob(f"{base}/*/{MANIFEST}"))
        return sorted(int(n) for n in numbers if _NUMBER.match(n)), []

    def _link_error(self, name: str, number: int) -> str:
        try:
            refuse_links(self._path(name, number), (MANIFEST, MODEL), ref=f"{name}:{number}")
        except IntegrityError as e:
            return str(e)
        return ""

    def _load(self, name: str, number: int) -> Version:
        if self._local:
            refuse_links(self._path(name, number), (MANIFEST, MODEL), ref=f"{name}:{number}")
        path = self._path(name, number, MANIFEST)
        try:
            raw = self._fs.cat_file(path)
        except FileNotFoundError:
            raise ModelNotFoundError(self._missing(name, f"no version {number}")) from None
        return self._version(name, number, raw)

    def _version(self, name: str, number: int, raw: bytes) -> Version:
        manifest = Manifest.from_json(raw, source=self._uri(self._path(name, number, MANIFEST)))
        return Version(name, number, self._uri(self._path(name, number, MODEL)), manifest)

    def _missing(self, name: str, what: str) -> str:
        numbers = self._published(name)
        if numbers:
            return f"model {name!r} has versions {numbers}; {what}"
        return f"no model {name!r} in {self.root}; models: [{', '.join(self.models())}]"

    def _next_number(self, base: str) -> int:
        # Every numbered folder counts, published or not: burnt and deleted numbers stay taken.
        self._fs.invalidate_cache(base)
        try:
            names = [p.rstrip("/").rsplit("/", 1)[-1] for p in self._fs.ls(base, detail=False)]
        except FileNotFoundError:  # object stores: a prefix exists only once it holds a key
            names = []
        return max((int(n) for n in names if _NUMBER.match(n)), default=0) + 1

    def _publish_by_rename(self, base: str, pmml: bytes, document: bytes, files: dict[str, bytes]) -> int:
        sweep(base, LABELS)
        tmp = f"{base}/{TMP_PREFIX}{owner_tag()}"
        os.mkdir(tmp)
        try:
            for file, data in files.items():
                os.makedirs(os.path.dirname(f"{tmp}/{file}"), exist_ok=True)
                write_synced(f"{tmp}/{file}", data, exclusive=True)
            write_synced(f"{tmp}/{MODEL}", pmml, exclusive=True)
            write_synced(f"{tmp}/{MANIFEST}", document, exclusive=True)
            number = self._claim(base, lambda n: os.rename(tmp, f"{base}/{n}"))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # already gone when the rename won
        fsync_dir(base)
        return number

    def _publish_by_claim(self, base: str, pmml: bytes, document: bytes, files: dict[str, bytes]) -> int:
        def claim(number: int) -> None:
            with self._fs.open(f"{base}/{number}/{_CLAIM}", "xb") as marker:
                marker.write(owner_tag().encode())

        number = self._claim(base, claim)
        for file, data in files.items():
            self._fs.pipe_file(f"{base}/{number}/{file}", data)
        self._fs.pipe_file(f"{base}/{number}/{MODEL}", pmml)
        self._fs.pipe_file(f"{base}/{number}/{MANIFEST}", document)  # last: this publishes
        return number

    def _claim(self, base: str, attempt: Callable[[int], None]) -> int:
        """Run ``attempt(n)`` on the next free number until one succeeds; return n."""
        for _ in range(_MAX_CLAIMS):
            number = self._next_number(base)
            try:
                attempt(number)
                return number
            except FileExistsError:  # fsspec backends raise it without an errno
                continue
            except OSError as e:  # rename(2) onto a non-empty directory: ENOTEMPTY
                if e.errno not in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR):
                    raise
        raise RepositoryError(f"{self._uri(base)}: no version number claimed after {_MAX_CLAIMS} attempts")

    @contextlib.contextmanager
    def _labels_lock(self, name: str) -> Iterator[None]:
        # labels.json is read-modify-written: without a lock two writers lose an update.
        # Object stores have no lock: S3 uses conditional PUTs and delete's tombstone instead.
        if not self._local:
            yield
            return
        with labels_lock(self._dir(name)):
            yield

    def _write_atomic(self, path: str, data: bytes) -> None:
        if not self._local:
            self._fs.pipe_file(path, data)  # a single PUT is atomic on object stores
            return
        replace_synced(path, data, tmp=f"{path}{LABELS_TMP}{owner_tag()}")
