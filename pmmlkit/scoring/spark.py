"""Distributed batch scoring: the same Evaluator as `score_file`, run by Spark executors.

Each executor's Python worker builds pmmlkit's own Evaluator once (cached by the
model's sha256) from PMML bytes shipped once per executor as a broadcast, and
scores Arrow batches through ``mapInPandas``. So results equal local scoring,
row for row.

Row numbers (0 = first data row of its file, as in ``score_file``) come from
``monotonically_increasing_id``, which encodes (partition, position in
partition), and from the file block each row was read from. A first cheap pass
counts the rows of every block; blocks of one file are put in the order of their
byte offsets, which turns a row's position into its data-line number in its file
(blank lines are skipped, as by the local reader; a quoted value spanning lines
counts as one row). Spark packs and orders blocks of several files as it likes;
the numbers do not depend on that. When the input is more than one file, the
rejects name each row's ``file``. Rows whose CSV line has the wrong number of
fields are rejected with that reason and the raw line.

The output is a directory (Spark part files, in input order), written beside
its final path and renamed into place; rejects go to ``OUTPUT_rejects/`` (CSV).
"""
from __future__ import annotations

import csv
import hashlib
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import FIRST_ROW, ConfigError, TooManyRejectsError
from ..evaluator import ERROR_COLUMN, Evaluator, own_column
from ..evaluator.names import check_kept
from ..formats import data_format
from .batch import RAW, ROW, RejectColumns, ScoreSummary

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_ID, _BAD, _BLOCK = "__pmmlkit_id", "__pmmlkit_corrupt", "__pmmlkit_block"
FILE = "file"
_POSITION_BITS = 33  # monotonically_increasing_id = partition << 33 | position

# One Evaluator per Python worker and model: building it per batch would dominate small batches.
_EVALUATORS: dict[tuple[str, str], Evaluator] = {}


def _evaluator(raw: bytes, backend: str) -> Evaluator:
    key = (hashlib.sha256(raw).hexdigest(), backend)
    if key not in _EVALUATORS:
        # One thread: Spark runs a task per core already (threads would oversubscribe every executor).
        _EVALUATORS[key] = Evaluator.from_bytes(raw, backend=backend, verify=False, threads=1)  # checked on the driver
    return _EVALUATORS[key]


def default_rejects(output_path: str) -> str:
    return output_path.rstrip("/") + "_rejects"


def score_spark(raw: bytes, input_path: str, output_path: str, *, spark: SparkSession,
                backend: str = "auto", source: str = "<bytes>", verify: bool = True,
                rejects_path: str | None = None,
                keep: tuple[str, ...] = (), max_errors: int = 0, input_format: str | None = None,
                output_format: str | None = None) -> ScoreSummary:
    """Score ``input_path`` on Spark into the directory ``output_path``; bad rows to ``rejects_path``."""
    started = time.perf_counter()
    # Checks the document (and its ModelVerification) once, on the driver, before any job starts.
    evaluator = Evaluator.from_bytes(raw, backend=backend, source=source, verify=verify)
    check_kept(keep, evaluator.result_names)
    # Spark reads and writes folders and globs: a path without a known extension is CSV.
    in_fmt = data_format(input_path, input_format, what="input", default="csv")
    out_fmt = data_format(output_path, output_format, what="output", default="csv")
    rejects_path = rejects_path or default_rejects(output_path)
    df, inputs = _read(spark, input_path, in_fmt)
    missing = [c for c in keep if c not in inputs]
    if missing:
        raise ConfigError(f"--keep column(s) {missing} not in the input columns {inputs}")
    numbering = _numbering(df)
    scored = _scored(df, inputs, evaluator, raw=raw, backend=backend, keep=keep, numbering=numbering,
                     csv_input=in_fmt == "csv")
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    # Scored once, then read by the output, the rejects and the counts.
    scored = scored.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        results = [_internal(i, "out") for i in range(len(evaluator.result_names))]
        good = scored.filter(F.col(ERROR_COLUMN).isNull()).select(
            *[F.col(_internal(inputs.index(k), "in")).alias(k) for k in keep],
            *[F.col(r).alias(n) for r, n in zip(results, evaluator.result_names)])
        _write_atomic(good, output_path, out_fmt)
        bad = scored.filter(F.col(ERROR_COLUMN).isNotNull())
        counts = scored.agg(F.count(F.lit(1)).alias("all"), F.count(ERROR_COLUMN).alias("bad")).first()
        assert counts is not None  # a global aggregation always has its one row
        summary = ScoreSummary(input_rows=counts["all"], rejected_rows=counts["bad"],
                               output_rows=counts["all"] - counts["bad"], output_path=output_path,
                               rejects_path=rejects_path if counts["bad"] else None,
                               backend=f"spark:{evaluator.backend_name}")
        _remove(rejects_path)  # stale rejects of an earlier run would be misleading
        if counts["bad"]:
            # pmmlkit's own columns give way to input columns of the same name (own_column rule).
            names = RejectColumns.beside(inputs)
            where = [F.col(FILE).alias(own_column(FILE, [*inputs, names.row, names.reason, names.raw]))] \
                if numbering.several_files else []
            rejects = bad.orderBy(*([F.col(FILE)] if where else []), ROW).select(
                *where, F.col(ROW).alias(names.row), F.col(ERROR_COLUMN).alias(names.reason),
                *[F.col(_internal(i, "in")).alias(c) for i, c in enumerate(inputs)], F.col(RAW).alias(names.raw))
            _write_atomic(rejects.coalesce(1), rejects_path, "csv")
    finally:
        scored.unpersist()
    summary.seconds = time.perf_counter() - started
    if summary.rejected_rows > max_errors:
        raise TooManyRejectsError(summary.rejected_rows, max_errors, summary.rejects_path)
    return summary


