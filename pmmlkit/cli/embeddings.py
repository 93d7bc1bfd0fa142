"""The `pmmlkit embeddings` group: two-towers vectors, their stores, the last layer on top."""
from __future__ import annotations

import click

from .options import ErrorBoundaryGroup, echo_json, echo_published, needs_extra, repo_option

store_option = click.option(
    "--store", envvar="PMMLKIT_EMBEDDING_STORE", default=None,
    help="Embedding store: a path, file:///path or redis://host:port/db (env PMMLKIT_EMBEDDING_STORE).",
)


@click.group("embeddings", cls=ErrorBoundaryGroup)
def embeddings_group() -> None:
    """Embedding tables: train with ALS, import, publish to a store, train a ranker on them."""


@embeddings_group.command("train")
@click.argument("spec_path", type=click.Path(exists=True, dir_okay=False))
@click.option("--no-publish", is_flag=True, help="Only write the Parquet tables, even if the spec names a store.")
@needs_extra("spark")
def embeddings_train(spec_path: str, no_publish: bool) -> None:
    """Fit user and item embeddings with Spark ALS (SPEC: YAML/JSON) and write/publish the tables."""
    from ..spark.embeddings.als import train

    echo_json(train(spec_path, publish=not no_publish))


@embeddings_group.command("import")
@click.argument("path", type=click.Path(exists=True))
@click.option("--table", required=True, help="Table name in the store.")
@click.option("--id-column", default="id", show_default=True, help="The column holding each vector's key.")
@click.option("--vector-column", default=None, help="An array column holding the vector.")
@click.option("--columns", default=None, help="Comma-separated vector columns [default: numeric columns].")
@store_option
def embeddings_import(path: str, table: str, id_column: str, vector_column: str | None,
                      columns: str | None, store: str | None) -> None:
    """Import vectors computed elsewhere (Parquet/CSV) into the store as a new version."""
    from ..embeddings.store import open_store
    from ..embeddings.tables import read_table

    ids, vectors = read_table(path, id_column=id_column, vector_column=vector_column,
                              columns=columns.split(",") if columns else None)
    echo_json(open_store(store).publish(table, ids, vectors).as_dict())


@embeddings_group.command("publish")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--keep", default=2, show_default=True, type=click.IntRange(min=1),
              help="Versions kept per table (the current one included).")
@store_option
def embeddings_publish(paths: tuple[str, ...], keep: int, store: str | None) -> None:
    """Publish <table>.parquet files (from `embeddings train`) as new versions, each switched atomically."""
    import os

    from ..embeddings.store import open_store
    from ..embeddings.tables import read_table

    target = open_store(store)
    for path in paths:
        ids, vectors = read_table(path, id_column="id")
        table = os.path.basename(path).rsplit(".", 1)[0]
        echo_json(target.publish(table, ids, vectors, keep=keep).as_dict())


@embeddings_group.command("list")
@store_option
def embeddings_list(store: str | None) -> None:
    """Tables of the store with their current version, dimension and count."""
    from ..embeddings.store import open_store

    target = open_store(store)
    echo_json([target.info(t).as_dict() for t in target.tables()])


@embeddings_group.command("train-ranker")
@click.argument("spec_path", type=click.Path(exists=True, dir_okay=False))
@store_option
@repo_option
@needs_extra("spark")
def embeddings_train_ranker(spec_path: str, store: str | None, repo: str) -> None:
    """Train the last layer (logistic regression / MLP) on embedding features; publish it with its lookups."""
    from ..spark.embeddings.ranker import train_ranker

    version = train_ranker(spec_path, repo=repo, store=store)
    echo_published(version)
