"""Threshold promotions: every reward type by hand, response model, sweep = one-by-one."""

import duckdb
import numpy as np
import pytest

from cust.pipelines.errors import ConfigError, InvalidOptionError, MissingColumnError
from cust.pipelines.io.inputs import Inputs
from cust.pipelines.io.loader import LoadOptions
from cust.pipelines.promo import (
    Response,
    Scenario,
    named_scenario,
    parse_sweep,
    parse_tiers,
    scenarios_from_toml,
    simulate,
    sweep_scenarios,
)

# Paid orders: o1 550 (two lines, GP 50), o2 exactly 500 (GP 100), o3 450 (GP 150, margin
# 1/3), o4 1200 (GP 300), o6 40 (GP 20). o5 (2000) was refunded and is not an order.
# Revenue 2740, gross profit 620.
ORDERS = """\
order_id,customer_id,order_time,amount,cost,status
o1,C1,2024-01-01,300,300,paid
o1,C1,2024-01-01,250,200,paid
o2,C2,2024-01-02,500,400,paid
o3,C3,2024-01-03,450,300,paid
o4,C1,2024-02-01,1200,900,paid
o5,C4,2024-01-04,2000,1000,refunded
o6,C4,2024-01-05,40,20,paid
"""
# Points: C1 silver, C2 and C4 regular, C3 gold (default ladder). ABC by gross profit in the
# period: C1 350 and C3 150 are A (cumulative share before them 0 and 0.56), C2 100 is B
# (0.81), C4 20 is C (0.97).
CUSTOMERS = """\
customer_id,customer_type,points
C1,enterprise,1500
C2,student,0
C3,individual,6000
C4,student,100
"""


@pytest.fixture
def inputs(tmp_path):
    (tmp_path / "o.csv").write_text(ORDERS, encoding="utf-8")
    (tmp_path / "c.csv").write_text(CUSTOMERS, encoding="utf-8")
    return Inputs({"orders": tmp_path / "o.csv", "customers": tmp_path / "c.csv"}, LoadOptions())


def run(inputs, scenario, **kw):
    return simulate(inputs, [scenario], **kw).to_json()


@pytest.mark.parametrize(
    ("scenario", "qualifying", "cost", "revenue_after", "gp_after"),
    [
        (Scenario(threshold=500, reward_amount=50), 3, 150.0, 2590.0, 470.0),
        (Scenario(threshold=500, reward_amount=50, per_multiple=True), 3, 200.0, 2540.0, 420.0),
        (Scenario(threshold=500, reward_percent=10), 3, 225.0, 2515.0, 395.0),
        (Scenario(threshold=500, gift_cost=30), 3, 90.0, 2740.0, 530.0),  # gifts keep revenue
        (Scenario(threshold=100, tiers=((100, 10), (500, 60), (1000, 150))), 4, 280.0,
         2460.0, 340.0),
        (Scenario(threshold=500, lottery_prize_cost=8), 3, 32.0, 2740.0, 588.0),  # 4 draws
        (Scenario(threshold=500, points_rate=2, point_value=0.01), 3, 45.0, 2740.0, 575.0),
    ],
)
def test_every_reward_by_hand(inputs, scenario, qualifying, cost, revenue_after, gp_after):
    doc = run(inputs, scenario)
    assert doc["qualifying_orders"] == qualifying
    assert doc["subsidy_cost"] == cost
    assert (doc["revenue_before"], doc["gross_profit_before"]) == (2740.0, 620.0)
    assert (doc["revenue_after"], doc["gross_profit_after"]) == (revenue_after, gp_after)
    assert doc["net_gross_profit_effect"] == -cost  # response none: the cost is the effect


def test_reward_never_exceeds_the_order(inputs):
    doc = run(inputs, Scenario(threshold=500, reward_amount=800))
    assert doc["subsidy_cost"] == 550 + 500 + 800  # o1 and o2 are free, o4 gets 800 off


def test_fixed_response_by_hand(inputs):
    # Reach 100: only o3 (450) can top up to 500: +50 revenue at margin 1/3, and 50 off.
    doc = run(inputs, Scenario(threshold=500, reward_amount=50),
              response=Response("fixed", reach=100, uptake=0.5))
    assert doc["reachable_orders"] == 1
    assert doc["incremental_revenue"] == 25.0
    assert doc["incremental_gross_profit"] == pytest.approx(8.33, abs=0.005)
    assert doc["subsidy_cost"] == 175.0
    assert doc["revenue_after"] == 2740 + 25 - 175
    assert doc["gross_profit_after"] == pytest.approx(620 + 50 / 6 - 175, abs=0.005)
    assert doc["net_gross_profit_effect"] == pytest.approx(0.5 * (50 / 3 - 50) - 150, abs=0.005)
    assert doc["break_even_uptake"] is None  # topping up never earns the 50 back
    # CONTRACT section 3: a response model states its assumptions and parameters.
    assert doc["response"] == {"model": "fixed", "uptake": 0.5, "reach": 100.0}
    stated = [a for a in doc["assumptions"] if a.startswith("Response fixed")]
    assert len(stated) == 1
    assert "within 100 yuan below the threshold" in stated[0]
    assert "with probability 0.5" in stated[0]
    assert stated == [n for n in doc["notes"] if n.startswith("Response")]


