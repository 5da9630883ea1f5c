"""The events cache: a click-stream validated once, its valid rows and tally kept for later runs.

The hand-built stream (EVENTS below) has 11 rows: 2 rejected (no user, a time that is not a
time), cells with spaces around them, and an empty platform. By hand: sessions s1 (view,
cart, purchase), s2 (view, cart), s3 (view, search) and s4 (a cart before its view) give
product_view 4, add_to_cart 2, purchase 1.
"""

import json

import polars as pl
import pytest
from typer.testing import CliRunner

from cust.cli.main import app
from cust.pipelines.funnel import FunnelSpec, funnel
from cust.pipelines.io.cache import Cache
from cust.pipelines.io.inputs import Inputs, sample_path
from cust.pipelines.io.loader import REASON, LoadOptions

runner = CliRunner()

EVENTS = """\
user_id,session_id,event,event_time,platform
u1,s1,product_view,2024-03-01 10:00:00,app
u1,s1, add_to_cart ,2024-03-01 10:01:00,app
u1,s1,purchase,2024-03-01 10:02:00, app
u2,s2,product_view,2024-03-01 11:00:00,
u2,s2,add_to_cart,2024-03-01 11:05:00,web
,s9,product_view,2024-03-01 11:06:00,web
u3,s3,product_view,2024-03-02 09:00:00,web
u3,s3,search,2024-03-02 09:01:00,web
u4,s4,add_to_cart,2024-03-02 10:00:00,app
u4,s4,product_view,2024-03-02 10:01:00,app
u5,s5,product_view,not a time,app
"""


@pytest.fixture
def export(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(EVENTS, encoding="utf-8")
    return path


def _entries(root):
    return sorted(p for p in root.iterdir() if not p.name.startswith(".") and p.is_dir())


def _funnel(path, cache):
    inputs = Inputs({"events": str(path)}, LoadOptions(), cache)
    return funnel(inputs, FunnelSpec(by=("platform",))), inputs.get("events")


def test_second_run_reads_the_valid_rows_not_the_export(export, tmp_path):
    cache = Cache(tmp_path / "cache")
    cold, _ = _funnel(export, None)
    first, _ = _funnel(export, cache)
    (entry,) = _entries(cache.root)
    assert entry.name.startswith("events-")
    kept = pl.read_parquet(entry / "valid-000.parquet")
    assert kept.height == 9  # 11 rows, 2 rejected
    # Kept as parsed: stripped, the empty cell null.
    assert sorted(kept["event"].unique()) == ["add_to_cart", "product_view", "purchase", "search"]
    assert kept.filter(pl.col("user_id") == "u2")["platform"].to_list() == [None, "web"]
    warm, source = _funnel(export, cache)
    assert source.prevalidated
    for plan in (source.valid.explain(), source.tally().explain()):
        assert str(export) not in plan
    for result in (cold, first, warm):
        assert result.steps["entered"].to_list() == [4, 2, 1]
        events = result.input.sources["events"]
        assert (events.rows_read, events.rows_rejected) == (11, 2)
        assert events.reasons == {"missing_user_id": 1, "bad_event_time": 1}
        assert result.data_end == cold.data_end
        assert result.periods.equals(cold.periods)


def test_a_changed_export_is_validated_again(export, tmp_path):
    cache = Cache(tmp_path / "cache")
    _funnel(export, cache)
    (old,) = _entries(cache.root)
    export.write_text(EVENTS + "u3,s3,add_to_cart,2024-03-02 09:02:00,web\n", encoding="utf-8")
    result, _ = _funnel(export, cache)
    assert result.steps["entered"].to_list() == [4, 3, 1]
    (new,) = _entries(cache.root)
    assert new != old
    assert pl.read_parquet(new / "valid-000.parquet").height == 10


def test_an_unwritable_cache_still_answers(export, tmp_path):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache directory would be", encoding="utf-8")
    result, _ = _funnel(export, Cache(blocked / "cache"))
    assert result.steps["entered"].to_list() == [4, 2, 1]


def test_where_on_the_kept_rows_selects_as_on_the_export(export, tmp_path):
    cache = Cache(tmp_path / "cache")
    _funnel(export, cache)
    _, kept = _funnel(export, cache)
    fresh = Inputs({"events": str(export)}, LoadOptions()).get("events")
    for names in (["add_to_cart"], ["product_view", "search"], ["nothing"]):
        got = kept.where("event", names).valid.collect().sort("user_id", "event_time")
        want = fresh.where("event", names).valid.collect().sort("user_id", "event_time")
        assert got.equals(want)
    assert kept.checked.select(pl.col(REASON).is_null().all()).collect().item()


ARGS = {
    "funnel": ["funnel", "--drift", "--explain", "--by", "category", "--times"],
    "paths": ["paths", "--from", "product_view", "--depth", "2"],
    "drivers": ["funnel", "drivers"],
    "check": ["check"],
}


@pytest.mark.parametrize("command", list(ARGS))
def test_cli_figures_and_rejects_from_the_cache_equal_no_cache(command, tmp_path, monkeypatch):
    monkeypatch.setenv("CUST_CACHE_DIR", str(tmp_path / "cache"))
    bad = tmp_path / "events.csv"
    # The sample's events with two rows no command may count.
    frame = pl.read_parquet(sample_path("events"))
    rows = frame.head(20_000).with_columns(pl.col("event_time").cast(pl.String))
    odd = pl.DataFrame({"user_id": [None, "V1"], "session_id": ["S1", "S1"],
                        "event": ["home", "home"], "event_time": ["2026-01-01 00:00:00", "soon"]})
    bad.write_text(pl.concat([rows, odd], how="diagonal").write_csv(), encoding="utf-8")
    outputs = []
    for flags in (["--no-cache"], [], []):
        out, rejects = tmp_path / "out.json", tmp_path / "rejects.csv"
        result = runner.invoke(app, [*flags, *ARGS[command], "--events", str(bad),
                                     "--rejects", str(rejects), "--out", str(out),
                                     "-f", "json"])
        assert result.exit_code == 0, result.output
        outputs.append((json.loads(out.read_text(encoding="utf-8")),
                        rejects.read_text(encoding="utf-8")))
    assert _entries(tmp_path / "cache")
    assert outputs[0] == outputs[1] == outputs[2]
    figures, rejected = outputs[2]
    assert figures["input"]["events"]["rows_rejected"] == 2
    assert rejected.count("\n") == 3  # the header and the two rows
