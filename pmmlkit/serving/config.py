"""Server options and the version policy: which published versions a server keeps loaded."""
from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import ConfigError

DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
ADMIN_TOKEN_ENV = "PMMLKIT_ADMIN_TOKEN"
DEFAULT_MAX_BATCH_SIZE = 256
DEFAULT_BATCH_TIMEOUT_MICROS = 0  # gather what is already waiting, add no wait: see batching.py
MAX_BATCH_TIMEOUT_MICROS = 1_000_000


@dataclass(frozen=True)
class Policy:
    """``latest`` (keep the ``keep`` newest), ``all``, or ``specific`` (only ``versions``)."""

    kind: str = "latest"
    keep: int = 1
    versions: tuple[int, ...] = ()

    @classmethod
    def parse(cls, text: str, *, versions: str | None = None) -> Policy:
        """``latest``, ``latest:N``, ``all`` or ``specific`` (with ``versions="1,3"``)."""
        kind, _, arg = text.strip().partition(":")
        if kind == "specific" or (versions and kind in ("", "specific")):
            numbers = _numbers(versions or arg)
            if not numbers:
                raise ConfigError("policy 'specific' needs version numbers, e.g. --versions 1,3")
            return cls("specific", 0, numbers)
        if versions:
            raise ConfigError(f"--versions {versions!r} only goes with --policy specific, not {text!r}")
        if kind == "all" and not arg:
            return cls("all", 0)
        if kind == "latest":
            try:
                keep = int(arg) if arg else 1
            except ValueError:
                keep = 0
            if keep < 1:
                raise ConfigError(f"policy {text!r}: expected latest:N with N >= 1")
            return cls("latest", keep)
        raise ConfigError(f"unknown version policy {text!r}; expected latest, latest:N, all or specific")

    def choose(self, numbers: list[int]) -> list[int]:
        """The version numbers to keep loaded, among the (ascending) loadable ``numbers``."""
        if self.kind == "all":
            return list(numbers)
        if self.kind == "specific":
            return [n for n in numbers if n in self.versions]
        return list(numbers[-self.keep:])

    def __str__(self) -> str:
        if self.kind == "specific":
            return "specific:" + ",".join(map(str, self.versions))
        return f"latest:{self.keep}" if self.kind == "latest" else self.kind


def _numbers(text: str) -> tuple[int, ...]:
    try:
        numbers = tuple(sorted({int(part) for part in text.split(",") if part.strip()}))
    except ValueError:
        raise ConfigError(f"versions {text!r}: expected comma-separated numbers such as 1,3") from None
    if any(n < 1 for n in numbers):
        raise ConfigError(f"versions {text!r}: version numbers start at 1")
    return numbers


