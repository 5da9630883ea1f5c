"""Every bad input x every command that reads it: exit 0 with counted rejects, or exit 2
with a message and a hint; never exit 1, never a traceback, never a partial output file."""

import json
import re
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from cust.cli.main import app

BAD = Path(__file__).resolve().parent / "data" / "bad"
runner = CliRunner()

ORDER_FILES = sorted(
    p.name for p in BAD.iterdir()
    if p.name != "make_corpus.py" and not p.name.startswith("events_")
)
EVENT_FILES = ["events_no_steps.csv", "events_garbage.csv", "random_bytes.csv", "empty.csv",
               "corrupt.parquet", "not_gzip.csv.gz", "bad_utf8.csv", "events_control_chars.csv"]
# Commands and the arguments that make them read the bad file as their main source.
ORDER_COMMANDS = {
    "check": ["check"],
    "segment buckets": ["segment", "buckets", "--trend", "week"],
    "segment abc": ["segment", "abc"],
    "segment rfm": ["segment", "rfm"],
    "segment profile": ["segment", "profile", "--by", "channel"],
    "cohort": ["cohort"],
    "promo simulate": ["promo", "simulate", "--threshold", "50", "--reward-amount", "5"],
    "promo compare": ["promo", "compare"],
    "report weekly": ["report", "weekly"],
    "clv": ["clv"],
}
EVENT_COMMANDS = {
    "funnel": ["funnel", "--drift", "--explain"],  # --explain reads the prices too
    "paths": ["paths", "--from", "product_view"],
    "funnel paths": ["funnel", "paths", "--from", "product_view"],
    "funnel drivers": ["funnel", "drivers"],
}
NO_SOURCE = {"sample"}  # writes data, reads none
# The secondary sources, and the commands that read them (the others ignore the option).
SIDE_FILES = ["empty.csv", "header_only.csv", "random_bytes.csv", "bad_utf8.csv",
              "not_gzip.csv.gz", "corrupt.parquet", "duplicate_headers.csv", "gbk.csv"]
SIDE_READERS = {
    "customers": ["check", "segment profile", "cohort", "report weekly"],
    "prices": ["check", "funnel", "report weekly"],
}
ALL_COMMANDS = {**ORDER_COMMANDS, **EVENT_COMMANDS}


def _leaf_commands(cmd, path=()):
    if hasattr(cmd, "commands"):
        if cmd.invoke_without_command and path:  # `cust funnel` runs by itself too
            yield " ".join(path)
        for name, sub in cmd.commands.items():
            yield from _leaf_commands(sub, (*path, name))
    else:
        yield " ".join(path)


def test_every_command_is_in_the_corpus_run():
    """A new command fails here until one line above says which source it reads."""
    commands = set(_leaf_commands(typer.main.get_command(app)))
    assert commands - NO_SOURCE == set(ALL_COMMANDS)
    assert {c for readers in SIDE_READERS.values() for c in readers} <= commands


def _run(args, tmp_path):
    out = tmp_path / "out.json"
    result = runner.invoke(app, [*args, "--out", str(out), "-f", "json"])
    text = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exit_code in (0, 2), f"exit {result.exit_code}: {text}\n{result.exception!r}"
    assert "Traceback" not in text
    if result.exit_code == 2:
        assert "error:" in text
        assert "Hint:" in text
        assert not out.exists(), "a refused command left an output file"
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.json")]
    elif args[0] == "report":  # --out is the HTML page; the JSON went to stdout
        assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    else:
        doc = json.loads(out.read_text(encoding="utf-8"))
        assert doc["input"], "no input report"
        for report in doc["input"].values():
            assert 0 <= report["rows_rejected"] <= report["rows_read"]
    return result.exit_code


@pytest.mark.parametrize("command", list(ORDER_COMMANDS))
@pytest.mark.parametrize("name", ORDER_FILES)
def test_bad_orders(command, name, tmp_path):
    _run([*ORDER_COMMANDS[command], "--orders", str(BAD / name)], tmp_path)


@pytest.mark.parametrize("command", list(EVENT_COMMANDS))
@pytest.mark.parametrize("name", EVENT_FILES)
def test_bad_events(command, name, tmp_path):
    _run([*EVENT_COMMANDS[command], "--events", str(BAD / name)], tmp_path)


