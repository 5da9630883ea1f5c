"""Times of every source (issue 20, item 2, and the sentinel-dates risk).

A time outside the accepted forms (a two-digit year, a day-first date) is a bad row of its
source's reason; an offset that is no offset (``+99:99``) too, and a time in the year 1 or
9999 (the "no date" placeholders 0001-01-01 and 9999-12-31, whose period arithmetic
overflowed in cohort and report weekly). Another accepted time before 1970 or more than a
year after the run (1900-01-01, 2204 typed for 2024) is read and warned about:
``suspicious_times`` in every JSON ``input``, a line on stderr, a column of ``cust check``.
"""

import json
from datetime import date, datetime, timedelta

import polars as pl
import pytest
from typer.testing import CliRunner

from cust.cli.main import app
from cust.pipelines.io.inputs import collect
from cust.pipelines.io.loader import REASON, load_source, merge_tallies, suspicious_of

# Per source: the header, and a row's cells around its time column ({t}).
SOURCES = {
    "orders": ("order_id,customer_id,order_time,amount", "o{i},C{i},{t},10"),
    "events": ("user_id,event,event_time", "u{i},home,{t}"),
    "prices": ("sku,changed_at,old_price,new_price", "S{i},{t},1,2"),
    "customers": ("customer_id,registered_at", "C{i},{t}"),
}
REASON_OF = {"orders": "bad_order_time", "events": "bad_event_time",
             "prices": "bad_changed_at", "customers": "bad_registered_at"}
TIME_OF = {"orders": "order_time", "events": "event_time", "prices": "changed_at",
           "customers": "registered_at"}
T = datetime

# Accepted: read as written (no shop zone, so an offset keeps the wall clock).
GOOD = {
    "2024-03-01": T(2024, 3, 1),
    "2024/3/1 9:05": T(2024, 3, 1, 9, 5),
    "2024/03/02 10:00:00": T(2024, 3, 2, 10),
    "2024-03-01T10:00:00.5": T(2024, 3, 1, 10, 0, 0, 500_000),
    "2024-03-01T10:00:00+08:00": T(2024, 3, 1, 10),
    "2024-03-01T10:00:00-12:00": T(2024, 3, 1, 10),
    "2024-03-01 10:00:00 +1400": T(2024, 3, 1, 10),
    "2024-03-01T10:00:00Z": T(2024, 3, 1, 10),
    "20240301": T(2024, 3, 1),
    "20240301 10:00:00": T(2024, 3, 1, 10),
    "20240301100000": T(2024, 3, 1, 10),
}
# Not of an accepted form, or an offset beyond +-14:00 / minutes past 59: bad rows.
BAD = ["24/3/1 9:05", "24/03/02", "24-3-1", "240301", "02024-03-01", "1/3/2024",
       "03/01/2024", "2024-03-01T10:00:00+99:99", "2024-03-01T10:00:00+15:00",
       "2024-03-01T10:00:00+08:60", "2024-13-01", "March 1 2024",
       "0001-01-01", "0001-06-30 10:00", "9999-12-31", "9999-12-31 23:59:59", "10000-01-01"]


def _write(tmp_path, source, cells, name="x.csv"):
    head, row = SOURCES[source]
    lines = [head] + [row.format(i=i, t=t) for i, t in enumerate(cells)]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("source", list(SOURCES))
def test_accepted_and_refused_time_forms_in_every_source(tmp_path, source):
    cells = [*GOOD, *BAD]
    loaded = load_source(source, _write(tmp_path, source, cells))
    rows = collect([loaded.checked.select(TIME_OF[source], REASON)], [loaded])[0][0]
    got = dict(zip(cells, rows.iter_rows(), strict=True))
    for cell, when in GOOD.items():
        assert got[cell] == (when, None), cell
    for cell in BAD:
        assert got[cell] == (None, REASON_OF[source]), cell


@pytest.mark.parametrize("source", list(SOURCES))
def test_an_offset_beyond_any_zone_is_refused_with_a_shop_zone_too(tmp_path, source):
    from cust.pipelines.io.loader import LoadOptions

    cells = ["2024-03-01T10:00:00+99:99", "2024-03-01T10:00:00+08:00"]
    loaded = load_source(source, _write(tmp_path, source, cells),
                         LoadOptions(timezone="Asia/Shanghai"))
    frame = loaded.checked.select(TIME_OF[source], REASON).collect()
    assert frame.rows() == [(None, REASON_OF[source]), (T(2024, 3, 1, 10), None)]


ODD = ["0002-01-01", "1969-12-31 23:59:59", "1970-01-01", "2024-03-01", "9998-12-31 23:59"]


@pytest.mark.parametrize("source", list(SOURCES))
def test_suspicious_times_are_counted_in_every_source(tmp_path, source):
    loaded = load_source(source, _write(tmp_path, source, ODD))
    _, report = collect([], [loaded])
    rep = report.sources[source]
    assert (rep.rows_read, rep.rows_rejected) == (5, 0)  # read: a warning, not a reject
    assert rep.to_json()["suspicious_times"] == {
        "rows": 3, "first": "0002-01-01T00:00:00", "last": "9998-12-31T23:59:00"}
    assert "3 " + source + " rows dated before 1970" in report.warnings()[0]


