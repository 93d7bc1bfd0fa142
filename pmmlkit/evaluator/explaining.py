"""The Evaluator's side of explanations: background rows, the refusal of other backends, result shapes.

The explainers (native/explain/) work on contract-typed columns; this module hands them the
rows to explain and the background, and shapes what they return for ``predict`` (a dict),
``predict_batch`` (columns) and the record path (JSON values).

Background: at most ``BACKGROUND_ROWS`` rows are kept, a sample drawn with the fixed seed
``BACKGROUND_SEED`` (the same rows every time for the same data). They pass the input
contract like any batch: a row that breaks it refuses the background (ExplanationError quoting
the row's InputError), never silently dropped.
"""
from __future__ import annotations

import io
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ExplanationError

if TYPE_CHECKING:
    import pandas as pd

    from . import Evaluator
    from .native.explain.base import Explanation

BACKGROUND_ROWS = 200
BACKGROUND_SEED = 0
BACKGROUND_FILE = "background.parquet"  # published with each trained version


@dataclass(frozen=True)
class Background:
    """Contract-typed background columns (only rows that passed), and where they came from."""

    columns: dict[str, np.ndarray]
    n: int
    source: str


def sample(frame: pd.DataFrame) -> pd.DataFrame:
    """At most BACKGROUND_ROWS rows: a seeded sample of a larger frame, in the frame's own order."""
    if len(frame) <= BACKGROUND_ROWS:
        return frame
    return frame.sample(n=BACKGROUND_ROWS, random_state=BACKGROUND_SEED).sort_index()


def prepare(ev: Evaluator, data: pd.DataFrame | str | os.PathLike[str], *, source: str | None = None) -> Background:
    """Background rows from a DataFrame or a CSV/Parquet path, sampled and checked by the input contract."""
    import pandas as pd

    from . import first_input_error

    if isinstance(data, (str, os.PathLike)):
        from ..formats import read_frame

        source = source or str(data)
        data = read_frame(str(data), what="background", as_text=True)
    if not isinstance(data, pd.DataFrame):
        raise ExplanationError(f"background: expected a pandas DataFrame or a CSV/Parquet path, got "
                               f"{type(data).__name__}")
    rows = sample(data)
    if len(rows) == 0:
        raise ExplanationError(f"background {source or 'DataFrame'} has no rows: give at least one (up to "
                               f"{BACKGROUND_ROWS} are used)")
    source = source or f"DataFrame of {len(data)} rows"
    prepared = ev.contract.check_frame(rows)
    if prepared.errors:
        e = first_input_error(ev.contract, rows, min(prepared.errors))
        raise ExplanationError(f"background {source}: {e}; every background row must pass the model's input "
                               "contract: fix or drop that row") from e
    return Background(prepared.columns, int(prepared.ok.sum()), source)


def use_version_background(ev: Evaluator, repo: Any, version: Any) -> None:
    """Give ``ev`` the background its repository version was published with, if any (read on first use)."""
    ev.set_background_loader(from_repository(ev, repo, version))


def from_repository(ev: Evaluator, repo: Any, version: Any) -> Callable[[], Background] | None:
    """A loader of the background a repository version was published with, or None."""
    files = getattr(getattr(version, "manifest", None), "files", None) or {}
    if BACKGROUND_FILE not in files:
        return None

    def load() -> Background:
        import pandas as pd

        from ..repository.store import open_repository

        try:
            raw = open_repository(repo, must_exist=True).read_file(version, BACKGROUND_FILE)
            frame = pd.read_parquet(io.BytesIO(raw))
        except (OSError, ValueError) as e:
            raise ExplanationError(f"{version.ref}: cannot read {BACKGROUND_FILE} ({e}); give a background "
                                   "with Evaluator.set_background(df)") from None
        return prepare(ev, frame, source=f"{version.ref}/{BACKGROUND_FILE}")
    return load


def require_native(ev: Evaluator) -> None:
    if ev.backend_name != "native":
        raise ExplanationError(f"explanations are computed by the native backend only; this evaluator uses "
                               f"{ev.backend_name}: load with backend='native'")


def explain_columns(ev: Evaluator, columns: dict[str, np.ndarray], n_rows: int) -> Explanation:
    """The explanation of ``n_rows`` contract-typed rows, over the evaluator's background."""
    from .native.explain import explain

    require_native(ev)
    background = ev.background
    found: Explanation = ev._bounded(explain, ev.backend, columns, n_rows,
                                     background.columns if background else None, background.n if background else 0)
    return found


def _number(v: float) -> float | None:
    return v if math.isfinite(v) else None


