"""``--format html`` of any command: one escaped page from the result's tables."""

from typer.testing import CliRunner

from cust.cli.main import app
from cust.reports.html import format_cell

runner = CliRunner()


def test_format_cell():
    assert format_cell(None) == "—"
    assert format_cell(0.1234, "share") == "12.3%"
    assert format_cell(1234.5, "money") == "1,234.50"
    # Issue 26: one formatter for terminal and HTML; ratios with two decimals, flags yes/no.
    assert format_cell(3.14159) == "3.14"
    assert format_cell(34250.0) == "34,250.00"
    assert format_cell(1234567) == "1,234,567"
    assert format_cell(True) == "yes"
    assert format_cell(False) == "no"
    assert format_cell("<b>") == "<b>"  # escaping is the template's job (autoescape)


def test_any_command_renders_an_escaped_page(tmp_path):
    orders = tmp_path / "o.csv"
    orders.write_text('order_id,customer_id,order_time,amount,channel\n'
                      'o1,A,2024-03-04,1200,"<script>x</script>"\no2,B,2024-03-05,30,ads\n',
                      encoding="utf-8")
    result = runner.invoke(app, ["segment", "profile", "--by", "channel", "--orders",
                                 str(orders), "-f", "html"])
    assert result.exit_code == 0, result.output
    page = result.stdout
    assert page.startswith("<!doctype html>")
    assert "<script" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page
    assert "1,200.00" in page
