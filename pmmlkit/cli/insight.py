"""`pmmlkit drift`: a batch, or the server's request logs, against a model's training profile."""
from __future__ import annotations

import os
from pathlib import Path

import click

from ..insight.defaults import DEFAULT_THRESHOLD
from .options import model_option, repo_option

DRIFT_EXIT = 3  # apart from 1 (an error) and 2 (a usage error): scripts can tell "drifted" apart


@click.command("drift")
@model_option()
@click.argument("data")
@click.option("--profile", "profile_path", default=None, metavar="PATH",
              help="A profile.json to compare with [default: the one trained with the model's version].")
@click.option("--threshold", type=float, default=DEFAULT_THRESHOLD, show_default=True,
              help="PSI above which a field has drifted; any drifted field makes the exit code 3.")
@click.option("-o", "--output", "output_dir", default=None, metavar="DIR",
              help="Where drift.html, drift.json and the charts go [default: drift-NAME-VERSION].")
@click.option("--limit", type=int, default=None, help="Compare only the first N rows of DATA.")
@repo_option
def drift_cmd(model_ref: str, data: str, profile_path: str | None, threshold: float, output_dir: str | None,
              limit: int | None, repo: str) -> None:
    """Compare DATA with the training data of a model: PSI and a chi-square test per input field.

    DATA is a CSV or Parquet file, or a folder of them or of `pmmlkit serve --log-requests` logs.
    Exits 3 when a field drifted (PSI above --threshold), 0 when none did, 1 on an error.
    """
    from ..insight.batches import read_batch
    from ..insight.drift import drift
    from ..insight.files import drift_files, write_files
    from ..insight.profile import Profile
    from ..insight.store import model_profile

    if profile_path is not None:
        with open(profile_path, "rb") as fh:
            profile, ref = Profile.from_json(fh.read(), source=profile_path), model_ref
    else:
        profile, ref = model_profile(model_ref, repo=repo)
    report = drift(profile, read_batch(data, limit=limit), threshold=threshold)
    dest = output_dir or f"drift-{ref.replace(':', '-').replace('@', '-').replace(os.sep, '_')}"
    write_files(dest, drift_files(report, title=f"{ref}: drift of {os.path.basename(data.rstrip('/'))}"))
    for f in report.fields:
        flag = "DRIFT" if f.drifted(threshold) else "ok"
        unseen = f", {sum(f.unseen.values())} unseen value(s)" if f.unseen else ""
        click.echo(f"{flag:5}  {f.name}: PSI {f.psi:.4f}, p {f.p_value:.3g}{unseen}")
    click.echo(f"{len(report.drifted)} of {len(report.fields)} field(s) drifted; report: "
               f"{os.path.join(dest, 'drift.html')}")
    if report.drifted:
        raise SystemExit(DRIFT_EXIT)


@click.command("report")
@model_option()
@click.option("-o", "--output", "output_path", default=None, metavar="FILE",
              help="Where to write the report [default: NAME-VERSION-report.html in the current folder].")
@click.option("--open", "open_it", is_flag=True, help="Open the written report in the default browser.")
@repo_option
def report_cmd(model_ref: str, output_path: str | None, open_it: bool, repo: str) -> None:
    """Write the training report published with a version (one self-contained HTML file)."""
    from ..insight.files import write_files
    from ..insight.store import model_report

    page, ref = model_report(model_ref, repo=repo)
    dest = output_path or f"{ref.replace(':', '-')}-report.html"
    write_files(os.path.dirname(os.path.abspath(dest)), {os.path.basename(dest): page})
    click.echo(f"{ref}: training report written to {dest}")
    if open_it:
        import webbrowser

        webbrowser.open(Path(dest).resolve().as_uri())
