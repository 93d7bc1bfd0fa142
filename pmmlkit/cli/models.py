"""`pmmlkit inspect`, `pmmlkit validate` and the `pmmlkit models` group (the versioned repository)."""
from __future__ import annotations

import dataclasses
from typing import Any

import click

from .options import ErrorBoundaryGroup, backend_option, echo_json, echo_table, model_option, repo_option


@click.command("inspect")
@model_option()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@repo_option
def inspect_cmd(model_ref: str, as_json: bool, repo: str) -> None:
    """Model type, input fields, targets and outputs of a PMML file or repository model."""
    from ..evaluator import read_ref
    from ..evaluator.names import result_schema
    from ..pmml import loader

    raw, source, _ = read_ref(model_ref, repo=repo)
    s = loader.parse(raw, source=source).schema
    results = result_schema(s)  # the names every output uses: predicted_<target>, then the outputs
    info = {"source": source, "model_type": s.model_type, "function": s.function_name,
            "inputs": [f.as_dict() for f in s.inputs], "targets": [f.as_dict() for f in s.targets],
            "outputs": [f.as_dict() for f in s.outputs], "results": results,
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
    click.echo("result columns: " + ", ".join(r["name"] for r in results))
    click.echo(f"verification records: {info['verification_records']}")


@click.command("validate")
@model_option()
@backend_option
@repo_option
def validate(model_ref: str, backend: str, repo: str) -> None:
    """Run every check the loader runs (safety, schema, ModelVerification); exit 1 on failure."""
    from ..evaluator import Evaluator, read_ref
    from ..evaluator.verification import findings
    from ..pmml import loader

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


@click.group("models", cls=ErrorBoundaryGroup)
def models_group() -> None:
    """List, inspect, label and delete published model versions."""


@models_group.command("list")
@click.argument("name", required=False)
@repo_option
def models_list(name: str | None, repo: str) -> None:
    """A table of models (latest version, version count, labels, created); with NAME, its versions.

    NAME's table has one row per version: created, labels, key metrics, rows, tags and
    description. A repository root that does not exist (a typo, a missing bucket) is an
    error, not an empty table. An unreadable entry (corrupt manifest.json or labels.json,
    a linked version folder) affects only itself: it is listed under the table, on stderr.
    """
    from ..repository.store import open_repository

    repository = open_repository(repo, must_exist=True)
    rows, problems = _versions_table(repository, name) if name else _models_table(repository)
    echo_table(rows)
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)


def _models_table(repository: Any) -> tuple[list[tuple[str, ...]], list[str]]:
    rows: list[tuple[str, ...]] = [("NAME", "LATEST", "VERSIONS", "LABELS", "CREATED")]
    problems: list[str] = []
    for name in repository.models():
        scan = repository.scan_versions(name)
        problems += [f"{p.ref}: {p.error}" for p in scan.problems]
        if not scan.versions and not scan.problems:  # deleted since models() listed it
            continue
        labels, problem = _labels(repository, name)
        problems += problem
        text = ",".join(f"{k}={v}" for k, v in sorted(labels.items())) if labels is not None else "(unreadable)"
        latest = scan.versions[-1] if scan.versions else None
        rows.append((name, str(latest.number) if latest else "-", str(len(scan.versions)), text or "-",
                     latest.manifest.created if latest else "-"))
    return rows, problems


_KEY_METRICS = 4  # metric columns shown by `models list NAME`; `models show` has them all


def _versions_table(repository: Any, name: str) -> tuple[list[tuple[str, ...]], list[str]]:
    from ..errors import ModelNotFoundError

    scan = repository.scan_versions(name)
    if not scan.versions and not scan.problems:
        raise ModelNotFoundError(f"no model {name!r} in {repository.root}; models: "
                                 f"[{', '.join(repository.models())}]")
    labels, problems = _labels(repository, name)
    problems += [f"{p.ref}: {p.error}" for p in scan.problems]
    by_version: dict[int, list[str]] = {}
    for label, number in sorted((labels or {}).items()):
        by_version.setdefault(number, []).append(label)
    metrics = sorted({m for v in scan.versions for m in v.manifest.metrics})[:_KEY_METRICS]
    rows: list[tuple[str, ...]] = [("VERSION", "CREATED", "LABELS", *(m.upper() for m in metrics),
                                    "ROWS", "TAGS", "DESCRIPTION")]
    for v in scan.versions:
        m = v.manifest
        values = [f"{m.metrics[k]:.4g}" if isinstance(m.metrics.get(k), (int, float)) else "-" for k in metrics]
        tags = ",".join(f"{k}={t}" for k, t in sorted(m.tags.items())) or "-"
        rows.append((str(v.number), m.created, ",".join(by_version.get(v.number, [])) or "-", *values,
                     str(m.row_count) if m.row_count is not None else "-", tags, _short(m.description)))
    return rows, problems


def _labels(repository: Any, name: str) -> tuple[dict[str, int] | None, list[str]]:
    """The model's labels, or None and the problem when labels.json is unreadable."""
    from ..errors import IntegrityError

    try:
        return repository.labels(name), []
    except IntegrityError as e:
        return None, [str(e)]


def _short(text: str | None, width: int = 40) -> str:
    if not text:
        return "-"
    line = " ".join(text.split())
    return line if len(line) <= width else line[:width - 3] + "..."


