"""``--engine spark`` gives the Polars engine's figures exactly (issue 25).

One Spark session in local mode (``local[2]``, conftest.py's, shared by the modules):
every command's JSON document on the bundled sample and on small hostile exports is
compared with the Polars engine's, key by key, as are the rejected rows written by
``--rejects``. A small export checks the Spark path's orders by hand.
"""

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'cust[spark]')")
pytest.importorskip("pandas", reason="pandas (pyspark[sql]) is not installed")
if shutil.which("java") is None:
    pytest.skip("no Java runtime for Spark", allow_module_level=True)

from cust.cli.main import app
from tests.spark.session import same_or_refused_on_both
from tests.test_hostile_corpus import ORDER_FILES

pytestmark = pytest.mark.spark

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"
runner = CliRunner()


def _run(args, engine, tmp_path):
    result = runner.invoke(app, ["--engine", engine, "--no-cache", *args, "--format", "json"])
    return result.exit_code, (json.loads(result.stdout) if result.exit_code == 0 else
                              result.output)


def _same(args, tmp_path):
    polars = _run(args, "polars", tmp_path)
    spark = _run(args, "spark", tmp_path)
    assert polars[0] == 0, polars[1]
    assert spark == polars
    return spark[1]


# Every orders command on the bundled sample (customers and events from the sample too).
SAMPLE = [
    ["segment", "buckets", "--trend", "month"],
    ["segment", "abc"],
    ["segment", "rfm"],
    ["segment", "profile", "--by", "customer_type,tier"],
    ["cohort", "--split", "promo"],
    ["promo", "simulate", "--threshold", "500", "--reward-amount", "50"],
    ["promo", "compare"],
    ["clv", "--as-of", "2026-06-30", "--holdout-until", "2026-10-25"],
]


@pytest.mark.parametrize("args", SAMPLE, ids=[" ".join(a[:2]) for a in SAMPLE])
def test_sample_figures_are_the_same(spark, args, tmp_path):
    doc = _same(args, tmp_path)
    assert doc["input"]["orders"]["rows_read"] > 0


