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
}
EVENT_COMMANDS = {
    "funnel": ["funnel", "--drift", "--explain"],  # --explain reads the prices too
    "paths": ["paths", "--from", "product_view"],
    "funnel paths": ["funnel", "paths", "--from", "product_view"],
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
