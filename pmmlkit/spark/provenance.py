"""What a training run records about itself: run id, description, tags, git commit, an input example."""
from __future__ import annotations

import math
import os
import subprocess
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

_GIT_TIMEOUT = 5.0  # seconds: a hung git (network filesystem) must not hold up a publish


def parse_tags(items: Sequence[str]) -> dict[str, str]:
    """``--tag team=ads --tag ticket=AB-12`` -> {"team": "ads", "ticket": "AB-12"}."""
    tags: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--tag {item!r}: expected KEY=VALUE, e.g. --tag team=ads")
        tags[key.strip()] = value.strip()
    return tags


def run_info(*, spec_dir: str | os.PathLike | None, description: str | None,
             tags: Mapping[str, str] | None) -> dict[str, Any]:
    """The manifest keys describing this run (before Spark starts: a bad tag fails fast)."""
    if tags is not None and not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
        raise ConfigError(f"tags must map strings to strings, got {dict(tags)!r}")
    commit, dirty = git_commit(spec_dir) if spec_dir is not None else (None, None)
    return {"run_id": uuid.uuid4().hex, "description": description, "tags": dict(tags or {}),
            "git_commit": commit, "git_dirty": dirty}


def git_commit(folder: str | os.PathLike) -> tuple[str | None, bool | None]:
    """(HEAD commit, whether the folder has uncommitted changes), or (None, None) outside git."""
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True,
                                  timeout=_GIT_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired):  # no git installed, or it hung
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if not commit:
        return None, None
    status = git("status", "--porcelain", "--", ".")
    return commit, (bool(status) if status is not None else None)


def input_example(data: DataFrame, inputs: Sequence[str]) -> dict[str, Any] | None:
    """One training row restricted to the model's inputs, JSON-ready (like MLflow's input_example).

    A row without missing values is preferred: it shows every field's type.
    """
    columns = [c for c in inputs if c in data.columns]
    if not columns:
        return None
    subset = data.select(*columns)
    row = subset.dropna().first() or subset.first()
    if row is None:
        return None
    return {c: _plain(row[c]) for c in columns}


def _plain(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None  # JSON has no NaN; a request sends a missing value as null
    return value
