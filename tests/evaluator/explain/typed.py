"""Explain DataFrame rows over a DataFrame background, both typed by the model's input contract."""
from __future__ import annotations

from pmmlkit.evaluator.native.explain import explain


def explained(ev, frame, background):
    """The native explainer's Explanation of ``frame`` (the dispatcher picks trees, linear or scorecard)."""
    rows, bg = ev.contract.check_frame(frame), ev.contract.check_frame(background)
    return explain(ev.backend, rows.columns, len(frame), bg.columns, len(background))
