"""Command line: thin shells over library calls. Parse, call, map errors."""
from __future__ import annotations

import json

import click

from .errors import PmmlkitError

repo_option = click.option(
    "--repo", envvar="PMMLKIT_REPO", default="./models", show_default=True,
    help="Model repository root: a path or fsspec URL (env PMMLKIT_REPO).",
)


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except PmmlkitError as e:
            raise click.ClickException(str(e)) from None


@click.group(cls=_Group)
@click.version_option(package_name="pmmlkit")
def main() -> None:
    """pmmlkit: Spark ML pipelines to PMML, versioned and scored."""


def echo_json(obj) -> None:
    click.echo(json.dumps(obj, indent=2, sort_keys=False, default=str))


backend_option = click.option(
    "--backend", default="auto", show_default=True,
    type=click.Choice(["auto", "native", "jpmml", "pypmml"]),
    help="Evaluator backend; auto = native when the document compiles, else jpmml.",
)


# --- scoring and inspecting ----------------------------------------------------

@main.command("score")
@click.argument("input_path", metavar="INPUT")
@click.option("-m", "--model", "model_ref", required=True,
              help="NAME, NAME:VERSION, NAME@LABEL or a path to a .pmml file.")
@click.option("-o", "--output", "output_path", required=True, help="Output .csv or .parquet.")
@click.option("--rejects", "rejects_path", default=None,
              help="Where rejected rows go [default: OUTPUT stem + .rejects.csv].")
@click.option("--keep", multiple=True, help="Input column to pass through (repeatable).")
@click.option("--max-errors", default=0, show_default=True, type=click.IntRange(min=0),
              help="Rejected rows allowed before the exit status is non-zero.")
@click.option("--chunk-rows", default=100_000, show_default=True, type=click.IntRange(min=1))
@click.option("--no-verify", is_flag=True, help="Skip the model's ModelVerification check.")
@click.option("--engine", default="local", show_default=True, type=click.Choice(["local", "spark"]),
              help="local: stream in this process; spark: score on Spark executors (OUTPUT is a "
                   "directory, rejects go to OUTPUT_rejects/).")
@click.option("--master", default=None,
              help="Spark master for --engine spark, e.g. spark://HOST:7077 [default: local[*]].")
@backend_option
@repo_option
def score(input_path: str, model_ref: str, output_path: str, rejects_path: str | None,
          keep: tuple[str, ...], max_errors: int, chunk_rows: int, no_verify: bool, engine: str,
          master: str | None, backend: str, repo: str) -> None:
    """Score a CSV or Parquet file in chunks; bad rows go to a rejects file."""
    from .errors import TooManyRejectsError
    from .evaluator import Evaluator
    from .scoring.batch import score_file

    if engine == "spark":
        _score_on_spark(input_path, model_ref, output_path, rejects_path=rejects_path, keep=keep,
                        max_errors=max_errors, verify=not no_verify, master=master, backend=backend, repo=repo)
        return
    if master is not None:
        raise click.BadParameter("--master needs --engine spark", param_hint="--master")
    ev = Evaluator.load(model_ref, backend=backend, repo=repo, verify=not no_verify)
    try:
        s = score_file(ev, input_path, output_path, rejects_path=rejects_path, keep=keep,
                       max_errors=max_errors, chunk_rows=chunk_rows)
    except TooManyRejectsError as e:
        click.echo(f"scored with {ev.backend_name}: see {output_path}", err=True)
        raise click.ClickException(str(e)) from None
    click.echo(f"{s.input_rows} rows in, {s.output_rows} scored, {s.rejected_rows} rejected "
               f"in {s.seconds:.2f}s ({s.rows_per_second:,.0f} rows/s, backend {s.backend})")
    click.echo(f"output: {s.output_path}" + (f"\nrejects: {s.rejects_path}" if s.rejects_path else ""))


