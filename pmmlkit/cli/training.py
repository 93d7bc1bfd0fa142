"""`pmmlkit train`, `pmmlkit convert` and `pmmlkit jars`: Spark pipelines to published PMML."""
from __future__ import annotations

import click

from .options import echo_published, needs_extra, repo_option, verbose_option

master_option = click.option(
    "--master", default=None,
    help="Spark master (default: reuse an active session, else local[*]).",
)


@click.command("train")
@click.argument("spec_path", type=click.Path(exists=True, dir_okay=False))
@click.option("--data", help="Override the spec's data path or URI (.csv or .parquet).")
@click.option("--name", help="Override the model name in the repository.")
@click.option("--label", help="Override the label column.")
@click.option("--estimator", help="Override the estimator type (drops the spec's params).")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Set an estimator parameter; repeat for several (values read as YAML). "
                   "Names and types are checked before Spark starts.")
@click.option("--description", help="What this version is, for `models list NAME` and `models show`.")
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE",
              help="Tag the published version; repeat for several (e.g. --tag team=ads).")
@master_option
@repo_option
@verbose_option
@needs_extra("spark")
def train_cmd(spec_path: str, data: str | None, name: str | None, label: str | None,
              estimator: str | None, params: tuple[str, ...], description: str | None,
              tags: tuple[str, ...], master: str | None, repo: str) -> None:
    """Train the pipeline described by SPEC_PATH (YAML/JSON), export PMML and publish it.

    The data is checked against the spec before fitting (text in a numeric column, a text
    label for a regressor): a problem is one line naming the column, a row and its value.
    A terminal shows Spark's progress. The manifest records the description, tags, a run
    id, the git commit of the spec's folder and an input example from the data.
    """
    from ..spark.provenance import parse_tags
    from ..spark.spec import parse_param
    from ..spark.training import train

    overrides = {"data": data, "name": name, "label": label, "estimator": estimator,
                 "params": dict(parse_param(p) for p in params)}
    version = train(spec_path, repo=repo, master=master, overrides=overrides, description=description,
                    tags=parse_tags(tags))
    echo_published(version)


@click.command("convert")
@click.argument("pipeline_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--schema", type=click.Path(exists=True, dir_okay=False),
              help="Input schema: Spark StructType JSON or a {column: type} JSON mapping.")
@click.option("--sample", type=click.Path(exists=True),
              help="Sample data (.csv/.parquet): its schema, and rows for ModelVerification.")
@click.option("--name", required=True, help="Model name in the repository.")
@master_option
@repo_option
@verbose_option
@needs_extra("spark")
def convert_cmd(pipeline_dir: str, schema: str | None, sample: str | None, name: str,
                master: str | None, repo: str) -> None:
    """Export a saved Spark PipelineModel folder to PMML and publish it."""
    from ..spark.training import convert

    version = convert(pipeline_dir, schema=schema, sample=sample, name=name, repo=repo, master=master)
    click.echo(f"published {version.ref}")


@click.command("jars")
@click.option("--dest", default="jars", show_default=True, type=click.Path(file_okay=False),
              help="Folder to copy the jars into.")
@needs_extra("spark")
def jars_cmd(dest: str) -> None:
    """Copy the jars a Spark cluster needs (JPMML-SparkML + dependencies) into DEST; print --jars."""
    from ..jars import EXECUTOR_NOTE, collect

    got = collect(dest=dest)
    click.echo(f"{len(got.jars)} jars in {dest} ({got.copied} copied, the rest up to date)")
    click.echo(f"note: {EXECUTOR_NOTE}")
    click.echo(f"--jars {got.jars_argument}")
