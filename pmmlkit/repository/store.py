"""Versioned models on shared storage (any fsspec root: path, file://, s3://, gs://...).

Layout::

    ROOT/<name>/<n>/model.pmml      n = 1, 2, 3 ...; a number is never reused
    ROOT/<name>/<n>/manifest.json   written last: its presence is what publishes n
    ROOT/<name>/labels.json         {"stable": 3}, replaced atomically

Readers see only ``<n>`` folders that hold ``manifest.json``; they ignore folders
without one and dot-folders (``.tmp-*``).

Publish protocol:

* Local filesystem: model.pmml, then manifest.json, are written and fsynced into
  ``ROOT/<name>/.tmp-<uuid>/``; that folder is then renamed to ``ROOT/<name>/<n>``.
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
manifest: invisible to readers; the number is burnt. Deleted numbers are not
reused either, so ``name:n`` always means the same bytes (caches rely on it).
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import fsspec
import fsspec.asyn
from fsspec.implementations.local import LocalFileSystem

from ..durable import fsync_dir, write_synced
from ..errors import IntegrityError, InvalidModelName, ModelNotFoundError, RepositoryError
from .manifest import Manifest, sha256_hex

MODEL, MANIFEST, LABELS = "model.pmml", "manifest.json", "labels.json"
_TOMBSTONE, _CLAIM = ".deleted", ".claim"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_NUMBER = re.compile(r"^[1-9][0-9]{0,17}$")
_REF = re.compile(r"^(?P<name>[^:@]*)(?::(?P<number>[0-9]+)|@(?P<label>[^:@]*))?$")
_MAX_CLAIMS = 1000


def check_name(name: str, *, kind: str = "model name") -> str:
    """Return ``name`` if it is a safe, portable path segment; else InvalidModelName."""
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise InvalidModelName(
            f"invalid {kind} {name!r}: expected 1-128 characters from A-Z a-z 0-9 . _ -, "
            "starting with a letter or digit, without '..'")
    return name


@dataclass(frozen=True)
class Version:
    """One published version: ``uri`` is where its model.pmml lives."""

    name: str
    number: int
    uri: str
    manifest: Manifest = field(repr=False)

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.number}"


class Repository:
    """Publish, resolve and list model versions under one root."""

    def __init__(self, root: str | None = None):
        root = root or os.environ.get("PMMLKIT_REPO") or "./models"
        self._fs, path = fsspec.core.url_to_fs(root)
        self._local = isinstance(self._fs, LocalFileSystem)
        self._base = path.rstrip("/") or "/"
        self.root: str = self._base if self._local else self._fs.unstrip_protocol(self._base)

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
        """Published versions of ``name``, ascending; [] when there are none."""
        numbers = self._published(name)
        paths = [self._path(name, n, MANIFEST) for n in numbers]
        # One batched call: concurrent on object stores. A version deleted since
        # the listing is simply left out.
        raw = self._fs.cat(paths, on_error="omit") if paths else {}
        return [self._version(name, n, raw[p]) for n, p in zip(numbers, paths) if p in raw]

    def latest(self, name: str) -> Version:
        numbers = self._published(name)
        if not numbers:
            raise ModelNotFoundError(self._missing(name, ""))
        return self._load(name, numbers[-1])

    def resolve(self, ref: str) -> Version:
        """``name`` (latest), ``name:3`` or ``name@stable`` -> Version."""
        match = _REF.match(ref) if isinstance(ref, str) else None
        if not match:
            raise InvalidModelName(
                f"invalid model reference {ref!r}: expected NAME, NAME:VERSION or NAME@LABEL")
        name = check_name(match["name"])
        if match["number"] is not None:
            return self._load(name, int(match["number"]))
        if match["label"] is not None:
            labels = self.labels(name)
            if match["label"] not in labels:
                raise ModelNotFoundError(
                    f"model {name!r} has no label {match['label']!r}; labels: {labels}")
            return self._load(name, labels[match["label"]])
        return self.latest(name)

    def read_pmml(self, version: Version) -> bytes:
        """The model bytes, checked against the manifest's size and sha256."""
        path = self._path(version.name, version.number, MODEL)
        try:
            data = self._fs.cat_file(path)
        except FileNotFoundError:
            raise ModelNotFoundError(f"{version.ref}: {self._uri(path)} is gone (deleted?)") from None
        expected = version.manifest
        digest = sha256_hex(data)
        if len(data) != expected.size or digest != expected.sha256:
            raise IntegrityError(
                f"{version.ref}: {self._uri(path)} has size {len(data)} and sha256 {digest}; "
                f"the manifest expects size {expected.size} and sha256 {expected.sha256}. "
                "The file changed after publishing: publish the model again.")
        return data

    def labels(self, name: str) -> dict[str, int]:
        path = f"{self._dir(name)}/{LABELS}"
        try:
            raw = self._fs.cat_file(path)
        except FileNotFoundError:
            return {}
        try:
            labels = json.loads(raw)
            if not isinstance(labels, dict) or not all(
                    isinstance(v, int) and not isinstance(v, bool) for v in labels.values()):
                raise ValueError("expected an object of label -> version number")
        except ValueError as e:
            raise IntegrityError(f"{self._uri(path)}: {e}") from None
        return labels

    # --- writing ----------------------------------------------------------

    def publish(self, name: str, pmml: bytes, *, manifest: dict | None = None) -> Version:
        """Store ``pmml`` as the next version of ``name``; atomic, race-free."""
        check_name(name)
        if not isinstance(pmml, (bytes, bytearray)) or not pmml:
            got = "empty bytes" if isinstance(pmml, (bytes, bytearray)) else type(pmml).__name__
            raise RepositoryError(f"publish({name!r}): pmml must be non-empty bytes, got {got}")
        pmml = bytes(pmml)
        info = Manifest.create(pmml, manifest)
        document = info.to_json().encode()
        base = self._dir(name)
        self._fs.makedirs(base, exist_ok=True)
        publish = self._publish_by_rename if self._local else self._publish_by_claim
        number = publish(base, pmml, document)
        return Version(name, number, self._uri(self._path(name, number, MODEL)), info)

    def set_label(self, name: str, label: str, number: int) -> None:
        """Point ``label`` at published version ``number`` of ``name``."""
        check_name(label, kind="label")
        number = int(number)

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

    def _update_labels(self, name: str, change: Callable[[dict[str, int]], dict[str, int]]) -> None:
        """Read-modify-write of labels.json that never loses a concurrent update.

        Locally under a lock; on S3 as a conditional PUT, retried when someone wrote in between.
        """
        if not _is_s3(self._fs):
            with self._labels_lock(name):
                self._write_atomic(f"{self._dir(name)}/{LABELS}",
                                   json.dumps(change(self.labels(name)), indent=2, sort_keys=True).encode())
            return
        from botocore.exceptions import ClientError

        bucket, key, _ = self._fs.split_path(f"{self._dir(name)}/{LABELS}")
        for _ in range(_MAX_CLAIMS):
            try:
                raw, etag = fsspec.asyn.sync(self._fs.loop, _get_with_etag, self._fs, bucket, key)
                labels, condition = json.loads(raw), {"IfMatch": etag}
            except FileNotFoundError:
                labels, condition = {}, {"IfNoneMatch": "*"}
            body = json.dumps(change(labels), indent=2, sort_keys=True).encode()
            try:
                self._fs.call_s3("put_object", Bucket=bucket, Key=key, Body=body, **condition)
                self._fs.invalidate_cache(f"{self._dir(name)}/{LABELS}")
                return
            except (FileExistsError, ClientError, OSError) as e:  # 412/409: someone wrote in between
                if not _precondition_failed(e):
                    raise
        raise RepositoryError(f"{self._uri(self._dir(name))}/{LABELS}: too many concurrent label updates")

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
            held = sorted(label for label, n in self.labels(name).items() if n == number)
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
        base = self._dir(name)
        self._fs.invalidate_cache(base)
        numbers = (path.rstrip("/").split("/")[-2] for path in self._fs.glob(f"{base}/*/{MANIFEST}"))
        return sorted(int(n) for n in numbers if _NUMBER.match(n))

    def _load(self, name: str, number: int) -> Version:
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

    def _publish_by_rename(self, base: str, pmml: bytes, document: bytes) -> int:
        tmp = f"{base}/.tmp-{uuid.uuid4().hex}"
        os.mkdir(tmp)
        try:
            write_synced(f"{tmp}/{MODEL}", pmml, exclusive=True)
            write_synced(f"{tmp}/{MANIFEST}", document, exclusive=True)
            number = self._claim(base, lambda n: os.rename(tmp, f"{base}/{n}"))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # already gone when the rename won
        fsync_dir(base)
        return number

    def _publish_by_claim(self, base: str, pmml: bytes, document: bytes) -> int:
        def claim(number: int) -> None:
            with self._fs.open(f"{base}/{number}/{_CLAIM}", "xb") as marker:
                marker.write(uuid.uuid4().hex.encode())

        number = self._claim(base, claim)
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
        import fcntl

        with open(f"{self._dir(name)}/.labels.lock", "ab") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _write_atomic(self, path: str, data: bytes) -> None:
        if not self._local:
            self._fs.pipe_file(path, data)  # a single PUT is atomic on object stores
            return
        tmp = f"{path}.tmp-{uuid.uuid4().hex}"
        try:
            write_synced(tmp, data, exclusive=True)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.remove(tmp)
            raise
        fsync_dir(os.path.dirname(path))


def _is_s3(fs: fsspec.AbstractFileSystem) -> bool:
    return "s3" in (fs.protocol if isinstance(fs.protocol, (tuple, list)) else (fs.protocol,))


async def _get_with_etag(fs: fsspec.AbstractFileSystem, bucket: str, key: str) -> tuple[bytes, str]:
    # Body and ETag from one GET: reading them apart could pair new bytes with an old ETag.
    got = await fs._call_s3("get_object", Bucket=bucket, Key=key)
    async with got["Body"] as body:
        return await body.read(), got["ETag"]


def _precondition_failed(e: BaseException) -> bool:
    # s3fs maps 412 PreconditionFailed to FileExistsError (If-None-Match) or an OSError; botocore
    # raises ClientError. 409 ConditionalRequestConflict means a concurrent conditional write.
    if isinstance(e, FileExistsError):
        return True
    text = str(e)
    code = getattr(e, "response", {}).get("Error", {}).get("Code", "")
    return code in ("PreconditionFailed", "ConditionalRequestConflict") or "pre-condition" in text \
        or "PreconditionFailed" in text or "ConditionalRequestConflict" in text
