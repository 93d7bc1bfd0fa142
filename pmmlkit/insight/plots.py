"""Charts as SVG text, drawn by matplotlib (the `report` extra) without a display."""
from __future__ import annotations

import io
from typing import Any, Sequence

from ..errors import ConfigError

COLORS = {"expected": "#8da0cb", "actual": "#fc8d62"}


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise ConfigError("reports need matplotlib: pip install 'pmmlkit[report]'") from None
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
