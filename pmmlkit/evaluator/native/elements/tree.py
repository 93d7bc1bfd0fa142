"""TreeModel: nodes flattened into TreeTables (see kernels.py); many trees share one set of tables."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from xml.etree.ElementTree import Element

import numpy as np

from ....errors import UnsupportedElement
from ....pmml.fields import children
from .. import compiled
from ..compile import Core, float_math, register
from ..context import Ctx, Env, Expr
from ..kernels import CHUNK_ROWS, descend, descend_sums, running_sum, two_way_tables
from ..predicates import RecordPredicate, compile_predicate, predicate_element, record_predicate, set_values
from ..recordplan import Record, Scored, add
from ..result import ModelResult
from ..supported import parse_number
from .treegraph import longest_path, thread_tests

# CHUNK_ROWS blocks per compiled descent call: 2,048 rows, whose inputs and set-membership rows
# (~0.5 MB for the peer GBT) leave a core's 2 MB cache to the trees' tables. Measured against
# 8,192-row calls: the peer RF 5-10% faster, the GBT 3-12% on two cores (a few more Python
# steps per batch, which hold the GIL, cost less than the cache misses they save).
DESCENT_CHUNKS = 4
SET_COLUMN = 1 << 30  # feature ids from here on name membership columns of set tests
MISSING_STRATEGIES = ("nullPrediction", "lastPrediction", "defaultChild", "none")
# outcome of a numeric test for k = less, equal, greater: 1 true, 0 false
OUTCOMES = {"lessThan": (1, 0, 0), "lessOrEqual": (1, 1, 0), "equal": (0, 1, 0), "notEqual": (1, 0, 1),
            "greaterOrEqual": (0, 1, 1), "greaterThan": (0, 0, 1)}


class Forest:
    """Builds the flat node arrays of one or more trees, and the results of their terminals."""

    def __init__(self, ctx: Ctx, *, classification: bool):
        self.ctx, self.classification = ctx, classification
        self.feature: list[int] = []
        self.threshold: list[float] = []
        self.next_: list[list[int]] = []
        self.slot_of: list[int] = []
        self.columns: dict[str, int] = {}
        self.virtual: list[Expr] = []      # compiled predicates standing in as extra columns
        self.virtual_records: list[RecordPredicate | None] = []  # their twins for one record, where covered
        self.sets: dict[tuple[str, tuple[float, ...], bool], int] = {}  # unique set tests -> index
        self.scores: list[str | None] = []
        self.dists: list[dict[str, float]] = []
        self.labels: list[str] = []
        self.roots: list[int] = []
        self.starts: list[int] = []  # each tree's first node: a tree's nodes are one run of ids

    def add_tree(self, model: Element, path: str) -> None:
        mvs = model.get("missingValueStrategy", "none")
        if mvs not in MISSING_STRATEGIES:
            raise UnsupportedElement(f"TreeModel missingValueStrategy={mvs!r}", path, MISSING_STRATEGIES)
        self.mvs, self.ntc, self.path = mvs, model.get("noTrueChildStrategy", "returnNullPrediction"), path
        self.starts.append(len(self.feature))
        self.null = self._terminal(-1)
        self.memo: dict[int, int] = {}
        root = next(iter(children(model, "Node")), None)
        if root is None:
            raise UnsupportedElement("TreeModel without Node", path, ["Node"])
        self.roots.append(self._entry(root))

    def _node(self, feature: int, threshold: float, slot: int) -> int:
        self.feature.append(feature)
        self.threshold.append(threshold)
        self.slot_of.append(slot)
        self.next_.append([0, 0, 0, 0])
        return len(self.feature) - 1

    def _terminal(self, slot: int) -> int:
        idx = self._node(0, np.nan, slot)
        self.next_[idx] = [idx] * 4
        return idx

    def _slot(self, node: Element) -> int:
        score = node.get("score")
        dist = {}
        sds = _kids(node, "ScoreDistribution")
        for sd in sds:
            label = sd.get("value", "")
            count = sd.get("recordCount", "0")
            dist[label] = float(sd.get("probability") or count)
            if label not in self.labels:
                self.labels.append(label)
        if self.classification and score is None and dist:  # JPMML would pick the likeliest; not done here
            raise UnsupportedElement("Node without score but with ScoreDistribution in a classification tree",
                                     f"{self.path}/Node[@id={node.get('id')!r}]", ["Node score"])
        if self.classification and score is not None and score not in self.labels:
            self.labels.append(score)
        if not self.classification and score is not None:
            parse_number(score, "Node score", f"{self.path}/Node[@id={node.get('id')!r}]")
        total = sum(dist.values()) if not any(sd.get("probability") for sd in sds) else 1.0
        self.scores.append(score)
        self.dists.append({k: v / total for k, v in dist.items()} if total else {})
        return len(self.scores) - 1

    def _entry(self, root: Element) -> int:
        """The first test (or terminal) a row meets in ``root``'s subtree.

        Post-order over an explicit stack, not recursion: trees 3,000+ levels deep compile.
        """
        stack = [(root, False)]
        terms: dict[int, int] = {}
        while stack:
            node, ready = stack.pop()
            key = id(node)
            if key in self.memo:
                continue
            kids = _kids(node, "Node")
            if not ready:
                terms[key] = self._terminal(self._slot(node))
                if kids:
                    stack.append((node, True))
                    stack.extend((k, False) for k in kids if id(k) not in self.memo)
                else:
                    self.memo[key] = terms[key]
                continue
            self.memo[key] = self._decide(node, kids, terms[key])
        return self.memo[id(root)]

    def _decide(self, node: Element, kids: list[Element], term: int) -> int:
        """Chain the tests of ``node``'s children (their entries are known) into one entry."""
        after = term if self.ntc == "returnLastPrediction" else self.null
        if self.mvs == "defaultChild":
            default = next((k for k in kids if k.get("id") == node.get("defaultChild")), None)
            if default is None:
                raise UnsupportedElement(f"Node defaultChild={node.get('defaultChild')!r} (names no child Node) "
                                         "with missingValueStrategy='defaultChild'", self.path)
            unknown = self.memo[id(default)]
        else:
            unknown = {"nullPrediction": self.null, "lastPrediction": term}.get(self.mvs, -1)
        for kid in reversed(kids):
            pred = predicate_element(kid)
            kind = pred.tag.rsplit("}", 1)[-1] if pred is not None else "True"
            if kind == "True":
                after = self.memo[id(kid)]
            elif kind != "False" and pred is not None:  # (pred is None only for kind True)
                after = self._test(pred, self.memo[id(kid)], after, after if unknown < 0 else unknown)
        return after

    def _column(self, field: str) -> int:
        return self.columns.setdefault(field, len(self.columns))

    def _test(self, pred: Element, on_true: int, on_false: int, on_unknown: int) -> int:
        """A node for one predicate. Every node is a two-way numeric test (see kernels.TreeTables)."""
        kind, field = pred.tag.rsplit("}", 1)[-1], pred.get("field", "")
        op = pred.get("operator", "")
        go = {1: on_true, 0: on_false}
        if kind == "SimplePredicate" and op in ("isMissing", "isNotMissing"):
            miss = op == "isMissing"
            idx = self._node(self._column(field), np.inf, -1)
            self.next_[idx] = [go[not miss]] * 3 + [go[miss]]
            return idx
        if kind == "SimplePredicate" and op in OUTCOMES and self.ctx.is_numeric(field) \
                and op not in ("equal", "notEqual"):
            idx = self._node(self._column(field), self.ctx.encode(field, pred.get("value", "")), -1)
            self.next_[idx] = [go[o] for o in OUTCOMES[op]] + [on_unknown]
            return idx
        if (kind == "SimpleSetPredicate" or (kind == "SimplePredicate" and op in ("equal", "notEqual"))) \
                and not self.ctx.is_numeric(field):
            # A set test on categories (an (in)equality is a set of one) becomes a test (> 0.5)
            # of a 1/0 membership column, one column per distinct (field, set).
            self._column(field)
            values = set_values(pred) if kind == "SimpleSetPredicate" else [pred.get("value", "")]
            inside = pred.get("booleanOperator", "isIn") == "isIn" if kind == "SimpleSetPredicate" else op == "equal"
            # "not in S" reads the column of "in S" with the outcomes swapped: one column for both,
            # so a test and its complement share a column and thread_tests can join them.
            key = (field, tuple(sorted(self.ctx.encode(field, v) for v in values)), True)
            idx = self._node(SET_COLUMN + self.sets.setdefault(key, len(self.sets)), 0.5, -1)
            yes, no = (on_true, on_false) if inside else (on_false, on_true)
            self.next_[idx] = [no, no, yes, on_unknown]
            return idx
        # Anything else (CompoundPredicate, numeric equality...) becomes a precomputed 1/0/NaN column.
        self.virtual.append(compile_predicate(pred, self.ctx, self.path))
        self.virtual_records.append(record_predicate(pred, self.ctx))
        idx = self._node(-len(self.virtual), 0.5, -1)
        self.next_[idx] = [on_false, on_false, on_true, on_unknown]
        return idx

    def finish(self) -> CompiledForest:
        return CompiledForest(self)


