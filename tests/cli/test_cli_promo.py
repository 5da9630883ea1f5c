"""``cust promo`` from the command line: contract keys, defaults, clear refusals."""

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from cust.cli.main import app

runner = CliRunner()
SAMPLE_ORDERS = Path(__file__).resolve().parents[2] / "sample_data" / "orders.csv"
KEYS = {"scenario", "qualifying_orders", "subsidy_cost", "revenue_before", "revenue_after",
        "gross_profit_before", "gross_profit_after"}


def test_simulate_default_on_the_sample():
    result = runner.invoke(app, ["promo", "simulate", "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert KEYS <= set(doc)
    assert doc["scenario"]["threshold"] == 5000
    # Independently of cust: the sample's orders valued from their paid lines.
    lines = pl.read_csv(SAMPLE_ORDERS, infer_schema_length=0)
    values = lines.filter(pl.col("status") == "paid").group_by("order_id").agg(
        pl.col("amount").cast(pl.Float64).sum().alias("value"))
    qualifying = values.filter(pl.col("value") >= 5000).height
    assert qualifying > 0
    assert doc["qualifying_orders"] == qualifying
    assert doc["subsidy_cost"] == 500 * qualifying  # 满5000减500: no order below 500 qualifies
    assert doc["revenue_before"] == pytest.approx(values["value"].sum(), abs=0.01)
    assert doc["revenue_after"] == round(doc["revenue_before"] - doc["subsidy_cost"], 2)


def test_sweep_and_compare():
    result = runner.invoke(app, ["promo", "simulate", "--sweep", "500:2000:500",
                                 "--response", "fixed", "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [s["rank"] for s in doc["scenarios"]] == [1, 2, 3, 4]
    # Each threshold's net effect as simulate gives it alone; the ranking is by that, best
    # first, and "best" names the top one.
    alone = {}
    for x in (500, 1000, 1500, 2000):
        single = runner.invoke(app, ["promo", "simulate", "--threshold", str(x),
                                     "--response", "fixed", "-f", "json"])
        assert single.exit_code == 0, single.output
        alone[x] = json.loads(single.stdout)["net_gross_profit_effect"]
    ranked = sorted(alone, key=lambda x: -alone[x])
    assert len(set(alone.values())) == 4  # no ties: the order is determined
    assert [s["scenario"]["threshold"] for s in doc["scenarios"]] == ranked
    assert [s["net_gross_profit_effect"] for s in doc["scenarios"]] == [alone[x] for x in ranked]
    assert doc["best"] == doc["scenarios"][0]["scenario"]["name"]
    assert [s["best"] for s in doc["scenarios"]] == [True, False, False, False]
    result = runner.invoke(app, ["promo", "compare", "-f", "json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["scenarios"]) == 6


def test_refusals_exit_2(tmp_path):
    result = runner.invoke(app, ["promo", "simulate", "--reward-amount", "5", "--gift-cost", "1"])
    assert result.exit_code == 2
    assert "Hint:" in result.output
    result = runner.invoke(app, ["promo", "compare", str(tmp_path / "missing.toml")])
    assert result.exit_code == 2


def test_messages_and_tables_keep_the_users_text(tmp_path):
    # Rich would turn ":100:" into an emoji and "[x]" into markup.
    result = runner.invoke(app, ["promo", "simulate", "--sweep", "500:100:100",
                                 "--reward-amount", "10"])
    assert result.exit_code == 2
    assert "'500:100:100'" in result.output
    events = tmp_path / "e.csv"
    events.write_text("user_id,session_id,event,event_time\nu1,s1,home,2024-05-01 10:00:00\n"
                      "u1,s1,:100:[b],2024-05-01 10:01:00\n", encoding="utf-8")
    table = tmp_path / "t.txt"
    result = runner.invoke(app, ["funnel", "paths", "--events", str(events), "--from", "home",
                                 "--out", str(table)])
    assert result.exit_code == 0, result.output
    assert ":100:[b]" in table.read_text(encoding="utf-8")


def _campaign_orders(path):
    """3000 orders around 500; on days 10-14 a 满500减50 campaign (code MJ500), with a third
    of the orders in [400, 500) padded to 505."""
    import math
    import random

    rng = random.Random(5)
    rows = ["order_id,customer_id,order_time,amount,cost,discount,promo,status"]
    for i in range(3000):
        day = rng.randrange(1, 29)
        value = round(rng.lognormvariate(math.log(400), 0.5), 2)
        campaign = 10 <= day < 15
        if campaign and 400 <= value < 500 and rng.random() < 1 / 3:
            value = 505.0
        code = "MJ500" if campaign and value >= 500 else ""
        off = 50 if code else 0
        rows.append(f"O{i},C{i % 700},2024-05-{day:02d} 10:00:00,{value - off:.2f},"
                    f"{value * 0.7:.2f},{off},{code},paid")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_bunching_from_the_command_line(tmp_path):
    orders = _campaign_orders(tmp_path / "orders.csv")
    result = runner.invoke(app, ["--orders", str(orders), "promo", "simulate", "--threshold",
                                 "500", "--reward-amount", "50", "--response", "bunching",
                                 "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert KEYS <= set(doc)
    assert doc["bunching"]["campaign"] == "MJ500"
    assert doc["response"]["uptake"] == doc["bunching"]["uptake"] > 0
    result = runner.invoke(app, ["--orders", str(orders), "promo", "simulate",
                                 "--response", "bunching", "--campaign", "NOPE"])
    assert result.exit_code == 2
    assert "MJ500" in result.output  # names the codes it found


def test_bunching_without_a_campaign_refuses(tmp_path):
    orders = tmp_path / "o.csv"
    orders.write_text("order_id,customer_id,order_time,amount\nA,C1,2024-01-01,600\n",
                      encoding="utf-8")
    result = runner.invoke(app, ["--orders", str(orders), "promo", "simulate", "--response",
                                 "bunching"])
    assert result.exit_code == 2
    assert "promo" in result.output
    assert "--response fixed" in result.output


def test_named_scenario_and_targeting_from_cust_toml(tmp_path):
    config = tmp_path / "cust.toml"
    config.write_text('[promo.scenarios.ladder]\ntiers = "100:10,500:60"\n'
                      "[tiers]\nregular = 0\nvip = 2000\n", encoding="utf-8")
    result = runner.invoke(app, ["--config", str(config), "promo", "simulate", "--scenario",
                                 "ladder", "--tier", "vip", "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["scenario"]["name"] == "ladder"
    assert doc["targeting"] == ["Only customers on level vip (by points)."]
    result = runner.invoke(app, ["--config", str(config), "promo", "simulate", "--scenario",
                                 "nope"])
    assert result.exit_code == 2
    assert "ladder" in result.output


def test_sweep_in_a_real_process():
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "cust", "promo", "simulate", "--sweep", "1000:5000:1000",
         "--gift-cost", "30", "--response", "fixed", "-f", "json"],
        capture_output=True, text=True, check=True, timeout=120,
    )
    doc = json.loads(out.stdout)
    assert sorted(s["scenario"]["threshold"] for s in doc["scenarios"]) == [
        1000, 2000, 3000, 4000, 5000]
    assert doc["best"] == doc["scenarios"][0]["scenario"]["name"]
    assert all(s["cost_kind"] == "gift_at_purchase_cost" for s in doc["scenarios"])


CONFLICTS = [
    (["--tiers", "100:10,100:20"], "tiers 100:10,100:20 give the threshold 100 twice"),
    (["--threshold", "50", "--tiers", "200:30,100:10"],
     "threshold 50 contradicts the tiers 200:30,100:10, whose lowest threshold is 100"),
    (["--per-multiple", "--gift-cost", "3"], "applies only to an amount reward"),
    (["--per-multiple", "--reward-percent", "5"], "applies only to an amount reward"),
    (["--per-multiple"], "applies only to an amount reward"),  # was 每满5000减500, unasked
]


@pytest.mark.parametrize(("args", "message"), CONFLICTS, ids=[" ".join(c[0]) for c in CONFLICTS])
def test_conflicting_options_are_refused(args, message):
    result = runner.invoke(app, ["promo", "simulate", *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Hint:" in result.stderr
    assert "Traceback" not in result.output


def test_options_that_agree_are_accepted():
    # A --threshold equal to the lowest tier states the same scenario.
    result = runner.invoke(app, ["promo", "simulate", "--threshold", "100", "--tiers",
                                 "200:30,100:10", "-f", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["scenario"]["threshold"] == 100
    result = runner.invoke(app, ["promo", "simulate", "--threshold", "1000", "--reward-amount",
                                 "80", "--per-multiple", "-f", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["scenario"]["kind"] == "per_multiple"


def test_compare_help_shows_its_whole_example():
    # Rich markup ate "[scenarios.spend_5000]", leaving an example without its table.
    result = runner.invoke(app, ["promo", "compare", "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.output.splitlines()]
    start = lines.index("[scenarios.spend_5000]")
    assert lines[start:start + 3] == [
        "[scenarios.spend_5000]", "threshold = 5000", "reward_amount = 500"]



def test_bootstrap_with_a_sweep_gives_every_threshold_an_interval():
    result = runner.invoke(app, ["promo", "simulate", "--sweep", "1000:3000:1000",
                                 "--reward-amount", "100", "--bootstrap", "50", "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert len(doc["scenarios"]) == 3
    for row in doc["scenarios"]:
        interval = row["net_gross_profit_effect_interval"]
        assert interval["lower"] < row["net_gross_profit_effect"] < interval["upper"]


def test_options_a_sweep_or_a_named_scenario_would_ignore_are_refused():
    result = runner.invoke(app, ["promo", "simulate", "--sweep", "500:2000:500",
                                 "--threshold", "100"])
    assert result.exit_code == 2
    assert "--threshold 100 would be ignored" in result.output
    result = runner.invoke(app, ["promo", "simulate", "--scenario", "x", "--reward-amount", "5"])
    assert result.exit_code == 2
    assert "options given with it would be ignored" in result.output