def _score_on_spark(input_path: str, model_ref: str, output_path: str, *, master: str | None,
                    repo: str, **options) -> None:
    from .evaluator import read_ref
    from .scoring.spark import score_spark
    from .spark.session import active_session, get_session

    raw, source, _ = read_ref(model_ref, repo=repo)
    spark = active_session() if master is None else None
    started = spark is None
    spark = spark or get_session(master=master or "local[*]", app_name="pmmlkit-score")
    try:
        s = score_spark(raw, input_path, output_path, spark=spark, source=source, **options)
    finally:
        if started:
            spark.stop()
    click.echo(f"{s.input_rows} rows in, {s.output_rows} scored, {s.rejected_rows} rejected "
               f"in {s.seconds:.2f}s ({s.rows_per_second:,.0f} rows/s, backend {s.backend})")
    click.echo(f"output: {s.output_path}" + (f"\nrejects: {s.rejects_path}" if s.rejects_path else ""))


@main.command("jars")
@click.option("--dest", default="jars", show_default=True, type=click.Path(file_okay=False),
              help="Folder to copy the jars into.")
def jars_cmd(dest: str) -> None:
    """Copy the jars a Spark cluster needs (JPMML-SparkML + dependencies) into DEST; print --jars."""
    from .jars import EXECUTOR_NOTE, collect

    got = collect(dest=dest)
    click.echo(f"{len(got.jars)} jars in {dest} ({got.copied} copied, the rest up to date)")
    click.echo(f"note: {EXECUTOR_NOTE}")
    click.echo(f"--jars {got.jars_argument}")


@main.command("inspect")
@click.argument("model_ref", metavar="MODEL")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@repo_option
def inspect_cmd(model_ref: str, as_json: bool, repo: str) -> None:
    """Model type, input fields, targets and outputs of a PMML file or repository model."""
    from .evaluator import read_ref
    from .pmml import loader

    raw, source, _ = read_ref(model_ref, repo=repo)
    s = loader.parse(raw, source=source).schema
    info = {"source": source, "model_type": s.model_type, "function": s.function_name,
            "inputs": [f.as_dict() for f in s.inputs], "targets": [f.as_dict() for f in s.targets],
            "outputs": [f.as_dict() for f in s.outputs],
            "verification_records": len(s.verification.rows) if s.verification else 0}
    if as_json:
        echo_json(info)
        return
    click.echo(f"{source}: {s.model_type} ({s.function_name})")
    for title, fields in (("inputs", s.inputs), ("targets", s.targets), ("outputs", s.outputs)):
        click.echo(f"{title}:")
        for f in fields:
            allowed = f" {list(f.values)}" if f.values else ""
            click.echo(f"  {f.name}: {f.data_type} {f.op_type}{allowed}")
    click.echo(f"verification records: {info['verification_records']}")


@main.command("validate")
@click.argument("model_ref", metavar="MODEL")
@backend_option
@repo_option
def validate(model_ref: str, backend: str, repo: str) -> None:
    """Run every check the loader runs (safety, schema, ModelVerification); exit 1 on failure."""
    from .evaluator import Evaluator, read_ref
    from .evaluator.verification import findings
    from .pmml import loader

    raw, source, _ = read_ref(model_ref, repo=repo)
    doc = loader.parse(raw, source=source)
    click.echo(f"ok: safe XML, PMML {doc.version}, {doc.schema.model_type}, "
               f"{len(doc.schema.inputs)} inputs, {len(doc.schema.outputs)} outputs")
    ev = Evaluator.from_bytes(raw, backend=backend, verify=False, source=source)
    click.echo(f"ok: loads with backend {ev.backend_name}")
    problems = findings(ev)
    n = len(doc.schema.verification.rows) if doc.schema.verification else 0
    if problems:
        for p in problems:
            click.echo(f"FAIL: {p}")
        raise click.ClickException(f"{len(problems)} verification finding(s) in {source}")
    click.echo(f"ok: {n} ModelVerification record(s) reproduced" if n else "note: no ModelVerification records")


