"""What a published version records: checksum, provenance, schemas, metrics."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from ..errors import ConfigError, IntegrityError

# publish() computes these itself; values a caller passes for them are replaced.
COMPUTED = ("sha256", "size", "created", "pmmlkit_version")


@dataclass(frozen=True)
class Manifest:
    """The manifest.json of one version. Unknown keys are kept in ``extra``."""

    sha256: str
    size: int
    created: str  # ISO 8601, UTC
    pmmlkit_version: str
    spark_version: str | None = None
    jpmml_sparkml_version: str | None = None
    input_schema: list[dict[str, Any]] = field(default_factory=list)
    output_schema: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    data_source: str | None = None
    row_count: int | None = None
    spec: dict[str, Any] = field(default_factory=dict)
    #: files published with the version (report.html...): name -> {"size", "sha256"}
    files: dict[str, Any] = field(default_factory=dict)
    run_id: str | None = None
    description: str | None = None
    tags: dict[str, Any] = field(default_factory=dict)
    git_commit: str | None = None  # HEAD of the git checkout holding the spec, when there is one
    git_dirty: bool | None = None  # that checkout had uncommitted changes under the spec's folder
    #: one input record from the training data: the body of a predict request is {"instances": [it]}
    input_example: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def create(cls, pmml: bytes, info: Mapping[str, Any] | None = None,
               files: Mapping[str, Any] | None = None) -> Manifest:
        """The manifest for publishing ``pmml``, with the caller's ``info`` keys.

        ``files`` are the digests of the files published with the model (artifacts.digests).
        """
        from .. import __version__

        given = {k: v for k, v in (info or {}).items() if k not in (*COMPUTED, "files")}
        computed = {"sha256": sha256_hex(pmml), "size": len(pmml), "created": utc_now(),
                    "pmmlkit_version": __version__, "files": dict(files or {})}
        try:
            manifest = cls.from_dict({**given, **computed})
            manifest.to_json()  # fail here, before anything is written
        except (TypeError, ValueError) as e:
            raise ConfigError(f"manifest cannot be published: {e}") from None
        return manifest

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Manifest:
        """Build from a plain dict; raises ValueError naming the bad key."""
        known = {f.name: f for f in fields(cls)}
        missing = [k for k in COMPUTED if k not in data]
        if missing:
            raise ValueError(f"missing key(s) {missing}")
        extra = data.get("extra") or {}
        if not isinstance(extra, dict):
            raise ValueError(f"key 'extra' is {type(extra).__name__}, expected an object")
        extra = {**extra, **{k: v for k, v in data.items() if k not in known}}
        kwargs = {k: v for k, v in data.items() if k in known and k != "extra"}
        for key, value in kwargs.items():
            expected = _container_type(known[key])
            if expected is not None and not isinstance(value, expected):
                raise ValueError(f"key {key!r} is {type(value).__name__}, expected {expected.__name__}")
        if not isinstance(kwargs["size"], int) or not isinstance(kwargs["sha256"], str):
            raise ValueError(f"size {kwargs['size']!r} / sha256 {kwargs['sha256']!r} have wrong types")
        return cls(**kwargs, extra=extra)

    @classmethod
    def from_json(cls, raw: bytes | str, *, source: str = "manifest.json") -> Manifest:
        """Parse a stored manifest; a broken one is an IntegrityError naming ``source``."""
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError(f"top level is {type(data).__name__}, expected an object")
            return cls.from_dict(data)
        except ValueError as e:  # json.JSONDecodeError is a ValueError
            raise IntegrityError(f"{source}: not a valid manifest: {e}") from None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)


def _container_type(f: Any) -> type | None:
    # Only the container fields are checked: a schema that is not a list would
    # break every consumer later, far from the publish() call that caused it.
    if f.default_factory is list:
        return list
    if f.default_factory is dict:
        return dict
    return None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