def test_no_response_model_says_so(inputs):
    doc = run(inputs, Scenario(threshold=500, reward_amount=50))
    assert doc["response"] == {"model": "none", "uptake": 0.0, "reach": 50.0}
    assert "Response none: history replayed as it was; nobody tops up a basket." in (
        doc["assumptions"])
    assert not any(a.startswith("Response fixed") for a in doc["assumptions"])


def test_break_even_uptake(inputs):
    # Gift costing 5 from 500, reach 500: o3 (+50 at 1/3) and o6 (+460 at 1/2) could top up.
    doc = run(inputs, Scenario(threshold=500, gift_cost=5),
              response=Response("fixed", reach=500, uptake=0.0))
    gain = 50 / 3 + 230 - 2 * 5
    assert doc["break_even_uptake"] == pytest.approx(15 / gain)
    assert doc["net_gross_profit_effect"] == -15.0


def test_near_threshold_and_histogram(inputs):
    doc = run(inputs, Scenario(threshold=500, reward_amount=50))
    assert doc["customers_near_threshold"] == 1  # C3, within 10 % below 500
    hist = {h["lower"]: h["orders"] for h in doc["histogram"] if h["orders"]}
    assert hist == {450.0: 1, 500.0: 1, 550.0: 1}  # bins of 25 from 250 to 750


def test_an_empty_history_gives_zeros_and_says_so(inputs):
    from datetime import date

    from cust.pipelines.io.orders import Period

    empty = simulate(inputs, [Scenario(threshold=500, reward_amount=50)],
                     period=Period(since=date(2030, 1, 1)))
    doc = empty.to_json()
    assert (doc["history_orders"], doc["qualifying_orders"], doc["subsidy_cost"]) == (0, 0, 0.0)
    assert any("No paid orders" in n for n in empty.notes())
    full = run(inputs, Scenario(threshold=500, reward_amount=50))
    assert full["history_orders"] == 5


def test_an_order_without_cost_is_said_and_its_reward_still_costs(tmp_path):
    # o1's second line has no cost: o1's gross profit (50) is unknown, so gross profit before
    # is 620 - 50 = 570; o1 still qualifies at 500 and its 50 off is a cost: 570 - 150 = 420.
    orders = ORDERS.replace("o1,C1,2024-01-01,250,200,paid", "o1,C1,2024-01-01,250,,paid")
    (tmp_path / "o.csv").write_text(orders, encoding="utf-8")
    result = simulate(Inputs({"orders": tmp_path / "o.csv"}, LoadOptions()),
                      [Scenario(threshold=500, reward_amount=50)])
    doc = result.to_json()
    assert (doc["qualifying_orders"], doc["subsidy_cost"]) == (3, 150.0)
    assert (doc["gross_profit_before"], doc["gross_profit_after"]) == (570.0, 420.0)
    assert any(n.startswith("1 orders have a line without cost") for n in result.notes())


def test_targeting(inputs):
    doc = run(inputs, Scenario(threshold=500, reward_amount=50),
              segment={"customer_type": "Enterprise"})
    assert (doc["qualifying_orders"], doc["revenue_before"]) == (2, 1750.0)
    doc = run(inputs, Scenario(threshold=500, reward_amount=50), new_customers=True)
    # First paid orders: o1, o2, o3, o6 (C4's first order was refunded).
    assert (doc["qualifying_orders"], doc["revenue_before"]) == (2, 1540.0)


def test_sweep_equals_one_by_one(inputs):
    template = Scenario(threshold=1, reward_amount=50)
    thresholds = parse_sweep("400:1200:200")
    assert thresholds == [400, 600, 800, 1000, 1200]
    swept = simulate(inputs, sweep_scenarios(template, thresholds),
                     response=Response("fixed", uptake=0.3)).to_json()["scenarios"]
    for row in swept:
        single = run(inputs, Scenario(threshold=row["scenario"]["threshold"], reward_amount=50),
                     response=Response("fixed", uptake=0.3))
        for key in ("qualifying_orders", "subsidy_cost", "net_gross_profit_effect",
                    "revenue_after", "gross_profit_after"):
            assert row[key] == single[key], key
    nets = [r["net_gross_profit_effect"] for r in swept]
    assert nets == sorted(nets, reverse=True)
    assert [r["rank"] for r in swept] == [1, 2, 3, 4, 5]


