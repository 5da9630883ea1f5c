"""Issue 20, items 14 and 15: text from the data and from paths reaches the terminal as text.

Item 14: control characters (C0, DEL, C1, ESC, CR, backspace, the bidi overrides) in a cell,
a title, a header, a step, a category, a page, a scenario name or a path are shown escaped
(``\\x1b``, ``\\u202e``) in every command's table and in every error and warning; JSON and
CSV keep the data as it is. Item 15: paths and data are never read as Rich markup.
"""

import json
import re
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from cust.cli.main import app
from cust.pipelines.text import printable
from tests.test_hostile_corpus import ALL_COMMANDS, BAD, EVENT_COMMANDS

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
runner = CliRunner()

# Clears the screen, homes the cursor, paints a verdict, overwrites it (CR, backspace),
# a C1 CSI, a right-to-left override, and markup that would colour, close and link.
EVIL = "\x1b[2J\x1b[H\x1b[32mOK\r\x08\x7f\x9b\u202e[red]x[/][link=y]z"
SHOWN = printable(EVIL)
# What a terminal would act on: every control character but the line break.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def test_printable_escapes_the_class_and_keeps_the_rest():
    assert SHOWN == "\\x1b[2J\\x1b[H\\x1b[32mOK\\r\\x08\\x7f\\x9b\\u202e[red]x[/][link=y]z"
    assert printable("a\tb\nc\u2066d\ufeff\x00") == "a\\tb\\nc\\u2066d\\ufeff\\x00"
    assert printable("line\nnext\r", newlines=True) == "line\nnext\\r"
    assert printable("华东 µ ☃ C:\\data") == "华东 µ ☃ C:\\data"  # printable text stays


