"""What an explanation is: per-input-field contributions that add up to the raw score.

Every explainer (trees.py, linear.py, scorecard.py) returns an ``Explanation`` for a
batch of rows. The invariant, checked by the tests on every model type:

    base + sum(contributions[f] for f in fields) == raw      (to 1e-9, row by row)

``raw`` is the model's raw score, the quantity before any non-linear link: the predicted
value of a regression, the log-odds (margin) of a logistic regression or a boosted
classifier, a forest's averaged probability of the explained class, a scorecard's score.
``of`` says in words which one it is, e.g. ``"log-odds of clicked=1"``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ....errors import ExplanationError

__all__ = ["Explanation", "ExplanationError"]


@dataclass
class Explanation:
    of: str                                   # what ``raw`` is, in words
    base: np.ndarray                          # (n,) the baseline (e.g. mean raw score over the background)
    raw: np.ndarray                           # (n,) the raw score of each row
    contributions: dict[str, np.ndarray]      # input field -> (n,) its contribution; every input field present
    reason_codes: list[list[str]] | None = field(default=None)  # Scorecards: per row, codes ranked

    def residual(self) -> np.ndarray:
        """base + sum(contributions) - raw, row by row: zero up to rounding for an exact explainer."""
        total = self.base.astype(np.float64).copy()
        for values in self.contributions.values():
            total = total + values
        return total - self.raw
