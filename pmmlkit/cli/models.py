"""`pmmlkit inspect`, `pmmlkit validate` and the `pmmlkit models` group (the versioned repository)."""
from __future__ import annotations

import click

from .options import ErrorBoundaryGroup, backend_option, echo_json, model_option, repo_option


@click.command("inspect")
@model_option()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@repo_option
def inspect_cmd(model_ref: str, as_json: bool, repo: str) -> None:
    """Model type, input fields, targets and outputs of a PMML file or repository model."""
    from ..evaluator import read_ref
    from ..pmml import loader

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
@repo_option
def models_list(repo: str) -> None:
    """A table of models: latest version, version count, labels, created.

    An unreadable entry (corrupt manifest.json or labels.json, a linked version folder)
    affects only itself: it is listed under the table, on stderr.
    """
    from ..errors import IntegrityError
    from ..repository.store import Repository

    repository = Repository(repo)
    rows = [("NAME", "LATEST", "VERSIONS", "LABELS", "CREATED")]
    problems: list[str] = []
    for name in repository.models():
        scan = repository.scan_versions(name)
        problems += [f"{p.ref}: {p.error}" for p in scan.problems]
        if not scan.versions and not scan.problems:  # deleted since models() listed it
            continue
        try:
            labels = ",".join(f"{k}={v}" for k, v in sorted(repository.labels(name).items())) or "-"
        except IntegrityError as e:
            labels = "(unreadable)"
            problems.append(str(e))
        latest = scan.versions[-1] if scan.versions else None
        rows.append((name, str(latest.number) if latest else "-", str(len(scan.versions)), labels,
                     latest.manifest.created if latest else "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)


@models_group.command("show")
@model_option("NAME (latest version), NAME:VERSION or NAME@LABEL in the repository (--repo).")
@repo_option
def models_show(model_ref: str, repo: str) -> None:
    """The manifest of a published version, as JSON."""
    from ..repository.store import Repository

    version = Repository(repo).resolve(model_ref)
    echo_json({"name": version.name, "version": version.number, "uri": version.uri,
               **version.manifest.as_dict()})


@models_group.command("label")
@click.argument("target", metavar="NAME@LABEL")
@click.argument("rest", nargs=-1, metavar="VERSION", required=True)
@repo_option
def models_label(target: str, rest: tuple[str, ...], repo: str) -> None:
    """Point NAME@LABEL at VERSION: `models label ctr@stable 3` (or `models label ctr stable 3`).

    A corrupt labels.json is kept as labels.json.corrupt-TIME and replaced, with a warning.
    """
    from ..repository.store import Repository, parse_ref

    if len(rest) == 2:  # the older NAME LABEL VERSION form
        target, rest = f"{target}@{rest[0]}", rest[1:]
    name, _, label = parse_ref(target)
    if label is None or len(rest) != 1:
        raise click.UsageError("expected NAME@LABEL VERSION, e.g. `pmmlkit models label ctr@stable 3`")
    number = _version_number(rest[0])
    Repository(repo).set_label(name, label, number)
    click.echo(f"{name}@{label} -> {name}:{number}")


@models_group.command("delete")
@click.argument("target", metavar="NAME:VERSION")
@click.argument("rest", nargs=-1, metavar="")
@repo_option
def models_delete(target: str, rest: tuple[str, ...], repo: str) -> None:
    """Unpublish NAME:VERSION (or NAME VERSION); refused while a label points at it."""
    from ..repository.store import Repository, parse_ref

    if len(rest) == 1:  # the older NAME VERSION form
        target = f"{target}:{_version_number(rest[0])}"
    name, number, _ = parse_ref(target)
    if number is None or len(rest) > 1:
        raise click.UsageError("expected NAME:VERSION, e.g. `pmmlkit models delete ctr:2`")
    Repository(repo).delete(name, number)
    click.echo(f"deleted {name}:{number}")


def _version_number(text: str) -> int:
    """A VERSION argument: a whole number from 1."""
    if not text.isdigit() or int(text) < 1:
        raise click.BadParameter(f"{text!r} is not a version number (1, 2, 3...)", param_hint="VERSION")
    return int(text)
