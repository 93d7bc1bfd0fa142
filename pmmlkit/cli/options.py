"""Shared pieces of the command line: common options, the error boundary, output helpers."""
from __future__ import annotations

import json

import click

from ..errors import PmmlkitError

repo_option = click.option(
    "--repo", envvar="PMMLKIT_REPO", default="./models", show_default=True,
    help="Model repository root: a path or fsspec URL (env PMMLKIT_REPO).",
)

backend_option = click.option(
    "--backend", default="auto", show_default=True,
    type=click.Choice(["auto", "native", "jpmml", "pypmml"]),
    help="Evaluator backend; auto = native when the document compiles, else jpmml.",
)


class ErrorBoundaryGroup(click.Group):
    """A click group that turns any PmmlkitError raised by a command into a clean ClickException."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except PmmlkitError as e:
            raise click.ClickException(str(e)) from None


def echo_json(obj) -> None:
    click.echo(json.dumps(obj, indent=2, sort_keys=False, default=str))


def echo_published(version) -> None:
    """The ref of a freshly published model version, then its metrics."""
    click.echo(f"published {version.ref}")
    for metric, value in version.manifest.metrics.items():
        click.echo(f"  {metric} = {value:.6g}")
