"""Which backend evaluates which PMML element and function: the README's coverage table.

Generated from the native compiler's own table (native/supported.py, native/functions.py)
and from the known PMML4S differences (differences.py), so the README cannot drift from
what the code does: tests/evaluator/test_coverage_table.py compares the two.
"""
from __future__ import annotations

from ..pmml.fields import MODEL_ELEMENTS
from .differences import RULES

# PMML 4.4's expressions, predicates and built-in functions (Functions.html): what a row lists.
EXPRESSIONS = ("Constant", "FieldRef", "NormContinuous", "NormDiscrete", "Discretize", "MapValues",
               "TextIndex", "Apply", "Aggregate", "Lag")
PREDICATES = ("SimplePredicate", "CompoundPredicate", "SimpleSetPredicate", "True", "False")
FUNCTION_GROUPS = {
    "arithmetic": "+ - * / min max sum avg median product log10 ln sqrt abs exp pow threshold floor "
                  "ceil round modulo",
    "math (PMML 4.4)": "ln1p expm1 hypot rint sin asin sinh cos acos cosh tan atan tanh x-atan2 erf "
                       "normalCDF normalIDF normalPDF stdNormalCDF stdNormalIDF stdNormalPDF",
    "missing and validity": "isMissing isNotMissing isValid isNotValid",
    "comparison and logic": "equal notEqual lessThan lessOrEqual greaterThan greaterOrEqual and or not "
                            "isIn isNotIn if",
    "strings": "uppercase lowercase stringLength substring trimBlanks concat replace matches formatNumber",
    "dates": "formatDatetime dateDaysSinceYear dateSecondsSinceYear dateSecondsSinceMidnight",
}


def _native() -> tuple[set[str], set[str]]:
    """(elements, functions) the native compiler implements."""
    from .native import elements  # noqa: F401 - registers every element compiler and its table entries
    from .native.functions import FUNCTIONS
    from .native.supported import SPECS

    return set(SPECS), set(FUNCTIONS)


def _pypmml(element: str) -> str:
    declared = sum(1 for backend, el in RULES if backend == "pypmml" and el == element)
    return f"✓ ({declared} declared difference{'s' if declared > 1 else ''})" if declared else "✓"


def _row(name: str, native: bool, pypmml: str) -> str:
    # The JVM columns claim only what the test suites compare: everything native implements
    # is checked against JPMML (and PMML4S in the conformance suite); the rest is not tested here.
    jvm = ("✓", pypmml) if native else ("untested", "untested")
    return f"| {name} | {'✓' if native else 'refused'} | {'native' if native else 'jpmml'} | {jvm[0]} | {jvm[1]} |"


def coverage_markdown() -> str:
    """The README table: one row per model element, expression, predicate and function group."""
    elements, functions = _native()
    lines = ["| PMML | native | auto uses | jpmml | pypmml |", "|---|---|---|---|---|"]
    for name in sorted(MODEL_ELEMENTS):
        lines.append(_row(f"`{name}`", name in elements, _pypmml(name)))
    for name in (*EXPRESSIONS, *PREDICATES, "Targets", "DefineFunction"):
        lines.append(_row(f"`{name}`", name in elements, _pypmml(name)))
    for group, names in FUNCTION_GROUPS.items():
        listed = names.split()
        missing = [f for f in listed if f not in functions]
        label = f"functions: {group}" + (f" (refused: {', '.join(missing)})" if missing else "")
        lines.append(_row(label, len(missing) < len(listed), "✓"))
    return "\n".join(lines)
