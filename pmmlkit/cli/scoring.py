"""`pmmlkit score` and `pmmlkit diff`: score a file, compare backends on it."""
from __future__ import annotations

import click

from .options import backend_option, repo_option


@click.command("score")
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
    from ..errors import TooManyRejectsError
    from ..evaluator import Evaluator
    from ..scoring.batch import score_file

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
    _echo_summary(s)


def _score_on_spark(input_path: str, model_ref: str, output_path: str, *, master: str | None,
                    repo: str, **options) -> None:
    from ..evaluator import read_ref
    from ..scoring.spark import score_spark
    from ..spark.session import active_session, get_session

    raw, source, _ = read_ref(model_ref, repo=repo)
    spark = active_session() if master is None else None
    started = spark is None
    spark = spark or get_session(master=master or "local[*]", app_name="pmmlkit-score")
    try:
        s = score_spark(raw, input_path, output_path, spark=spark, source=source, **options)
    finally:
        if started:
            spark.stop()
    _echo_summary(s)


def _echo_summary(s) -> None:
    """Row counts, throughput and where the output (and any rejects) went, for either engine."""
    click.echo(f"{s.input_rows} rows in, {s.output_rows} scored, {s.rejected_rows} rejected "
               f"in {s.seconds:.2f}s ({s.rows_per_second:,.0f} rows/s, backend {s.backend})")
    click.echo(f"output: {s.output_path}" + (f"\nrejects: {s.rejects_path}" if s.rejects_path else ""))


@click.command("diff")
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

    from ..evaluator import read_ref
    from ..evaluator.agreement import compare

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
