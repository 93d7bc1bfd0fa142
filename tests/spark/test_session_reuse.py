"""One rule for Spark sessions: reuse the given or active one, stop only a session we started."""
from __future__ import annotations

from pmmlkit.spark.session import active_session, spark_session


def test_a_running_session_is_reused_and_left_running(spark):
    with spark_session() as session:
        assert session is spark
    with spark_session(spark, master="local[1]") as session:  # a master cannot change a running session
        assert session is spark
    assert active_session() is spark and not spark.sparkContext._jsc.sc().isStopped()


def test_score_on_spark_with_master_leaves_the_running_session_alone(spark, tmp_path):
    # The old copy in cli/scoring.py took `--master` to mean "start a session", got the running
    # one back from getOrCreate and stopped it at the end.
    from click.testing import CliRunner

    from pmmlkit.cli import main
    from tests.docs import logistic_pmml

    (tmp_path / "m.pmml").write_bytes(logistic_pmml())
    (tmp_path / "in.csv").write_text("x1,x2,device\n0.5,3,ios\n2.0,1,web\n")
    r = CliRunner().invoke(main, ["score", str(tmp_path / "in.csv"), "-m", str(tmp_path / "m.pmml"),
                                  "-o", str(tmp_path / "out"), "--engine", "spark", "--master", "local[2]"])
    assert r.exit_code == 0, r.output
    assert "2 rows in, 2 scored, 0 rejected" in r.output
    assert active_session() is spark and not spark.sparkContext._jsc.sc().isStopped()