def test_the_year_ahead_is_counted_from_the_run_and_a_kept_tally_follows_it():
    # A tally made on 2026-01-01 keeps the days after 2027-01-01 apart; judged a year
    # later, the rows of 2027-06 are no longer suspicious, those of 2204 still are.
    loaded_day = date(2026, 1, 1)
    rows = pl.DataFrame({
        REASON: [None, None, None, None, "bad_amount"],
        "order_time": [T(2027, 1, 1, 23), T(2027, 1, 2), T(2027, 6, 1), T(2204, 3, 1),
                       T(2204, 3, 1)],
    })
    from cust.pipelines.io.loader import ODD_DAY, ODD_FIRST, ODD_LAST, odd_day

    tally = rows.with_columns(odd_day(pl.col("order_time"), loaded_day).alias(ODD_DAY)).group_by(
        REASON, ODD_DAY).agg(pl.len().alias("rows"), pl.col("order_time").min().alias(ODD_FIRST),
                             pl.col("order_time").max().alias(ODD_LAST))
    first = suspicious_of(tally, loaded_day)
    assert (first.rows, first.first, first.last) == (3, T(2027, 1, 2), T(2204, 3, 1))
    later = suspicious_of(merge_tallies([tally]), date(2027, 1, 1))
    assert (later.rows, later.first, later.last) == (1, T(2204, 3, 1), T(2204, 3, 1))
    assert suspicious_of(tally.filter(pl.col(ODD_DAY).is_null())).rows == 0


def _invoke(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, [*args, "-f", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), result.stderr


# Every command's JSON input carries the key; with the cache (orders) and without.
ORDER_COMMANDS = [["check"], ["segment", "buckets"], ["segment", "abc"], ["segment", "rfm"],
                  ["cohort"], ["promo", "simulate", "--threshold", "50", "--reward-amount", "5"]]


@pytest.mark.parametrize("cache", [[], ["--no-cache"]])
@pytest.mark.parametrize("command", ORDER_COMMANDS, ids=" ".join)
def test_every_command_reports_and_warns_suspicious_order_times(tmp_path, monkeypatch,
                                                                command, cache):
    orders = _write(tmp_path, "orders", ["2024-03-01 10:00", "2024-03-02", "1900-01-01",
                                         "2204-03-01", "24/3/1 9:05", "9999-12-31"], "o.csv")
    args = [*command, "--orders", str(orders), "--as-of", "2024-03-31", *cache]
    for _ in range(2):  # the second run reads the cache entry the first wrote
        doc, err = _invoke(args, tmp_path, monkeypatch)
        rep = doc["input"]["orders"]
        assert rep["rejected_by_reason"] == {"bad_order_time": 2}
        assert rep["suspicious_times"] == {
            "rows": 2, "first": "1900-01-01T00:00:00", "last": "2204-03-01T00:00:00"}
        assert "2 orders rows dated before 1970 or more than a year after today" in err
        if command == ["check"]:
            assert doc["sources"][0]["suspicious_times"] == 2


@pytest.mark.parametrize(
    ("command", "source"),
    [(["paths", "--from", "home"], "events"), (["funnel", "--steps", "home,buy"], "events"),
     (["check"], "prices"), (["check"], "customers")],
)
def test_side_sources_report_suspicious_times(tmp_path, monkeypatch, command, source):
    cells = ["2024-03-01 10:00", "2024-03-01 10:05", "3000-01-01"]
    path = _write(tmp_path, source, cells, f"{source}.csv")
    if source == "events":
        path.write_text(path.read_text("utf-8").replace("u1,home", "u0,buy"), "utf-8")
    doc, err = _invoke([*command, f"--{source}", str(path)], tmp_path, monkeypatch)
    assert doc["input"][source]["suspicious_times"] == {
        "rows": 1, "first": "3000-01-01T00:00:00", "last": "3000-01-01T00:00:00"}
    assert f"1 {source} row dated before 1970" in err


def test_no_suspicious_time_is_an_empty_key_and_no_warning(tmp_path, monkeypatch):
    doc, err = _invoke(["check"], tmp_path, monkeypatch)  # the bundled sample
    for rep in doc["input"].values():
        assert rep["suspicious_times"] == {"rows": 0, "first": None, "last": None}
    assert "dated before 1970" not in err


def test_a_time_a_day_more_than_a_year_ahead_is_suspicious(tmp_path):
    ahead = date.today() + timedelta(days=365)
    cells = [ahead.isoformat() + " 23:59", (ahead + timedelta(days=1)).isoformat()]
    loaded = load_source("orders", _write(tmp_path, "orders", cells))
    rep = collect([], [loaded])[1].sources["orders"]
    assert rep.suspicious_times.rows == 1
    assert rep.suspicious_times.first == T.combine(ahead + timedelta(days=1), T.min.time())


@pytest.mark.parametrize("source", list(SOURCES))
@pytest.mark.parametrize("dtype", [pl.Datetime("us"), pl.Date, pl.Datetime("ms", "UTC")])
def test_typed_parquet_sentinels_are_bad_and_odd_times_suspicious(tmp_path, source, dtype):
    """A Parquet time column: no text form to check, but the same years."""
    head, row = SOURCES[source]
    cells = ["2024-03-01", "0001-01-01", "9999-12-31", "1900-01-01"]
    text = "\n".join([head] + [row.format(i=i, t=t) for i, t in enumerate(cells)])
    frame = pl.read_csv(text.encode(), infer_schema=False)
    when = TIME_OF[source]
    frame = frame.with_columns(pl.col(when).str.to_date().cast(dtype))
    path = tmp_path / "x.parquet"
    frame.write_parquet(path)
    loaded = load_source(source, path)
    rows, report = collect([loaded.checked.select(when, REASON)], [loaded])
    assert rows[0][REASON].to_list() == [None, REASON_OF[source], REASON_OF[source], None]
    assert report.sources[source].suspicious_times.rows == 1