@pytest.mark.parametrize(
    ("source", "command"),
    [(source, c) for source, readers in SIDE_READERS.items() for c in readers],
)
@pytest.mark.parametrize("name", SIDE_FILES)
def test_bad_side_sources(source, command, name, tmp_path):
    _run([*ALL_COMMANDS[command], f"--{source}", str(BAD / name)], tmp_path)


def test_expected_outcomes_of_some_classes(tmp_path):
    """The cases whose outcome is known: refusals, and counted rejects with right figures."""
    def code(name, *args):
        return _run(["segment", "buckets", *args, "--orders", str(BAD / name)], tmp_path / name)

    for name in ("empty.csv", "random_bytes.csv", "not_gzip.csv.gz", "corrupt.parquet",
                 "missing_column.csv"):
        (tmp_path / name).mkdir()
        assert code(name) == 2, name
    (tmp_path / "header_only.csv").mkdir()
    assert code("header_only.csv") == 0  # a valid, empty export: every band holds 0 orders
    (tmp_path / "numbers.csv").mkdir()
    assert code("numbers.csv") == 0
    doc = json.loads((tmp_path / "numbers.csv" / "out.json").read_text(encoding="utf-8"))
    # NaN, inf, 1e300 and the decimal comma "1,5" are rejected; ¥1,234.50 and -0 are read.
    assert doc["input"]["orders"]["rows_rejected"] == 4
    assert doc["totals"]["revenue"] == 100 + 50 + 1234.5
    (tmp_path / "mixed_customers.csv").mkdir()
    assert code("mixed_customers.csv") == 0
    doc = json.loads((tmp_path / "mixed_customers.csv" / "out.json").read_text("utf-8"))
    assert doc["input"]["orders"]["rejected_by_reason"] == {"mixed_customers": 2}
    assert doc["totals"]["orders"] == 2
    (tmp_path / "gbk.csv").mkdir()
    assert code("gbk.csv") == 0
    doc = json.loads((tmp_path / "gbk.csv" / "out.json").read_text("utf-8"))
    assert doc["totals"]["orders"] == 1  # the other order was refunded (已退款)


# Hostile output targets (issue 20, items 3, 4, 17): an empty path, a name ending in "/",
# the config in use, a directory, a --format its suffix contradicts. Each is refused before
# any work (exit 2, a hint) and nothing in the folder changes. Failed writes, devices and
# fifos are run for every command in tests/cli/test_output_targets.py.
HOSTILE_TARGETS = {
    "empty": ["--out", ""],
    "trailing slash": ["--out", "newdir/"],
    "config in use": ["--rejects", "cust.toml"],
    "directory": ["--out", "."],
    "format vs suffix": ["-f", "csv", "--out", "x.json"],
}


