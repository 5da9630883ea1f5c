"""segment buckets / abc through the CLI: exit codes, JSON per contract, CSV and Parquet out."""

import json

import polars as pl
import pytest
from typer.testing import CliRunner

from cust.cli.main import app

ORDERS = """\
订单号,客户编号,下单时间,实付金额,成本,数量
A1,C1,2024/01/05,30,10,1
A2,C1,2024/01/20,"￥1,200.00",900,2
A3,C2,2024/02/01,=HYPERLINK("http://x"),5,1
A4,C3,2024/02/02,70,20,1
"""

runner = CliRunner()


@pytest.fixture
def orders(tmp_path):
    path = tmp_path / "订单.csv"
    path.write_bytes(ORDERS.encode("gbk"))
    return path


def test_buckets_json_matches_contract(orders):
    result = runner.invoke(app, ["segment", "buckets", "--orders", str(orders), "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["command"] == "segment buckets"
    assert doc["input"]["orders"]["rows_read"] == 4
    assert doc["input"]["orders"]["rows_rejected"] == 1  # the formula is not an amount
    keys = {"label", "lower", "upper", "orders", "customers", "revenue", "gross_profit",
            "order_share", "revenue_share"}
    assert all(keys <= set(b) for b in doc["buckets"])
    bands = {b["label"]: b for b in doc["buckets"]}
    assert bands["0-50"]["orders"] == 1
    assert bands["50-100"]["revenue"] == 70.0
    assert bands["1000-5000"]["gross_profit"] == 300.0
    assert bands["5000+"]["upper"] is None
    assert sum(b["order_share"] for b in doc["buckets"]) == pytest.approx(1.0)


def test_global_options_before_and_after_the_command_agree(orders):
    before = runner.invoke(app, ["--orders", str(orders), "--format", "json", "-q",
                                 "segment", "buckets"])
    after = runner.invoke(app, ["segment", "buckets", "--orders", str(orders), "--format", "json"])
    assert before.exit_code == after.exit_code == 0
    assert json.loads(before.stdout) == json.loads(after.stdout)


def test_abc_members_to_csv_and_parquet(orders, tmp_path):
    out = tmp_path / "members.csv"
    result = runner.invoke(app, ["segment", "abc", "--orders", str(orders), "--out", str(out)])
    assert result.exit_code == 0, result.output
    members = pl.read_csv(out)
    assert members.columns[:5] == ["customer_id", "class", "contribution", "rank",
                                   "cumulative_share"]
    assert dict(members.select("customer_id", "class").iter_rows()) == {"C1": "A", "C3": "B"}
    pq = tmp_path / "members.parquet"
    again = runner.invoke(app, ["segment", "abc", "--orders", str(orders), "-o", str(pq)])
    assert again.exit_code == 0, again.output
    assert pl.read_parquet(pq).height == 2


def test_abc_json_keys(orders):
    result = runner.invoke(app, ["segment", "abc", "--orders", str(orders), "-f", "json"])
    doc = json.loads(result.stdout)
    assert [c["class"] for c in doc["classes"]] == ["A", "B", "C"]
    assert set(doc["classes"][0]) >= {"class", "customers", "value", "value_share"}
    assert doc["loss_making"] == {"customers": 0, "value": 0.0}
    assert doc["classes"][0]["value"] == 320.0  # C1: 20 + 300


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["segment", "buckets", "--edges", "50,10"], "strictly increasing"),
        (["segment", "abc", "--cutoffs", "0.9"], "--cutoffs"),
        (["segment", "abc", "--method", "magic"], "--method"),
        (["segment", "buckets", "--since", "2024-03-01", "--until", "2024-01-01"], "--since"),
        (["segment", "buckets", "--since", "March"], "not a date"),
    ],
)
def test_bad_options_exit_2(orders, args, message):
    result = runner.invoke(app, [*args, "--orders", str(orders)])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
