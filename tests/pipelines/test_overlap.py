"""Overlapping orders exports (issue 20, risk: the same order in two weekly files).

By default the files of an export add up (an order's lines may be split between files),
and the accepted lines of an order that a later file holds too are counted
(``lines_in_later_file`` in the JSON input) and warned about. With ``--dedupe`` such an
order counts once, from the last file (in the order the files are read: sorted by name)
holding it; the lines of the earlier files are rejected as ``order_in_later_file``:
counted, warned about, written by ``--rejects``. A single file is never checked.
"""

import json

import polars as pl
import pytest
from typer.testing import CliRunner

from cust.cli.main import app
from cust.pipelines.io.inputs import collect
from cust.pipelines.io.loader import REASON, LoadOptions, load_source

DEDUPE = LoadOptions(dedupe=True)

HEAD = "order_id,customer_id,order_time,amount,status\n"
CHEAD = HEAD.replace("status", "status,channel")
# Week 1 and week 2 overlap on o2 (two lines; week 2 says one was refunded).
W1 = CHEAD + "o1,C1,2024-03-01,10,paid,web\no2,C2,2024-03-02,20,paid,shop\n" \
    "o2,C2,2024-03-02,5,paid,shop\n"
W2 = CHEAD + "o2,C2,2024-03-02,20,paid,shop\no2,C2,2024-03-02,5,refunded,shop\n" \
    "o3,C3,2024-03-08,30,paid,web\n"
# The same orders once: what the figures must equal.
ONCE = CHEAD + "o1,C1,2024-03-01,10,paid,web\no2,C2,2024-03-02,20,paid,shop\n" \
    "o2,C2,2024-03-02,5,refunded,shop\no3,C3,2024-03-08,30,paid,web\n"


def _folder(tmp_path, files):
    folder = tmp_path / "exports"
    folder.mkdir()
    for name, text in files.items():
        path = folder / name
        if name.endswith(".parquet"):
            lines = text.strip().splitlines()
            header = lines[0].split(",")
            rows = [line.split(",") for line in lines[1:]]
            pl.DataFrame(rows, schema=header, orient="row").write_parquet(path)
        else:
            path.write_text(text, encoding="utf-8")
    return folder


def _reasons(source):
    frame = source.located.select("source_file", "source_row", REASON).collect()
    return [(name.rsplit("/", 1)[-1], row, reason) for name, row, reason in frame.iter_rows()]


@pytest.mark.parametrize("second", ["w2.csv", "w2.parquet"])
def test_an_order_in_two_files_counts_once_from_the_later(tmp_path, second):
    source = load_source("orders", _folder(tmp_path, {"w1.csv": W1, second: W2}), DEDUPE)
    assert _reasons(source) == [
        ("w1.csv", 1, None), ("w1.csv", 2, "order_in_later_file"),
        ("w1.csv", 3, "order_in_later_file"),
        (second, 1, None), (second, 2, None), (second, 3, None),
    ]
    valid = source.valid.select("order_id", "amount", "status").collect()
    assert valid.rows() == [("o1", 10.0, "paid"), ("o2", 20.0, "paid"),
                            ("o2", 5.0, "refunded"), ("o3", 30.0, "paid")]
    _, report = collect([], [source])
    rep = report.sources["orders"]
    assert (rep.rows_read, rep.rows_rejected, rep.reasons) == (6, 2, {"order_in_later_file": 2})
    assert rep.to_json()["lines_in_later_file"] == 2
    assert "2 orders lines of orders that a later file holds too were left out" in (
        report.warnings()[0])


def test_by_default_the_files_add_up_with_a_warning(tmp_path):
    source = load_source("orders", _folder(tmp_path, {"w1.csv": W1, "w2.csv": W2}))
    assert [r for *_, r in _reasons(source)] == [None] * 6
    assert source.valid.collect()["amount"].sum() == 10 + 20 + 5 + 20 + 5 + 30
    _, report = collect([], [source])
    rep = report.sources["orders"]
    assert (rep.rows_rejected, rep.in_later_file) == (0, 2)
    assert "add --dedupe" in report.warnings()[0]


