"""Every reward type and the fixed response against a plain-Python replay on generated data."""

import math
import random
from collections import defaultdict

import pytest

from cust.pipelines.io.inputs import Inputs
from cust.pipelines.io.loader import LoadOptions
from cust.pipelines.promo import Response, Scenario, simulate, sweep_scenarios

SCENARIOS = [
    Scenario(threshold=200, reward_amount=20),
    Scenario(threshold=200, reward_amount=30, per_multiple=True),
    Scenario(threshold=300, reward_percent=7.5),
    Scenario(threshold=250, gift_cost=12),
    Scenario(threshold=100, tiers=((100, 8), (300, 30), (800, 90))),
    Scenario(threshold=150, lottery_prize_cost=4.5),
    Scenario(threshold=200, points_rate=3, point_value=0.02),
]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """~1500 orders of 1-4 lines; some lines refunded; some orders exactly at 200 or 300."""
    rng = random.Random(11)
    rows = ["order_id,customer_id,order_time,amount,cost,status"]
    lines = []
    for i in range(1500):
        customer = f"C{rng.randrange(400)}"
        day = f"2024-0{rng.randrange(1, 7)}-{rng.randrange(1, 28):02d}"
        if i % 97 == 0:  # exactly at a threshold, one line
            parts = [float(rng.choice((200, 300)))]
        else:
            parts = [round(rng.lognormvariate(math.log(60), 1.1), 2)
                     for _ in range(rng.randrange(1, 5))]
        for amount in parts:
            cost = round(amount * rng.uniform(0.5, 0.95), 2)
            status = "refunded" if rng.random() < 0.05 else "paid"
            lines.append((f"O{i}", customer, day, amount, cost, status))
            rows.append(f"O{i},{customer},{day},{amount},{cost},{status}")
    path = tmp_path_factory.mktemp("promo") / "orders.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path, lines


def _orders(lines):
    value, gp, customer = defaultdict(float), defaultdict(float), {}
    for oid, cust, _day, amount, cost, status in lines:
        if status != "paid":
            continue
        value[oid] += amount
        gp[oid] += amount - cost
        customer[oid] = cust
    return [(customer[o], value[o], gp[o]) for o in value]


def _reward(s: Scenario, v: float) -> float:
    if s.tiers:
        reached = [r for t, r in s.tiers if v >= t]
        return min(reached[-1], v) if reached else 0.0
    if v < s.threshold:
        return 0.0
    multiples = math.floor(v / s.threshold)
    if s.reward_amount is not None:
        return min(multiples * s.reward_amount if s.per_multiple else s.reward_amount, v)
    if s.reward_percent is not None:
        return v * s.reward_percent / 100
    if s.gift_cost is not None:
        return s.gift_cost
    if s.lottery_prize_cost is not None:
        return multiples * s.lottery_prize_cost
    return v * s.points_rate * s.point_value


def _replay(orders, s: Scenario, uptake: float, reach: float) -> dict:
    revenue = sum(v for _, v, _ in orders)
    gross = sum(g for _, _, g in orders)
    x = s.entry
    cost0 = sum(_reward(s, v) for _, v, _ in orders)
    near = [(c, v, g) for c, v, g in orders if x - reach <= v < x]
    gap_rev = sum(x - v for _, v, _ in near)
    gap_gp = sum((x - v) * (g / v if v > 0 else gross / revenue) for _, v, g in near)
    gap_reward = len(near) * _reward(s, x)
    cost = cost0 + uptake * gap_reward
    money = s.kind in ("amount", "per_multiple", "percent", "tiers")
    return {
        "qualifying_orders": sum(v >= x for _, v, _ in orders),
        "qualifying_customers": len({c for c, v, _ in orders if v >= x}),
        "customers_near": len({c for c, _, _ in near}),
        "subsidy_cost": cost,
        "revenue_before": revenue,
        "revenue_after": revenue + uptake * gap_rev - (cost if money else 0.0),
        "gross_profit_before": gross,
        "gross_profit_after": gross + uptake * gap_gp - cost,
        "net_gross_profit_effect": uptake * (gap_gp - gap_reward) - cost0,
    }


@pytest.mark.parametrize("response", [Response(), Response("fixed", reach=40, uptake=0.35)])
def test_every_scenario_equals_the_replay(generated, response):
    path, lines = generated
    orders = _orders(lines)
    doc = simulate(Inputs({"orders": path}, LoadOptions()), SCENARIOS, response=response)
    by_name = {s["scenario"]["name"]: s for s in doc.to_json()["scenarios"]}
    uptake = response.uptake if response.model == "fixed" else 0.0
    for s in SCENARIOS:
        got = by_name[s.label()]
        want = _replay(orders, s, uptake, response.reach_for(s))
        for key, value in want.items():
            assert got[key] == pytest.approx(value, abs=0.011), (s.label(), key)
        assert got["subsidy_cost"] >= 0


def test_sweep_is_one_plan_equal_to_the_replay(generated):
    path, lines = generated
    orders = _orders(lines)
    thresholds = [50.0 * k for k in range(1, 21)]
    swept = simulate(Inputs({"orders": path}, LoadOptions()),
                     sweep_scenarios(Scenario(threshold=1, reward_amount=15), thresholds),
                     response=Response("fixed", uptake=0.2)).to_json()
    assert sum(s["best"] for s in swept["scenarios"]) == 1
    assert swept["best"] == swept["scenarios"][0]["scenario"]["name"]
    for row in swept["scenarios"]:
        s = Scenario(threshold=row["scenario"]["threshold"], reward_amount=15)
        want = _replay(orders, s, 0.2, 0.1 * s.threshold)
        assert row["net_gross_profit_effect"] == pytest.approx(
            want["net_gross_profit_effect"], abs=0.011)
        assert row["qualifying_orders"] == want["qualifying_orders"]
