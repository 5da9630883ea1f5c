"""``--engine`` and ``[engine]``: chosen without PySpark being imported (issue 25).

These run without PySpark; the engine itself is tested in test_spark_engine.py.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from cust.pipelines.errors import ConfigError
from cust.pipelines.settings import EngineSettings, engine_settings, load_config

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_cli_does_not_import_pyspark():
    # `cust --help` stays fast: nothing of Spark is loaded unless the engine is chosen.
    code = "import sys, cust.cli.main; print('pyspark' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def _config(tmp_path, body):
    path = tmp_path / "cust.toml"
    path.write_text(body, encoding="utf-8")
    return load_config(path)


def test_engine_table_is_read(tmp_path):
    config = _config(tmp_path, '[engine]\nname = "spark"\nspark_master = "local[2]"\n')
    assert engine_settings(config) == EngineSettings("spark", "local[2]")
    # --engine wins over the file's name; the master stays.
    assert engine_settings(config, "polars") == EngineSettings("polars", "local[2]")


def test_no_engine_table_means_polars(tmp_path):
    assert engine_settings(_config(tmp_path, "")) == EngineSettings("polars", None)


def test_unknown_engine_key_suggests_the_right_one(tmp_path):
    with pytest.raises(ConfigError, match=r"spark_mastr.*did you mean spark_master"):
        _config(tmp_path, '[engine]\nspark_mastr = "local[2]"\n')


def test_unknown_engine_name_is_refused(tmp_path):
    config = _config(tmp_path, '[engine]\nname = "sprak"\n')
    with pytest.raises(ConfigError, match="did you mean spark"):
        engine_settings(config)


def test_blank_master_is_refused(tmp_path):
    config = _config(tmp_path, '[engine]\nspark_master = " "\n')
    with pytest.raises(ConfigError, match="spark_master"):
        engine_settings(config)


def test_engine_option_refuses_other_values():
    from typer.testing import CliRunner

    from cust.cli.main import app

    result = CliRunner().invoke(app, ["--engine", "dask", "check"])
    assert result.exit_code == 2
