"""Self-contained HTML pages: inline CSS, images embedded as SVG. No network, no CDN, no script."""
from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;
color:#222;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
td,th{border:1px solid #ddd;padding:.25rem .6rem;text-align:right}th{background:#f4f4f4}
td:first-child,th:first-child{text-align:left}.bad{color:#b00020;font-weight:600}
.note{color:#555;font-size:.9rem}figure{margin:1rem 0}img{max-width:100%}
.gallery{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:flex-start}
"""


@dataclass(frozen=True)
class Section:
    heading: str
    body: str  # trusted HTML built by the helpers below


def table(rows: Sequence[dict[str, Any]], *, flag: str | None = None) -> str:
    """An HTML table of ``rows`` (same keys); a row whose ``flag`` key is true is highlighted."""
    if not rows:
        return '<p class="note">nothing to show</p>'
    keys = [k for k in rows[0] if k != flag]
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in keys)
    body = []
    for r in rows:
        cls = ' class="bad"' if flag and r.get(flag) else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{html.escape(_cell(r[k]))}</td>" for k in keys) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def figure(svg: str, alt: str) -> str:
    """An SVG chart embedded in the page itself (a data: URI), so the one file is the whole report."""
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<figure><img src="data:image/svg+xml;base64,{data}" alt="{html.escape(alt)}"></figure>'


def gallery(figures: Sequence[str]) -> str:
    """Charts side by side, wrapping to the page's width."""
    return f'<div class="gallery">{"".join(figures)}</div>'


def paragraph(text: str, *, note: bool = False) -> str:
    return f'<p{" class=note" if note else ""}>{html.escape(text)}</p>'


def render(title: str, sections: Sequence[Section], *, subtitle: str = "") -> str:
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title>",
             f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"]
    if subtitle:
        parts.append(paragraph(subtitle, note=True))
    for s in sections:
        parts.append(f"<h2>{html.escape(s.heading)}</h2>{s.body}")
    parts.append("</body></html>")
    return "".join(parts)


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
