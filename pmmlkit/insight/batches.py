"""The data a drift check reads: a CSV or Parquet file, or a folder of them or of request logs.

Request logs are the server's JSON Lines (``--log-requests``): one object per scored record,
whose ``inputs`` are the record as sent. Compressed logs (``.jsonl.gz``) read as well.
"""
from __future__ import annotations

import gzip
import json
import os
from typing import Any

import pandas as pd

from ..errors import ConfigError, InputFileError
from ..formats import data_format, read_frame

LOG_SUFFIXES = (".jsonl", ".jsonl.gz")


def read_batch(path: str, *, limit: int | None = None) -> pd.DataFrame:
    """Every row of ``path`` (file or folder), as read; ``limit`` keeps the first rows only."""
    if not os.path.exists(path):
        raise InputFileError(f"no such file or folder: {path}")
    files = _files(path) if os.path.isdir(path) else [path]
    frames, rows = [], 0
    for f in files:
        frame = _read_one(f)
        frames.append(frame)
        rows += len(frame)
        if limit is not None and rows >= limit:
            break
    if not frames:
        raise ConfigError(f"{path} holds no .csv, .parquet or request log (.jsonl) file to compare")
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return out.head(limit) if limit is not None else out


def _files(folder: str) -> list[str]:
    names = sorted(n for n in os.listdir(folder) if not n.startswith((".", "_")))
    return [os.path.join(folder, n) for n in names
            if n.lower().endswith(LOG_SUFFIXES) or _known(n)]


def _known(name: str) -> bool:
    try:
        data_format(name)
        return True
    except ConfigError:
        return False


def _read_one(path: str) -> pd.DataFrame:
    if path.lower().endswith(LOG_SUFFIXES):
        return _read_log(path)
    return read_frame(path, what="data", as_text=True)


def _read_log(path: str) -> pd.DataFrame:
    opener: Any = gzip.open if path.lower().endswith(".gz") else open
    records = []
    with opener(path, "rt", encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                records.append(entry["inputs"])
            except (ValueError, KeyError, TypeError) as e:
                if not line.endswith("\n"):  # a line still being written by a live server
                    break
                raise InputFileError(f"{path}: line {n} is not a request log entry with 'inputs' "
                                 f"({type(e).__name__}: {e})") from None
    return pd.DataFrame.from_records(records)
