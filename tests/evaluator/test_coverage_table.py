"""The README's coverage table is the one the code generates: it cannot drift."""
from __future__ import annotations

from pathlib import Path

from pmmlkit.evaluator.coverage import coverage_markdown

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_coverage_table_matches_the_code():
    text = README.read_text()
    table = text.split("<!-- coverage:start -->\n", 1)[1].split("\n<!-- coverage:end -->", 1)[0]
    assert table == coverage_markdown(), "regenerate with pmmlkit.evaluator.coverage.coverage_markdown()"


def test_the_table_says_what_native_refuses():
    rows = {line.split(" | ")[0].strip("| `"): line for line in coverage_markdown().splitlines()[2:]}
    assert "| ✓ | native |" in rows["TreeModel"] and "| refused | jpmml |" in rows["RuleSetModel"]
