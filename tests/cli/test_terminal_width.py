"""Issue 26: every command's default table fits an 80- and a 100-column terminal.

Each leaf command of the app runs once per width on the bundled sample, in process; no
line of its output (stdout and stderr) is wider than the terminal, nothing is cut to "…",
and the name of every row (the leading text columns of each table) is printed whole
(a text longer than ``TEXT_MAX_WIDTH``, such as a file's path, folds onto a second line).
"""

import pytest
import typer
from rich.cells import cell_len
from typer.testing import CliRunner

from cust.cli import tables
from cust.cli.main import app
from cust.pipelines.text import printable
from cust.reports.format import format_cell
from tests.test_hostile_corpus import _leaf_commands

runner = CliRunner()

# `sample` writes a data set and `report weekly` an HTML file: neither prints a table.
NO_TABLE = {"sample", "report weekly"}
EXTRA = {"funnel --drift --explain": ["funnel", "--drift", "--explain"]}
COMMANDS = {
    **{c: c.split() for c in sorted(_leaf_commands(typer.main.get_command(app)))
       if c not in NO_TABLE},
    **EXTRA,
}


def test_the_list_holds_the_commands_the_issue_names():
    assert {"segment profile", "promo compare", "promo simulate", "segment rfm",
            "segment buckets", "clv", "funnel --drift --explain", "check"} <= set(COMMANDS)


@pytest.fixture
def shown(monkeypatch):
    """The results printed as tables during the test."""
    seen = []
    original = tables.print_result

    def keep(result, console, **kwargs):
        seen.append(result)
        return original(result, console, **kwargs)

    monkeypatch.setattr(tables, "print_result", keep)
    return seen


def _names(result):
    """Every row's name: the values of each table's leading text columns, as shown."""
    for table in result.tables():
        keys = table.frame.columns[: tables._keys(table.frame)]
        for row in table.frame.select(keys).iter_rows():
            for value in row:
                if value is not None:
                    yield printable(format_cell(value))


@pytest.mark.parametrize("width", [80, 100])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_default_output_fits_the_terminal(command, width, shown):
    result = runner.invoke(app, COMMANDS[command], env={"COLUMNS": str(width)})
    text = result.stdout + (result.stderr if result.stderr_bytes is not None else "")
    assert result.exit_code == 0, text
    assert shown, "no table printed"
    too_long = [line for line in text.splitlines() if cell_len(line) > width]
    assert not too_long, "\n".join(too_long)
    assert "…" not in text
    for name in _names(shown[0]):
        if cell_len(name) > tables.TEXT_MAX_WIDTH:  # a path: folds, as documented
            continue
        assert name in result.stdout, f"{name!r} is not printed whole"


def test_wide_shows_every_column_and_columns_chooses(shown):
    wide = runner.invoke(app, ["promo", "compare", "--wide"], env={"COLUMNS": "80"})
    assert wide.exit_code == 0, wide.output
    assert "Customers near" in wide.stdout.replace("\n", " ") or "near" in wide.stdout
    picked = runner.invoke(app, ["segment", "buckets", "--columns", "revenue,gross_margin"],
                           env={"COLUMNS": "80"})
    assert picked.exit_code == 0, picked.output
    header = next(line for line in picked.stdout.splitlines() if "Band" in line)
    assert header.split() == ["Band", "Revenue", "Margin"]
    buckets = shown[-1].buckets
    first = buckets.row(0, named=True)
    assert f"{first['revenue']:,.2f}" in picked.stdout
    assert f"{first['gross_margin']:.1%}" in picked.stdout


def test_an_unknown_column_is_exit_2_with_the_valid_ones():
    result = runner.invoke(app, ["segment", "buckets", "--columns", "revenue,nope"])
    assert result.exit_code == 2
    assert "nope" in result.stderr
    assert "Hint: choose from: label,orders,customers,revenue" in result.stderr
