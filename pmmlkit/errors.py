"""The one error hierarchy of pmmlkit.

Every error the library raises on purpose is a ``PmmlkitError``. A message says
what happened, where, and what to do. The CLI maps these to clean exits.
"""
from __future__ import annotations

from typing import Any

#: Every row number pmmlkit shows counts from 0: the first data record (after a CSV
#: header) is row 0, as in a DataFrame's default index and a JSON request's array.
#: Error messages, rejects files, the CLI, Python, Spark scoring and the server all use it.
FIRST_ROW = 0


class PmmlkitError(Exception):
    """Base class of every error pmmlkit raises on purpose."""


class ConfigError(PmmlkitError):
    """A spec, option or environment setting is wrong."""


class MissingExtraError(ConfigError):
    """A part of pmmlkit was asked for whose optional dependencies are not installed.

    ``extra`` names what to install: ``pip install 'pmmlkit[<extra>]'``.
    """

    def __init__(self, what: str, extra: str, title: str):
        self.what = what
        self.extra = extra
        self.title = title
        super().__init__(f"{what} needs the {title} extra: pip install 'pmmlkit[{extra}]'")


class JavaNotFoundError(PmmlkitError):
    """No usable Java runtime: the JVM backends and Spark need Java 17 or newer."""


class JavaError(PmmlkitError):
    """An exception raised inside the JVM, carried with its Java class name."""

    def __init__(self, java_class: str, message: str):
        self.java_class = java_class
        self.java_message = message
        super().__init__(f"{java_class}: {message}")


class EvaluationTimeout(PmmlkitError):
    """A backend took longer than the allowed time for one call."""


class BackendUnavailable(PmmlkitError):
    """The backend cannot answer now (its JVM died and the retry on a new one failed too).

    Transient by nature: ``retry_after`` is how many seconds a caller should wait before
    trying again (the server answers 503 with a ``Retry-After`` header).
    """

    def __init__(self, message: str, *, retry_after: float = 1.0):
        self.retry_after = retry_after
        super().__init__(message)


# --- PMML documents -------------------------------------------------------

class PmmlError(PmmlkitError):
    """A PMML document cannot be used."""


class UnsafePmmlError(PmmlError):
    """The document carries constructs that are refused for safety (DOCTYPE, entities)."""


class InvalidPmmlError(PmmlError):
    """The document is not well-formed PMML."""


class PmmlTooLargeError(PmmlError):
    """The document is larger than the configured cap."""


class UnsupportedElement(PmmlError):
    """The native compiler has no converter for an element."""

    def __init__(self, element: str, path: str, supported: list[str] | tuple[str, ...] = ()):
        self.element = element
        self.path = path
        self.supported = tuple(supported)
        hint = f"; supported: {', '.join(sorted(self.supported))}" if self.supported else ""
        super().__init__(
            f"unsupported PMML element {element!r} at {path}{hint}. "
            "Use backend='jpmml' or 'pypmml' for this document."
        )


class NativeCompileError(PmmlError):
    """The native compiler failed on a document its strict check accepted (a pmmlkit defect, named as one)."""


class BackendRefusal(PmmlError):
    """A backend refuses a document it is known to evaluate wrongly, or so slowly that it would hang."""


class VerificationError(PmmlError):
    """The model does not reproduce its own ModelVerification records."""


# --- Input records ----------------------------------------------------------

# A message quotes user values and allowed lists, and it is repeated for every bad row
# (responses, rejects files): each quote is bounded so one message stays under ~1 KB.
QUOTE_CHARS = 80
QUOTE_ITEMS = 5
ITEM_CHARS = 30
EXPECTED_CHARS = 400


def quote(value: Any, *, limit: int = QUOTE_CHARS) -> str:
    """``repr(value)``, cut to about ``limit`` characters with the full length said."""
    if isinstance(value, (str, bytes)) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value)} characters)"
    text = _short_repr(value, limit)
    return text if len(text) <= limit + 3 else text[:limit] + "..."


