"""``cust cohort`` from the command line: contract keys, sample data, clear refusals."""

import csv
import io
import json
import subprocess
import sys

from typer.testing import CliRunner

from cust.cli.main import app

runner = CliRunner()

ORDERS = """\
order_id,customer_id,order_time,amount,cost,discount,promo,status
a1,A,2024-01-03,0,30,30,first_order,paid
c1,C,2024-01-20,50,40,20,first_order,paid
c2,C,2024-02-05,100,70,0,,paid
d1,D,2024-02-25,80,60,0,,paid
"""


def test_cohort_json_on_the_bundled_sample():
    result = runner.invoke(app, ["cohort", "--max-periods", "6", "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["command"] == "cohort"
    assert doc["input"]["orders"]["rows_read"] > 0
    first = doc["cohorts"][0]
    assert set(first) >= {"cohort", "size", "active", "retention", "complete"}
    for c in doc["cohorts"]:
        assert c["retention"][0] == 1.0
        assert all(a <= c["size"] for a in c["active"])
        assert len(c["active"]) == len(c["retention"]) == len(c["complete"]) <= 6
    assert any(p["group"] == "offer" for p in doc["payback"])
    assert {t["group"] for t in doc["payback_total"]} == {"offer", "no_offer"}


def test_cohort_csv_is_the_matrix_in_long_form(tmp_path):
    (tmp_path / "o.csv").write_text(ORDERS, encoding="utf-8")
    result = runner.invoke(app, ["--orders", str(tmp_path / "o.csv"), "cohort", "-f", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["cohort"], r["k"], r["active"], r["complete"]) for r in rows] == [
        ("2024-01", "0", "2", "true"), ("2024-01", "1", "1", "false"),
        ("2024-02", "0", "1", "false"),
    ]


def test_cohort_table_week_split_and_payback(tmp_path):
    (tmp_path / "o.csv").write_text(ORDERS, encoding="utf-8")
    result = runner.invoke(app, ["--orders", str(tmp_path / "o.csv"), "cohort", "--period",
                                 "week", "--split", "promo", "--cumulative"])
    assert result.exit_code == 0, result.output
    for text in ("2024-W01", "Retention by promo", "Days to the second order",
                 "Payback (periods)"):
        assert text in result.stdout


def test_cohort_bad_option_exits_2():
    # A fixed choice (cli/choices.py): refused before any file is read, naming the choices.
    result = runner.invoke(app, ["cohort", "--period", "day"])
    assert result.exit_code == 2
    shown = " ".join(result.output.replace("│", " ").split())
    assert "'day' is not one of 'month', 'week'" in shown


def test_cohort_gross_profit_without_cost_exits_2(tmp_path):
    (tmp_path / "o.csv").write_text("order_id,customer_id,order_time,amount\na,A,2024-01-01,5\n",
                                    encoding="utf-8")
    result = runner.invoke(app, ["--orders", str(tmp_path / "o.csv"), "cohort", "--metric",
                                 "gross_profit"])
    assert result.exit_code == 2
    assert "cost" in result.output


def test_cohort_in_a_real_process(tmp_path):
    (tmp_path / "o.csv").write_text(ORDERS, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "cust", "--orders", str(tmp_path / "o.csv"), "cohort",
         "--format", "json"], capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    offer = next(p for p in doc["payback"] if p["group"] == "offer")
    # A and C took the offer (cost 50); C's second order made 30: not paid back yet.
    assert (offer["offer_cost"], offer["repeat_gross_profit_to_date"]) == (50.0, 30.0)
    assert offer["payback_period"] is None
