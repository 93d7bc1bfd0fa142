"""Command line: thin shells over library calls. Parse, call, map errors.

One module per group of commands; this one holds the top-level group and wires them in.
"""
from __future__ import annotations

import click

from . import embeddings, models, scoring, serving, training
from .options import ErrorBoundaryGroup

__all__ = ["main"]


@click.group(cls=ErrorBoundaryGroup)
@click.version_option(package_name="pmmlkit")
def main() -> None:
    """pmmlkit: Spark ML pipelines to PMML, versioned and scored."""


for _command in (scoring.score, scoring.diff,
                 models.inspect_cmd, models.validate, models.models_group,
                 serving.serve_cmd,
                 training.train_cmd, training.convert_cmd, training.jars_cmd,
                 embeddings.embeddings_group):
    main.add_command(_command)
del _command
