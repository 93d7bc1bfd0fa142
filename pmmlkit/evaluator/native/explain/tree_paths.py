"""Trees flattened into root-to-terminal paths: at each test on the way, where a row must go.

A TreeModel's Node children are tried in order (the first true predicate wins), with the
evaluator's rules for an unknown result (missingValueStrategy, defaultChild) and for no
true child (noTrueChildStrategy), chained as elements/tree.py chains them. Each test keeps
its predicate compiled by predicates.compile_predicate (the evaluator's own code) and its
player: the one input field the predicate depends on, through any derived fields. A row's
route at a test is the node its 1/0/unknown result sends it to; a path is followed by a
row (or a mix of two rows) that takes the path's route at every one of its tests.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from xml.etree.ElementTree import Element

import numpy as np

from ....errors import ExplanationError
from ....pmml.fields import child, children, local
from ..context import Ctx
from ..predicates import predicate_element
from .inputs import Sources
from .tree_ensemble import TreeTerm
from .tree_tests import Predicates

MAX_PATHS = 2_000_000  # over all trees: beyond, the path tables would not fit in memory anyway
MAX_PLAYERS = 62  # distinct input fields on one path: each is a bit of an int64 pattern


@dataclass(frozen=True)
class Test:
    pred: int                  # row in PathSet.preds
    go: tuple[int, int, int]   # next node on true, false, unknown (a terminal t is -1 - t)


class PathSet:
    """Every path of every tree, as flat arrays (see ``table``), and the tests they pass."""

    def __init__(self, ctx: Ctx, players: tuple[str, ...]):
        self.ctx = ctx
        self.player_index = {name: i for i, name in enumerate(players)}
        self.preds = Predicates(ctx)
        self.test_player: list[int] = []
        self.tests: list[Test] = []
        self.constant = 0.0  # trees without any test (a single leaf) add their value to every row
        self.paths: list[tuple[float, list[tuple[int, int]]]] = []  # (value, [(test, route)])

    def add_tree(self, term: TreeTerm, scope: int, sources: Sources, leaf: Callable[[Element], float]) -> None:
        root = next(iter(children(term.model, "Node")), None)
        if root is None:
            raise ExplanationError(f"{term.path}: a TreeModel without Node")
        values: list[float] = []
        builder = _Builder(self, term, scope, sources, lambda node: _terminal(values, leaf(node)))
        builder.null = _terminal(values, np.nan)
        try:
            start = builder.entry(root)
        except RecursionError:
            raise ExplanationError(f"{term.path}: a tree deeper than {sys.getrecursionlimit()} levels") from None
        stack: list[tuple[int, list[tuple[int, int]]]] = [(start, [])]
        while stack:
            node, steps = stack.pop()
            if node < 0:
                value = values[-1 - node] * term.weight
                if steps:
                    self.paths.append((value, steps))
                else:
                    self.constant += value
                continue
            for route in dict.fromkeys(self.tests[node].go):
                stack.append((route, [*steps, (node, route)]))
            if len(self.paths) + len(stack) > MAX_PATHS:
                raise ExplanationError(f"the trees have more than {MAX_PATHS} root-to-leaf paths; TreeSHAP "
                                       "here keeps them all in memory: explain a smaller ensemble")

    def table(self) -> PathTable:
        return PathTable.of(self)


def _terminal(values: list[float], value: float) -> int:
    values.append(value)
    return -len(values)


class _Builder:
    """One TreeModel's Nodes chained into tests, as elements.tree.Forest chains them."""

    def __init__(self, paths: PathSet, term: TreeTerm, scope: int, sources: Sources,
                 terminal: Callable[[Element], int]):
        self.paths, self.term, self.scope, self.sources, self.terminal = paths, term, scope, sources, terminal
        self.mvs = term.model.get("missingValueStrategy", "none")
        self.last = term.model.get("noTrueChildStrategy", "returnNullPrediction") == "returnLastPrediction"
        self.memo: dict[int, int] = {}
        self.null = -1

    def entry(self, node: Element) -> int:
        """The first test (or the terminal) a row meets in ``node``'s subtree."""
        found = self.memo.get(id(node))
        if found is not None:
            return found
        term = self.terminal(node)
        kids = children(node, "Node")
        after = term if self.last else self.null
        if self.mvs == "defaultChild" and kids:
            default = next((k for k in kids if k.get("id") == node.get("defaultChild")), kids[0])
            unknown: int | None = self.entry(default)
        else:
            unknown = {"nullPrediction": self.null, "lastPrediction": term}.get(self.mvs)  # none: as false
        for kid in reversed(kids):
            pred = predicate_element(kid)
            kind = local(pred.tag) if pred is not None else "True"
            if kind == "True":
                after = self.entry(kid)
            elif kind != "False" and pred is not None:
                after = self._test(pred, kid.get("id"), self.entry(kid), after, after if unknown is None else unknown)
        self.memo[id(node)] = after if kids else term
        return self.memo[id(node)]

    def _test(self, pred: Element, node_id: str | None, on_true: int, on_false: int, on_unknown: int) -> int:
        where = f"{self.term.path}//Node[@id={node_id!r}]/{local(pred.tag)}"
        names = [f for el in pred.iter() if (f := el.get("field"))]
        player = self.sources.single(names, f"the split {where} on {names}")
        if player is None:
            raise ExplanationError(f"the split {where} reads {names}, which come from no input field of the "
                                   "model (an output of an earlier segment?): TreeSHAP needs splits on inputs")
        self.paths.test_player.append(self.paths.player_index[player])
        self.paths.tests.append(Test(self.paths.preds.add(pred, self.scope, where), (on_true, on_false, on_unknown)))
        return len(self.paths.tests) - 1


