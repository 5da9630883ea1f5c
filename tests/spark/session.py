"""The Spark session the engine tests start (pyspark imported only when used)."""

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def start_session(master: str, app_name: str, folder: Path) -> Iterator[Any]:
    """A small Spark session on ``master``, stopped when the generator is closed.

    The JVM, and the Python workers it starts, run in an empty ``folder``: in the
    checkout's root the folder cust/ (the package's stub) would shadow the installed package.
    """
    from pyspark.sql import SparkSession

    here = Path.cwd()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # where cust is installed
    os.chdir(folder)
    session = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.driver.memory", "1g")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    os.chdir(here)
    yield session
    session.stop()


def same_or_refused_on_both(polars: tuple[int, Any], spark: tuple[int, Any]) -> None:
    """The engines' (exit code, JSON document or output): the same figures, or exit 2 on both."""
    assert spark[0] == polars[0], spark[1]
    if polars[0] == 0:
        assert spark == polars
    else:
        assert polars[0] == 2
        assert "error:" in spark[1]
        assert "Traceback" not in spark[1]
