"""ALS embeddings and the last layer on the shared Spark session; the published model scores like by-hand features."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "examples"))

from pmmlkit.embeddings.lookups import with_lookups
from pmmlkit.evaluator import Evaluator
from pmmlkit.spark.embeddings.als import AlsSpec, train


@pytest.mark.parametrize("estimator", [{"type": "logistic_regression"},
                                       {"type": "multilayer_perceptron",
                                        "params": {"hidden_layers": [4], "maxIter": 30, "seed": 1}}],
                         ids=["logistic", "mlp"])
def test_als_then_ranker_end_to_end(spark, tmp_path, file_store, repo, estimator):
    from recommend import generate

    from pmmlkit.spark.embeddings.ranker import train_ranker

    impressions = generate(users=12, ads=8, rows=600, seed=3)
    clicks = tmp_path / "clicks.csv"
    impressions[impressions.clicked == 1].to_csv(clicks, index=False)
    spec = AlsSpec(data=str(clicks), user="user_id", item="ad_id", output=str(tmp_path / "tables"), rank=4,
                   max_iter=3, tables={"user": "users", "item": "ads"}, store=file_store.url)
    summary = train(spec, spark=spark)
    assert summary["users"]["dim"] == 4 and summary["users"]["version"] == 1
    assert summary["users"]["count"] == impressions[impressions.clicked == 1].user_id.nunique()
    assert file_store.info("ads").count == impressions[impressions.clicked == 1].ad_id.nunique()
    assert (tmp_path / "tables" / "users.parquet").is_file()

    data = tmp_path / "impressions.csv"
    impressions.to_csv(data, index=False)
    manifest_keys = {"lookups": [{"key": "user_id", "table": "users", "as": "user"},
                                 {"key": "ad_id", "table": "ads", "as": "ad"}],
                     "features": {"dot": True, "products": True}, "fallback": {"user": {"default": "zeros"}}}
    version = train_ranker({"name": "rank", "data": str(data), "label": "clicked", "numeric": ["hour"],
                            "categorical": ["device"], "verify_rows": 3,
                            "estimator": estimator, **manifest_keys},
                           repo=repo, store=file_store, spark=spark)
    extra = version.manifest.extra
    assert extra["lookups"] == manifest_keys["lookups"] and extra["store"] == file_store.url
    assert extra["embedding_versions"] == {"users": 1, "ads": 1}
    names = {f["name"] for f in version.manifest.input_schema}
    assert {"user_ad_dot", "user_ad_p3", "hour", "device"} <= names and "user_id" not in names

    sample = impressions.head(25)
    raw = repo.read_pmml(version)
    with with_lookups(Evaluator.from_bytes(raw), extra, file_store) as ev, Evaluator.from_bytes(raw) as plain:
        got = ev.predict_batch(sample)
        u = file_store.fetch("users", sample.user_id.tolist()).vectors.astype(np.float64)
        a = file_store.fetch("ads", sample.ad_id.tolist()).vectors.astype(np.float64)
        hand = sample.assign(user_ad_dot=(u * a).sum(axis=1), **{f"user_ad_p{i}": u[:, i] * a[:, i] for i in range(4)})
        want = plain.predict_batch(hand)
    np.testing.assert_allclose(got["probability(1)"], want["probability(1)"], rtol=0, atol=1e-9)


def test_als_spec_errors_name_the_key():
    from pmmlkit.errors import ConfigError

    with pytest.raises(ConfigError, match="key 'item' is required"):
        AlsSpec.from_dict({"data": "x.csv", "user": "u", "output": "o"})
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['ranks'\]"):
        AlsSpec.from_dict({"data": "x.csv", "user": "u", "item": "i", "output": "o", "ranks": 3})


def test_cli_import_publish_list(tmp_path):
    from click.testing import CliRunner

    from pmmlkit.cli import main
    from pmmlkit.embeddings.tables import write_table

    store = str(tmp_path / "st")
    pd.DataFrame({"id": ["a", "b"], "x": [1.0, 2.0], "y": [3.0, 4.0]}).to_csv(tmp_path / "v.csv", index=False)
    runner = CliRunner()
    res = runner.invoke(main, ["embeddings", "import", str(tmp_path / "v.csv"), "--table", "items", "--store", store])
    assert res.exit_code == 0, res.output
    write_table(tmp_path / "items.parquet", ["a"], np.ones((1, 2)))
    res = runner.invoke(main, ["embeddings", "publish", str(tmp_path / "items.parquet"), "--store", store])
    assert res.exit_code == 0 and '"version": 2' in res.output, res.output
    res = runner.invoke(main, ["embeddings", "list", "--store", store])
    assert res.exit_code == 0 and '"count": 1' in res.output and '"table": "items"' in res.output, res.output