def _toml_string(text: str) -> str:
    """``text`` as a TOML basic string (control characters as \\uXXXX)."""
    body = "".join(f"\\u{ord(c):04x}" if ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F
                   else "\\\\" if c == "\\" else '\\"' if c == '"' else c for c in text)
    return f'"{body}"'


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The sample, with EVIL in every kind of text a table shows: a channel, an industry, a
    region, a part number, a category (events and prices), an event name (a page of the
    paths and a funnel step), a mapped header, a promotion scenario, and the file name."""
    tmp = tmp_path_factory.mktemp("hostile")
    every = pl.int_range(pl.len()) % 7 == 0
    orders = pl.read_csv(SAMPLE / "orders.csv", infer_schema=False).with_columns(
        pl.when(every).then(pl.lit(EVIL)).otherwise(pl.col("channel")).alias("channel"),
        pl.when(every).then(pl.lit(EVIL)).otherwise(pl.col("sku")).alias("sku"),
    ).rename({"amount": "amount" + EVIL})
    orders_path = tmp / "orders\x1bX\u202e.csv"  # no glob characters: it names one file
    orders.write_csv(orders_path)
    customers = pl.read_csv(SAMPLE / "customers.csv", infer_schema=False).with_columns(
        pl.when(every).then(pl.lit(EVIL)).otherwise(pl.col(c)).alias(c)
        for c in ("industry", "region", "customer_type", "channel")
    )
    customers.write_csv(tmp / "customers.csv")
    events = pl.read_parquet(SAMPLE / "events.parquet").with_columns(
        pl.when(every).then(pl.lit(EVIL)).otherwise(pl.col("category")).alias("category"),
        pl.when(every).then(pl.lit(EVIL)).otherwise(pl.col("page")).alias("page"),
        pl.when(pl.col("event") == "add_to_cart").then(pl.lit("add" + EVIL))
        .otherwise(pl.col("event")).alias("event"),
    )
    events.write_parquet(tmp / "events.parquet")
    prices = pl.read_csv(SAMPLE / "prices.csv", infer_schema=False).with_columns(
        pl.lit(EVIL).alias("category"))
    prices.write_csv(tmp / "prices.csv")
    (tmp / "cust.toml").write_text(
        f"[columns.orders]\namount = {_toml_string('amount' + EVIL)}\n\n"
        f"[funnel]\nsteps = [\"product_view\", {_toml_string('add' + EVIL)}, \"purchase\"]\n\n"
        f"[promo.scenarios.{_toml_string('spend' + EVIL)}]\nthreshold = 500\n"
        "reward_amount = 30\n", encoding="utf-8")
    return tmp, ["--orders", str(orders_path), "--customers", str(tmp / "customers.csv"),
                 "--events", str(tmp / "events.parquet"), "--prices", str(tmp / "prices.csv"),
                 "--config", str(tmp / "cust.toml")]


# Where each command shows EVIL in its table (all of them must show no raw control).
TABLE_RUNS = {**ALL_COMMANDS,
              "segment profile --by industry": ["segment", "profile", "--by", "industry"],
              "segment profile --by customer_type": ["segment", "profile", "--by", "customer_type"],
              "funnel --by category": ["funnel", "--by", "category"],
              "paths --from the hostile step": ["paths", "--from", "add" + EVIL],
              "paths --field category": ["paths", "--field", "category", "--from", EVIL],
              "paths --field page": ["paths", "--field", "page", "--from", EVIL]}
# customer_type is lower-cased, so it is only checked for raw control characters.
SHOWS_EVIL = {"check", "segment profile", "segment profile --by industry", "funnel",
              "funnel --by category", "paths", "funnel paths", "paths --from the hostile step",
              "paths --field category", "paths --field page", "promo compare"}


def _output(result) -> str:
    return result.stdout + (result.stderr if result.stderr_bytes is not None else "")


@pytest.mark.parametrize("command", list(TABLE_RUNS))
def test_every_table_shows_control_characters_escaped(command, hostile, tmp_path):
    _, inputs = hostile
    args = [*TABLE_RUNS[command], *inputs]
    if command == "report weekly":
        args += ["--out-dir", str(tmp_path)]
    result = runner.invoke(app, args, env={"COLUMNS": "500"})  # no cell folds
    text = _output(result)
    assert result.exit_code == 0, text
    assert not RAW.findall(text), RAW.findall(text)
    assert "Traceback" not in text
    if command in SHOWS_EVIL:
        titles = "".join(line.rstrip() for line in text.splitlines())  # a title wraps
        assert SHOWN in text or SHOWN in titles, text  # whole, markup and all, as text


def test_json_and_csv_keep_the_data_as_it_is(hostile):
    _, inputs = hostile
    doc = json.loads(runner.invoke(
        app, ["segment", "profile", "--by", "industry", *inputs, "-f", "json"]).stdout)
    groups = {row["group"] for table in doc.values() if isinstance(table, list)
              for row in table if isinstance(row, dict) and "group" in row}
    assert EVIL in groups
    csv = runner.invoke(app, ["segment", "profile", "--by", "industry", *inputs, "-f", "csv"])
    assert EVIL in csv.stdout


def test_a_cell_is_never_cut_however_narrow(hostile):
    _, inputs = hostile
    result = runner.invoke(app, ["segment", "profile", "--by", "industry", *inputs],
                           env={"COLUMNS": "60"})
    assert "…" not in result.stdout


# --- messages: errors and warnings on stderr -------------------------------------------

HOSTILE_PATH = "no\x1b[2J\x1b[31mpe\r\u202e[red]x[/][link=y]z.csv"


@pytest.mark.parametrize("command", list(ALL_COMMANDS))
def test_an_error_naming_a_hostile_path_shows_it_escaped(command, tmp_path):
    source = "--events" if command in EVENT_COMMANDS else "--orders"
    missing = tmp_path / HOSTILE_PATH
    result = runner.invoke(app, [*ALL_COMMANDS[command], source, str(missing)])
    assert result.exit_code == 2, _output(result)
    assert result.stderr.startswith("error: ")
    assert printable(str(missing)) in result.stderr  # the path, exactly, as text
    assert not RAW.findall(result.stderr)
    assert "Hint:" in result.stderr


def test_data_in_an_error_cannot_forge_a_line(tmp_path):
    """A header named with a line break and a fake Hint: stays on the error's line."""
    forged = "amt\nHint: ALL FIGURES VERIFIED OK\x1b[2J"
    (tmp_path / "o.csv").write_text(
        f'order_id,customer_id,order_time,"{forged}",cost\no1,c1,2024-05-20,1,1\n',
        encoding="utf-8")
    result = runner.invoke(app, ["segment", "buckets", "--orders", str(tmp_path / "o.csv")])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: ")
    assert "amt\\nHint: ALL FIGURES VERIFIED OK\\x1b[2J" in lines[0]
    assert [line for line in lines if line.startswith("Hint:")] == [lines[-1]]
    assert not RAW.findall(result.stderr)


def test_a_warning_names_a_hostile_rejects_path_escaped(tmp_path):
    rejects = tmp_path / "rej\x1b[2J\u202e[red]x[/].csv"
    result = runner.invoke(app, ["segment", "buckets", "--orders",
                                 str(BAD / "mixed_customers.csv"), "--rejects", str(rejects)])
    assert result.exit_code == 0, _output(result)
    assert rejects.exists()
    assert result.stderr.startswith("warning: ")
    assert f"written to {printable(str(rejects))}" in result.stderr
    assert not RAW.findall(result.stderr)


