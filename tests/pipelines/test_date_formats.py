"""Dates in any common order (issue 26): ``--date-format``, ``[columns] date_format``, and
detection from the cells where one proves the order (a first field above 12 is a day, a
second above 12 too), as DuckDB's sniffer does. Expected values are written out by hand."""

import gzip
import json
from datetime import datetime

import pytest
from typer.testing import CliRunner

from cust.cli.main import app
from cust.pipelines.errors import ConfigError, InputFileError
from cust.pipelines.io import loader
from cust.pipelines.io.inputs import collect
from cust.pipelines.io.loader import REASON, LoadOptions, load_source
from cust.pipelines.settings import load_config

T = datetime
SOURCES = {
    "orders": ("order_id,customer_id,order_time,amount", "o{i},C{i},{t},10", "order_time"),
    "events": ("user_id,event,event_time", "u{i},home,{t}", "event_time"),
    "prices": ("sku,changed_at,old_price,new_price", "S{i},{t},1,2", "changed_at"),
    "customers": ("customer_id,registered_at", "C{i},{t}", "registered_at"),
}
BAD = {"orders": "bad_order_time", "events": "bad_event_time", "prices": "bad_changed_at",
       "customers": "bad_registered_at"}


def _write(tmp_path, source, cells, name="x.csv", encoding="utf-8"):
    head, row, _ = SOURCES[source]
    text = "\n".join([head] + [row.format(i=i, t=t) for i, t in enumerate(cells)]) + "\n"
    path = tmp_path / name
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode(encoding)))
    else:
        path.write_text(text, encoding=encoding)
    return path


def _read(path, source, fmt="auto"):
    loaded = load_source(source, path, LoadOptions(date_format=fmt))
    rows = collect([loaded.checked.select(SOURCES[source][2], REASON)], [loaded])[0][0]
    return loaded.dates, rows.rows()


# Every separator, with and without a time; the ISO forms stay read in every order; a
# two-digit year is never a year; a field beyond its range is a bad row.
DMY = {
    "31/10/2026": T(2026, 10, 31),
    "1.2.2026": T(2026, 2, 1),
    "05-03-2026 9:05": T(2026, 3, 5, 9, 5),
    "31.10.2026 23:59:58": T(2026, 10, 31, 23, 59, 58),
    "2026-10-30": T(2026, 10, 30),
    "2026.10.29": T(2026, 10, 29),
    "20261028": T(2026, 10, 28),
}
NEVER = ["31/10/26", "1/2/26 9:05", "31/10.2026", "32/10/2026", "2026/31/10"]


@pytest.mark.parametrize("source", list(SOURCES))
def test_day_first_given_reads_every_separator_in_every_source(tmp_path, source):
    cells = [*DMY, *NEVER]
    dates, rows = _read(_write(tmp_path, source, cells), source, "dmy")
    assert (dates.order, dates.how) == ("dmy", "given")
    got = dict(zip(cells, rows, strict=True))
    for cell, when in DMY.items():
        assert got[cell] == (when, None), cell
    for cell in NEVER:
        assert got[cell] == (None, BAD[source]), cell


def test_month_first_given_swaps_day_and_month(tmp_path):
    cells = ["10/31/2026", "2.1.2026", "03-05-2026 9:05", "2026-10-30", "31/10/2026"]
    _, rows = _read(_write(tmp_path, "orders", cells), "orders", "mdy")
    assert rows == [(T(2026, 10, 31), None), (T(2026, 2, 1), None), (T(2026, 3, 5, 9, 5), None),
                    (T(2026, 10, 30), None), (None, "bad_order_time")]


def test_year_first_given_reads_dots_and_refuses_the_year_last(tmp_path):
    cells = ["2026.10.31", "2026/10/30", "01/10/2026"]
    dates, rows = _read(_write(tmp_path, "orders", cells), "orders", "ymd")
    assert (dates.order, dates.how) == ("ymd", "given")
    assert rows == [(T(2026, 10, 31), None), (T(2026, 10, 30), None), (None, "bad_order_time")]


@pytest.mark.parametrize("source", list(SOURCES))
def test_a_day_above_12_proves_day_first_in_every_source(tmp_path, source):
    cells = ["01/10/2026", "02.10.2026 10:00", "13/10/2026", "2026-10-14"]
    dates, rows = _read(_write(tmp_path, source, cells), source)
    assert (dates.order, dates.how, dates.evidence) == ("dmy", "detected", "13/10/2026")
    assert [r[0] for r in rows] == [T(2026, 10, 1), T(2026, 10, 2, 10), T(2026, 10, 13),
                                    T(2026, 10, 14)]


