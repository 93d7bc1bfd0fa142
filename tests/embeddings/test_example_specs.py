"""examples/als.yaml and examples/ranker.yaml: valid specs that document every key."""
from __future__ import annotations

import re
from pathlib import Path

from pmmlkit.embeddings.features import LookupSpec
from pmmlkit.spark import spec as specs
from pmmlkit.spark.embeddings import als, ranker

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def documented(text: str, key: str) -> bool:
    """Is ``key`` set, or shown commented out, at the start of a line?"""
    return re.search(rf"^\s*(# )?{key}:", text, re.M) is not None


def test_als_example_is_valid_and_shows_every_key() -> None:
    spec = als.load_spec(EXAMPLES / "als.yaml")
    assert spec.user == "user_id" and spec.tables == {"user": "users", "item": "ads"}
    assert Path(spec.data).is_absolute()  # relative to the spec file
    text = (EXAMPLES / "als.yaml").read_text()
    assert [k for k in sorted(als._KEYS) if not documented(text, k)] == []


def test_ranker_example_is_valid_and_shows_every_lookup_key() -> None:
    d = ranker.load_spec(EXAMPLES / "ranker.yaml")
    lookups = LookupSpec.from_dict(d, source="examples/ranker.yaml")
    assert [lk.name for lk in lookups.lookups] == ["user", "ad"] and lookups.products
    base = {k: v for k, v in d.items() if k not in ranker.LOOKUP_KEYS}
    spec = specs.from_dict({**base, "numeric": [*base["numeric"], "user_ad_dot"]}, source="examples/ranker.yaml")
    assert spec.name == "recommend" and spec.label == "clicked"
    text = (EXAMPLES / "ranker.yaml").read_text()
    assert [k for k in ranker.LOOKUP_KEYS if not documented(text, k)] == []