def test_cost_is_monotone_in_the_reward(inputs):
    costs = [run(inputs, Scenario(threshold=500, reward_amount=y))["subsidy_cost"]
             for y in (0, 10, 50, 100, 400)]
    assert costs == sorted(costs)
    assert min(costs) == 0


def test_bootstrap_interval_contains_the_estimate(inputs):
    doc = run(inputs, Scenario(threshold=500, reward_amount=50), bootstrap=200, seed=1)
    interval = doc["net_gross_profit_effect_interval"]
    # Customers' rewards: C1 100 (o1, o4), C2 50 (o2), C3 and C4 0; the estimate is -150.
    # A resample draws 4 customers with replacement: it costs 0 when it has neither C1 nor C2
    # (1/16 of resamples, above 2.5 %), so the upper end is 0, and the lower end is below
    # -150 (a resample with two C1 and a C2 costs 250).
    assert interval["lower"] < doc["net_gross_profit_effect"] == -150.0 < interval["upper"]
    assert interval["upper"] == 0.0
    assert -400.0 <= interval["lower"] <= -250.0
    # Independently: the percentiles of the documented resampling (customers in id order).
    rng = np.random.default_rng(1)
    totals = [-(rng.multinomial(4, [0.25] * 4) @ np.array([100.0, 50.0, 0.0, 0.0]))
              for _ in range(200)]
    assert [interval["lower"], interval["upper"]] == pytest.approx(
        np.percentile(totals, [2.5, 97.5]).tolist())
    assert (interval["resamples"], interval["seed"]) == (200, 1)


def test_bootstrap_of_a_sweep_gives_every_threshold_its_own_interval(inputs):
    # Was: only the first threshold had an interval. Each threshold's interval is the one it
    # gets alone with the same seed (the same resamples of the same customers).
    response = Response("fixed", reach=200, uptake=0.3)
    swept = simulate(inputs, sweep_scenarios(Scenario(threshold=1, reward_amount=50),
                                             [500, 1000, 1500]),
                     response=response, bootstrap=100, seed=4).to_json()["scenarios"]
    intervals = {}
    for row in swept:
        x = row["scenario"]["threshold"]
        alone = run(inputs, Scenario(threshold=x, reward_amount=50), response=response,
                    bootstrap=100, seed=4)
        assert row["net_gross_profit_effect_interval"] == alone[
            "net_gross_profit_effect_interval"], x
        intervals[x] = row["net_gross_profit_effect_interval"]
    # No order reaches 1500 or lies within 200 below it: nothing to resample, a zero interval.
    assert (intervals[1500]["lower"], intervals[1500]["upper"]) == (0.0, 0.0)
    assert intervals[500]["lower"] < intervals[500]["upper"]
    assert intervals[500] != intervals[1000]


