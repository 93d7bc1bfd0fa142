"""String functions and TextIndex, with Java's (JPMML-Evaluator's) string semantics.

Work is done once per distinct value (factorised), not once per row: a text column has few
distinct values compared with its rows, and the same texts are tokenised for every term.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any
from xml.etree.ElementTree import Element

import numpy as np
import pandas as pd

from ...errors import RowEvaluationError, UnsupportedElement
from ...pmml.fields import child, children, local
from .context import Ctx, Env, Expr
from .expressions import EXPRESSIONS, compile_expression, is_missing

Fn = Callable[..., np.ndarray]
_JAVA_BLANKS = "".join(chr(c) for c in range(33))  # String.trim() strips every char <= U+0020


def by_value(fn: Callable[[Any], Any], col: np.ndarray, *, numeric: bool = False) -> np.ndarray:
    """``fn`` on each distinct non-missing value of ``col``; missing stays missing."""
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    if numeric:
        table = np.array([float(fn(u)) for u in uniques] + [np.nan], dtype=np.float64)
    else:
        table = np.empty(len(uniques) + 1, dtype=object)
        table[:-1] = [fn(u) for u in uniques]
        table[-1] = None
    return table[codes]


def java_double(x: float) -> str:
    """Double.toString: plain between 1e-3 and 1e7, else scientific like 1.0E10."""
    if x != x:
        return "NaN"
    if x in (np.inf, -np.inf):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0 or 1e-3 <= abs(x) < 1e7:
        text = repr(float(x))
        return text if "e" not in text else f"{Decimal(text):f}"
    exp = f"{x:.17e}".split("e")[1]
    digits = repr(float(x))  # the shortest digits that read back as x
    m = Decimal(digits).scaleb(-int(exp)).normalize()
    text = f"{m:f}"
    return f"{text if '.' in text else text + '.0'}E{int(exp)}"


def as_text(col: np.ndarray, data_type: str) -> np.ndarray:
    """A column as JPMML's strings: integers without '.0', doubles as Double.toString, booleans true/false."""
    if col.dtype == object:
        return col
    if data_type == "integer":
        return by_value(lambda v: str(int(v)), col)
    if data_type == "boolean":
        return by_value(lambda v: "true" if v == 1 else "false", col)
    return by_value(java_double, col)


# --- the functions -------------------------------------------------------------------------------

def _concat(*cols: np.ndarray) -> np.ndarray:
    """JPMML skips missing arguments; all of them missing gives the empty string."""
    parts = [np.where(is_missing(c), "", c).astype(object) for c in cols]
    out = parts[0]
    for p in parts[1:]:
        out = out + p
    return out