def _internal(i: int, side: str) -> str:
    # Input and result columns may share names (the target is often in the input): keep them apart.
    return f"__pmmlkit_{side}{i}"


def _read(spark: SparkSession, path: str, fmt: str) -> tuple[DataFrame, list[str]]:
    """The input with a row id; CSV columns as text (the input contract types them), Parquet as stored."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if fmt == "parquet":
        df = spark.read.parquet(path)
        names = df.columns
    else:
        names = spark.read.csv(path, header=True).columns  # reads the header line only
        schema = T.StructType([T.StructField(n, T.StringType()) for n in names]
                              + [T.StructField(_BAD, T.StringType())])
        df = spark.read.csv(path, header=True, schema=schema, mode="PERMISSIVE", enforceSchema=False,
                            columnNameOfCorruptRecord=_BAD)
    # One number per file block, read with the row; the id's own bits say (partition, position).
    block = F.xxhash64(F.input_file_name(), F.input_file_block_start())
    return df.withColumn(_BLOCK, block).withColumn(_ID, F.monotonically_increasing_id()), names


@dataclass(frozen=True)
class _Numbering:
    """What turns (partition, block, position in partition) into a row's number in its file."""

    offsets: pd.Series   # by (partition, block): number of the block's first row, minus its first position
    files: dict[int, str]  # block -> file
    several_files: bool

    def rows(self, ids: np.ndarray, blocks: np.ndarray) -> np.ndarray:
        position = ids & ((1 << _POSITION_BITS) - 1)
        key = pd.MultiIndex.from_arrays([ids >> _POSITION_BITS, blocks])
        return self.offsets.reindex(key).to_numpy(dtype=np.int64) + position


def _numbering(df: DataFrame) -> _Numbering:
    """A counting pass over the input (no scoring): rows per block, blocks in file order."""
    from pyspark.sql import functions as F

    part = F.shiftright(F.col(_ID), _POSITION_BITS).alias("p")
    position = F.col(_ID).bitwiseAND((1 << _POSITION_BITS) - 1)
    counted = (df.select(part, F.col(_BLOCK), position.alias("at"), F.input_file_name().alias("f"),
                         F.input_file_block_start().alias("start"))
               .groupBy("p", _BLOCK, "f", "start").agg(F.count(F.lit(1)).alias("n"), F.min("at").alias("first"))
               .collect())
    offsets: dict[tuple[int, int], int] = {}
    before: dict[str, int] = {}
    # A block's rows are consecutive in its partition; a file's blocks follow their byte offsets.
    for r in sorted(counted, key=lambda r: (r["f"], r["start"])):
        done = before.get(r["f"], 0)
        offsets[(r["p"], r[_BLOCK])] = done + FIRST_ROW - r["first"]
        before[r["f"]] = done + r["n"]
    index = pd.MultiIndex.from_tuples(list(offsets), names=["p", "block"]) if offsets else \
        pd.MultiIndex.from_arrays([[], []], names=["p", "block"])
    return _Numbering(pd.Series(list(offsets.values()), index=index, dtype=np.int64),
                      {r[_BLOCK]: r["f"] for r in counted}, len(before) > 1)


