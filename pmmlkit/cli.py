"""Command line: thin shells over library calls. Parse, call, map errors."""
from __future__ import annotations

import functools
import json
import sys

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