def test_a_second_field_above_12_proves_month_first(tmp_path):
    cells = ["10/01/2026", "10/13/2026", "12-31-2026 8:00"]
    dates, rows = _read(_write(tmp_path, "orders", cells), "orders")
    assert (dates.order, dates.how, dates.evidence) == ("mdy", "detected", "10/13/2026")
    assert rows == [(T(2026, 10, 1), None), (T(2026, 10, 13), None), (T(2026, 12, 31, 8), None)]


def test_an_iso_export_stays_on_the_default(tmp_path):
    cells = ["2026-10-01", "2026/10/02 9:05", "20261003"]
    dates, rows = _read(_write(tmp_path, "orders", cells), "orders")
    assert (dates.order, dates.how, dates.ambiguous) == ("ymd", "default", ())
    assert dates.parsing is None  # no regex runs on the common export
    assert [r[1] for r in rows] == [None, None, None]


def test_dotted_year_first_is_detected(tmp_path):
    dates, rows = _read(_write(tmp_path, "orders", ["2026.10.01", "2026-10-02"]), "orders")
    assert (dates.order, dates.how, dates.evidence) == ("ymd", "detected", "2026.10.01")
    assert rows == [(T(2026, 10, 1), None), (T(2026, 10, 2), None)]


def test_without_proof_the_dates_stay_rejected_and_are_named_ambiguous(tmp_path):
    cells = ["01/10/2026", "02/10/2026", "03/10/2026", "04/10/2026", "2026-10-05"]
    dates, rows = _read(_write(tmp_path, "orders", cells), "orders")
    assert (dates.order, dates.how) == ("ymd", "default")
    assert dates.ambiguous == ("01/10/2026", "02/10/2026", "03/10/2026")
    assert [r[1] for r in rows] == ["bad_order_time"] * 4 + [None]


def test_a_proof_after_the_first_rows_is_found(tmp_path, monkeypatch):
    """A file sorted by time shows days 1-12 first; the proof is searched in all rows."""
    monkeypatch.setattr(loader, "SNIFF_ROWS", 3)
    cells = [f"{d:02d}/10/2026" for d in range(1, 16)]
    dates, rows = _read(_write(tmp_path, "orders", cells), "orders")
    assert (dates.order, dates.how, dates.evidence) == ("dmy", "detected", "13/10/2026")
    assert [r[0].day for r in rows] == list(range(1, 16))


def test_both_orders_in_one_export_are_refused(tmp_path):
    path = _write(tmp_path, "orders", ["13/10/2026", "10/14/2026"])
    with pytest.raises(InputFileError, match=r"day first \('13/10/2026'\) and month first "
                                             r"\('10/14/2026'\)") as info:
        load_source("orders", path)
    assert "--date-format dmy" in info.value.hint
    # Given, the order decides and the other rows are bad.
    _, rows = _read(path, "orders", "dmy")
    assert rows == [(T(2026, 10, 13), None), (None, "bad_order_time")]


@pytest.mark.parametrize("name", ["gbk.csv", "gbk.csv.gz"])
def test_a_gbk_export_is_sniffed_without_its_scratch_copy(tmp_path, name, monkeypatch):
    """The copy is made when rows are read, not to sniff (a cached answer makes none)."""
    from cust.pipelines.io import sources

    copies = []
    real = sources._copy_plain
    monkeypatch.setattr(sources, "_copy_plain", lambda *a: copies.append(a) or real(*a))
    head = "订单号,客户编号,下单时间,实付金额\n"
    text = head + "o1,C1,01/10/2026,10\no2,C2,31/10/2026,20\n"
    path = tmp_path / name
    data = text.encode("gbk")
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    loaded = load_source("orders", path)
    assert (loaded.dates.order, loaded.dates.how) == ("dmy", "detected")
    assert copies == []
    rows = collect([loaded.checked.select("order_time", REASON)], [loaded])[0][0].rows()
    assert rows == [(T(2026, 10, 1), None), (T(2026, 10, 31), None)]
    assert len(copies) == 1


# -- cust.toml ---------------------------------------------------------------------------------

