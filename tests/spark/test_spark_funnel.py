"""``cust funnel --engine spark``: the per-unit step times on Spark, the same figures (issue 25).

Spark shuffles the events by user (all events of a user, so of each of its sessions, in
one partition) and cust's own funnel code counts every partition; the partitions' counts
and value counts of the times to convert are added up as the passes of a large
click-stream are. Every JSON figure is compared with the Polars engine's, on the bundled
sample and on a small generated stream with ties, derived sessions and hostile cells.
"""

import json
import shutil

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'cust[spark]')")
pytest.importorskip("pandas", reason="pandas (pyspark[sql]) is not installed")
if shutil.which("java") is None:
    pytest.skip("no Java runtime for Spark", allow_module_level=True)

from cust.cli.main import app
from tests.spark.session import same_or_refused_on_both
from tests.test_hostile_corpus import BAD, EVENT_FILES

pytestmark = pytest.mark.spark
runner = CliRunner()


def _run(args, engine):
    result = runner.invoke(app, ["--engine", engine, "--no-cache", *args, "--format", "json"])
    return result.exit_code, (json.loads(result.stdout) if result.exit_code == 0 else
                              result.output)


def _same(args):
    polars = _run(args, "polars")
    spark = _run(args, "spark")
    assert polars[0] == 0, polars[1]
    assert spark == polars
    return spark[1]


SAMPLE = [
    ["funnel", "--by", "category", "--times", "--attribution", "last"],
    ["funnel", "--unit", "user", "--window", "2h", "--period", "week"],
    ["funnel", "--order", "strict", "--by", "platform"],
    ["funnel", "--same", "sku", "--by", "channel"],
    ["funnel", "--steps", "product_view,add_to_cart?,checkout,purchase"],
]


@pytest.mark.parametrize("args", SAMPLE, ids=[" ".join(a[1:3]) for a in SAMPLE])
def test_sample_funnel_is_the_same(spark, args):
    doc = _same(args)
    assert doc["steps"][0]["entered"] > 0
    assert doc["input"]["events"]["rows_read"] == 150_637


def test_explain_names_the_same_price_rises(spark):
    # Drift alerts, and the SKUs viewed behind them (a second pass over the partitions).
    doc = _same(["funnel", "--period", "week", "--by", "category", "--drift", "--explain"])
    assert doc["alerts"], "the sample plants a drop: there must be alerts to explain"
    assert any(e.get("price_rises") for e in doc["explanations"])


@pytest.fixture(scope="module")
def stream(tmp_path_factory):
    """A small click-stream without session_id (derived sessions), with ties of time."""
    rng = np.random.default_rng(25)
    n = 4000
    users = rng.integers(0, 300, n)
    # Minutes over three weeks, on a coarse grid: many events of one user share a time.
    minutes = rng.integers(0, 21 * 24 * 12, n) * 5
    events = rng.choice(["product_view", "add_to_cart", "purchase", "search", "home"], n,
                        p=[0.4, 0.2, 0.1, 0.2, 0.1])
    frame = pl.DataFrame({
        "user_id": [f" U{u} " if u % 7 == 0 else f"U{u}" for u in users],  # padded ids
        "event_time": [f"2025-03-{3 + m // 1440:02d} {m % 1440 // 60:02d}:{m % 60:02d}:00"
                       for m in minutes],
        "event": events,
        "category": rng.choice(["mcu", "passive", "sensor", ""], n),
        "sku": rng.choice(["S1", "S2", "S3"], n),
    })
    # Hostile cells: an unreadable time, a missing user, a missing event.
    frame = frame.with_columns(
        pl.when(pl.int_range(n) == 10).then(pl.lit("31/02/2025 25:00"))
        .otherwise(pl.col("event_time")).alias("event_time"),
        pl.when(pl.int_range(n) == 11).then(pl.lit("")).otherwise(pl.col("user_id"))
        .alias("user_id"),
        pl.when(pl.int_range(n) == 12).then(pl.lit("")).otherwise(pl.col("event"))
        .alias("event"),
    )
    path = tmp_path_factory.mktemp("stream") / "events.csv"
    frame.write_csv(path)
    return path


STREAM = [
    ["funnel", "--by", "category", "--times"],
    ["funnel", "--unit", "user", "--window", "3h"],
    ["funnel", "--order", "strict"],
    ["funnel", "--order", "any", "--unit", "user"],
    ["funnel", "--exclude", "home", "--same", "sku", "--count", "conversions"],
]


@pytest.mark.parametrize("args", STREAM, ids=[" ".join(a[1:3]) for a in STREAM])
def test_generated_stream_is_the_same(spark, stream, args):
    doc = _same(["--events", str(stream), *args])
    events = doc["input"]["events"]
    assert events["rows_read"] == 4000
    assert events["rows_rejected"] == 3
    assert doc["steps"][0]["entered"] > 0


def test_stream_counted_by_hand(spark, tmp_path):
    # Two users; sessions derived by the 30-minute gap. U1: view 10:00, cart 10:05,
    # purchase 10:05 (a tie: in order), then a new session at 11:00 with a view only.
    # U2: cart before view (not in order), one purchase.
    path = tmp_path / "events.csv"
    path.write_text(
        "user_id,event_time,event\n"
        "U1,2025-03-03 10:00:00,product_view\n"
        "U1,2025-03-03 10:05:00,add_to_cart\n"
        "U1,2025-03-03 10:05:00,purchase\n"
        "U1,2025-03-03 11:00:00,product_view\n"
        "U2,2025-03-03 09:00:00,add_to_cart\n"
        "U2,2025-03-03 09:01:00,product_view\n"
        "U2,2025-03-03 09:02:00,purchase\n",
        encoding="utf-8",
    )
    doc = _same(["--events", str(path), "funnel", "--times"])
    assert [s["entered"] for s in doc["steps"]] == [3, 1, 1]
    assert doc["steps"][1]["median_seconds_to_convert"] == 300.0
    assert doc["steps"][2]["median_seconds_to_convert"] == 0.0


@pytest.mark.parametrize("name", EVENT_FILES)
def test_hostile_events_on_both_engines(spark, name):
    # The hostile events corpus: the same figures, or exit 2 on both engines.
    args = ["--events", str(BAD / name), "funnel"]
    same_or_refused_on_both(_run(args, "polars"), _run(args, "spark"))


@pytest.mark.parametrize("args", [["funnel", "paths", "--from", "product_view"],
                                  ["paths", "--from", "product_view"]])
def test_paths_refused_on_spark(args):
    # The next event of every event is not computed on Spark: exit 2, never Polars silently.
    result = runner.invoke(app, ["--engine", "spark", "--no-cache", *args])
    assert result.exit_code == 2, result.output
    assert "--engine polars" in result.output