class TerminalValues:
    """Values per terminal whose sums over a row's trees make a forest's result (one column per
    label for averaged probabilities, else one): by doubled node id, as ``sums`` reads them,
    and [nodes, columns] for the compiled descent (a node's values in one cache line)."""

    def __init__(self, columns: list[np.ndarray]):
        self.columns = columns
        self.by_node = np.ascontiguousarray(np.stack(columns)[:, 0::2].T)  # doubled ids 2i, 2i + 1: node i


class CompiledForest:
    """Frozen arrays of a Forest and the code that scores them.

    Results are kept per doubled node id, as the descent returns them (kernels.TreeTables):
    ``probs`` [2 * nodes, labels] and ``label_idx`` for classification, ``value`` otherwise;
    the null terminals (no prediction) hold NaN and -1.
    """

    def __init__(self, f: Forest):
        n_cols, n_virtual = len(f.columns), len(f.virtual)
        # Membership columns follow the inputs and virtual columns, grouped by field.
        order = sorted(f.sets.items(), key=lambda item: (f.columns[item[0][0]], item[1]))
        position = {i: n_cols + n_virtual + p for p, (_, i) in enumerate(order)}
        feature = [position[c - SET_COLUMN] if c >= SET_COLUMN else c if c >= 0 else n_cols - 1 - c
                   for c in f.feature]
        self.ctx = f.ctx
        self.fields = list(f.columns)
        self.virtual = f.virtual
        self._virtual_records = f.virtual_records
        self.n_sets = len(f.sets)
        self._set_keys = [key for key, _ in order]
        self._groups: list[tuple[int, int, int, np.ndarray]] | None = None
        self._record_fields: list[tuple[str, bool, dict[str, int] | None]] | None = None
        next4 = thread_tests(np.array(feature), np.array(f.threshold), np.array(f.next_, dtype=np.intp))
        self.tables = two_way_tables(np.array(feature), np.array(f.threshold), next4,
                                     np.array(f.roots), longest_path(next4, f.roots))
        f.ctx.trees += len(f.roots)  # the work a row's descent does: worth threads when large (parallel.py)
        slot = np.repeat(np.array(f.slot_of, dtype=np.intp), 2)  # slot -1: the null terminal
        # The tree of every doubled node id, for results weighted per tree (per_tree()).
        self._tree_of = np.repeat(np.searchsorted(f.starts, np.arange(len(f.feature)), side="right") - 1, 2)
        self.labels = tuple(f.labels)
        scores = f.scores + [None]
        if f.classification:
            lookup = {lab: i for i, lab in enumerate(self.labels)}
            label_idx = np.array([lookup[s] if s is not None else -1 for s in scores], dtype=np.int64)
            probs = np.full((len(scores), len(self.labels)), np.nan)
            for i, (s, d) in enumerate(zip(scores, f.dists + [{}])):
                if s is None:
                    continue
                probs[i] = 0.0
                for lab, p in (d or {s: 1.0}).items():
                    probs[i, lookup[lab]] = p
            self.label_idx = label_idx[slot]
            self.probs = probs[slot]
            self.prob_columns = [np.ascontiguousarray(self.probs[:, k]) for k in range(len(self.labels))]
        else:
            self.value = np.array([float(s) if s is not None else np.nan for s in scores])[slot]

    def features(self, env: Env) -> np.ndarray:
        """[columns, rows] the trees test, as numbers (category codes for strings)."""
        if env.n == 1 and not self.virtual:
            return self._record_features(env)
        cols = [env.num(name) for name in self.fields] + [v(env) for v in self.virtual]
        return np.concatenate(cols).reshape(len(cols), env.n) if cols else np.zeros((1, env.n))

    def _record_features(self, env: Env) -> np.ndarray:
        """A record's values as env.num gives them, without its per-column cost (latency)."""
        values = []
        for name, numeric, vocab in self._record_info():
            col = env.cols.get(name)
            if col is None:
                col = env.get(name)
            if numeric:
                values.append(col[0])
            elif col.dtype != object:
                values.append(env.num(name)[0])
            else:
                v = col[0]
                values.append(np.nan if v is None else vocab.get(v, -1) if vocab is not None else -1)
        return np.array(values)[:, None]

    def record_nodes(self, fields: Mapping[str, Any]) -> np.ndarray | None:
        """[1, trees] terminals of one record of typed values (recordplan.py); None for what it does not cover.

        The values meet the trees as _record_features hands them over: a float as itself, a
        category as its code, then each virtual column's test. Anything else (a missing number,
        a test without a record twin) is not covered.
        """
        values = []
        for name, numeric, vocab in self._record_info():
            v = fields.get(name)
            if numeric:
                if type(v) is not float:
                    return None
                values.append(v)
            elif v is None:
                values.append(np.nan)
            elif type(v) is str:
                values.append(vocab.get(v, -1) if vocab is not None else -1)
            else:
                return None
        for test in self._virtual_records:
            outcome = test(fields) if test is not None else None
            if outcome is None:
                return None
            values.append(outcome)
        return descend(self._with_sets(np.array(values)[:, None]), self.tables)

    def _record_info(self) -> list[tuple[str, bool, dict[str, int] | None]]:
        if self._record_fields is None:  # at the first record: every compiler has added its codes
            self._record_fields = [(name, self.ctx.is_numeric(name), self.ctx.vocab.get(name)) for name in self.fields]
        return self._record_fields

    def sums(self, nodes: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Per row of ``nodes`` [rows, trees], ``values`` of its terminals summed tree after tree from 0.

        JPMML's order, on every kernel path and for any number of rows: a record gets the very
        bits of its row in a batch (a matrix product would order the sum by the batch's shape).
        """
        ckernels = compiled.kernels()
        if ckernels is None and len(nodes) > _PYTHON_SUM_ROWS:
            return running_sum(values.take(nodes))
        if ckernels is None:  # a record: Python floats add as doubles too, without a NumPy call per tree
            return np.array([_sum_in_order(row) for row in values.take(nodes).tolist()])
        out = np.empty(len(nodes))
        ckernels.sum_terminals(np.ascontiguousarray(nodes, dtype=np.int64), values, out)
        return out

    def per_tree(self, values: np.ndarray, w: np.ndarray) -> np.ndarray:
        """``values`` (per doubled node id) times the weight ``w`` of each node's tree (unit weights: as is).

        sums(nodes, per_tree(values, w)) is running_sum(values.take(nodes) * w) bit for bit: the
        same products, added tree after tree from 0, but in C and without a [rows, trees] copy.
        """
        return values if bool((w == 1.0).all()) else values * w[self._tree_of]

    def terminals(self, env: Env) -> np.ndarray:
        """[rows, trees] doubled terminal node of every row in every tree."""
        return np.concatenate(list(self.terminal_chunks(env)))

    def terminal_chunks(self, env: Env) -> Iterator[np.ndarray]:
        """The same, a block of rows at a time: big ensembles never hold [rows, trees] at once.

        The compiled descent takes DESCENT_CHUNKS x CHUNK_ROWS rows per call, the NumPy one
        CHUNK_ROWS. Callers combine each block as it comes: every combination is row by row
        (sums tree after tree, votes), so the block size changes no bits.
        """
        for block in self._input_blocks(env):
            yield descend(block, self.tables)

    def summed_chunks(self, env: Env, values: TerminalValues) -> Iterator[np.ndarray]:
        """Per block of rows, [rows, columns]: column c is ``sums(terminals, values.columns[c])``.

        Compiled, each block is one pass, descent and sums together: the [rows, trees] terminals
        are never written (for a 50-tree GBT, 400 bytes a row that the sums read back, which two
        cores' caches competed for). Sums add tree after tree from 0.0 either way: the same bits
        as ``terminal_chunks`` then ``sums``.
        """
        if compiled.kernels() is None:
            for nodes in self.terminal_chunks(env):
                yield np.column_stack([self.sums(nodes, column) for column in values.columns])
            return
        for block in self._input_blocks(env):
            yield descend_sums(block, self.tables, values.by_node)

    def _input_blocks(self, env: Env) -> Iterator[np.ndarray]:
        """The trees' inputs with their membership rows, a descent call's rows at a time."""
        XT = self.features(env)
        step = CHUNK_ROWS * (DESCENT_CHUNKS if compiled.kernels() is not None else 1)
        for start in range(0, max(env.n, 1), step):
            yield self._with_sets(XT[:, start:start + step])

    def _with_sets(self, XT: np.ndarray) -> np.ndarray:
        """XT plus one membership row per distinct set test: 1 in, 0 out, NaN missing."""
        if not self.n_sets:
            return XT
        if XT.shape[1] == 1:  # a record: each field's membership rows are one row of its table
            parts = [XT[:, 0]]
            for col, _, _, table in self._set_groups():
                code = XT[col, 0]
                parts.append(table[:, 0] * np.nan if code != code else table[:, max(int(code), -1) + 1])
            return np.concatenate(parts)[:, None]
        full = np.empty((XT.shape[0] + self.n_sets, XT.shape[1]))
        ckernels = compiled.kernels()
        if ckernels is not None and XT.shape[1]:  # the same rows in one pass, without the GIL
            ckernels.memberships(np.ascontiguousarray(XT, dtype=np.float64), XT.shape[1],
                                 [(col, start, table) for col, start, _, table in self._set_groups()], full)
            return full
        full[:XT.shape[0]] = XT
        for col, start, stop, table in self._set_groups():
            codes = XT[col]
            missing = np.isnan(codes)
            # Unseen (-1) and missing codes read column 0; missing ones are then marked.
            np.take(table, (np.fmax(codes, -1.0) + 1.0).astype(np.intp), axis=1, out=full[start:stop])
            if missing.any():
                full[start:stop, missing] = np.nan
        return full

    def _set_groups(self) -> list[tuple[int, int, int, np.ndarray]]:
        """Per field: its column, its membership rows' range and a [sets, codes + 1] table.

        Built on first use, when every compiler has added its codes to the vocabulary.
        """
        if self._groups is None:
            groups = []
            start = len(self.fields) + len(self.virtual)
            for field in dict.fromkeys(key[0] for key in self._set_keys):
                sets = [(codes, inside) for f, codes, inside in self._set_keys if f == field]
                table = np.zeros((len(sets), len(self.ctx.vocab.get(field, {})) + 1))
                for row, (codes, inside) in enumerate(sets):
                    table[row, :] = 0.0 if inside else 1.0
                    table[row, [int(c) + 1 for c in codes]] = 1.0 if inside else 0.0
                groups.append((self.fields.index(field), start, start + len(sets), table))
                start += len(sets)
            self._groups = groups
        return self._groups


_PYTHON_SUM_ROWS = 4  # up to this many rows, the NumPy path sums a row's terminals in Python


def _sum_in_order(row: list[float]) -> float:
    """0.0 + row[0] + row[1] + ...: running_sum's order (not sum(), which compensates from Python 3.12)."""
    acc = 0.0
    for v in row:
        acc += v
    return acc


def _kids(node: Element, name: str) -> list[Element]:
    """children(node, name) for a Node, in C: a PMML Node's children share its namespace."""
    tag = node.tag
    return node.findall(tag[:tag.index("}") + 1] + name if tag.startswith("{") else name)


def compile_tree_model(model: Element, ctx: Ctx, path: str) -> Core:
    classification = model.get("functionName") == "classification"
    forest = Forest(ctx, classification=classification)
    forest.add_tree(model, path)
    compiled = forest.finish()
    if float_math(model, path):  # scores are read as 32-bit floats
        compiled.value = compiled.value.astype(np.float32).astype(np.float64)

    def run(env: Env) -> ModelResult:
        node = compiled.terminals(env)[:, 0]
        if classification:
            return ModelResult(labels=compiled.labels, probs=compiled.probs[node], index=compiled.label_idx[node])
        return ModelResult(value=compiled.value[node])

    def record_tree(fields: Record) -> Scored | None:
        nodes = compiled.record_nodes(fields)
        if nodes is None:
            return None
        node = int(nodes[0, 0])
        if not classification:
            return Scored(value=float(compiled.value[node]))
        index = int(compiled.label_idx[node])
        return Scored(labels=compiled.labels, probs=compiled.probs[node].tolist(), index=index) if index >= 0 else None
    add(ctx, run, record_tree)
    return run


register("TreeModel", compile_tree_model)