def test_weekly_report_is_the_same(spark, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the report's HTML is written here
    polars = _run(["report", "weekly"], "polars", tmp_path)
    spark_code, doc = _run(["report", "weekly"], "spark", tmp_path)
    assert polars[0] == spark_code == 0
    # Every section the same, but the paths (every event in order: this machine only),
    # left out on Spark with its reason.
    assert "paths" in polars[1]
    assert "paths" not in doc
    spark_left = doc["left_out"]["paths"]
    assert "--engine spark" in spark_left
    del polars[1]["paths"], doc["left_out"]
    assert doc["notes"] == [*polars[1]["notes"], f"paths left out: {spark_left}"]
    doc["notes"] = polars[1]["notes"]
    assert doc == polars[1]


def test_parquet_export_in_two_files_is_the_same(spark, tmp_path):
    # Parquet rows are numbered by Spark's row index within their file; an order's lines
    # in both files (the sample's orders split by line) meet in one partition.
    import polars as pl

    from cust.pipelines.io import sample_path

    lines = pl.read_csv(sample_path("orders"), infer_schema=False)
    folder = tmp_path / "parquet"
    folder.mkdir()
    half = lines.height // 2
    lines.head(half).write_parquet(folder / "part-1.parquet", row_group_size=1000)
    lines.tail(lines.height - half).write_parquet(folder / "part-2.parquet")
    for args in (["segment", "buckets"], ["cohort"], ["segment", "abc"]):
        doc = _same(["--orders", str(folder), *args], tmp_path)
    assert doc["input"]["orders"]["rows_read"] == lines.height


HOSTILE = ["refunds.csv", "mixed_customers.csv", "duplicate_lines.csv", "dates.csv",
           "numbers.csv", "negative_quantity.csv", "unicode_ids.csv", "gbk.csv",
           "quoted_newlines.csv", "real.csv.gz", "mixed_dir"]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_exports_give_the_same_figures_and_rejects(spark, name, tmp_path):
    orders = str(BAD / name)
    for args in (["segment", "buckets"], ["cohort"]):
        _same(["--orders", orders, *args], tmp_path)
    written = {}
    for engine in ("polars", "spark"):
        out = tmp_path / f"rejects-{engine}.csv"
        result = runner.invoke(app, ["--engine", engine, "--no-cache", "--orders", orders,
                                     "--rejects", str(out), "segment", "buckets"])
        assert result.exit_code == 0, result.output
        written[engine] = out.read_text(encoding="utf-8") if out.exists() else None
    assert written["spark"] == written["polars"]


# The rest of the hostile corpus (tests/test_hostile_corpus.py): unreadable files, odd
# headers and cells. Each gives the same figures on both engines, or exit 2 on both.
# mixed_delimiters.csv has a row of fewer fields than headers (";" delimiters): Polars
# reads it with empty cells and rejects it, Spark's FAILFAST reader refuses the file (exit 2).
FEWER_FIELDS = "mixed_delimiters.csv"
REST = [n for n in ORDER_FILES if n not in HOSTILE and n not in ("ragged.csv", FEWER_FIELDS)]


def test_a_row_of_fewer_fields_is_refused_on_spark(spark, tmp_path):
    args = ["--orders", str(BAD / FEWER_FIELDS), "segment", "buckets"]
    polars, spark_run = _run(args, "polars", tmp_path), _run(args, "spark", tmp_path)
    assert polars[0] == 0
    assert polars[1]["input"]["orders"]["rows_rejected"] >= 1
    assert spark_run[0] == 2
    assert "could not read" in spark_run[1]
    assert "Traceback" not in spark_run[1]


@pytest.mark.parametrize("name", REST)
def test_rest_of_the_hostile_corpus(spark, name, tmp_path):
    args = ["--orders", str(BAD / name), "segment", "buckets"]
    same_or_refused_on_both(_run(args, "polars", tmp_path), _run(args, "spark", tmp_path))


def test_mixed_customers_rejected_on_spark_by_hand(spark, tmp_path):
    doc = _same(["--orders", str(BAD / "mixed_customers.csv"), "segment", "buckets"], tmp_path)
    assert doc["input"]["orders"]["rejected_by_reason"] == {"mixed_customers": 2}


def test_orders_by_hand_across_files(spark, tmp_path):
    # Two files; order A1 has a line in each (padded id: the same order), B2 names two
    # customers, C3 is refunded, D4 has an unreadable amount.
    folder = tmp_path / "orders"
    folder.mkdir()
    (folder / "a.csv").write_text(
        "order_id,customer_id,order_time,amount,cost,status\n"
        "A1,C1,2024-03-01 10:00,100.10,60,paid\n"
        "B2,C2,2024-03-02 11:00,20,5,paid\n"
        "C3,C3,2024-03-03 12:00,70,20,refunded\n",
        encoding="utf-8",
    )
    (folder / "b.csv").write_text(
        "order_id,customer_id,order_time,amount,cost,status\n"
        " A1 ,C1,2024-02-29 09:00,0.20,0.10,paid\n"
        "B2,C9,2024-03-02 11:00,20,5,paid\n"
        "D4,C4,2024-03-04,abc,1,paid\n",
        encoding="utf-8",
    )
    rejects = tmp_path / "rejects.csv"
    result = runner.invoke(app, ["--engine", "spark", "--no-cache", "--orders", str(folder),
                                 "--rejects", str(rejects), "segment", "buckets",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    orders = doc["input"]["orders"]
    assert orders["rows_read"] == 6
    assert orders["rejected_by_reason"] == {"mixed_customers": 2, "bad_amount": 1}
    # One paid order is left: A1 = 100.10 + 0.20, gross profit 100.30 - 60.10.
    first = doc["buckets"][2]  # 100 <= value < 500
    assert (first["orders"], first["revenue"], first["gross_profit"]) == (1, 100.3, 40.2)
    assert sum(b["orders"] for b in doc["buckets"]) == 1
    lines = rejects.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("source,source_file,source_row,order_id")
    assert [(r.split(",")[2], r.split(",")[-1]) for r in lines[1:]] == [
        ("2", "mixed_customers"), ("2", "mixed_customers"), ("3", "bad_amount")]


def test_ragged_rows_fail_on_both_engines(spark):
    # ragged.csv has a row of too many fields: the Polars reader refuses the file, and
    # Spark (FAILFAST) too; exit 2 with the same hint, never a traceback.
    for engine in ("polars", "spark"):
        result = runner.invoke(app, ["--engine", engine, "--no-cache", "--orders",
                                     str(BAD / "ragged.csv"), "segment", "buckets"])
        assert result.exit_code == 2, result.output
        assert "could not read" in result.output
        assert "more fields than headers" in result.output


LINES_NEEDED = [
    ["promo", "simulate", "--threshold", "500", "--reward-amount", "50", "--response",
     "bunching"],
    ["check"],
]


@pytest.mark.parametrize("args", LINES_NEEDED, ids=["promo bunching", "check"])
def test_a_command_needing_the_lines_is_refused_on_spark(spark, args):
    # Their lines stay on the cluster: exit 2 with a hint, never figures from no lines.
    result = runner.invoke(app, ["--engine", "spark", "--no-cache", *args])
    assert result.exit_code == 2, result.output
    assert "--engine polars" in result.output


def test_uri_paths_are_passed_to_spark(spark, tmp_path):
    # file:// stands for s3a:// and hdfs://: listed and read by Spark's file system, not
    # by the driver. Figures equal the local path's; files are named by their URI.
    folder = tmp_path / "csv"
    folder.mkdir()
    for name in ("refunds.csv", "mixed_customers.csv"):
        shutil.copy(BAD / name, folder / name)
    (folder / "_SUCCESS").write_text("", encoding="utf-8")  # a marker Spark jobs leave
    local = _run(["--orders", str(folder), "segment", "buckets"], "polars", tmp_path)
    remote = _run(["--orders", folder.as_uri() + "/", "segment", "buckets"], "spark",
                  tmp_path)
    assert local[0] == remote[0] == 0, remote[1]
    files = remote[1]["input"]["orders"].pop("files")
    local[1]["input"]["orders"].pop("files")
    assert remote == local
    # As Hadoop writes a local file's URI (file:/tmp/..., one slash).
    assert files == [f"file:{folder / n}" for n in ("mixed_customers.csv", "refunds.csv")]
