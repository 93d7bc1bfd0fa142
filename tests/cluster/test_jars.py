"""`pmmlkit jars`: the cluster's jars copied from installed packages, and the --jars argument."""
from __future__ import annotations

import os

from click.testing import CliRunner

from pmmlkit.cli import main
from pmmlkit.spark.session import jpmml_jars


def test_jars_copies_jpmml_sparkml_without_xgboost_and_lightgbm(tmp_path):
    dest = tmp_path / "jars"
    result = CliRunner().invoke(main, ["jars", "--dest", str(dest)])
    assert result.exit_code == 0, result.output
    names = sorted(os.listdir(dest))
    assert names == sorted(os.path.basename(j) for j in jpmml_jars())
    assert any(n.startswith("pmml-sparkml-") for n in names)
    assert not [n for n in names if "xgboost" in n or "lightgbm" in n]
    for name in names:  # full copies, not links into site-packages
        src = next(j for j in jpmml_jars() if j.endswith("/" + name))
        assert os.path.getsize(dest / name) == os.path.getsize(src) and not os.path.islink(dest / name)
    jars_line = [line for line in result.output.splitlines() if line.startswith("--jars ")]
    assert jars_line == ["--jars " + ",".join(str(dest / n) for n in
                                              (os.path.basename(j) for j in jpmml_jars()))]
    assert "need no extra jar" in result.output and "PYSPARK_PYTHON" in result.output
    again = CliRunner().invoke(main, ["jars", "--dest", str(dest)])
    assert f"{len(names)} jars in {dest} (0 copied" in again.output
