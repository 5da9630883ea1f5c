"""``--engine spark`` that cannot start: exit 2 with a hint, never a traceback (issue 25).

Each case fails before a JVM is started, so the module is fast.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cust.cli.main import app

ROOT = Path(__file__).resolve().parents[2]


def _cust(args, tmp_path, env=None):
    # A real process: no Spark session of another test is active in it.
    return subprocess.run([sys.executable, "-m", "cust", *args], capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ, **(env or {})}, timeout=120)


@pytest.mark.parametrize("args", [["segment", "buckets"], ["cohort"], ["funnel"],
                                  ["report", "weekly"]])
def test_no_pyspark_names_the_extra(monkeypatch, args):
    # Each command takes the Spark path (cohorts and the report through the orders, the
    # funnel through the events): without PySpark it says so, never runs on Polars.
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    result = CliRunner().invoke(app, ["--engine", "spark", "--no-cache", *args])
    assert result.exit_code == 2, result.output
    assert "error:" in result.output
    assert 'pip install "cust[spark]"' in result.output
    assert "Traceback" not in result.output


@pytest.mark.spark
def test_unreachable_master_names_the_setting(tmp_path):
    pytest.importorskip("pyspark", reason="pyspark is not installed")
    (tmp_path / "cust.toml").write_text(
        '[engine]\nname = "spark"\nspark_master = "spark://127.0.0.1:9"\n', encoding="utf-8")
    result = _cust(["segment", "buckets"], tmp_path)
    assert result.returncode == 2, result.stderr
    assert "spark://127.0.0.1:9 cannot be reached" in result.stderr
    assert "spark_master" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.spark
def test_no_java_says_so(tmp_path):
    pytest.importorskip("pyspark", reason="pyspark is not installed")
    bare = tmp_path / "bin"
    bare.mkdir()
    env = {"PATH": str(bare), "JAVA_HOME": ""}
    result = _cust(["--engine", "spark", "segment", "buckets"], tmp_path, env)
    assert result.returncode == 2, result.stderr
    assert "needs Java" in result.stderr
    assert "JAVA_HOME" in result.stderr
    assert "Traceback" not in result.stderr