@dataclass
class PathTable:
    """The paths as arrays, one row per path, one column per step (padded to the longest path).

    ``pred``/``blocked``/``bit`` [paths, steps]: the predicate the step's test evaluates, the
    results that leave the path there (bit 0 true, 1 false, 2 unknown), and 1 << the slot of
    the step's player among the path's players (padding: a dummy predicate, always true,
    blocking nothing); ``k`` [paths] players per path; ``players`` [paths, max k] the input
    field of each slot (-1 past k); ``value`` [paths] the terminal's weighted value.
    """

    pred: np.ndarray
    blocked: np.ndarray
    bit: np.ndarray
    k: np.ndarray
    players: np.ndarray
    value: np.ndarray
    constant: float

    @classmethod
    def of(cls, paths: PathSet) -> PathTable:
        n = len(paths.paths)
        depth = max((len(steps) for _, steps in paths.paths), default=0)
        pred = np.full((n, depth), paths.preds.n, dtype=np.intp)
        blocked = np.zeros((n, depth), dtype=np.uint8)
        bits: list[list[int]] = []
        ks, players = np.zeros(n, dtype=np.intp), []
        for i, (_, steps) in enumerate(paths.paths):
            slots: dict[int, int] = {}
            bits.append([])
            for j, (t, r) in enumerate(steps):
                slot = slots.setdefault(paths.test_player[t], len(slots))
                pred[i, j] = paths.tests[t].pred
                blocked[i, j] = sum(1 << o for o, to in enumerate(paths.tests[t].go) if to != r)
                bits[-1].append(1 << slot)
            if len(slots) > MAX_PLAYERS:
                raise ExplanationError(f"a tree path splits on {len(slots)} different input fields; TreeSHAP here "
                                       f"handles at most {MAX_PLAYERS} per path")
            ks[i] = len(slots)
            players.append(list(slots))
        width = max(ks, default=0)
        # The narrowest integer that holds a path's pattern: the pattern arrays are [paths, rows].
        dtype = next(t for t in (np.uint8, np.uint16, np.uint32, np.int64) if width < np.iinfo(t).bits)
        bit = np.zeros((n, depth), dtype=dtype)
        grid = np.full((n, width), -1, dtype=np.intp)
        for i, (p, b) in enumerate(zip(players, bits)):
            grid[i, :len(p)] = p
            bit[i, :len(b)] = b
        return cls(pred, blocked, bit, ks, grid, np.array([v for v, _ in paths.paths], dtype=np.float64),
                   paths.constant)

    def codes(self, preds: np.ndarray) -> np.ndarray:
        """[paths, rows] bit patterns from [predicates, rows] 1/0/NaN results: bit i set where the row
        takes the path's route at every test of slot i."""
        results = np.empty((len(preds) + 1, preds.shape[1]), dtype=np.uint8)  # one bit: 1 true, 2 false, 4 unknown
        results[:-1] = np.where(preds == 1, 1, np.where(preds == 0, 2, 4))
        results[-1] = 1  # the padding's dummy predicate
        missed = np.zeros((len(self.k), preds.shape[1]), dtype=self.bit.dtype)
        for step in range(self.pred.shape[1]):  # a step column at a time: [paths, rows] stays the largest array
            off = (results[self.pred[:, step]] & self.blocked[:, step, None]) != 0
            missed |= off * self.bit[:, step, None]  # (a where= argument is 5x slower)
        full = (np.int64(1) << self.k.astype(np.int64)) - 1
        return full.astype(self.bit.dtype)[:, None] & ~missed


def leaf_reader(term: TreeTerm, is_positive: Callable[[str], bool] | None) -> Callable[[Element], float]:
    """A terminal Node's value for ``term``: its score, or its probability of / vote for the positive class."""
    if term.leaf == "value":
        in_float = any(s.get("x-mathContext") == "float" for s in term.scopes)

        def value(node: Element) -> float:
            score = node.get("score")
            if score is None:
                return np.nan
            return float(np.float32(score)) if in_float else float(score)
        return value
    assert is_positive is not None

    def vote(node: Element) -> float:
        score = node.get("score")
        return np.nan if score is None else float(is_positive(score))
    if term.leaf == "vote":
        return vote

    def probability(node: Element) -> float:
        score = node.get("score")
        if score is None:
            return np.nan
        sds = children(node, "ScoreDistribution")
        given = any(sd.get("probability") for sd in sds)
        dist = {sd.get("value", ""): float(sd.get("probability") or sd.get("recordCount") or "0") for sd in sds}
        total = 1.0 if given else sum(dist.values())
        if not dist or not total:  # as elements/tree.py: the score alone is certain
            return float(is_positive(score))
        return sum(p for label, p in dist.items() if is_positive(label)) / total
    return probability


def scope_sources(base: Callable[[], Sources], scopes: tuple[Element, ...]) -> Sources:
    """Sources that also know the LocalTransformations of the models around a tree (the top one already is)."""
    sources = base()
    for model in scopes[1:]:
        lt = child(model, "LocalTransformations")
        for df in children(lt, "DerivedField") if lt is not None else []:
            sources.defs[df.get("name", "")] = df
    return sources