@pytest.mark.parametrize(("command", "target"), [
    *((c, t) for c in ALL_COMMANDS for t in HOSTILE_TARGETS),
    ("sample", "empty"), ("sample", "existing files"),  # its --out is a folder
])
def test_hostile_output_targets(command, target, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cust.toml").write_text("# settings\n", encoding="utf-8")
    if command == "sample":
        (tmp_path / "shop").mkdir()
        (tmp_path / "shop" / "orders.csv").write_text("mine", encoding="utf-8")
        args = ["sample", "--out", "" if target == "empty" else "shop", "-q"]
    else:
        args = [*ALL_COMMANDS[command], *HOSTILE_TARGETS[target]]
    before = {p.name: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "Hint:" in result.output
    assert {p.name: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


# What a terminal would act on: every control character but the line break, the bidi marks.
TERMINAL_CONTROLS = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


@pytest.mark.parametrize("command", list(ALL_COMMANDS))
def test_control_characters_reach_no_terminal(command, tmp_path):
    """The corpus' control characters, as every command's table and messages (issue 20,
    item 14): shown escaped, never raw, and no Rich markup read from the data."""
    source, name = (("--events", "events_control_chars.csv") if command in EVENT_COMMANDS
                    else ("--orders", "control_chars.csv"))
    args = [*ALL_COMMANDS[command], source, str(BAD / name)]
    if command == "report weekly":
        args += ["--out-dir", str(tmp_path)]
    result = runner.invoke(app, args, env={"COLUMNS": "400"})
    text = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exit_code in (0, 2), f"exit {result.exit_code}: {text}\n{result.exception!r}"
    assert "Traceback" not in text
    assert not TERMINAL_CONTROLS.findall(text), TERMINAL_CONTROLS.findall(text)


# -- Reading inputs (issue 20, items 2, 11, 12, 13 and the overlap and sentinel risks) -------

_HEAD = "order_id,customer_id,order_time,amount,status,channel\n"


def _reading_case(name, folder):
    """Write the generated orders case ``name`` under ``folder``; its path and the outcome:
    the exit code, and for exit 0 what ``input.orders`` must hold."""
    import datetime as dt

    import polars as pl

    good = {"order_id": ["o1", "o2"], "customer_id": ["C1", "C2"],
            "order_time": ["2024-03-01 10:00", "2024-03-02"], "amount": [10.0, 20.0],
            "channel": ["web", "web"]}
    path = folder / name
    if name == "two_digit_years.csv":
        # Three good lines more than before issue 26: 3 of 4 rejected for one reason is now
        # refused (two_digit_years_mostly.csv); 3 of 7 is read, with the three counted.
        path.write_text(_HEAD + "o1,C1,2024-03-01 10:00,10,paid,web\n"
                        "o2,C2,24/3/1 9:05,5,paid,web\no3,C3,24/03/02,5,paid,web\n"
                        "o4,C4,2024-03-01T10:00+99:99,5,paid,web\n"
                        "o5,C5,2024-03-02,10,paid,web\no6,C6,2024-03-03,10,paid,web\n"
                        "o7,C7,2024-03-04,10,paid,web\n", "utf-8")
        return path, 0, {"rejected_by_reason": {"bad_order_time": 3}}
    if name == "two_digit_years_mostly.csv":
        # Issue 26: most rows rejected for one reason is exit 2 naming it, never figures
        # of the few rows left (this file was read with exit 0 before).
        path.write_text(_HEAD + "o1,C1,2024-03-01 10:00,10,paid,web\n"
                        "o2,C2,24/3/1 9:05,5,paid,web\no3,C3,24/03/02,5,paid,web\n"
                        "o4,C4,2024-03-01T10:00+99:99,5,paid,web\n", "utf-8")
        return path, 2, None
    if name == "sentinel_dates.csv":
        # 0001-01-01 and 9999-12-31 are "no date" placeholders (rejected: a week of 9999 has
        # no successor, cohort and report weekly overflowed); 1900 and 2204 are warned about.
        path.write_text(_HEAD + "o1,C1,2024-03-01 10:00,10,paid,web\n"
                        "o2,C2,0001-01-01,5,paid,web\n"
                        "o3,C3,9999-12-31,5,paid,web\no4,C4,1900-01-01,5,paid,web\n"
                        "o5,C5,2204-03-01,5,paid,web\n", "utf-8")
        return path, 0, {"suspicious_times": {"rows": 2, "first": "1900-01-01T00:00:00",
                                              "last": "2204-03-01T00:00:00"},
                         "rejected_by_reason": {"bad_order_time": 2}}
    if name.endswith(".parquet"):
        column, value = {
            "list_amount.parquet": ("amount", pl.Series([[1.0], [2.0]])),
            "duration_time.parquet": ("order_time", pl.Series([dt.timedelta(1)] * 2)),
            "struct_customer.parquet": ("customer_id", pl.Series([{"a": 1}, {"a": 2}])),
            "map_status.parquet": ("status", pl.Series([[{"key": "a", "value": 1}]] * 2)
                                   .cast(pl.Map(pl.String, pl.Int64))),
        }[name]
        pl.DataFrame(good).with_columns(value.alias(column)).write_parquet(path)
        return path, 2, None
    if name == "wide_header.csv":
        cols = [f"c{i}" for i in range(100_000)]
        path.write_text(",".join([*cols, "order_id", "customer_id", "order_time", "amount",
                                  "channel"])
                        + "\n" + "," * len(cols) + "o1,C1,2024-03-01,10,web\n", "utf-8")
        return path, 0, {"rows_read": 1, "rows_rejected": 0}
    if name == "long_header_name.csv":
        path.write_text("order_id,customer_id," + "n" * 140_000 + ",order_time,amount,channel\n"
                        "o1,C1,x,2024-03-01,10,web\n", "utf-8")
        return path, 0, {"rows_read": 1, "rows_rejected": 0}
    assert name == "overlapping_dir"
    path.mkdir()
    (path / "w1.csv").write_text(
        _HEAD + "o1,C1,2024-03-01,10,paid,web\no2,C2,2024-03-02,5,paid,web\n", "utf-8")
    (path / "w2.csv").write_text(
        _HEAD + "o2,C2,2024-03-02,5,paid,web\no3,C3,2024-03-03,7,paid,web\n", "utf-8")
    return path, 0, {"lines_in_later_file": 1, "rows_rejected": 0}


READING_CASES = ["two_digit_years.csv", "two_digit_years_mostly.csv", "sentinel_dates.csv",
                 "list_amount.parquet",
                 "duration_time.parquet", "struct_customer.parquet", "map_status.parquet",
                 "wide_header.csv", "long_header_name.csv", "overlapping_dir"]


@pytest.mark.parametrize("command", list(ORDER_COMMANDS))
@pytest.mark.parametrize("name", READING_CASES)
def test_reading_classes_in_every_orders_command(command, name, tmp_path):
    (tmp_path / "in").mkdir()
    path, code, expected = _reading_case(name, tmp_path / "in")
    out = tmp_path / "run"
    out.mkdir()
    args = [*ORDER_COMMANDS[command], "--orders", str(path)]
    if command == "clv" and code == 0:  # read like the others, then too few to fit a model
        result = runner.invoke(app, [*args, "-f", "json"])
        assert result.exit_code == 2, result.output
        assert "too few to fit BG/NBD" in result.output
        assert "Traceback" not in result.output
        return
    if command == "report weekly":  # its --out is the HTML page; the JSON goes to stdout
        result = runner.invoke(app, [*args, "--out", str(out / "r.html"), "-f", "json"])
        assert result.exit_code == code, result.output
        assert "Traceback" not in result.output
        doc = json.loads(result.stdout) if code == 0 else None
    else:
        assert _run(args, out) == code
        doc = json.loads((out / "out.json").read_text("utf-8")) if code == 0 else None
    if doc is not None:
        orders = doc["input"]["orders"]
        assert {k: orders[k] for k in expected} == expected


@pytest.mark.parametrize("codec", ["rot13", "base64", "zlib_codec"])
@pytest.mark.parametrize("command", list(ALL_COMMANDS))
def test_codecs_that_are_not_text_are_refused_by_every_command(command, codec, tmp_path):
    source = "events" if command in EVENT_COMMANDS else "orders"
    path = tmp_path / "x.csv"
    path.write_text(_HEAD + "o1,C1,2024-03-01,10,paid,web\n", "utf-8")
    args = [*ALL_COMMANDS[command], f"--{source}", str(path), "--encoding", codec]
    assert _run(args, tmp_path) == 2


@pytest.mark.parametrize("zone", ["posixrules", "Factory", "localtime", "right/Asia/Shanghai",
                                  "posix/Asia/Shanghai"])
@pytest.mark.parametrize("command", ["check", "segment buckets", "funnel", "report weekly"])
def test_zones_polars_does_not_know_are_refused_by_the_config_check(command, zone, tmp_path):
    config = tmp_path / "cust.toml"
    config.write_text(f'timezone = "{zone}"\n', "utf-8")
    assert _run([*ALL_COMMANDS[command], "--config", str(config)], tmp_path) == 2


@pytest.mark.parametrize("field", ["event", "session_id", "user_id", "event_time", "page"])
@pytest.mark.parametrize("command", ["paths", "funnel paths"])
def test_paths_take_every_field_of_the_sample(command, field, tmp_path):
    args = [*EVENT_COMMANDS[command][:-2], "--field", field, "--from", {
        "event": "home", "page": "home", "session_id": "S0000000001", "user_id": "C000189",
        "event_time": "2025-11-01 01:59:54.508266"}[field]]
    assert _run(args, tmp_path) in (0, 2)
    doc = json.loads((tmp_path / "out.json").read_text("utf-8"))
    assert doc["next"], field


@pytest.mark.parametrize("field", ["session_id", "user_id", "event_time"])
def test_deep_paths_take_the_columns_the_unit_needs(field, tmp_path):
    """Issue 24: --depth/--to/--matrix copy the step as today's paths do, so a --field that
    the unit also reads (or the order's time) is no duplicate column."""
    start = {"session_id": "S0000000001", "user_id": "C000189",
             "event_time": "2025-11-01 01:59:54.508266"}[field]
    for where in ("--from", "--to"):
        args = ["paths", "--field", field, where, start, "--depth", "3", "--matrix",
                "--collapse-repeats"]
        assert _run(args, tmp_path) == 0
        doc = json.loads((tmp_path / "out.json").read_text("utf-8"))
        assert doc["paths"], (field, where)
        assert sum(r["step_1"] for r in doc["matrix"]) == pytest.approx(1.0)