def test_an_order_in_three_files_and_bad_lines(tmp_path):
    files = {
        "a.csv": HEAD + "o1,C1,2024-03-01,10,paid\n",
        "b.csv": HEAD + "o1,C1,2024-03-01,11,paid\no4,C4,2024-03-04,7,paid\n",
        # o1's last copy is valid; o4's later line is bad: the valid one of b.csv counts.
        "c.csv": HEAD + "o1,C1,2024-03-01,12,paid\no4,C4,2024-03-04,x,paid\n",
    }
    source = load_source("orders", _folder(tmp_path, files), DEDUPE)
    assert _reasons(source) == [
        ("a.csv", 1, "order_in_later_file"), ("b.csv", 1, "order_in_later_file"),
        ("b.csv", 2, None), ("c.csv", 1, None), ("c.csv", 2, "bad_amount"),
    ]
    assert source.valid.select("order_id", "amount").collect().rows() == [
        ("o4", 7.0), ("o1", 12.0)]


def test_the_later_file_decides_the_customer_and_the_mixed_check_still_holds(tmp_path):
    files = {
        "a.csv": HEAD + "o1,C1,2024-03-01,10,paid\n",
        "b.csv": HEAD + "o1,C2,2024-03-01,10,paid\no5,C5,2024-03-05,1,paid\n"
        "o5,C6,2024-03-05,1,paid\n",
    }
    source = load_source("orders", _folder(tmp_path, files), DEDUPE)
    assert _reasons(source) == [
        ("a.csv", 1, "order_in_later_file"), ("b.csv", 1, None),
        ("b.csv", 2, "mixed_customers"), ("b.csv", 3, "mixed_customers"),
    ]


def test_one_file_with_an_order_on_several_lines_is_not_checked(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text(W1 + "o1,C1,2024-03-01,3,paid\n", encoding="utf-8")
    source = load_source("orders", path, DEDUPE)
    assert source.valid.collect().height == 4
    assert collect([], [source])[1].sources["orders"].in_later_file == 0


@pytest.mark.parametrize("dedupe", [False, True])
def test_parts_give_what_the_whole_gives(tmp_path, dedupe):
    source = load_source("orders", _folder(tmp_path, {"w1.csv": W1, "w2.csv": W2}),
                         LoadOptions(dedupe=dedupe))
    whole = source.checked.select("order_id", "amount", REASON).collect().sort(pl.all())
    parts = pl.concat(
        source.part("order_id", i, 3).checked.select("order_id", "amount", REASON).collect()
        for i in range(3)
    ).sort(pl.all())
    assert parts.equals(whole)
    tallies = [source.part("order_id", i, 3).tally().collect() for i in range(3)]
    from cust.pipelines.io.loader import merge_tallies

    report = collect([], [source])[1].sources["orders"]
    merged = merge_tallies(tallies)
    assert int(merged.filter(pl.col("__in_later_file"))["rows"].sum()) == report.in_later_file
    assert report.in_later_file == 2


COMMANDS = [["segment", "buckets"], ["segment", "abc"], ["segment", "rfm"], ["cohort"],
            ["promo", "simulate", "--threshold", "15", "--reward-amount", "5"],
            ["segment", "profile", "--by", "channel"], ["check"]]


def _json(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, [*args, "-f", "json", "--as-of", "2024-03-31"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), result.stderr


def _figures(doc):
    return {k: v for k, v in doc.items() if k not in ("input", "notes", "files", "sources")}


@pytest.mark.parametrize("cache", [[], ["--no-cache"]])
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_orders_command_counts_overlapping_files_once(tmp_path, monkeypatch, command,
                                                            cache):
    folder = _folder(tmp_path, {"w1.csv": W1, "w2.csv": W2})
    (tmp_path / "once.csv").write_text(ONCE, encoding="utf-8")
    for _ in range(2):  # the second run reads the cache entry of the first
        plain, err = _json([*command, "--orders", str(folder), *cache], tmp_path, monkeypatch)
        assert plain["input"]["orders"]["rejected_by_reason"] == {}
        assert plain["input"]["orders"]["lines_in_later_file"] == 2
        assert "add --dedupe" in err
        doc, err = _json([*command, "--orders", str(folder), "--dedupe", *cache], tmp_path,
                         monkeypatch)
        assert doc["input"]["orders"]["rejected_by_reason"] == {"order_in_later_file": 2}
        assert doc["input"]["orders"]["lines_in_later_file"] == 2
        assert "were left out (--dedupe)" in err
    once, _ = _json([*command, "--orders", "once.csv", *cache], tmp_path, monkeypatch)
    assert once["input"]["orders"]["lines_in_later_file"] == 0
    assert _figures(doc) == _figures(once)
    if command not in (["check"], ["cohort"]):  # cohorts count customers, not money
        assert _figures(plain) != _figures(once)  # the default counts o2's lines twice