def test_the_setting_is_read_and_validated(tmp_path):
    path = tmp_path / "cust.toml"
    path.write_text('[columns]\ndate_format = "DMY"\n[columns.orders]\namount = "x"\n', "utf-8")
    config = load_config(path)
    assert config.date_format == "dmy"
    assert config.columns == {"orders": {"amount": "x"}}
    path.write_text('[columns]\ndate_format = "dym"\n', "utf-8")
    with pytest.raises(ConfigError, match=r"date_format must be one of auto, ymd, dmy, mdy, "
                                          r"found 'dym' \(did you mean"):
        load_config(path)
    path.write_text('[columns]\ndate_fromat = "dmy"\n', "utf-8")
    with pytest.raises(ConfigError, match=r"unknown key date_fromat in \[columns\] \(did you "
                                          r"mean date_format\?\)"):
        load_config(path)
    path.write_text("[columns]\ndate_format = 3\n", "utf-8")
    with pytest.raises(ConfigError, match=r"found 3"):
        load_config(path)


# -- the command line ------------------------------------------------------------------------

runner = CliRunner()


def _check(args):
    result = runner.invoke(app, [*args, "-f", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("where", ["before", "after"])
def test_the_option_is_global_and_shown_in_check(tmp_path, where):
    path = _write(tmp_path, "orders", ["01/10/2026", "02/10/2026", "12/10/2026"])
    opt = ["--date-format", "dmy"]
    args = [*opt, "check", "--orders", str(path)] if where == "before" else [
        "check", "--orders", str(path), *opt]
    doc = _check(args)
    assert doc["input"]["orders"]["date_format"] == {
        "order": "dmy", "how": "given", "evidence": None, "ambiguous": []}
    assert doc["input"]["orders"]["rows_rejected"] == 0
    assert doc["sources"][0]["dates"] == "dmy (given)"
    assert doc["sources"][0]["first"] == "2026-10-01T00:00:00"
    assert doc["sources"][0]["last"] == "2026-10-12T00:00:00"


def test_the_option_overrides_the_setting(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cust.toml").write_text('[columns]\ndate_format = "mdy"\n', "utf-8")
    path = _write(tmp_path, "orders", ["01/10/2026", "02/10/2026"])
    doc = _check(["check", "--orders", str(path)])
    assert doc["sources"][0]["first"] == "2026-01-10T00:00:00"  # month first, from cust.toml
    doc = _check(["check", "--orders", str(path), "--date-format", "dmy"])
    assert doc["sources"][0]["first"] == "2026-10-01T00:00:00"


def test_a_detected_order_is_shown_in_the_check_table(tmp_path):
    path = _write(tmp_path, "orders", ["01/10/2026", "31.10.2026 9:05"])
    result = runner.invoke(app, ["check", "--orders", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "dmy (detected: 31.10.2026 9:05)" in result.stdout


def test_an_unknown_value_is_a_usage_error():
    result = runner.invoke(app, ["check", "--date-format", "dym"])
    assert result.exit_code == 2
    assert "dym" in result.output


def test_the_cache_keeps_one_entry_per_date_order(tmp_path, monkeypatch):
    """An export read day first and then month first gives each its own cohorts."""
    monkeypatch.setenv("CUST_CACHE_DIR", str(tmp_path / "cache"))
    path = _write(tmp_path, "orders", ["01/10/2026", "02/10/2026", "2026-10-03"])
    args = ["cohort", "--orders", str(path)]

    def cohorts(doc):
        return {c["cohort"]: c["size"] for c in doc["cohorts"]}

    for _ in range(2):  # the second time from the cache
        dmy = _check([*args, "--date-format", "dmy"])
        mdy = _check([*args, "--date-format", "mdy"])
        assert cohorts(dmy) == {"2026-10": 3}
        assert cohorts(mdy) == {"2026-01": 1, "2026-02": 1, "2026-10": 1}
    assert len(list((tmp_path / "cache").iterdir())) >= 1


# -- an export mostly rejected is refused (issue 26) --------------------------------------------

DAY_FIRST = ["31/10/2026", "01.10.2026", "15-09-2026"]


def _refused(args):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.output


@pytest.mark.parametrize("command", [["check"], ["segment", "buckets"], ["cohort"],
                                     ["promo", "simulate", "--threshold", "50"]])
def test_every_row_day_first_under_ymd_is_exit_2_naming_reason_cells_and_hint(tmp_path, command):
    path = _write(tmp_path, "orders", DAY_FIRST)
    out = _refused([*command, "--orders", str(path), "--date-format", "ymd", "-f", "json"])
    assert "all 3 orders rows were rejected as bad_order_time" in out
    assert "'31/10/2026', '01.10.2026', '15-09-2026'" in out
    assert "--date-format dmy" in out
    assert "Hint:" in out


def test_day_first_rows_are_read_by_default_and_counted(tmp_path):
    """The same file with no option: 31/10/2026 proves day first, every row counts."""
    path = _write(tmp_path, "orders", DAY_FIRST)
    doc = _check(["segment", "buckets", "--orders", str(path)])
    assert doc["input"]["orders"]["rows_rejected"] == 0
    assert doc["totals"]["orders"] == 3
    assert doc["totals"]["revenue"] == 30


def test_ambiguous_dates_refused_with_the_two_orders_to_choose_from(tmp_path):
    path = _write(tmp_path, "orders", ["01/10/2026", "02/10/2026", "03/10/2026", "2026-10-04"])
    out = _refused(["segment", "buckets", "--orders", str(path)])
    assert "3 of 4 orders rows (75%) were rejected as bad_order_time" in out
    assert "'01/10/2026', '02/10/2026', '03/10/2026'" in out
    assert "day first or month first" in out
    assert "--date-format dmy" in out
    assert "--date-format mdy" in out


def test_half_rejected_is_still_read_with_a_warning(tmp_path):
    """The bound is more than half: 2 of 4 is read (exit 0), the rejects counted."""
    path = _write(tmp_path, "orders", ["24/3/1", "24/03/02", "2026-10-01", "2026-10-02"])
    result = runner.invoke(app, ["segment", "buckets", "--orders", str(path), "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["input"]["orders"]["rejected_by_reason"] == {"bad_order_time": 2}
    assert doc["totals"]["orders"] == 2


def test_all_rejected_for_several_reasons_names_them(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("order_id,customer_id,order_time,amount\n"
                    "o1,C1,2026-10-01,abc\no2,,2026-10-01,5\no3,C3,2026-10-01,xyz\n", "utf-8")
    out = _refused(["segment", "buckets", "--orders", str(path)])
    assert "all 3 orders rows were rejected (bad_amount 2, missing_customer_id 1)" in out
    assert "amount cells such as 'abc', 'xyz'" in out


def test_a_refusal_writes_rejects_and_no_output(tmp_path):
    path = _write(tmp_path, "orders", DAY_FIRST)
    rejects, out = tmp_path / "rejects.csv", tmp_path / "out.json"
    _refused(["segment", "buckets", "--orders", str(path), "--date-format", "mdy",
              "--rejects", str(rejects), "--out", str(out)])
    assert not out.exists()
    lines = rejects.read_text("utf-8").splitlines()
    # Month first, 01.10.2026 is 10 January: the two others are rejected (2 of 3).
    assert [line.split(",")[5:] for line in lines[1:]] == [
        ["31/10/2026", "10", "bad_order_time"], ["15-09-2026", "10", "bad_order_time"]]


def test_a_side_source_mostly_rejected_is_refused_too(tmp_path):
    orders = _write(tmp_path, "orders", ["2026-10-01", "2026-10-02"], name="o.csv")
    customers = _write(tmp_path, "customers", ["13.10.2026 ", "x", "y"], name="c.csv")
    out = _refused(["segment", "profile", "--by", "channel", "--orders", str(orders),
                    "--customers", str(customers)])
    assert "2 of 3 customers rows (67%) were rejected as bad_registered_at" in out
    assert "'x', 'y'" in out


def test_overlapping_files_under_dedupe_are_not_refused(tmp_path):
    """order_in_later_file is no fault: three copies of one week are two thirds of it."""
    folder = tmp_path / "weeks"
    folder.mkdir()
    for n in range(3):
        _write(folder, "orders", ["2026-10-01", "2026-10-02"], name=f"w{n}.csv")
    doc = _check(["segment", "buckets", "--orders", str(folder), "--dedupe"])
    assert doc["input"]["orders"]["rejected_by_reason"] == {"order_in_later_file": 4}
    assert doc["totals"]["orders"] == 2


def test_a_few_ambiguous_dates_are_read_around_with_a_warning(tmp_path):
    """1 of 4 rows rejected: the figures stand (exit 0) and stderr asks for the order."""
    path = _write(tmp_path, "orders", ["01/10/2026", "2026-10-02", "2026-10-03", "2026-10-04"])
    result = runner.invoke(app, ["segment", "buckets", "--orders", str(path), "-f", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"]["orders"] == 3
    assert "01/10/2026 could be day first or month first" in result.stderr
    assert "--date-format dmy or --date-format mdy" in result.stderr
