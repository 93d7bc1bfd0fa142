"""Shared pieces of the command line: common options, the error boundary, output helpers."""
from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from ..errors import PmmlkitError
from ..extras import extra_of_module, missing_extra, require_extra

F = TypeVar("F", bound=Callable[..., Any])

MODEL_HELP = ("The model: a .pmml path, NAME (latest version), NAME:VERSION or NAME@LABEL "
              "in the repository (--repo).")

repo_option = click.option(
    "--repo", envvar="PMMLKIT_REPO", default="./models", show_default=True,
    help="Model repository root: a path or fsspec URL (env PMMLKIT_REPO).",
)

backend_option = click.option(
    "--backend", default="auto", show_default=True,
    type=click.Choice(["auto", "native", "jpmml", "pypmml"]),
    help="Evaluator backend; auto = native when the document compiles, else jpmml "
         "(jpmml and pypmml need the JVM extra).",
)


def _set_verbose(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        from ..spark.session import VERBOSE_ENV  # here, not at the top: `pmmlkit score` starts faster

        os.environ[VERBOSE_ENV] = "1"


verbose_option = click.option(
    "-v", "--verbose", is_flag=True, expose_value=False, is_eager=True, callback=_set_verbose,
    help="On failure print the full trace (Python, Spark and Java), not only the one-line error; "
         "Spark logs warnings.",
)


def print_trace(e: BaseException) -> None:
    """The whole chain behind a one-line error, including what ``raise ... from None`` hid."""
    import traceback

    e.__suppress_context__ = False
    traceback.print_exception(e, file=sys.stderr)


def model_option(help: str = MODEL_HELP) -> Callable[[F], F]:
    """``-m/--model REF``: how every command names its model (REF as ``Evaluator.load`` reads it)."""
    return click.option("-m", "--model", "model_ref", required=True, metavar="REF", help=help)


def needs_extra(extra: str) -> Callable[[F], F]:
    """Refuse a command in one line, naming the extra to install, before it does anything."""
    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            require_extra(extra, what=click.get_current_context().command_path)
            return fn(*args, **kwargs)
        return wrapper  # type: ignore[return-value]
    return decorate


class ErrorBoundaryGroup(click.Group):
    """A click group that turns any PmmlkitError raised by a command into a clean ClickException.

    An optional dependency that is not installed (``import starlette`` without the serve
    extra) becomes the same one line that names the extra to install.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PmmlkitError as e:
            from ..spark.session import verbose  # no pyspark import, but not needed before a failure

            if verbose():
                print_trace(e)
            raise click.ClickException(str(e)) from None
        except ModuleNotFoundError as e:
            extra = extra_of_module(e.name)
            if extra is None:
                raise
            command = " ".join(filter(None, (ctx.command_path, ctx.invoked_subcommand)))
            raise click.ClickException(str(missing_extra(extra, what=command))) from None


def echo_table(rows: Sequence[Sequence[str]]) -> None:
    """Left-aligned columns, two spaces apart; the first row is the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


def echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, sort_keys=False, default=str))


def echo_published(version: Any) -> None:
    """The ref of a freshly published model version, then its metrics."""
    click.echo(f"published {version.ref}")
    for metric, value in version.manifest.metrics.items():
        click.echo(f"  {metric} = {value:.6g}")
