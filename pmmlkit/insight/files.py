"""Writing a report to a folder: page, JSON and charts, each file atomically (temp, then rename)."""
from __future__ import annotations

import json
import os
import re
import uuid
from typing import Any

from ..durable import replace_synced
from ..errors import OutputError
from . import page, plots
from .drift import DriftReport


def write_files(dest: str, files: dict[str, bytes]) -> list[str]:
    """Write ``files`` (relative name -> bytes) under ``dest``; returns their paths."""
    written = []
    try:
        for name, data in files.items():
            path = os.path.join(dest, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            replace_synced(path, data, tmp=os.path.join(os.path.dirname(path), f".tmp-{uuid.uuid4().hex}"))
            written.append(path)
    except OSError as e:
        raise OutputError(f"cannot write the report into {dest}: {e.strerror or e}") from None
    return written


def drift_files(report: DriftReport, *, title: str) -> dict[str, bytes]:
    """drift.json, drift.html and one SVG chart per drifted field."""
    charts = {f.name: plots.compare_bars(f"{f.name}: PSI {f.psi:.3f}", f.labels, f.expected, f.actual)
              for f in report.drifted}
    summary = [{"field": f.name, "PSI": f.psi, "chi-square p": f.p_value, "missing": f.missing_rate,
                "missing (training)": f.training_missing_rate, "unseen values": sum(f.unseen.values()),
                "drifted": f.drifted(report.threshold)} for f in report.fields]
    verdict = (f"{len(report.drifted)} of {len(report.fields)} fields drifted (PSI > {report.threshold:g})"
               if report.drifted else f"no field drifted (every PSI <= {report.threshold:g})")
    sections = [page.Section("Summary", page.paragraph(verdict) + page.table(summary, flag="drifted"))]
    for f in report.drifted:
        body = page.figure(charts[f.name], f"{f.name}: training vs batch shares")
        if f.unseen:
            top = sorted(f.unseen.items(), key=lambda kv: -kv[1])[:10]
            body += page.paragraph("values never seen in training: " + ", ".join(f"{k} ({v})" for k, v in top))
        sections.append(page.Section(f.name, body))
    html = page.render(title, sections, subtitle=f"{report.rows} rows compared with the profile of "
                       f"{report.training_rows} training rows")
    out: dict[str, bytes] = {"drift.json": _json(report.as_dict()), "drift.html": html.encode("utf-8")}
    for i, (name, svg) in enumerate(charts.items()):
        out[f"plots/drift-{i:02d}-{_slug(name)}.svg"] = svg.encode("utf-8")
    return out


def _json(obj: Any) -> bytes:
    return (json.dumps(obj, indent=1, allow_nan=False, default=float) + "\n").encode("utf-8")


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:80] or "field"
