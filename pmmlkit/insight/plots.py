"""Charts as SVG text, drawn by matplotlib (the `report` extra) without a display."""
from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from ..extras import require_extra

COLORS = {"expected": "#8da0cb", "actual": "#fc8d62"}


def _pyplot() -> Any:
    require_extra("report", what="drawing a report's charts")
    import matplotlib

    matplotlib.use("Agg", force=True)  # no display, and the same output on every machine
    matplotlib.rcParams["svg.hashsalt"] = "pmmlkit"  # stable element ids: reproducible files
    import matplotlib.pyplot as plt
    return plt


def to_svg(fig: Any) -> str:
    plt = _pyplot()
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def compare_bars(title: str, labels: Sequence[str], expected: Sequence[float], actual: Sequence[float],
                 *, names: tuple[str, str] = ("training", "batch")) -> str:
    """Two share histograms over the same bins, side by side."""
    plt = _pyplot()
    width = max(5.0, 0.45 * len(labels) + 1.5)
    fig, ax = plt.subplots(figsize=(min(width, 14.0), 3.4))
    xs = range(len(labels))
    ax.bar([x - 0.2 for x in xs], expected, 0.4, label=names[0], color=COLORS["expected"])
    ax.bar([x + 0.2 for x in xs], actual, 0.4, label=names[1], color=COLORS["actual"])
    ax.set_xticks(list(xs), [_short(lb) for lb in labels], rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("share of rows")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return to_svg(fig)


def _short(label: str, limit: int = 24) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def lines(title: str, series: Sequence[tuple[str, Any, Any]], *, xlabel: str,
          ylabel: str, diagonal: bool = False) -> str:
    """One or more curves on shared axes (ROC, precision-recall, gain, calibration)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.6, 4.0))
    for name, xs, ys in series:
        ax.plot(xs, ys, label=name, linewidth=1.6)
    if diagonal:
        ax.plot([0, 1], [0, 1], linestyle="--", color="#999", linewidth=1, label="random")
    _finish(ax, title, xlabel, ylabel)
    ax.legend(fontsize=7, loc="best")
    return to_svg(fig)


def heatmap(title: str, matrix: Any, labels: Sequence[str], *, xlabel: str, ylabel: str) -> str:
    """A count matrix with its numbers written in the cells (the confusion matrix)."""
    plt = _pyplot()
    size = min(2.5 + 0.45 * len(labels), 9.0)
    fig, ax = plt.subplots(figsize=(size, size * 0.85))
    ax.imshow(matrix, cmap="Blues")
    ticks = range(len(labels))
    ax.set_xticks(list(ticks), [_short(str(lb), 12) for lb in labels], rotation=45, ha="right", fontsize=7)
    ax.set_yticks(list(ticks), [_short(str(lb), 12) for lb in labels], fontsize=7)
    top = max(float(matrix.max()), 1.0)
    for i in ticks:
        for j in ticks:
            v = int(matrix[i, j])
            ax.text(j, i, str(v), ha="center", va="center", fontsize=7, color="white" if v > top / 2 else "#222")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    return to_svg(fig)


def scatter(title: str, x: Any, y: Any, *, xlabel: str, ylabel: str, diagonal: bool = False) -> str:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.6, 4.0))
    ax.scatter(x, y, s=4, alpha=0.35, color=COLORS["expected"], rasterized=len(x) > 2000)
    if diagonal and len(x):
        lo, hi = float(min(min(x), min(y))), float(max(max(x), max(y)))
        ax.plot([lo, hi], [lo, hi], linestyle="--", color="#999", linewidth=1)
    _finish(ax, title, xlabel, ylabel)
    return to_svg(fig)


def histogram(title: str, values: Any, *, xlabel: str, bins: int = 40) -> str:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4.6, 3.4))
    ax.hist(values, bins=bins, color=COLORS["expected"])
    _finish(ax, title, xlabel, "rows")
    return to_svg(fig)


def bars(title: str, names: Sequence[str], values: Sequence[float], *, xlabel: str) -> str:
    """Horizontal bars, largest on top (feature importances)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.6, max(2.0, 0.28 * len(names) + 1.0)))
    ax.barh(range(len(names))[::-1], values, color=COLORS["actual"])
    ax.set_yticks(list(range(len(names))[::-1]), [_short(n, 28) for n in names], fontsize=7)
    _finish(ax, title, xlabel, "")
    return to_svg(fig)


def _finish(ax: Any, title: str, xlabel: str, ylabel: str) -> None:
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.spines[["top", "right"]].set_visible(False)