# --- serve: the model server ---------------------------------------------------

@main.command("serve")
@repo_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8501, show_default=True, type=click.IntRange(0, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1),
              help="Worker processes; each polls, loads and scores on its own.")
@click.option("--model", "model_names", multiple=True,
              help="Serve only this model (repeatable) [default: every model in the repository].")
@click.option("--poll-seconds", default=2.0, show_default=True, type=click.FloatRange(min=0),
              help="How often to look for new, removed and relabelled versions; 0 = load once.")
@click.option("--policy", default="latest", show_default=True,
              help="Versions kept loaded: latest, latest:N, all or specific (with --versions).")
@click.option("--versions", default=None, help="For --policy specific: version numbers, e.g. 1,3.")
@backend_option
@click.option("--admin-token", envvar="PMMLKIT_ADMIN_TOKEN", default=None,
              help="Bearer token for the admin endpoints (env PMMLKIT_ADMIN_TOKEN); unset = disabled.")
@click.option("--max-body-bytes", default=16 * 1024 * 1024, show_default=True, type=click.IntRange(min=1))
@click.option("--timeout", default=None, type=click.FloatRange(min=0, min_open=True),
              help="Seconds one scoring call may take before the request fails with 504.")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
@click.option("--access-log", is_flag=True, help="Log every request (costs throughput).")
def serve_cmd(repo: str, host: str, port: int, workers: int, model_names: tuple[str, ...],
              poll_seconds: float, policy: str, versions: str | None, backend: str,
              admin_token: str | None, max_body_bytes: int, timeout: float | None, log_level: str,
              access_log: bool) -> None:
    """Serve models over a TF-Serving-compatible REST API; new versions load without restart."""
    from .repository.store import check_name
    from .serving.config import Policy, ServerConfig
    from .serving.run import serve

    config = ServerConfig(models=tuple(check_name(n) for n in model_names),
                          policy=Policy.parse(policy, versions=versions), backend=backend,
                          poll_seconds=poll_seconds, admin_token=admin_token or None,
                          max_body_bytes=max_body_bytes, timeout=timeout)
    serve(repo=repo, config=config, host=host, port=port, workers=workers, log_level=log_level,
          access_log=access_log)


@main.command("diff")
@click.argument("model_ref", metavar="MODEL")
@click.argument("data_path", metavar="DATA")
@click.option("--backends", default="native,jpmml,pypmml", show_default=True,
              help="Comma-separated backends; the first is the reference.")
@click.option("--rtol", default=1e-9, show_default=True, type=float, help="Relative tolerance.")
@click.option("--rows", default=100_000, show_default=True, type=click.IntRange(min=1),
              help="Compare at most this many rows.")
@click.option("--examples", default=5, show_default=True, type=click.IntRange(min=0),
              help="Differing rows to show, with their inputs.")
@repo_option
def diff(model_ref: str, data_path: str, backends: str, rtol: float, rows: int, examples: int,
         repo: str) -> None:
    """Score DATA with several backends and report where they disagree; exit 1 if they do."""
    import pandas as pd

    from .evaluator import read_ref
    from .evaluator.agreement import compare

    raw, source, _ = read_ref(model_ref, repo=repo)
    if data_path.lower().endswith((".parquet", ".pq")):
        data = pd.read_parquet(data_path).head(rows)
    else:  # as `pmmlkit score` reads it: text, typed by the input contract
        data = pd.read_csv(data_path, dtype=str, keep_default_na=False, nrows=rows)
    names = tuple(b.strip() for b in backends.split(",") if b.strip())
    if len(names) < 2:
        raise click.BadParameter("name at least two backends", param_hint="--backends")
    report = compare(raw, data, backends=names, rtol=rtol, examples=examples, source=source)
    click.echo(f"{source}: {report.rows} rows, reference backend {report.reference}")
    click.echo(report.table())
    for s in report.skipped:
        click.echo(f"not compared: {s}")
    if not report.agrees:
        with pd.option_context("display.max_columns", None, "display.width", 200):
            click.echo(f"first differing rows:\n{report.examples.to_string()}")
        raise click.ClickException(f"backends disagree beyond rtol={rtol}")
    click.echo("all backends agree")


