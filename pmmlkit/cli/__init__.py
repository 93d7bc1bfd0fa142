"""Command line: thin shells over library calls. Parse, call, map errors.

One module per group of commands; this one holds the top-level group and wires them in.
"""
from __future__ import annotations

import click

from . import embeddings, insight, models, scoring, serving, training
from .options import ErrorBoundaryGroup, verbose_option

__all__ = ["main"]


@click.group(cls=ErrorBoundaryGroup)
@click.version_option(package_name="pmmlkit")
@verbose_option
def main() -> None:
    """pmmlkit: Spark ML pipelines to PMML, versioned and scored.

    Commands that read a model (score, diff, inspect, validate, models show) take it as
    -m/--model REF: a .pmml path, NAME, NAME:VERSION or NAME@LABEL. The core install
    (pip install pmmlkit) scores, inspects, validates, diffs and manages models; train,
    convert, jars and embeddings training need pmmlkit[spark], serve needs pmmlkit[serve],
    --backend jpmml and pypmml need pmmlkit[jvm].

    \b
    Shell completion (in ~/.bashrc; for zsh or fish use zsh_source or fish_source):
      eval "$(_PMMLKIT_COMPLETE=bash_source pmmlkit)"
    """


for _command in (scoring.score, scoring.diff,
                 models.inspect_cmd, models.validate, models.models_group,
                 serving.serve_cmd,
                 training.train_cmd, training.convert_cmd, training.jars_cmd,
                 embeddings.embeddings_group, insight.drift_cmd):
    main.add_command(_command)
del _command
models.models_group.add_command(insight.report_cmd)