@dataclass(frozen=True)
class ServerConfig:
    """Everything ``create_app`` needs besides the repository."""

    models: tuple[str, ...] = ()          # empty: every model in the repository
    required: tuple[str, ...] = ()        # models that must be AVAILABLE before /readyz says ready
    policy: Policy = field(default_factory=Policy)
    backend: str = "auto"
    poll_seconds: float = 2.0             # 0: no background polling (tests poll by hand)
    admin_token: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    timeout: float | None = None          # seconds for one scoring call; None: no limit
    csv_chunk_bytes: int = 256 * 1024
    # Request batching (batching.py): concurrent requests for one version scored as one batch
    # of at most max_batch_size records, gathered for at most batch_timeout_micros. 0 or 1: off.
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE
    batch_timeout_micros: int = DEFAULT_BATCH_TIMEOUT_MICROS
    mlflow_model: str | None = None       # NAME[:VERSION|@LABEL] that MLflow's /invocations scores
    canary: tuple[str, ...] = ()          # NAME@LABEL=P%: that share of NAME's unpinned traffic to LABEL
    shadow: tuple[str, ...] = ()          # NAME@LABEL: every request on NAME scored on LABEL too
    log_requests: str | None = None      # folder of sampled JSONL request logs (monitoring.py)
    log_sample: float = 0.1               # share of records logged
    drift: bool = True                    # live PSI per input field of versions with a training profile

    def __post_init__(self) -> None:
        if self.poll_seconds < 0:
            raise ConfigError(f"poll seconds {self.poll_seconds} must be >= 0")
        if self.max_body_bytes < 1:
            raise ConfigError(f"max body bytes {self.max_body_bytes} must be >= 1")
        if self.max_batch_size < 0:
            raise ConfigError(f"--max-batch-size {self.max_batch_size}: expected 0 (no batching) or more records")
        if not 0 <= self.batch_timeout_micros <= MAX_BATCH_TIMEOUT_MICROS:
            raise ConfigError(f"--batch-timeout-micros {self.batch_timeout_micros}: expected 0 to "
                              f"{MAX_BATCH_TIMEOUT_MICROS} (a second); it is added to a lone request's latency")
        if not 0.0 < self.log_sample <= 1.0:
            raise ConfigError(f"--log-sample {self.log_sample}: expected a share in (0, 1], e.g. 0.1 for 10%")
        if self.timeout is not None and self.timeout <= 0:
            raise ConfigError(f"timeout {self.timeout} must be > 0 seconds")
        _ = (self.canaries, self.shadows)  # a malformed --canary or --shadow is refused here
        if self.mlflow_model is not None:  # checked here, before any worker starts
            from ..repository.store import parse_ref

            name = parse_ref(self.mlflow_model)[0]
            if self.models and name not in self.models:
                raise ConfigError(f"--mlflow-model {self.mlflow_model!r}: model {name!r} is not served; served "
                                  f"(--model): {list(self.models)}")
        unserved = [n for n in self.required if self.models and n not in self.models]
        if unserved:
            raise ConfigError(f"--require {unserved[0]!r}: that model is not served; served (--model): "
                              f"{list(self.models)}. Add --model {unserved[0]} or drop the --require")

    @property
    def canaries(self) -> dict[str, tuple[str, float]]:
        """model -> (label, share in [0, 1]) from ``--canary NAME@LABEL=P%``."""
        return _by_model("--canary", [parse_canary(text) for text in self.canary])

    @property
    def shadows(self) -> dict[str, str]:
        """model -> label from ``--shadow NAME@LABEL``."""
        return _by_model("--shadow", [parse_shadow(text) for text in self.shadow])

    def with_env_token(self) -> ServerConfig:
        """The admin token from ``PMMLKIT_ADMIN_TOKEN`` when none was given."""
        if self.admin_token or not os.environ.get(ADMIN_TOKEN_ENV):
            return self
        return ServerConfig(**{**self.__dict__, "admin_token": os.environ[ADMIN_TOKEN_ENV]})

    # Worker processes get their config through the environment (uvicorn --workers spawns).
    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServerConfig:
        data = json.loads(text)
        policy = data.pop("policy")
        return cls(**{**data, "models": tuple(data["models"]), "required": tuple(data.get("required", ())),
                      "canary": tuple(data.get("canary", ())), "shadow": tuple(data.get("shadow", ())),
                      "policy": Policy(policy["kind"], policy["keep"], tuple(policy["versions"]))})


def parse_shadow(text: str) -> tuple[str, str]:
    """``NAME@LABEL`` -> (name, label)."""
    from ..repository.store import check_name

    name, at, label = text.strip().partition("@")
    if not at or not name or not label:
        raise ConfigError(f"--shadow {text!r}: expected MODEL@LABEL, e.g. ctr@candidate")
    return check_name(name), check_name(label, kind="label")


def parse_canary(text: str) -> tuple[str, tuple[str, float]]:
    """``NAME@LABEL=P%`` -> (name, (label, P / 100))."""
    ref, eq, share = text.strip().partition("=")
    try:
        percent = float(share.strip().removesuffix("%"))
    except ValueError:
        percent = math.nan
    if not eq or not 0 <= percent <= 100:
        raise ConfigError(f"--canary {text!r}: expected MODEL@LABEL=P% with P from 0 to 100, e.g. ctr@candidate=10%")
    name, label = parse_shadow(ref) if "@" in ref else (ref, "")
    if not label:
        raise ConfigError(f"--canary {text!r}: expected MODEL@LABEL=P%, e.g. ctr@candidate=10%")
    return name, (label, percent / 100)


def _by_model(option: str, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in pairs:
        if name in found:
            raise ConfigError(f"{option} names model {name!r} twice; give one per model")
        found[name] = value
    return found