def _short_repr(value: Any, limit: int) -> str:
    import reprlib  # lazily: only messages pay for it

    r = reprlib.Repr()
    r.maxstring = r.maxother = r.maxlong = limit
    r.maxlist = r.maxtuple = r.maxdict = r.maxset = r.maxfrozenset = QUOTE_ITEMS
    r.maxlevel = 2
    return r.repr(value)


def quote_list(values: Any, *, items: int = QUOTE_ITEMS) -> str:
    """A list for a message: whole when short, else its first few items and its length."""
    values = list(values)
    shown = ", ".join(quote(v, limit=ITEM_CHARS) for v in values[:items])
    if len(values) <= items:
        return f"[{shown}]"
    return f"{len(values)} values [{shown}, ...]"


def clip(text: str, *, limit: int = EXPECTED_CHARS) -> str:
    """Cut free text built from user data to ``limit`` characters."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


class InputError(PmmlkitError):
    """One input value breaks the model's input contract.

    The message is bounded whatever the value, field name or explanation: see quote().
    """

    def __init__(self, row: int | None, field: str, value: Any, expected: str):
        self.row = row
        self.field = field
        self.value = value
        self.expected = expected
        where = f"row {clip(str(row), limit=QUOTE_CHARS)}: " if row is not None else ""
        super().__init__(f"{where}field {quote(field)}: value {quote(value)} {clip(expected)}")


class MissingFieldError(InputError):
    """A required field is absent or missing without a replacement."""


class InvalidValueError(InputError):
    """A value is outside the field's valid values or interval."""


class TypeConversionError(InputError):
    """A value cannot be converted to the field's data type."""


class EvaluationError(PmmlkitError):
    """A backend could not score a row that passed the input contract."""


class RowEvaluationError(EvaluationError):
    """The native backend met a row JPMML-Evaluator also refuses (a missing argument, an invalid result).

    The native backend then scores the failing rows one by one, so that only they carry the
    error. ``rows`` (a boolean mask over the rows being computed, when the raiser knows it)
    only says where to look: the rest is scored as one batch again.
    """

    def __init__(self, message: str, *, rows: Any = None):
        super().__init__(message)
        self.rows = rows


class TooManyRejectsError(PmmlkitError):
    """A batch job rejected more rows than allowed."""

    def __init__(self, rejected: int, allowed: int, rejects_path: str | None):
        self.rejected = rejected
        self.allowed = allowed
        where = f"; see {rejects_path}" if rejects_path else ""
        super().__init__(f"{rejected} row(s) rejected, {allowed} allowed (--max-errors){where}")


class InputFileError(ConfigError):
    """A batch input file cannot be read as a table (empty, no header, duplicate columns, not Parquet)."""


class OutputError(PmmlkitError):
    """An output or rejects file could not be written (disk full, permissions...); says what was kept."""


# --- Model repository -----------------------------------------------------

class RepositoryError(PmmlkitError):
    """The model repository cannot do what was asked."""


class ModelNotFoundError(RepositoryError):
    """No such model, version or label."""


class IntegrityError(RepositoryError):
    """A stored model does not match its manifest (sha256 or size)."""


class InvalidModelName(RepositoryError):
    """A model name that could escape the repository or is not portable."""


# --- Training ---------------------------------------------------------------

class TrainingError(PmmlkitError):
    """Training or PMML export failed."""


class DataError(ConfigError):
    """Training data does not fit its spec (text in a numeric column, a text label for a regressor)."""


class RepositoryNotFound(RepositoryError):
    """A repository root that does not exist (a path typo, a missing bucket)."""


# --- Embedding stores ---------------------------------------------------------

class EmbeddingStoreError(RepositoryError):
    """An embedding table or version cannot be read or written as asked."""


class StoreUnavailable(EmbeddingStoreError):
    """The embedding store did not answer in time (down, unreachable or timing out)."""


class ExplanationError(PmmlkitError):
    """A model, or a backend, cannot be explained exactly: the message names the element or backend and why."""