# --- models: the versioned repository ----------------------------------------

@main.group("models", cls=_Group)
def models() -> None:
    """List, inspect, label and delete published model versions."""


@models.command("list")
@repo_option
def models_list(repo: str) -> None:
    """A table of models: latest version, version count, labels, created."""
    from .repository.store import Repository

    repository = Repository(repo)
    rows = [("NAME", "LATEST", "VERSIONS", "LABELS", "CREATED")]
    for name in repository.models():
        versions = repository.versions(name)
        if not versions:  # deleted since models() listed it
            continue
        labels = ",".join(f"{k}={v}" for k, v in sorted(repository.labels(name).items()))
        latest = versions[-1]
        rows.append((name, str(latest.number), str(len(versions)), labels or "-",
                     latest.manifest.created))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


@models.command("show")
@click.argument("ref")
@repo_option
def models_show(ref: str, repo: str) -> None:
    """The manifest of NAME, NAME:VERSION or NAME@LABEL, as JSON."""
    from .repository.store import Repository

    version = Repository(repo).resolve(ref)
    echo_json({"name": version.name, "version": version.number, "uri": version.uri,
               **version.manifest.as_dict()})


@models.command("label")
@click.argument("name")
@click.argument("label")
@click.argument("number", type=click.IntRange(min=1))
@repo_option
def models_label(name: str, label: str, number: int, repo: str) -> None:
    """Point LABEL of NAME at version NUMBER (e.g. stable -> 3)."""
    from .repository.store import Repository

    Repository(repo).set_label(name, label, number)
    click.echo(f"{name}@{label} -> {name}:{number}")


@models.command("delete")
@click.argument("name")
@click.argument("number", type=click.IntRange(min=1))
@repo_option
def models_delete(name: str, number: int, repo: str) -> None:
    """Unpublish version NUMBER of NAME (refused while a label points at it)."""
    from .repository.store import Repository

    Repository(repo).delete(name, number)
    click.echo(f"deleted {name}:{number}")


master_option = click.option(
    "--master", default=None,
    help="Spark master (default: reuse an active session, else local[*]).",
)


@main.command("train")
@click.argument("spec_path", type=click.Path(exists=True, dir_okay=False))
@click.option("--data", help="Override the spec's data path or URI (.csv or .parquet).")
@click.option("--name", help="Override the model name in the repository.")
@click.option("--label", help="Override the label column.")
@click.option("--estimator", help="Override the estimator type (drops the spec's params).")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Set an estimator parameter; repeat for several (values read as YAML).")
@master_option
@repo_option
def train_cmd(spec_path: str, data: str | None, name: str | None, label: str | None,
              estimator: str | None, params: tuple[str, ...], master: str | None, repo: str) -> None:
    """Train the pipeline described by SPEC_PATH (YAML/JSON), export PMML and publish it."""
    from .spark.spec import parse_param
    from .spark.training import train

    overrides = {"data": data, "name": name, "label": label, "estimator": estimator,
                 "params": dict(parse_param(p) for p in params)}
    version = train(spec_path, repo=repo, master=master, overrides=overrides)
    click.echo(f"published {version.ref}")
    for metric, value in version.manifest.metrics.items():
        click.echo(f"  {metric} = {value:.6g}")


@main.command("convert")
@click.argument("pipeline_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--schema", type=click.Path(exists=True, dir_okay=False),
              help="Input schema: Spark StructType JSON or a {column: type} JSON mapping.")
