"""Training on a real standalone cluster (spark-submit and `pmmlkit train --master`) publishes the
same PMML as local mode, and distributed scoring runs on the cluster's executor."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from pmmlkit.repository.store import Repository
from pmmlkit.spark.training import train

from .conftest import cluster_env, spark_home

pytestmark = pytest.mark.slow
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TIMEOUT = 300  # seconds per cluster job; a job takes ~30 s on 2 cores


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory):
    from tests.spark.conftest import _generate_ctr

    ctr = _generate_ctr()
    folder = tmp_path_factory.mktemp("cluster-train")
    data = folder / "ctr.csv"
    ctr.generate(300, seed=23).to_csv(data, index=False)
    spec = {"name": "ctr_lr", "data": str(data), "label": "clicked", "numeric": list(ctr.NUMERIC),
            "categorical": list(ctr.CATEGORICAL), "estimator": {"type": "logistic_regression",
                                                                "params": {"maxIter": 20, "regParam": 0.01}},
            "validation": {"fraction": 0.25, "seed": 3}, "verify_rows": 5}
    path = folder / "spec.json"
    path.write_text(json.dumps(spec))
    return str(path)


@pytest.fixture(scope="module")
def jars_dir():
    """The project's jars/ folder, filled as `make jars` fills it (atomic copies, git-ignored)."""
    from pmmlkit.jars import collect

    return collect(dest=os.path.join(ROOT, "jars"))


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, env=cluster_env(), cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, **kw)
    assert proc.returncode == 0, f"{cmd[:3]}... exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    return proc


def _without_timestamp(pmml: bytes) -> bytes:
    """The document minus Header/Timestamp, the only part that records when it was made."""
    root = ET.fromstring(pmml)
    for header in root.iter():
        for child in [c for c in header if c.tag.endswith("}Timestamp")]:
            header.remove(child)
    return ET.tostring(root)


def _published(repo_dir: str, name: str = "ctr_lr") -> bytes:
    repo = Repository(repo_dir)
    return repo.read_pmml(repo.resolve(name))


def test_cluster_training_matches_local_mode(standalone_cluster, spec_file, jars_dir, spark, tmp_path):
    local = Repository(str(tmp_path / "local"))
    train(spec_file, repo=local, spark=spark)
    expected = _without_timestamp(_published(local.root))

    submitted = str(tmp_path / "submitted")
    spark_submit = os.path.join(spark_home(), "bin", "spark-submit")
    out = _run([spark_submit, "--master", standalone_cluster, "--jars", jars_dir.jars_argument,
                "--conf", "spark.executor.memory=512m", "--conf", "spark.ui.enabled=false",
                "spark_jobs/train_job.py", spec_file, "--repo", submitted])
    assert "published ctr_lr:1" in out.stdout
    assert _without_timestamp(_published(submitted)) == expected

    via_cli = str(tmp_path / "cli")
    out = _run([sys.executable, "-m", "pmmlkit", "train", spec_file, "--master", standalone_cluster,
                "--repo", via_cli])
    assert "published ctr_lr:1" in out.stdout
    assert _without_timestamp(_published(via_cli)) == expected
    manifest = Repository(via_cli).resolve("ctr_lr").manifest
    # Holdout metrics are sums over partitions: the order of additions may move the last bit.
    assert manifest.metrics == pytest.approx(Repository(local.root).resolve("ctr_lr").manifest.metrics,
                                             rel=1e-12)


def test_distributed_scoring_on_the_cluster_equals_local(standalone_cluster, tmp_path):
    from pmmlkit.evaluator import Evaluator
    from pmmlkit.scoring.batch import score_file
    from tests import docs
    from tests.cluster.test_spark_scoring import _input_frame

    repo = Repository(str(tmp_path / "models"))
    repo.publish("clf", docs.versioned_pmml(1))
    data = str(tmp_path / "in.csv")
    _input_frame(400).to_csv(data, index=False)  # row 7 is rejected: x1 = "abc"
    local = score_file(Evaluator.load("clf", repo=repo.root), data, str(tmp_path / "local.csv"), max_errors=1)
    out = str(tmp_path / "dist.csv")
    proc = _run([sys.executable, "-m", "pmmlkit", "score", data, "-m", "clf", "-o", out, "--engine", "spark",
                 "--master", standalone_cluster, "--repo", repo.root, "--max-errors", "1"])
    assert "400 rows in, 399 scored, 1 rejected" in proc.stdout
    assert (local.input_rows, local.output_rows, local.rejected_rows) == (400, 399, 1)
    parts = sorted(p for p in os.listdir(out) if p.startswith("part-"))
    dist = pd.concat([pd.read_csv(os.path.join(out, p)) for p in parts], ignore_index=True)
    expected = pd.read_csv(local.output_path)
    assert list(dist.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(dist, expected, check_exact=False, rtol=0, atol=1e-12)
    rejects = pd.read_csv(os.path.join(out + "_rejects", next(
        p for p in os.listdir(out + "_rejects") if p.startswith("part-"))), dtype=str, keep_default_na=False)
    local_rejects = pd.read_csv(local.rejects_path, dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(rejects, local_rejects[rejects.columns])
