"""Terminal tables: no figure is ever cut, however narrow the terminal or pipe."""

import io

import pytest
from rich.console import Console
from typer.testing import CliRunner

from cust.cli.main import app
from cust.cli.tables import print_result
from cust.pipelines.io.inputs import Inputs
from cust.pipelines.io.loader import LoadOptions
from cust.pipelines.segment.buckets import bucket_orders


@pytest.mark.parametrize("width", [40, 80, 200])
def test_every_figure_is_printed_whole(width):
    # Issue 26: by default a table leaves out columns that do not fit (and names them);
    # --wide prints every column, each figure whole, however narrow the terminal.
    result = bucket_orders(Inputs({"orders": None}, LoadOptions()))
    console = Console(file=io.StringIO(), width=width, color_system=None)
    print_result(result, console, wide=True)
    text = console.file.getvalue()
    assert "…" not in text
    for row in result.buckets.iter_rows(named=True):
        assert row["label"] in text
        assert f"{row['orders']:,}" in text
        assert f"{row['revenue']:,.2f}" in text


@pytest.mark.parametrize("width", [40, 80, 200])
def test_by_default_columns_are_left_out_whole_and_named(width):
    result = bucket_orders(Inputs({"orders": None}, LoadOptions()))
    console = Console(file=io.StringIO(), width=width, color_system=None)
    print_result(result, console)
    text = console.file.getvalue()
    assert "…" not in text
    for row in result.buckets.iter_rows(named=True):
        assert row["label"] in text
        assert f"{row['orders']:,}" in text
    if f"{result.buckets['revenue'][0]:,.2f}" not in text:
        assert "revenue" in "".join(text.split())  # named in the "More columns" note


def test_a_pipe_gets_the_whole_table(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    result = CliRunner().invoke(app, ["segment", "buckets"])  # stdout is not a terminal
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout
    header = next(line for line in result.stdout.splitlines() if "Band" in line)
    assert "Gross profit" in header  # one line: the 160 columns of a pipe suffice
