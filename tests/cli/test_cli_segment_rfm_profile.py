"""segment rfm / profile through the CLI: exit codes, JSON keys, member list out, help."""

import json

import polars as pl
import pytest
from typer.testing import CliRunner

from cust.cli.main import app

ORDERS = """\
order_id,customer_id,order_time,amount,cost,sku,channel
a1,C1,2024-05-01,150,100,s1,web
a2,C1,2024-06-01,200,150,s2,web
a3,C1,2024-06-30,100,60,s1,web
b1,C2,2024-06-20,40,30,s3,ads
b2,C2,2024-06-30,40,30,s3,ads
c1,C3,2024-06-20,1000,900,s4,ads
d1,C4,2024-04-01,30,20,s1,seo
e1,C5,2024-01-01,500,450,s2,web
"""

CUSTOMERS = """\
customer_id,customer_type,role,industry,points
C1,enterprise,purchaser,automotive,1000
C2,individual,engineer,iot,10
C3,enterprise,purchaser,power,25000
"""

runner = CliRunner()


@pytest.fixture
def files(tmp_path):
    orders = tmp_path / "orders.csv"
    orders.write_text(ORDERS, encoding="utf-8")
    customers = tmp_path / "customers.csv"
    customers.write_text(CUSTOMERS, encoding="utf-8")
    return orders, customers


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_rfm_json_per_contract(files):
    orders, _ = files
    result = invoke("segment", "rfm", "--orders", orders, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["command"] == "segment rfm"
    assert doc["input"]["orders"]["rows_read"] == 8
    assert doc["input"]["orders"]["rows_rejected"] == 0
    assert doc["as_of"] == "2024-06-30"
    assert all({"segment", "customers", "revenue"} <= set(s) for s in doc["segments"])
    assert sum(s["customers"] for s in doc["segments"]) == 5
    assert sum(s["revenue"] for s in doc["segments"]) == pytest.approx(2060.0)
    assert doc["segments"][0]["segment"] == "champions"
    assert doc["rules"][0] == {"segment": "champions", "r": [5, 5], "f": [4, 5], "m": None}


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_rfm_out_writes_the_member_list(files, tmp_path, suffix):
    orders, _ = files
    out = tmp_path / f"members.{suffix}"
    result = invoke("segment", "rfm", "--orders", orders, "--out", out)
    assert result.exit_code == 0, result.output
    members = pl.read_csv(out) if suffix == "csv" else pl.read_parquet(out)
    assert members.height == 5
    assert members.columns[:8] == ["customer_id", "segment", "r_score", "f_score", "m_score",
                                   "days_since_last", "orders", "monetary"]
    assert {"frequency", "recency", "T", "monetary_value"} <= set(members.columns)
    c1 = members.filter(pl.col("customer_id") == "C1").row(0, named=True)
    assert (c1["orders"], c1["frequency"], c1["recency"], c1["T"]) == (3, 2, 60, 60)
    assert c1["monetary_value"] == 150.0


def test_rfm_gross_profit_without_cost_exits_2(tmp_path):
    orders = tmp_path / "orders.csv"
    orders.write_text("order_id,customer_id,order_time,amount\no1,C1,2024-01-01,10\n",
                      encoding="utf-8")
    result = invoke("segment", "rfm", "--orders", orders, "--monetary", "gross_profit")
    assert result.exit_code == 2
    assert "cost" in result.output
    assert "Traceback" not in result.output


def test_rfm_config_rules_and_nonsense(files, tmp_path):
    orders, _ = files
    config = tmp_path / "cust.toml"
    config.write_text('[rfm.segments]\nrecent = { r = [4, 5] }\n', encoding="utf-8")
    result = invoke("segment", "rfm", "--orders", orders, "--config", config, "-f", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [s["segment"] for s in doc["segments"]] == ["recent", "other"]
    assert any("'other'" in n for n in doc["notes"])

    config.write_text('[rfm.segments]\nrecent = { r = [4, 9] }\n', encoding="utf-8")
    result = invoke("segment", "rfm", "--orders", orders, "--config", config)
    assert result.exit_code == 2
    assert "Hint:" in result.output


def test_profile_json_per_contract(files):
    orders, customers = files
    result = invoke("segment", "profile", "--orders", orders, "--customers", customers,
                    "--by", "customer_type,tier,channel", "--top", "1", "-f", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["command"] == "segment profile"
    assert set(doc["input"]) == {"orders", "customers"}
    assert {"groups", "comparison", "tiers"} <= set(doc)
    keys = {"dimension", "group", "customers", "orders", "revenue", "gross_profit",
            "gross_margin", "aov", "orders_per_customer_month", "skus_per_order"}
    assert all(keys <= set(g) for g in doc["groups"])
    enterprise = next(g for g in doc["groups"]
                      if g["dimension"] == "customer_type" and g["group"] == "enterprise")
    assert (enterprise["customers"], enterprise["orders"], enterprise["revenue"]) == (
        2, 4, 1450.0)
    assert enterprise["gross_margin"] == pytest.approx(240 / 1450)
    assert [c["group"] for c in doc["comparison"]] == ["key_accounts", "sample_buyers"]
    assert doc["tiers"][1] == {"tier": "silver", "min_points": 1000.0}


def test_profile_without_customers_exits_2(files):
    orders, _ = files
    result = invoke("segment", "profile", "--orders", orders, "--by", "industry")
    assert result.exit_code == 2
    assert "--customers" in result.output
    assert "industry" in result.output


def test_profile_bad_tiers_config_exits_2(files, tmp_path):
    orders, customers = files
    config = tmp_path / "cust.toml"
    config.write_text("[tiers]\nsilver = 1000\n", encoding="utf-8")
    result = invoke("segment", "profile", "--orders", orders, "--customers", customers,
                    "--config", config)
    assert result.exit_code == 2
    assert "Hint:" in result.output


def test_profile_unknown_dimension_exits_2(files):
    orders, customers = files
    result = invoke("segment", "profile", "--orders", orders, "--customers", customers,
                    "--by", "region")
    assert result.exit_code == 2
    assert "region" in result.output


def test_profile_table_output(files):
    orders, customers = files
    result = invoke("segment", "profile", "--orders", orders, "--customers", customers)
    assert result.exit_code == 0, result.output
    assert "Key accounts vs sample buyers" in result.stdout


@pytest.mark.parametrize("command", ["rfm", "profile"])
def test_help_has_an_example(command):
    result = invoke("segment", command, "--help")
    assert result.exit_code == 0
    assert f"Example: cust segment {command}" in result.stdout