def test_scenarios_file(tmp_path, inputs):
    path = tmp_path / "s.toml"
    path.write_text("""
[scenarios.big]
threshold = 1000
reward_amount = 100
[scenarios.ladder]
tiers = "100:10,500:60"
""", encoding="utf-8")
    scenarios = scenarios_from_toml(path)
    assert [s.label() for s in scenarios] == ["big", "ladder"]
    doc = simulate(inputs, scenarios).to_json()
    assert doc["subsidy_cost"] == 100.0  # the first scenario given
    assert {s["scenario"]["name"]: s["rank"] for s in doc["scenarios"]} == {"big": 1, "ladder": 2}
    path.write_text("[scenarios.x]\nthreshold = 5\nbogus = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        scenarios_from_toml(path)


def test_refusals(inputs, tmp_path):
    with pytest.raises(InvalidOptionError):
        Scenario(threshold=500)
    with pytest.raises(InvalidOptionError):
        Scenario(threshold=500, reward_amount=50, gift_cost=3)
    with pytest.raises(InvalidOptionError):
        Scenario(threshold=-1, reward_amount=5)
    with pytest.raises(InvalidOptionError):
        parse_tiers("100-10")
    with pytest.raises(InvalidOptionError):
        parse_sweep("5:1:1")
    with pytest.raises(InvalidOptionError):
        Response("magic")
    (tmp_path / "bare.csv").write_text("order_id,customer_id,order_time,amount\na,C,2024-01-01,9\n",
                                       encoding="utf-8")
    bare = Inputs({"orders": tmp_path / "bare.csv"}, LoadOptions())
    with pytest.raises(MissingColumnError):
        simulate(bare, [Scenario(threshold=5, reward_amount=1)], segment={"industry": "auto"})


def test_static_figures_match_duckdb_on_the_sample():
    from pathlib import Path

    orders = Path(__file__).resolve().parents[2] / "sample_data" / "orders.csv"
    doc = simulate(Inputs({"orders": orders}, LoadOptions()),
                   [Scenario(threshold=1000, reward_amount=80, per_multiple=True)]).to_json()
    row = duckdb.sql(f"""
        with o as (
            select order_id, sum(cast(amount as double)) as v,
                   sum(cast(amount as double) - cast(cost as double)) as gp
            from read_csv('{orders}', all_varchar=true) where status = 'paid' group by order_id
        )
        select count(*) filter (where v >= 1000),
               round(sum(case when v >= 1000 then least(floor(v / 1000) * 80, v) else 0 end), 2),
               round(sum(v), 2), round(sum(gp), 2)
        from o
    """).fetchall()[0]
    assert (doc["qualifying_orders"], doc["subsidy_cost"], doc["revenue_before"],
            doc["gross_profit_before"]) == (row[0], row[1], row[2], row[3])


def test_shares_customers_and_cost_kind(inputs):
    doc = run(inputs, Scenario(threshold=500, reward_amount=50))
    assert doc["qualifying_customers"] == 2  # C1 (o1, o4) and C2 (o2, exactly 500)
    assert doc["subsidy_share_of_revenue"] == pytest.approx(150 / 2740)
    assert doc["subsidy_share_of_gross_profit"] == pytest.approx(150 / 620)
    assert (doc["cost_kind"], doc["scenario"]["cost_kind"]) == ("money_off", "money_off")
    assert doc["customers_near"] == doc["customers_near_threshold"] == 1
    assert run(inputs, Scenario(threshold=500, gift_cost=3))["cost_kind"] == (
        "gift_at_purchase_cost")
    assert run(inputs, Scenario(threshold=500, lottery_prize_cost=3))["cost_kind"] == (
        "expected_lottery_prizes")
    assert run(inputs, Scenario(threshold=500, points_rate=1))["cost_kind"] == "points_liability"


def test_per_multiple_is_capped_at_the_order(inputs):
    # 每满10减20: every order would get more than its value, so each is free.
    doc = run(inputs, Scenario(threshold=10, reward_amount=20, per_multiple=True))
    assert (doc["subsidy_cost"], doc["revenue_after"]) == (2740.0, 0.0)
    # 每满100减60: 5, 5, 4, 12 multiples and o6 (40) below: 60 * 26.
    assert run(inputs, Scenario(threshold=100, reward_amount=60, per_multiple=True))[
        "subsidy_cost"] == 1560.0


def test_tier_and_abc_targeting(inputs):
    scenario = Scenario(threshold=500, reward_amount=50)
    doc = run(inputs, scenario, tier="silver,Gold")
    assert (doc["qualifying_orders"], doc["revenue_before"]) == (2, 2200.0)  # o1, o3, o4
    doc = run(inputs, scenario, abc="A")
    assert (doc["qualifying_orders"], doc["revenue_before"]) == (2, 2200.0)  # C1 and C3
    doc = run(inputs, scenario, abc="b")
    assert (doc["qualifying_orders"], doc["revenue_before"]) == (1, 500.0)  # C2
    assert any("ABC class B" in t for t in doc["targeting"])
    with pytest.raises(InvalidOptionError):
        run(inputs, scenario, tier="bronze")
    with pytest.raises(InvalidOptionError):
        run(inputs, scenario, abc="Z")


def test_named_scenario_from_config():
    tables = {"big": {"threshold": 1000, "reward_amount": 100}}
    scenario = named_scenario(tables, "big", "cust.toml")
    assert (scenario.threshold, scenario.reward_amount, scenario.label()) == (1000, 100, "big")
    assert [s.label() for s in sweep_scenarios(scenario, [500, 1000])] == [
        "big @ 500", "big @ 1000"]
    with pytest.raises(ConfigError, match="found: big"):
        named_scenario(tables, "small", "cust.toml")


def test_baseline_window(inputs):
    from datetime import date

    from cust.pipelines.io.orders import Period

    doc = run(inputs, Scenario(threshold=500, reward_amount=50),
              period=Period(since=date(2024, 2, 1)))
    assert (doc["qualifying_orders"], doc["revenue_before"], doc["gross_profit_after"]) == (
        1, 1200.0, 250.0)  # only o4
    doc = run(inputs, Scenario(threshold=500, reward_amount=50),
              period=Period(until=date(2024, 1, 2)))
    assert (doc["qualifying_orders"], doc["revenue_before"]) == (2, 1050.0)  # o1, o2