def _length(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2  # Java counts UTF-16 units


def _substring(s: np.ndarray, pos: np.ndarray, length: np.ndarray) -> np.ndarray:
    p, n = _ints(pos, "startPos"), _ints(length, "length")
    if (p < 1).any():
        raise RowEvaluationError(f"function 'substring' got startPos {p[p < 1][0]}; it must be 1 or more "
                                 "(JPMML-Evaluator refuses it too)")
    if (n < 0).any():
        raise RowEvaluationError(f"function 'substring' got length {n[n < 0][0]}; it must be 0 or more")
    return np.array([v[a - 1:a - 1 + b] for v, a, b in zip(s.tolist(), p.tolist(), n.tolist())], dtype=object)


def _ints(col: np.ndarray, what: str) -> np.ndarray:
    x = np.asarray(col, dtype=np.float64)
    frac = x != np.floor(x)
    if frac.any():
        raise RowEvaluationError(f"function 'substring' needs a whole number for {what}, got {x[frac][0]!r}")
    return x.astype(np.int64)


_JAVA_GROUP = re.compile(r"\$(\d)|\$\{(\w+)\}")


def java_replacement(rep: str) -> str:
    """A Java Matcher.replaceAll replacement ($1, ${name}; no backslash) as a Python re template."""
    return _JAVA_GROUP.sub(lambda m: f"\\g<{m.group(1) or m.group(2)}>", rep)


# Java regex syntax Python's re reads differently or not at all: refused, never guessed at.
_JAVA_ONLY = re.compile(r"\\[pPhHvVRXGzZQE]|[*+?}][+]|\[[^\]]*&&|\(\?[a-zA-Z]*[dUu]")


_POSIX = {"Punct": "!-/:-@\\[-`{-~", "Alpha": "a-zA-Z", "Digit": "0-9", "Alnum": "a-zA-Z0-9",
          "Lower": "a-z", "Upper": "A-Z", "Space": " \\t\\n\\x0B\\f\\r"}
_POSIX_RE = re.compile(r"\\p\{(" + "|".join(_POSIX) + r")\}|\\.|\[|\]")


def _posix_classes(text: str) -> str:
    """Java's ASCII \\p{Punct}, \\p{Alpha}... as explicit classes (bare, inside a [...])."""
    depth = 0

    def sub(m: re.Match[str]) -> str:
        nonlocal depth
        token = m.group(0)
        if token == "[":
            depth += 1
        elif token == "]":
            depth = max(depth - 1, 0)
        elif m.group(1):
            return _POSIX[m.group(1)] if depth else f"[{_POSIX[m.group(1)]}]"
        return token
    return _POSIX_RE.sub(sub, text)


def _pattern(text: str, path: str, flags: int = 0) -> re.Pattern[str]:
    text = _posix_classes(text)
    if _JAVA_ONLY.search(text):
        raise UnsupportedElement(f"regular expression {text!r} (Java-only syntax)", path,
                                 ["patterns that Java and Python read alike"])
    try:
        return re.compile(text, re.ASCII | flags)  # Java's \d \w \s \b are ASCII-only by default
    except re.error as e:
        raise UnsupportedElement(f"regular expression {text!r} ({e})", path) from None


def _per_pattern(fn: Callable[[str, re.Pattern[str]], object]) -> Fn:
    """``fn(value, pattern)`` row by row, for a pattern that is not a constant (each compiled once)."""
    cache: dict[str, re.Pattern[str]] = {}

    def run(s: np.ndarray, pat: np.ndarray) -> np.ndarray:
        out = []
        for v, p in zip(s.tolist(), pat.tolist()):
            rx = cache.get(p)
            if rx is None:
                try:
                    rx = cache[p] = _pattern(p, "Apply")
                except UnsupportedElement as e:
                    raise RowEvaluationError(f"function 'matches': {e}") from None
            out.append(fn(v, rx))
        return np.array(out, dtype=np.float64)
    return run


_FORMAT = re.compile(r"%([-+ 0]*)(\d*)(?:\.(\d+))?([dfeE%n])")


def _format_number(pattern: str, data_type: str, path: str) -> Callable[[float], str]:
    """String.format(pattern, number) for %d (integers) and %f/%e (doubles); others are refused."""
    specs = [m for m in _FORMAT.finditer(pattern) if m.group(4) not in "%n"]
    rest = _FORMAT.sub("", pattern)
    if "%" in rest or len(specs) != 1:
        raise UnsupportedElement(f"formatNumber pattern {pattern!r}", path,
                                 ["one %d, %f or %e conversion with flags -+ 0, width and precision"])
    conv = specs[0].group(4)
    if (conv == "d") != (data_type == "integer"):
        raise UnsupportedElement(f"formatNumber pattern {pattern!r} for a {data_type} input", path,
                                 ["%d for integers, %f or %e for decimals (Java refuses the others)"])

    def fmt(x: float) -> str:
        def one(m: re.Match[str]) -> str:
            flags, width, prec, c = m.groups()
            if c == "%":
                return "%"
            if c == "n":
                return "\n"
            if c == "d":
                return f"%{flags}{width}d" % int(x)
            digits = int(prec) if prec is not None else 6
            with localcontext() as ctx:  # Java rounds the shortest decimal form half up
                ctx.rounding, ctx.prec = ROUND_HALF_UP, 200
                spec = f"{flags}{width}.{digits}{c}"
                body = format(Decimal(repr(float(x))), spec) if x != 0 else f"%{spec}" % x
            if c in "eE":  # Java writes at least two exponent digits: 1.5e+00
                body = re.sub(r"([eE][+-])(\d)$", r"\g<1>0\2", body)
            return body
        return _FORMAT.sub(one, pattern)
    return fmt


# name -> (arity, result type, how a missing argument is treated)
STRING_FUNCTIONS_SPECS: dict[str, tuple[tuple[int, int], str, str]] = {
    "lowercase": ((1, 1), "string", "strict"), "uppercase": ((1, 1), "string", "strict"),
    "trimBlanks": ((1, 1), "string", "strict"), "stringLength": ((1, 1), "integer", "strict"),
    "substring": ((3, 3), "string", "strict"), "concat": ((2, 1 << 30), "string", "own"),
    "replace": ((3, 3), "string", "strict"), "matches": ((2, 2), "boolean", "strict"),
    "formatNumber": ((2, 2), "string", "strict"),
}
_NUMBER_ARGS = {"substring": (1, 2), "formatNumber": (0,)}


def wants_text(fname: str, position: int) -> bool:
    return position not in _NUMBER_ARGS.get(fname, ())


def _constant_text(el: Element | None) -> str | None:
    if el is None or local(el.tag) != "Constant" or el.get("missing") == "true":
        return None
    return el.text or ""


def prepare(fname: str, args: list[Element], types: list[str], path: str) -> Fn:
    """The body of a string function, with constant patterns compiled once."""
    if fname in ("lowercase", "uppercase", "trimBlanks"):
        op = {"lowercase": str.lower, "uppercase": str.upper,
              "trimBlanks": lambda s: s.strip(_JAVA_BLANKS)}[fname]
        return lambda s: by_value(op, s)
    if fname == "stringLength":
        return lambda s: by_value(_length, s, numeric=True)
    if fname == "concat":
        return _concat
    if fname == "substring":
        return _substring
    pattern = _constant_text(args[1]) if len(args) > 1 else None
    if fname == "matches":
        if pattern is None:
            return _per_pattern(lambda v, rx: float(rx.search(v) is not None))
        rx = _pattern(pattern, path)
        return lambda s, _p: by_value(lambda v: rx.search(v) is not None, s, numeric=True)
    if fname == "replace":
        rep = _constant_text(args[2])
        if pattern is None or rep is None:
            raise UnsupportedElement("replace with a pattern or replacement that is not a Constant", path,
                                     ["Constant pattern and replacement"])
        if "\\" in rep:  # JPMML reads a backslash in a replacement its own way: not guessed at
            raise UnsupportedElement(f"replace with a backslash in the replacement {rep!r}", path,
                                     ["replacements with $n group references and plain text"])
        rx, template = _pattern(pattern, path), java_replacement(rep)
        return lambda s, _p, _r: by_value(lambda v: rx.sub(template, v), s)
    if fname == "formatNumber":
        if pattern is None:
            raise UnsupportedElement("formatNumber with a pattern that is not a Constant", path,
                                     ["a Constant pattern"])
        fmt = _format_number(pattern, types[0], path)
        return lambda x, _p: by_value(fmt, x)
    raise UnsupportedElement(f"Apply function={fname!r}", path, sorted(STRING_FUNCTIONS_SPECS))


# --- TextIndex -------------------------------------------------------------------------------------

def _trim_punctuation(token: str) -> str:
    """JPMML's TermUtil.trimPunctuation: strip Unicode punctuation (P*) from both ends."""
    begin, end = 0, len(token)
    while begin < end and unicodedata.category(token[begin]).startswith("P"):
        begin += 1
    while end > begin and unicodedata.category(token[end - 1]).startswith("P"):
        end -= 1
    return token[begin:end]


def _tokenizer(separator: str, path: str) -> Callable[[str], tuple[str, ...]]:
    rx = _pattern(separator, path)

    def tokens(text: str) -> tuple[str, ...]:
        parts, start = [], 0
        for m in rx.finditer(text):  # not re.split: a group in the pattern must not become a token
            parts.append(text[start:m.start()])
            start = m.end()
        parts.append(text[start:])
        return tuple(t for t in map(_trim_punctuation, parts) if t)
    return tokens


def _normalizations(el: Element, path: str) -> Callable[[str], str]:
    """TextIndexNormalization tables, applied in order (StopWordsRemover writes one), as JPMML does."""
    steps = []
    fold = el.get("isCaseSensitive", "false") != "true"
    for i, norm in enumerate(children(el, "TextIndexNormalization")):
        where = f"{path}/TextIndexNormalization[{i + 1}]"
        in_col, out_col = norm.get("inField", "string"), norm.get("outField", "stem")
        regex_col = norm.get("regexField", "regex")
        flags = re.IGNORECASE if norm.get("isCaseSensitive", "true" if not fold else "false") != "true" else 0
        table = child(norm, "InlineTable")
        if table is None:
            raise UnsupportedElement("TextIndexNormalization without an InlineTable", where, ["InlineTable"])
        rows = []
        for row in children(table, "row"):
            cells = {local(c.tag).split(":")[-1]: c.text or "" for c in row}
            if in_col not in cells or out_col not in cells:
                raise UnsupportedElement(f"TextIndexNormalization row without {in_col!r} / {out_col!r}", where)
            pattern = cells[in_col] if cells.get(regex_col, "").lower() == "true" else re.escape(cells[in_col])
            if "\\" in cells[out_col]:
                raise UnsupportedElement(f"TextIndexNormalization replacement {cells[out_col]!r}", where,
                                         ["replacements without a backslash"])
            rows.append((_pattern(pattern, where, flags), java_replacement(cells[out_col])))
        steps.append((rows, norm.get("recursive", "false") == "true"))

    def normalize(text: str) -> str:
        for rows, recursive in steps:
            while True:
                before = text
                for rx, template in rows:
                    text = rx.sub(template, text)
                if not recursive or text == before:
                    break
        return text
    return normalize


def _text_index(el: Element, ctx: Ctx, path: str) -> Expr:
    """Term frequency of a term in a text, as JPMML-SparkML writes it (Tokenizer / CountVectorizer)."""
    for attr, implemented in (("tokenize", "true"), ("countHits", "allHits"), ("maxLevenshteinDistance", "0")):
        if el.get(attr, implemented) != implemented:
            raise UnsupportedElement(f"TextIndex {attr}={el.get(attr)!r}", path, [implemented])
    if el.get("wordRE") is not None:
        raise UnsupportedElement("TextIndex wordRE", path, ["wordSeparatorCharacterRE"])
    normalize = _normalizations(el, path)
    weights = el.get("localTermWeights", "termFrequency")
    if weights not in ("termFrequency", "binary", "logarithmic"):
        raise UnsupportedElement(f"TextIndex localTermWeights={weights!r}", path,
                                 ["termFrequency", "binary", "logarithmic"])
    fold = el.get("isCaseSensitive", "false") != "true"
    tokens = _tokenizer(el.get("wordSeparatorCharacterRE", r"\s+"), path)
    text_field = el.get("textField", "")
    term_el = next((c for c in el if local(c.tag) not in ("Extension", "TextIndexNormalization")), None)
    if term_el is None:
        raise UnsupportedElement("TextIndex without a term expression", path, ["<expression>"])
    term = compile_expression(term_el, ctx, path)
    cache: dict[str, tuple[tuple[str, ...], Counter[str]]] = {}  # text -> (tokens, word counts), bounded
    term_words: dict[str, tuple[str, ...]] = {}  # term -> its tokens, bounded

    def frequency(text: str, words: tuple[str, ...]) -> int:
        entry = cache.get(text)
        if entry is None:
            toks = tokens(normalize(text))
            toks = tuple(t.lower() for t in toks) if fold else toks
            entry = (toks, Counter(toks))
            if len(cache) < 65536:
                cache[text] = entry
        toks, single = entry
        if len(words) == 1:
            return single.get(words[0], 0)
        n = len(words)
        return sum(1 for i in range(len(toks) - n + 1) if toks[i:i + n] == words)

    def count(text: str, raw: str) -> int:
        words = term_words.get(raw)
        if words is None:
            words = tuple(t.lower() for t in tokens(raw)) if fold else tokens(raw)
            if len(term_words) < 65536:
                term_words[raw] = words
        return frequency(text, words) if words else 0

    def run(env: Env) -> np.ndarray:
        texts, terms = env.get(text_field), term(env)
        ok = ~(is_missing(texts) | is_missing(terms))  # a missing text or term: a missing count
        out = np.full(env.n, np.nan)
        if ok.any():
            out[ok] = _counts_of(texts[ok], terms[ok], count)
        if weights == "binary":
            out = np.minimum(out, 1.0)
        elif weights == "logarithmic":
            out = np.log10(1.0 + out)
        return out
    return run


def _counts_of(texts: np.ndarray, terms: np.ndarray, count: Callable[[str, str], int]) -> np.ndarray:
    """count(text, term) per row, computed once per distinct text (the term is nearly always a constant)."""
    if len(texts) < 16:
        return np.array([count(x, t) for x, t in zip(texts.tolist(), terms.tolist())], dtype=np.float64)
    term = terms[0]
    if (terms == term).all():
        codes, uniq = pd.factorize(texts)
        return np.array([count(x, term) for x in uniq], dtype=np.float64)[codes]
    codes, uniq = pd.factorize(np.array(list(zip(texts.tolist(), terms.tolist())) + [None], dtype=object)[:-1])
    return np.array([count(x, t) for x, t in uniq], dtype=np.float64)[codes]


EXPRESSIONS["TextIndex"] = _text_index
