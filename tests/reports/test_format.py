"""Issue 26: one cell formatter and human headers, shared by the terminal and HTML tables."""

from datetime import date, datetime

import pytest
from typer.testing import CliRunner

from cust.cli.main import app
from cust.cli.tables import _cell
from cust.reports import html
from cust.reports.format import format_cell, header

runner = CliRunner()


@pytest.mark.parametrize(("value", "kind", "shown"), [
    (1234567.891, "money", "1,234,567.89"),
    (2.675, "money", "2.68"),  # the money rule: half up on the exact decimal
    (-24000, "money", "-24,000.00"),
    (0.0649, "share", "6.5%"),
    (1.0, "share", "100.0%"),
    (9.265, "", "9.27"),  # "9.265, 11.03, 0.6343" in one column: now 2 decimals each
    (11.03, "", "11.03"),
    (0.6343, "", "0.63"),
    (309669.4, "", "309,669.40"),
    (30286, "", "30,286"),
    (True, "", "yes"),
    (False, "", "no"),
    (None, "money", "—"),
    (float("nan"), "", "—"),
    (date(2026, 10, 31), "", "2026-10-31"),
    (datetime(2026, 10, 31, 21, 22), "", "2026-10-31 21:22"),
    ("potential_loyalists", "", "potential_loyalists"),
])
def test_format_cell(value, kind, shown):
    assert format_cell(value, kind) == shown
    # the terminal and the HTML tables use this very function
    assert html.format_cell is format_cell
    assert _cell(value, kind) == shown


def test_headers_are_human():
    assert header("orders_per_customer_month") == "Orders / customer / month"
    assert header("net_gross_profit_effect") == "Net gross profit"
    assert header("rank") == "Rank"
    assert header("some_new_key") == "Some new key"


def test_the_terminal_shows_human_headers_and_right_aligned_numbers():
    result = runner.invoke(app, ["segment", "profile", "--wide"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "Orders / customer / month" in result.stdout
    assert "orders_per_customer_month" not in result.stdout
    lines = result.stdout.splitlines()
    head = next(i for i, ln in enumerate(lines) if "Dimension" in ln)
    rule = lines[head + 1]
    rows = [ln for ln in lines[head + 2:head + 5]]
    end = next(i for i, c in enumerate(lines[head]) if lines[head][i:i + 9] == "Customers") + 9
    # right-aligned: every count ends where its header ends
    assert all(ln[end - 1] != " " and ln[end] == " " for ln in rows), rows
    assert set(rule.strip()) == {"─"}


@pytest.mark.parametrize(("cell", "shown"), [
    ({"retention": 0.45, "complete": True}, "45▓"),
    ({"retention": 0.5, "complete": True}, "50▓"),  # over 50 % is the darkest
    ({"retention": 0.51, "complete": False}, "51█*"),
    ({"retention": 0.08, "complete": False}, "8░*"),
    ({"retention": 0.0, "complete": True}, "0 "),
])
def test_a_retention_cell_is_a_percent_and_a_shade(cell, shown):
    assert format_cell(cell, "heat") == shown
    assert _cell(cell, "heat") == shown
