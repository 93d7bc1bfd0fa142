"""`pmmlkit score` and `pmmlkit diff`: score a file, compare backends on it."""
from __future__ import annotations

import click

from .options import backend_option, model_option, repo_option


@click.command("score")
@click.argument("input_path", metavar="INPUT")
@model_option()
@click.option("-o", "--output", "output_path", required=True,
              help="Output .csv or .parquet; - for standard output (CSV).")
@click.option("--rejects", "rejects_path", default=None,
              help="Where rejected rows go [default: OUTPUT stem + .rejects.csv].")
@click.option("--keep", multiple=True, help="Input column to pass through (repeatable).")
@click.option("--max-errors", default=0, show_default=True, type=click.IntRange(min=0),
              help="Rejected rows allowed before the exit status is non-zero.")
@click.option("--chunk-rows", default=100_000, show_default=True, type=click.IntRange(min=1),
              help="Rows scored per chunk (memory per chunk is also bounded by bytes).")
@click.option("--max-cell-bytes", default=1 << 20, show_default=True, type=click.IntRange(min=1),
              help="Larger values reject their row (local engine); memory per chunk is also "
                   "bounded by bytes, whatever the file's compression.")
@click.option("--delimiter", default=None,
              help="CSV input's delimiter, one character [default: sniffed from the header: a comma, "
                   "else ; tab or |]. \\t is a tab.")
@click.option("--threads", default=None, type=click.IntRange(min=1),
              help="Chunks scored at once (local engine, native backend) while the next chunk is "
                   "read and the last written; the output is the same for any number "
                   "[default: every core].")
@click.option("--no-verify", is_flag=True, help="Skip the model's ModelVerification check.")
@click.option("--explain", is_flag=True,
              help="Add raw_score, base_score and contribution_<field> columns (native backend; the "
                   "background is the version's background.parquet, or --background).")
@click.option("--background", "background_path", default=None, type=click.Path(dir_okay=False),
              help="CSV/Parquet rows explanations are measured against (at most 200, a seeded sample).")
@click.option("--engine", default="local", show_default=True, type=click.Choice(["local", "spark"]),
              help="local: stream in this process; spark: score on Spark executors (OUTPUT is a "
                   "directory, rejects go to OUTPUT_rejects/).")
@click.option("--master", default=None,
              help="Spark master for --engine spark, e.g. spark://HOST:7077 [default: local[*]].")
@backend_option
@repo_option
def score(input_path: str, model_ref: str, output_path: str, rejects_path: str | None,
          keep: tuple[str, ...], max_errors: int, chunk_rows: int, max_cell_bytes: int, delimiter: str | None,
          threads: int | None, no_verify: bool, engine: str, master: str | None, backend: str, repo: str,
          explain: bool = False, background_path: str | None = None) -> None:
    """Score a CSV or Parquet file in chunks; bad rows go to a rejects file."""
    from ..errors import TooManyRejectsError
    from ..evaluator import Evaluator
    from ..scoring.batch import score_file

    if background_path is not None and not explain:
        raise click.BadParameter("needs --explain", param_hint="--background")
    if engine == "spark":
        for name, value in (("--threads", threads), ("--delimiter", delimiter), ("--explain", explain or None)):
            if value is not None:
                raise click.BadParameter("applies to --engine local", param_hint=name)
        _score_on_spark(input_path, model_ref, output_path, rejects_path=rejects_path, keep=keep,
                        max_errors=max_errors, verify=not no_verify, master=master, backend=backend, repo=repo)
        return
    if master is not None:
        raise click.BadParameter("--master needs --engine spark", param_hint="--master")
    # The pipeline scores chunks in parallel: one thread per chunk, not a split of each chunk too.
    ev = Evaluator.load(model_ref, backend=backend, repo=repo, verify=not no_verify, threads=1,
                        background=background_path)
    try:
        s = score_file(ev, input_path, output_path, rejects_path=rejects_path, keep=keep,
                       max_errors=max_errors, chunk_rows=chunk_rows, max_cell_bytes=max_cell_bytes,
                       threads=threads, delimiter="\t" if delimiter == "\\t" else delimiter, explain=explain)
    except TooManyRejectsError as e:
        click.echo(f"scored with {ev.backend_name}: see {output_path}", err=True)
        raise click.ClickException(str(e)) from None
    _echo_summary(s, err=output_path == "-")  # the results own standard output