def _scored(df: DataFrame, inputs: list[str], evaluator: Evaluator, *, raw: bytes, backend: str,
            keep: tuple[str, ...], numbering: _Numbering, csv_input: bool) -> DataFrame:
    """mapInPandas over the input: inputs, results, row number, error and raw line per row."""
    from pyspark.sql import types as T

    in_types = {f.name: f.dataType for f in df.schema.fields}
    types = {name: f.data_type for name, f in evaluator.result_fields.items()}
    fields = [T.StructField(ROW, T.LongType()), T.StructField(ERROR_COLUMN, T.StringType()),
              T.StructField(RAW, T.StringType())]
    fields += [T.StructField(FILE, T.StringType())] if numbering.several_files else []
    fields += [T.StructField(_internal(i, "in"), in_types[c]) for i, c in enumerate(inputs)]
    # The dtypes Evaluator.predict_batch gives each PMML data type (float64, Int64, boolean, object).
    spark_types = {"double": T.DoubleType(), "float": T.DoubleType(), "integer": T.LongType(),
                   "boolean": T.BooleanType()}
    fields += [T.StructField(_internal(i, "out"), spark_types.get(types[n], T.StringType()))
               for i, n in enumerate(evaluator.result_names)]
    schema = T.StructType(fields)
    shipped = df.sparkSession.sparkContext.broadcast(raw)  # sent once per executor, not per task
    names = list(evaluator.result_names)

    def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        ev = _evaluator(shipped.value, backend)
        for batch in batches:
            yield _score_batch(ev, batch, inputs, names, keep=keep, numbering=numbering, csv_input=csv_input)

    return df.mapInPandas(score, schema)


def _score_batch(ev: Evaluator, batch: pd.DataFrame, inputs: list[str], names: list[str], *,
                 keep: tuple[str, ...], numbering: _Numbering, csv_input: bool) -> pd.DataFrame:
    """One Arrow batch on an executor -> the internal row layout of ``_scored``."""
    blocks = batch[_BLOCK].to_numpy()
    rows = numbering.rows(batch[_ID].to_numpy(), blocks)
    data = batch[inputs].copy()
    # predict_batch names rows by index label; with several files one number may occur twice,
    # so results are matched by position below, never by label.
    data.index = pd.Index(rows, name=ROW)
    if csv_input:
        data = data.fillna("")  # the local reader reads an empty field as "", Spark as null
    corrupt = batch[_BAD].to_numpy() if _BAD in batch else None
    malformed = pd.notna(corrupt) if corrupt is not None else np.zeros(len(batch), dtype=bool)
    scored = ev.predict_batch(data[~malformed], errors="column")
    out = pd.DataFrame({ROW: rows, ERROR_COLUMN: None, RAW: None})
    if numbering.several_files:
        out[FILE] = pd.Series(blocks).map(numbering.files).to_numpy()
    out[ERROR_COLUMN] = out[ERROR_COLUMN].astype(object)
    out.loc[~malformed, ERROR_COLUMN] = scored[ev.error_column].to_numpy()  # not a target named "error"
    if corrupt is not None and malformed.any():  # (malformed is all False without corrupt)
        lines = corrupt[malformed]
        out.loc[malformed, ERROR_COLUMN] = [_malformed_reason(line, len(inputs)) for line in lines]
        out.loc[malformed, RAW] = lines
    # Inputs go back to the JVM only where needed (rejects; --keep columns): Arrow transfer of
    # every input string doubled the cost of scoring.
    failed = out[ERROR_COLUMN].notna().to_numpy()
    for i, c in enumerate(inputs):
        needed = ~malformed if c in keep else failed & ~malformed
        out[_internal(i, "in")] = batch[c].where(needed, None).to_numpy()
    for i, n in enumerate(names):
        column = pd.Series(None, index=out.index, dtype=scored[n].dtype)
        column[~malformed] = scored[n].to_numpy()
        out[_internal(i, "out")] = column
    return out


def _malformed_reason(line: str, expected: int) -> str:
    found = len(next(csv.reader([line]), []))
    return f"malformed CSV line: expected {expected} fields, found {found}"


def _write_atomic(df: DataFrame, path: str, fmt: str) -> None:
    """Write the directory beside ``path`` and rename it in: readers never see half an output."""
    local = "://" not in path or path.startswith("file://")
    if not local:  # no rename on object stores: Spark's own commit protocol is what we have
        _writer(df, fmt).mode("overwrite").save(path)
        return
    target = os.path.abspath(path.removeprefix("file://"))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    tmp = os.path.join(os.path.dirname(target), f".{os.path.basename(target)}.tmp-{uuid.uuid4().hex}")
    try:
        _writer(df, fmt).save(tmp)
        old = None
        if os.path.exists(target):
            old = f"{tmp}.old"
            os.rename(target, old)
        os.rename(tmp, target)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _writer(df: DataFrame, fmt: str) -> Any:
    writer = df.write.format(fmt)
    if fmt == "csv":
        # Empty text stays "" and missing stays empty, as pandas writes it locally.
        writer = writer.option("header", True).option("emptyValue", "").option("nullValue", "")
    return writer


def _remove(path: str) -> None:
    if "://" not in path or path.startswith("file://"):
        shutil.rmtree(path.removeprefix("file://"), ignore_errors=True)
