"""``--engine spark`` on ``local-cluster[2,1,1024]``: two executor processes (issue 25).

The partitions are validated in Python workers of two separate executor JVMs, not in
the driver's process, and the figures are the Polars engine's.
"""

import json
import os
import shutil
import time

import pytest
from typer.testing import CliRunner

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'cust[spark]')")
pytest.importorskip("pandas", reason="pandas (pyspark[sql]) is not installed")
if shutil.which("java") is None:
    pytest.skip("no Java runtime for Spark", allow_module_level=True)

from cust.cli.main import app
from tests.spark.session import start_session

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:  # the shared local[2] session: one SparkContext at a time
        active.stop()
    yield from start_session("local-cluster[2,1,1024]", "cust-tests-cluster",
                             tmp_path_factory.mktemp("cluster"))


def test_two_executor_processes_give_the_polars_figures(cluster):
    sc = cluster.sparkContext
    # Executors register with the driver as they start: wait for both (a loaded machine
    # takes seconds), then there must be exactly two.
    deadline = time.monotonic() + 120
    while sc._jsc.sc().getExecutorIds().size() < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert sc._jsc.sc().getExecutorIds().size() == 2
    workers = set(sc.parallelize(range(8), 4).map(lambda _: os.getpid()).collect())
    assert os.getpid() not in workers
    runner = CliRunner()
    docs = {}
    for engine in ("polars", "spark"):
        result = runner.invoke(app, ["--engine", engine, "--no-cache", "segment", "buckets",
                                     "--format", "json"])
        assert result.exit_code == 0, result.output
        docs[engine] = json.loads(result.stdout)
    assert docs["spark"] == docs["polars"]
