"""NativeBackend: the document compiled once into NumPy array programs, then scored many times."""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ...errors import RowEvaluationError
from ...pmml.gcpause import paused_gc
from ...pmml.loader import PmmlDocument
from ..base import Backend, Columns, Levels, Results
from . import allocator, compiled, recordplan
from .compile import Core, compile_document
from .context import Ctx, Env, Expr


class NativeBackend(Backend):
    name: ClassVar[str] = "native"

    def __init__(self, doc: PmmlDocument):
        allocator.tune()  # batch arrays from the heap, not fresh mmaps (allocator.py)
        with paused_gc():  # a forest's ~100,000 nodes, no cycles: collections would only cost (gcpause.py)
            super().__init__(doc)
            self._ctx, self._derived, self._plan = compile_document(doc.root)
            self._targets = [(t.name, t.data_type) for t in self.schema.targets]
            self._names = self.schema.result_names
            self._record = _record_plan(self._ctx, self._derived, self._plan)

    def splits_well(self) -> bool:
        """Whether a large batch gains from threads: most of its time is the compiled tree descent,
        or the compiled running sums of large neural layers and support vector machines.

        That runs without the GIL; NumPy's element-wise loops and the plan's Python hold it. A
        model of short steps stays whole: the peer benchmark's logistic regression (its tables in
        C too) on two cores ran at 1.29x one thread's speed whole and 1.23x split in two (its text
        columns factorised on two threads either way, rowsplit.check_threads).
        """
        return (self._ctx.trees >= MIN_PARALLEL_TREES or self._ctx.sum_terms >= MIN_PARALLEL_TERMS) \
            and compiled.kernels() is not None

    def evaluate(self, columns: Columns, n_rows: int, levels: Levels | None = None,
                 *, _depth: int = 0) -> tuple[Results, list[str | None] | None]:
        try:
            return self._evaluate(columns, n_rows, levels), None
        except RowEvaluationError as e:
            names = [t for t, _ in self._targets] + list(self._names)
            suspects = e.rows
            if (suspects is None or np.ndim(suspects) != 1 or len(suspects) != n_rows or suspects.all()
                    or _depth >= _MAX_SPLITS):
                return by_rows(self._evaluate, columns, n_rows, names)  # only the failing rows get the error
            # The raiser said where it failed: those rows one by one, the others again as one batch.
            keep = ~suspects
            good = self.evaluate({k: v[keep] for k, v in columns.items()}, int(keep.sum()),
                                 {k: (slots[keep], values) for k, (slots, values) in (levels or {}).items()},
                                 _depth=_depth + 1)
            bad = by_rows(self._evaluate, {k: v[suspects] for k, v in columns.items()}, int(suspects.sum()), names)
            return _merge(n_rows, keep, good, bad, names)

    def _evaluate(self, columns: Columns, n_rows: int, levels: Levels | None = None) -> Results:
        env = Env(n_rows, dict(columns), self._ctx, derived=self._derived, levels=levels)
        result = self._plan(env)
        out: Results = {}
        for name, data_type in self._targets:
            out[name] = result.predicted(data_type)
        for name in self._names:
            if name not in out:
                out[name] = result.outputs[name]
        return out

    def evaluate_record(self, record: dict[str, Any]) -> dict[str, Any]:
        if self._record is not None:  # the record plan (recordplan.py): the same bits, fewer calls
            scored = self._record(record)
            answer = self._answer(scored) if scored is not None else None
            if answer is not None:
                return answer
        cols = {k: _cell(v) for k, v in record.items()}
        results = self._evaluate(cols, 1)
        return {k: _scalar(v[0]) for k, v in results.items()}

    def _answer(self, scored: recordplan.Scored) -> dict[str, Any] | None:
        """_evaluate's results for one record the plan scored; None when it lacks one."""
        out: dict[str, Any] = {}
        for name, data_type in self._targets:
            out[name] = _scalar(scored.predicted(data_type))
        for name in self._names:
            if name not in out:
                if name not in scored.outputs:
                    return None
                out[name] = _scalar(scored.outputs[name])
        return out


def _record_plan(ctx: Ctx, derived: dict[str, Expr], plan: Core) -> recordplan.Twin | None:
    """The plan's twin, after the document's derived fields (TransformationDictionary) where they have one."""
    twin = recordplan.twin_of(ctx, plan)
    if twin is None or not derived:
        return twin
    fields = recordplan.derive(ctx, derived)
    if fields is None:
        return None

    def run(record: recordplan.Record) -> recordplan.Scored | None:
        values = fields(record)
        return twin(values) if values is not None else None
    return run


MIN_PARALLEL_TREES = 10  # fewer trees: too little GIL-free work per row to pay a second thread
# Running-sum terms per row from which a second thread pays (measured on two cores, split in two
# against whole): support vector machines of 4,900 and ~2,000 terms 1.68x and 1.77x, MLPs of 1,210
# and 7,510 terms 2.43x and 1.92x; MLPs of ~100 terms only 1.03-1.26x.
MIN_PARALLEL_TERMS = 1_000
_MAX_SPLITS = 4  # a batch that fails again after this many splits is scored row by row


def _merge(n: int, keep: np.ndarray, good: tuple[Results, list[str | None] | None],
           bad: tuple[Results, list[str | None]], names: list[str]) -> tuple[Results, list[str | None]]:
    """Results of the kept rows and of the rows scored alone, back in the batch's row order."""
    out: Results = {}
    for name in dict.fromkeys(names):
        a, b = np.asarray(good[0][name]), np.asarray(bad[0][name])
        if a.dtype.kind == "f" and b.dtype.kind == "f":
            col = np.empty(n, dtype=np.float64)
            col[keep], col[~keep] = a, b
        else:  # labels: a missing one is None, whichever side computed it as NaN
            col = np.empty(n, dtype=object)
            col[keep], col[~keep] = _labels(a), _labels(b)
        out[name] = col
    errors: list[str | None] = [None] * n
    for i, msg in zip(np.flatnonzero(keep), good[1] or [None] * int(keep.sum())):
        errors[i] = msg
    for i, msg in zip(np.flatnonzero(~keep), bad[1]):
        errors[i] = msg
    return out, errors


def _labels(col: np.ndarray) -> np.ndarray:
    if col.dtype.kind == "f":
        return np.array([None if v != v else v for v in col.tolist()], dtype=object)
    return col


def _cell(value: Any) -> np.ndarray:
    """A one-row column of a typed record value (float, or str/None): np.empty and a store take a
    quarter of np.array([value])'s time, and the record path builds one per input field."""
    cell = np.empty(1, dtype=object if value is None or isinstance(value, str) else np.float64)
    cell[0] = value
    return cell


def _scalar(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def by_rows(evaluate: Any, columns: Columns, n_rows: int,
            names: list[str]) -> tuple[Results, list[str | None]]:
    """Score each row alone; a row that fails gets its message and missing results."""
    errors: list[str | None] = [None] * n_rows
    rows: list[Results | None] = []
    for i in range(n_rows):
        try:
            rows.append(evaluate({k: v[i:i + 1] for k, v in columns.items()}, 1))
        except RowEvaluationError as e:
            rows.append(None)
            errors[i] = str(e)
    out: Results = {}
    for name in dict.fromkeys(names):
        cells = [_scalar(r[name][0]) if r is not None else None for r in rows]
        numeric = all(c is None or isinstance(c, (float, np.floating)) for c in cells)
        out[name] = (np.array([np.nan if c is None else c for c in cells], dtype=np.float64) if numeric
                     else np.array(cells, dtype=object))
    return out, errors