@models_group.command("show")
@model_option("NAME (latest version), NAME:VERSION or NAME@LABEL in the repository (--repo).")
@repo_option
def models_show(model_ref: str, repo: str) -> None:
    """The manifest of a published version, as JSON."""
    from ..repository.store import open_repository

    version = open_repository(repo, must_exist=True).resolve(model_ref)
    echo_json({"name": version.name, "version": version.number, "uri": version.uri,
               **version.manifest.as_dict()})


@models_group.command("label")
@click.argument("target", metavar="NAME@LABEL")
@click.argument("rest", nargs=-1, metavar="[VERSION]")
@click.option("--remove", is_flag=True, help="Take the label off instead (no VERSION).")
@repo_option
def models_label(target: str, rest: tuple[str, ...], remove: bool, repo: str) -> None:
    """Point NAME@LABEL at VERSION: `models label ctr@stable 3` (or `models label ctr stable 3`).

    `models label ctr@stable --remove` takes a label off. Rolling back is moving a label:
    `models label ctr@serving 2`; a server serving ctr@serving follows it. A corrupt
    labels.json is kept as labels.json.corrupt-TIME and replaced, with a warning.
    """
    from ..repository.store import open_repository, parse_ref

    if "@" not in target and len(rest) == (1 if remove else 2):  # the older NAME LABEL [VERSION] form
        target, rest = f"{target}@{rest[0]}", rest[1:]
    name, _, label = parse_ref(target)
    usage = ("expected NAME@LABEL --remove, e.g. `pmmlkit models label ctr@stable --remove`" if remove else
             "expected NAME@LABEL VERSION, e.g. `pmmlkit models label ctr@stable 3`")
    if label is None or len(rest) != (0 if remove else 1):
        raise click.UsageError(usage)
    repository = open_repository(repo, must_exist=True)
    if remove:
        number = repository.remove_label(name, label)
        click.echo(f"removed {name}@{label} (was {name}:{number})")
        return
    number = _version_number(rest[0])
    repository.set_label(name, label, number)
    click.echo(f"{name}@{label} -> {name}:{number}")


@models_group.command("delete")
@click.argument("target", metavar="NAME:VERSION")
@click.argument("rest", nargs=-1, metavar="")
@repo_option
def models_delete(target: str, rest: tuple[str, ...], repo: str) -> None:
    """Unpublish NAME:VERSION (or NAME VERSION); refused while a label points at it."""
    from ..repository.store import open_repository, parse_ref

    if len(rest) == 1:  # the older NAME VERSION form
        target = f"{target}:{_version_number(rest[0])}"
    name, number, _ = parse_ref(target)
    if number is None or len(rest) > 1:
        raise click.UsageError("expected NAME:VERSION, e.g. `pmmlkit models delete ctr:2`")
    open_repository(repo, must_exist=True).delete(name, number)
    click.echo(f"deleted {name}:{number}")


@models_group.command("compare")
@click.argument("ref_a", metavar="A")
@click.argument("ref_b", metavar="B")
@click.argument("data", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--rows", "max_rows", default=100_000, show_default=True, type=click.IntRange(min=1),
              help="Compare predictions on at most this many rows of DATA.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@backend_option
@repo_option
def models_compare(ref_a: str, ref_b: str, data: str | None, max_rows: int, as_json: bool,
                   backend: str, repo: str) -> None:
    """Two versions side by side (`models compare ctr:1 ctr:3 [DATA]`): manifests and metrics.

    Given DATA (CSV or Parquet), both versions score it and, per output, the table shows
    the share of rows whose value changed and the mean |B - A| of numeric outputs.
    """
    from ..evaluator import Evaluator
    from ..repository import compare
    from ..repository.store import open_repository

    repository = open_repository(repo, must_exist=True)
    a, b = repository.resolve(ref_a), repository.resolve(ref_b)
    rows = compare.manifest_rows(a, b)
    diff = None
    if data is not None:
        frame = compare.read_data(data, max_rows=max_rows)
        ev_a, ev_b = (Evaluator.from_bytes(repository.read_pmml(v), backend=backend, source=v.ref, version=v)
                      for v in (a, b))
        diff = compare.compare_predictions(ev_a, ev_b, frame)
    if as_json:
        echo_json({"a": a.ref, "b": b.ref, "manifest": [dict(zip(("what", "a", "b"), r)) for r in rows],
                   "predictions": None if diff is None else dataclasses.asdict(diff)})
        return
    echo_table([("", a.ref, b.ref), *rows])
    if diff is not None:
        _echo_prediction_diff(diff, data=str(data), a=a.ref, b=b.ref)


def _echo_prediction_diff(diff: Any, *, data: str, a: str, b: str) -> None:
    click.echo(f"\npredictions on {data}: {diff.compared} of {diff.rows} rows scored by both "
               f"({diff.rejected[0]} rejected by {a}, {diff.rejected[1]} by {b})")
    echo_table([("OUTPUT", "CHANGED", "MEAN |DELTA|"),
                *((o.name, f"{o.changed:.2%}", "-" if o.mean_abs_delta is None else f"{o.mean_abs_delta:.6g}")
                  for o in diff.outputs)])
    for ref, names in zip((a, b), diff.only_in):
        if names:
            click.echo(f"only {ref} has: {', '.join(names)}")


def _version_number(text: str) -> int:
    """A VERSION argument: a whole number from 1."""
    if not text.isdigit() or int(text) < 1:
        raise click.BadParameter(f"{text!r} is not a version number (1, 2, 3...)", param_hint="VERSION")
    return int(text)
