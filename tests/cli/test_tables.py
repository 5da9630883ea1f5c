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
    result = bucket_orders(Inputs({"orders": None}, LoadOptions()))
    console = Console(file=io.StringIO(), width=width, color_system=None)
    print_result(result, console)
    text = console.file.getvalue()
    assert "…" not in text
    for row in result.buckets.iter_rows(named=True):
        assert row["label"] in text
        assert f"{row['orders']:,}" in text
        assert f"{row['revenue']:,.2f}" in text


def test_a_pipe_gets_the_whole_table(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    result = CliRunner().invoke(app, ["segment", "buckets"])  # stdout is not a terminal
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout
    header = next(line for line in result.stdout.splitlines() if "label" in line)
    assert "gross profit" in header  # one line: the 160 columns of a pipe suffice