@pytest.mark.parametrize("args", [
    ["check", "--since", "2024" + EVIL],  # a bad value
    ["check", "--x" + EVIL],  # an unknown option of a command
    ["--x" + EVIL, "check"],  # an unknown global option
    ["chec" + EVIL],  # an unknown command
    ["check", "extra" + EVIL],  # an extra argument
    ["segment", "buckets", "--edges", "1," + EVIL],  # a value the command refuses
    ["check", "--format", EVIL],  # not one of the choices
], ids=["value", "option", "global option", "command", "argument", "edges", "choice"])
def test_a_usage_error_shows_what_was_typed_escaped(args):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert not RAW.findall(result.stderr), result.stderr
    assert "[red]x[/][link" in result.stderr  # as text, not markup ("--x=y" is a value)
    assert "\\u202e" in result.stderr


# --- item 15: paths are never read as markup --------------------------------------------

MARKUP_NAMES = ["weekly[/].html", "[red]x.html", "[link=x]y[/link].html", "[bold]a[/b].html"]


def _small_orders(tmp_path: Path) -> list[str]:
    (tmp_path / "o.csv").write_text("order_id,customer_id,order_time,amount,cost\n"
                                    "o1,c1,2024-05-20,100,50\no2,c2,2024-05-21,20,10\n",
                                    encoding="utf-8")
    return ["--orders", str(tmp_path / "o.csv")]


@pytest.mark.parametrize("name", MARKUP_NAMES)
def test_report_weekly_out_with_markup_is_written_and_named(name, tmp_path):
    out = tmp_path / name
    result = runner.invoke(app, ["report", "weekly", "--out", str(out), *_small_orders(tmp_path)])
    assert result.exit_code == 0, _output(result)
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert result.stderr.splitlines()[-1] == f"report written to {out}"


@pytest.mark.parametrize("name", ["[red]x", "[/]y", "[link=x]z"])
def test_report_weekly_out_dir_with_markup(name, tmp_path):
    result = runner.invoke(app, ["report", "weekly", "--out-dir", str(tmp_path / name),
                                 *_small_orders(tmp_path)])
    assert result.exit_code == 0, _output(result)
    written = result.stderr.splitlines()[-1].removeprefix("report written to ")
    assert Path(written).parent == tmp_path / name
    assert Path(written).is_file()


@pytest.mark.parametrize("command", list(ALL_COMMANDS))
def test_rejects_with_markup_names_the_path_it_wrote(command, tmp_path):
    rejects = tmp_path / "[red]x[/][link=y]z.csv"
    source = "--events" if command in EVENT_COMMANDS else "--orders"
    bad = BAD / ("events_garbage.csv" if source == "--events" else "mixed_customers.csv")
    args = [*ALL_COMMANDS[command], source, str(bad), "--rejects", str(rejects),
            "--out", str(tmp_path / "[bold]o[/].json")]
    if command == "report weekly":
        args[-1] = str(tmp_path / "[bold]o[/].html")
    result = runner.invoke(app, args)
    assert result.exit_code in (0, 2), _output(result)
    assert "Traceback" not in _output(result)
    if result.exit_code == 0:
        assert rejects.exists()
        warning = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
        assert warning, result.stderr
        assert warning[0].endswith(f"written to {rejects}")


@pytest.mark.parametrize("command", list(ALL_COMMANDS))
@pytest.mark.parametrize("name", ["[red]x.csv", "[/]y.csv", "[link=x]z[/link].csv"])
def test_a_missing_input_with_markup_is_named_as_given(command, name, tmp_path):
    source = "--events" if command in EVENT_COMMANDS else "--orders"
    result = runner.invoke(app, [*ALL_COMMANDS[command], source, str(tmp_path / name)])
    assert result.exit_code == 2, _output(result)
    assert str(tmp_path / name) in result.stderr.splitlines()[0]


def test_every_message_goes_through_one_function_that_escapes():
    """``say`` (warnings, errors, "report written to"): no markup, no control, one line."""
    import io

    from rich.console import Console

    from cust.cli.output import say

    console = Console(file=io.StringIO(), width=400, color_system=None)
    say(("warning:", "yellow"), f" {EVIL}\nHint: forged", console=console)
    shown = console.file.getvalue()
    assert shown == f"warning: {SHOWN}\\nHint: forged\n"
    console = Console(file=io.StringIO(), width=400, color_system=None)
    say("first\x1b[2J", "\nsecond", lines=True, console=console)  # lines the program wrote
    assert console.file.getvalue() == "first\\x1b[2J\nsecond\n"