def as_record(e: Explanation, i: int) -> dict[str, Any]:
    """Row ``i`` as ``{"of", "raw", "base", "contributions"[, "reason_codes"]}``; NaN is None (JSON-ready)."""
    out: dict[str, Any] = {"of": e.of, "raw": _number(float(e.raw[i])), "base": _number(float(e.base[i])),
                           "contributions": {f: _number(float(v[i])) for f, v in e.contributions.items()}}
    if e.reason_codes is not None:
        out["reason_codes"] = list(e.reason_codes[i])
    return out


def reason_code_slots(ev: Evaluator) -> int:
    """How many reason_code_<k> columns a batch gets: a Scorecard's Characteristics (its most codes), else 0."""
    from ..pmml.fields import child, children, local, model_element

    model = model_element(ev.document.root)
    found = child(model, "Characteristics") if local(model.tag) == "Scorecard" else None
    return len(children(found, "Characteristic")) if found is not None else 0


def column_names(ev: Evaluator, taken_too: tuple[str, ...] = ()) -> dict[str, str]:
    """Explanation key -> batch column name, each through own_column so no field or result is shadowed.

    ``taken_too``: other columns of the same output (``score --keep``).
    """
    from .names import own_column

    taken = {*ev.result_names, *ev.schema.input_names, ev.error_column, *taken_too}
    keys = ["raw_score", "base_score", *(f"contribution_{f}" for f in ev.schema.input_names),
            *(f"reason_code_{k}" for k in range(1, reason_code_slots(ev) + 1))]
    out = {}
    for key in keys:
        out[key] = own_column(key, taken)
        taken.add(out[key])
    return out


def column_types(ev: Evaluator, taken_too: tuple[str, ...] = ()) -> dict[str, str]:
    """The explanation columns of a batch and their data types (double; reason codes are strings)."""
    return {name: "string" if key.startswith("reason_code_") else "double"
            for key, name in column_names(ev, taken_too).items()}


def as_columns(ev: Evaluator, e: Explanation | None, ok_positions: np.ndarray, n: int,
               taken_too: tuple[str, ...] = ()) -> dict[str, Any]:
    """The explanation columns of a batch of ``n`` rows, of which ``ok_positions`` were explained."""
    names = column_names(ev, taken_too)

    def spread(values: np.ndarray | None) -> np.ndarray:
        full = np.full(n, np.nan)
        if values is not None:
            full[ok_positions] = values
        return full

    out: dict[str, Any] = {names["raw_score"]: spread(e.raw if e else None),
                           names["base_score"]: spread(e.base if e else None)}
    for f in ev.schema.input_names:
        out[names[f"contribution_{f}"]] = spread(e.contributions[f] if e else None)
    for k in range(1, reason_code_slots(ev) + 1):
        codes = np.full(n, None, dtype=object)
        for j, row in zip(ok_positions, e.reason_codes if e is not None and e.reason_codes else []):
            codes[j] = row[k - 1] if k <= len(row) else None
        out[names[f"reason_code_{k}"]] = codes
    return out



def record_columns(typed: dict[str, Any]) -> dict[str, np.ndarray]:
    """One contract-typed record as one-row columns, as the backends' record path builds them."""
    return {k: np.array([v], dtype=object if v is None or isinstance(v, str) else np.float64)
            for k, v in typed.items()}


def explain_record(ev: Evaluator, typed: dict[str, Any]) -> dict[str, Any]:
    return as_record(explain_columns(ev, record_columns(typed), 1), 0)



def explain_prepared(ev: Evaluator, prepared: Any, messages: np.ndarray,
                     taken_too: tuple[str, ...] = ()) -> dict[str, Any]:
    """Explanation columns for a checked batch: the rows that passed, blank where the backend failed a row."""
    n = len(prepared.ok)
    ok_positions = np.flatnonzero(prepared.ok)
    e = explain_columns(ev, prepared.columns, len(ok_positions)) if len(ok_positions) else None
    out = as_columns(ev, e, ok_positions, n, taken_too)
    failed = np.array([m is not None for m in messages], dtype=bool) if len(messages) else np.zeros(0, bool)
    if failed.any():
        for col in out.values():
            col[failed] = np.nan if col.dtype.kind == "f" else None
    return out


def explain_answers(ev: Evaluator, typed: dict[str, np.ndarray], scored: list[int],
                    errors: list[str | None]) -> list[dict[str, Any] | None]:
    """The record path's explanations: ``typed`` holds the rows ``scored`` (record positions) in order."""
    out: list[dict[str, Any] | None] = [None] * len(errors)
    if scored:
        e = explain_columns(ev, typed, len(scored))
        for j, i in enumerate(scored):
            if errors[i] is None:
                out[i] = as_record(e, j)
    return out
