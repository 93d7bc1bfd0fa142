"""Result names: what a user sees of a model's results, and the PMML field behind each.

A PMML target field ``T`` holds the *prediction* for ``T``, yet PMML names it like the true
label. Published under that name, it is easily misread as the label and collides with the
label column a user keeps beside it. So every output of pmmlkit (Python, CLI, Spark, server)
publishes the same names:

* a target ``T`` (MiningField usage="target") is published as ``predicted_T``;
* an OutputField (``probability(1)``, ``prediction``...) keeps its PMML name: it is not the label's;
* pmmlkit's own columns are ``error`` and ``row``.

A name already taken (an OutputField or input field named ``predicted_T``, another target's
name) gets leading underscores until it is free, by the one ``own_column`` rule. Backends keep
answering in PMML names; only the Evaluator facade translates, with ``result_fields``.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from ..errors import ConfigError
from ..pmml.fields import Field, ModelSchema, OutputField

PREDICTED = "predicted_"


def own_column(base: str, taken: Any) -> str:
    """A column of pmmlkit's own (``error``, ``row``...) that no model or input field can shadow.

    The rule, the same in every output: the plain name when it is free, else the name with
    as many leading underscores as it takes to be free (``error``, ``_error``, ``__error``...).
    """
    names = set(taken)
    name = base
    while name in names:
        name = "_" + name
    return name


def result_fields(schema: ModelSchema) -> dict[str, Field]:
    """Published result name -> the PMML field behind it: targets first, then final outputs.

    A target ``T`` is published as ``predicted_T``; an output field keeps its PMML name.
    """
    outputs = {name: field for field in schema.outputs
               if (name := field.name) not in {t.name for t in schema.targets}}
    taken = {*schema.input_names, *outputs}
    published: dict[str, Field] = {}
    for target in schema.targets:
        name = own_column(PREDICTED + target.name, taken)
        taken.add(name)
        published[name] = target
    return {**published, **outputs}


def result_schema(schema: ModelSchema) -> list[dict[str, Any]]:
    """Each result's field description under its published name; a target's also names its PMML field."""
    described = []
    for name, field in result_fields(schema).items():
        entry = {**field.as_dict(), "name": name}
        if any(field is t for t in schema.targets):
            entry["target"] = field.name
        described.append(entry)
    return described


def published(schema: ModelSchema) -> tuple[Field, ...]:
    """Each result as a Field named by its published name, targets first (what typed outputs declare).

    An OutputField's ``target_field`` names the target's published name too, so the fields
    refer to each other as a user sees them.
    """
    fields = result_fields(schema)
    public = {f.name: name for name, f in fields.items() if any(f is t for t in schema.targets)}
    out: list[Field] = []
    for name, f in fields.items():
        if isinstance(f, OutputField) and f.target_field in public:
            f = dataclasses.replace(f, target_field=public[f.target_field])
        out.append(f if f.name == name else dataclasses.replace(f, name=name))
    return tuple(out)


def check_kept(keep: Sequence[str], results: Sequence[str], *, own: Sequence[str] = ()) -> None:
    """Refuse input columns passed through (``--keep``) that would share a name with a result.

    Kept columns come first in an output, results after: a shared name (or a column kept twice)
    would make a duplicate CSV header or a Parquet file that cannot be written, so it is refused
    before any reading. ``own`` are pmmlkit's own columns of that output, if it has any.
    """
    ours = {name: "a result of the model" for name in results}
    ours.update({name: "pmmlkit's own column" for name in own})
    for i, column in enumerate(keep):
        if column in keep[:i]:
            raise ConfigError(f"--keep {column!r} is given twice; the output cannot hold two columns {column!r}: "
                              "give it once")
        if column in ours:
            raise ConfigError(f"--keep {column!r} collides with {ours[column]} of that name (results: "
                              f"{list(results)[:20]}); the output cannot hold two columns {column!r}: "
                              "drop it from --keep, or rename the input column")