def _score_on_spark(input_path: str, model_ref: str, output_path: str, *, master: str | None,
                    repo: str, **options) -> None:
    from ..evaluator import read_ref
    from ..extras import require_extra
    from ..scoring.spark import score_spark
    from ..spark.session import spark_session

    require_extra("spark", what="pmmlkit score --engine spark")
    raw, source, _ = read_ref(model_ref, repo=repo)
    with spark_session(master=master, app_name="pmmlkit-score") as spark:
        s = score_spark(raw, input_path, output_path, spark=spark, source=source, **options)
    _echo_summary(s)


def _echo_summary(s, *, err: bool = False) -> None:
    """Row counts, throughput and where the output (and any rejects) went, for either engine."""
    if getattr(s, "input_note", ""):
        click.echo(s.input_note, err=err)
    click.echo(f"{s.input_rows} rows in, {s.output_rows} scored, {s.rejected_rows} rejected "
               f"in {s.seconds:.2f}s ({s.rows_per_second:,.0f} rows/s, backend {s.backend})", err=err)
    click.echo(f"output: {s.output_path}" + (f"\nrejects: {s.rejects_path}" if s.rejects_path else ""), err=err)


@click.command("diff")
@model_option()
@click.argument("data_path", metavar="[DATA]", required=False)
@click.option("--backends", default="jpmml,native,pypmml", show_default=True,
              help="Comma-separated backends; the first is the reference (JPMML-Evaluator by default).")
@click.option("--rtol", default=1e-9, show_default=True, type=float, help="Relative tolerance.")
@click.option("--rows", default=100_000, show_default=True, type=click.IntRange(min=1),
              help="Compare at most this many rows.")
@click.option("--examples", default=5, show_default=True, type=click.IntRange(min=0),
              help="Differing rows to show, with their inputs.")
@click.option("--seed", default=0, show_default=True, type=int,
              help="Seed of the random rows generated when no DATA is given.")
@repo_option
def diff(model_ref: str, data_path: str | None, backends: str, rtol: float, rows: int, examples: int,
         seed: int, repo: str) -> None:
    """Score DATA with several backends and report where they disagree; exit 1 if they do.

    Without DATA, rows are generated from the model itself: every category, interval
    bounds, both sides of every split threshold, missing and invalid values.
    """
    import pandas as pd

    from ..evaluator import read_ref
    from ..evaluator.agreement import compare

    names = tuple(b.strip() for b in backends.split(",") if b.strip())
    if len(names) < 2:
        raise click.BadParameter("name at least two backends", param_hint="--backends")
    raw, source, _ = read_ref(model_ref, repo=repo)
    data = _diff_rows(raw, source, data_path, rows=rows, seed=seed)
    report = compare(raw, data, backends=names, rtol=rtol, examples=examples, source=source)
    click.echo(f"{source}: {report.rows} rows, reference backend {report.reference}")
    for name, why in report.refused.items():
        click.echo(f"not compared: {name} refuses this document: {why}")
    for d in report.declared:
        click.echo(f"known difference: {d}")
    click.echo(report.table())
    for s in report.skipped:
        click.echo(f"not compared: {s}")
    if not report.agrees:
        with pd.option_context("display.max_columns", None, "display.width", 200):
            click.echo(f"first differing rows:\n{report.examples.to_string()}")
        raise click.ClickException(f"backends disagree beyond rtol={rtol}")
    click.echo("all backends agree")


def _diff_rows(raw: bytes, source: str, data_path: str | None, *, rows: int, seed: int):
    """The rows to compare on: DATA as `pmmlkit score` reads it, or rows probing the model's edges."""
    import pandas as pd

    if data_path is None:
        from ..evaluator.probe import probe_rows
        from ..pmml import loader

        data = probe_rows(loader.parse(raw, source=source), seed=seed, max_rows=rows)
        click.echo(f"no DATA: {len(data)} rows generated from the model (categories, bounds, split "
                   f"thresholds, missing and invalid values, seed {seed})")
        return data
    from ..formats import data_format

    if data_format(data_path, what="DATA") == "parquet":
        return pd.read_parquet(data_path).head(rows)
    from ..scoring.csvsource import read_header

    # as `pmmlkit score` reads it: text, typed by the input contract, the delimiter sniffed
    return pd.read_csv(data_path, dtype=str, keep_default_na=False, nrows=rows,
                       sep=read_header(data_path, None).delimiter)
