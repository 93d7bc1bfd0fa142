"""Server options and the version policy: which published versions a server keeps loaded."""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field

from ..errors import ConfigError

DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
ADMIN_TOKEN_ENV = "PMMLKIT_ADMIN_TOKEN"


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

    def __post_init__(self) -> None:
        if self.poll_seconds < 0:
            raise ConfigError(f"poll seconds {self.poll_seconds} must be >= 0")
        if self.max_body_bytes < 1:
            raise ConfigError(f"max body bytes {self.max_body_bytes} must be >= 1")
        if self.timeout is not None and self.timeout <= 0:
            raise ConfigError(f"timeout {self.timeout} must be > 0 seconds")
        unserved = [n for n in self.required if self.models and n not in self.models]
        if unserved:
            raise ConfigError(f"--require {unserved[0]!r}: that model is not served; served (--model): "
                              f"{list(self.models)}. Add --model {unserved[0]} or drop the --require")

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
                      "policy": Policy(policy["kind"], policy["keep"], tuple(policy["versions"]))})