@click.option("--sample", type=click.Path(exists=True),
              help="Sample data (.csv/.parquet): its schema, and rows for ModelVerification.")
@click.option("--name", required=True, help="Model name in the repository.")
@master_option
@repo_option
def convert_cmd(pipeline_dir: str, schema: str | None, sample: str | None, name: str,
                master: str | None, repo: str) -> None:
    """Export a saved Spark PipelineModel folder to PMML and publish it."""
    from .spark.training import convert

    version = convert(pipeline_dir, schema=schema, sample=sample, name=name, repo=repo, master=master)
    click.echo(f"published {version.ref}")


# --- embeddings: two-towers vectors, their stores, the last layer on top ------------

store_option = click.option(
    "--store", envvar="PMMLKIT_EMBEDDING_STORE", default=None,
    help="Embedding store: a path, file:///path or redis://host:port/db (env PMMLKIT_EMBEDDING_STORE).",
)


@main.group("embeddings", cls=_Group)
def embeddings() -> None:
    """Embedding tables: train with ALS, import, publish to a store, train a ranker on them."""


@embeddings.command("train")
@click.argument("spec_path", type=click.Path(exists=True, dir_okay=False))
@click.option("--no-publish", is_flag=True, help="Only write the Parquet tables, even if the spec names a store.")
def embeddings_train(spec_path: str, no_publish: bool) -> None:
    """Fit user and item embeddings with Spark ALS (SPEC: YAML/JSON) and write/publish the tables."""
    from .embeddings.als import train

    echo_json(train(spec_path, publish=not no_publish))


@embeddings.command("import")
@click.argument("path", type=click.Path(exists=True))
@click.option("--table", required=True, help="Table name in the store.")
@click.option("--id-column", default="id", show_default=True)
@click.option("--vector-column", default=None, help="An array column holding the vector.")
@click.option("--columns", default=None, help="Comma-separated vector columns [default: numeric columns].")
@store_option
def embeddings_import(path: str, table: str, id_column: str, vector_column: str | None,
                      columns: str | None, store: str | None) -> None:
    """Import vectors computed elsewhere (Parquet/CSV) into the store as a new version."""
    from .embeddings.store import open_store
    from .embeddings.tables import read_table

    ids, vectors = read_table(path, id_column=id_column, vector_column=vector_column,
                              columns=columns.split(",") if columns else None)
    echo_json(open_store(store).publish(table, ids, vectors).as_dict())


@embeddings.command("publish")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--keep", default=2, show_default=True, type=click.IntRange(min=1),
              help="Versions kept per table (the current one included).")
@store_option
def embeddings_publish(paths: tuple[str, ...], keep: int, store: str | None) -> None:
    """Publish <table>.parquet files (from `embeddings train`) as new versions, each switched atomically."""
    import os

    from .embeddings.store import open_store
    from .embeddings.tables import read_table

    target = open_store(store)
    for path in paths:
        ids, vectors = read_table(path, id_column="id")
        table = os.path.basename(path).rsplit(".", 1)[0]
        echo_json(target.publish(table, ids, vectors, keep=keep).as_dict())


@embeddings.command("list")
@store_option
def embeddings_list(store: str | None) -> None:
    """Tables of the store with their current version, dimension and count."""
    from .embeddings.store import open_store

    target = open_store(store)
    echo_json([target.info(t).as_dict() for t in target.tables()])


@embeddings.command("train-ranker")
@click.argument("spec_path", type=click.Path(exists=True, dir_okay=False))
@store_option
@repo_option
def embeddings_train_ranker(spec_path: str, store: str | None, repo: str) -> None:
    """Train the last layer (logistic regression / MLP) on embedding features; publish it with its lookups."""
    from .embeddings.ranker import train_ranker

    version = train_ranker(spec_path, repo=repo, store=store)
    click.echo(f"published {version.ref}")
    for metric, value in version.manifest.metrics.items():
        click.echo(f"  {metric} = {value:.6g}")
