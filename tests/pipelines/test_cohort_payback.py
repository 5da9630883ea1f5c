"""Cohorts: the first-order offer's payback, data edges and small cases, by hand."""

from datetime import date

import pytest

from cust.pipelines.cohort.cohorts import cohort_retention
from cust.pipelines.errors import EmptySelectionError
from cust.pipelines.io.inputs import Inputs
from cust.pipelines.io.loader import LoadOptions
from cust.pipelines.io.orders import Period

# January: A (free first order) and B take the offer and never come back (bargain hunters);
# C takes it and stays; D pays full price and orders again in January. February: E takes
# the offer and orders once more on the last day of the data (Sunday 2024-03-31), which
# does not pay the offer back. March: F orders once, no offer. C's refunded order is no
# order. Gross profit per order = amount - cost; the offer's cost = the first order's discount.
ORDERS = """\
order_id,customer_id,order_time,amount,cost,discount,promo,status
a1,A,2024-01-03 12:00,0,30,30,first_order,paid
b1,B,2024-01-10 09:00,20,25,10,first_order,paid
c1,C,2024-01-20 10:00,50,40,20,first_order,paid
c2,C,2024-02-05 10:00,100,70,0,,paid
c3,C,2024-03-15 10:00,300,200,0,,paid
c4,C,2024-03-20 10:00,500,100,0,,refunded
d1,D,2024-01-25 10:00,80,60,0,,paid
d2,D,2024-01-28 10:00,40,30,0,,paid
e1,E,2024-02-10 10:00,10,20,15,first_order,paid
e2,E,2024-03-31 20:00,10,8,0,,paid
f1,F,2024-03-05 10:00,30,20,0,,paid
"""


def _inputs(tmp_path, text=ORDERS, name="o.csv"):
    (tmp_path / name).write_text(text, encoding="utf-8")
    return Inputs({"orders": tmp_path / name}, LoadOptions())


@pytest.fixture
def inputs(tmp_path):
    return _inputs(tmp_path)


def _payback(doc):
    return {(p["cohort"], p["group"]): p for p in doc["payback"]}


def test_offer_payback_by_hand(inputs):
    doc = cohort_retention(inputs).to_json()
    pay = _payback(doc)
    jan = pay[("2024-01", "offer")]
    assert (jan["customers"], jan["one_order_customers"], jan["repeat_customers"]) == (3, 2, 1)
    assert (jan["offer_cost"], jan["offer_cost_one_order"]) == (60.0, 40.0)
    assert jan["first_order_gross_profit"] == -25.0  # -30 - 5 + 10, already net of the offer
    assert jan["cumulative_gross_profit"] == [-25.0, 5.0, 105.0]
    assert jan["repeat_gross_profit"] == [0.0, 30.0, 130.0]
    assert jan["net_gross_profit"] == [-60.0, -30.0, 70.0]
    assert (jan["payback_period"], jan["repeat_gross_profit_to_date"]) == (2, 130.0)
    assert jan["payback_ratio"] == pytest.approx(130 / 60)
    # C's later orders pay for 130 / (60 / 3) = 6.5 average offers.
    assert jan["offers_paid_per_repeat_customer"] == pytest.approx(6.5)
    feb = pay[("2024-02", "offer")]
    assert feb["repeat_gross_profit"] == [0.0, 2.0]
    assert (feb["net_gross_profit"], feb["payback_period"]) == ([-15.0, -13.0], None)
    assert feb["payback_ratio"] == pytest.approx(2 / 15)
    d = pay[("2024-01", "no_offer")]
    assert (d["offer_cost"], d["repeat_gross_profit"], d["repeat_share"]) == (0.0, [10.0] * 3, 1.0)
    assert d["payback_period"] is d["payback_ratio"] is d["net_gross_profit"] is None
    f = pay[("2024-03", "no_offer")]  # a cohort with no repeat customer
    assert (f["repeat_customers"], f["repeat_gross_profit"]) == (0, [0.0])
    total = {t["group"]: t for t in doc["payback_total"]}
    assert total["offer"] == {
        "group": "offer", "customers": 4, "one_order_customers": 2, "repeat_customers": 2,
        "repeat_share": 0.5, "offer_cost": 75.0, "repeat_gross_profit_to_date": 132.0,
        "net_gross_profit_to_date": 57.0, "payback_ratio": 1.76,
    }
    assert (total["no_offer"]["customers"], total["no_offer"]["repeat_share"]) == (2, 0.5)
    assert any("1.76x the offer's cost 75.00" in n for n in doc["notes"])


def test_retention_and_complete_at_the_data_edge(inputs):
    doc = cohort_retention(inputs).to_json()
    rows = {c["cohort"]: c for c in doc["cohorts"]}
    assert doc["as_of"] == "2024-03-31"
    # The data ends on March's last day, so March is complete.
    assert (rows["2024-01"]["size"], rows["2024-01"]["active"]) == (4, [4, 1, 1])
    assert rows["2024-01"]["complete"] == [True, True, True]
    assert rows["2024-01"]["one_order_share"] == 0.5
    assert (rows["2024-02"]["active"], rows["2024-02"]["complete"]) == ([1, 1], [True, True])
    assert (rows["2024-03"]["active"], rows["2024-03"]["retention"]) == ([1], [1.0])
    for c in doc["cohorts"]:
        assert c["retention"][0] == 1.0
        assert all(a <= c["size"] for a in c["active"])


def test_one_day_earlier_leaves_march_incomplete(inputs):
    doc = cohort_retention(inputs, period=Period(as_of=date(2024, 3, 30))).to_json()
    rows = {c["cohort"]: c for c in doc["cohorts"]}
    assert rows["2024-01"]["complete"] == [True, True, False]
    assert (rows["2024-02"]["active"], rows["2024-02"]["complete"]) == ([1, 0], [True, False])
    assert _payback(doc)[("2024-02", "offer")]["one_order_customers"] == 1  # e2 not yet


def test_weeks_complete_when_the_data_ends_on_a_sunday(inputs):
    doc = cohort_retention(inputs, unit="week").to_json()
    rows = {c["cohort"]: c for c in doc["cohorts"]}
    # E: Saturday 2024-02-10 is in the week of Monday 02-05 (2024-W06); 03-31 is k = 7.
    assert rows["2024-W06"]["active"] == [1, 0, 0, 0, 0, 0, 0, 1]
    assert all(rows["2024-W06"]["complete"])
    # A's week (Monday 2024-01-01) and B's (01-08) are separate weekly cohorts.
    assert (rows["2024-W01"]["size"], rows["2024-W02"]["size"]) == (1, 1)
    # C (Saturday 01-20) is in the week of Monday 01-15 (W03), D (01-25) in W04.
    assert rows["2024-W03"]["active"][:5] == [1, 0, 0, 1, 0]  # c2 on Monday 02-05 is k = 3
    assert rows["2024-W04"]["active"][0] == 1
    pay = _payback(doc)
    # C alone in W03: c2's gross profit 30 covers C's own offer (20) in k = 3.
    assert pay[("2024-W03", "offer")]["payback_period"] == 3
    assert pay[("2024-W01", "offer")]["repeat_customers"] == 0


def test_max_periods_shortens_lists_not_payback(inputs):
    doc = cohort_retention(inputs, max_periods=2).to_json()
    jan = _payback(doc)[("2024-01", "offer")]
    assert jan["repeat_gross_profit"] == [0.0, 30.0]
    assert (jan["payback_period"], jan["repeat_gross_profit_to_date"]) == (2, 130.0)
    assert all(len(c["active"]) <= 2 for c in doc["cohorts"])


def test_until_ends_the_analysis(inputs):
    doc = cohort_retention(inputs, period=Period(until=date(2024, 2, 29))).to_json()
    assert doc["as_of"] == "2024-02-10"  # the last paid order on or before --until
    rows = {c["cohort"]: c for c in doc["cohorts"]}
    assert list(rows) == ["2024-01", "2024-02"]
    assert (rows["2024-01"]["active"], rows["2024-01"]["complete"]) == ([4, 1], [True, False])
    assert _payback(doc)[("2024-01", "offer")]["repeat_gross_profit_to_date"] == 30.0


def test_cumulative_and_money_metrics(inputs):
    jan = cohort_retention(inputs, cumulative=True, metric="gross_profit").to_json()["cohorts"][0]
    assert jan["active"] == [4, 1, 1]
    assert jan["gross_profit"] == [135.0, 130.0, 100.0]  # on or after: (5 + 30 + 100), ...
    on = cohort_retention(inputs, metric="revenue").to_json()["cohorts"][0]
    assert on["revenue"] == [190.0, 100.0, 300.0]
    assert on["revenue_retention"] == pytest.approx([1.0, 100 / 190, 300 / 190])


def test_without_discount_the_cost_is_unknown(tmp_path):
    text = "\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != 5)
                     for line in ORDERS.splitlines())
    doc = cohort_retention(_inputs(tmp_path, text + "\n", "nodiscount.csv")).to_json()
    jan = _payback(doc)[("2024-01", "offer")]  # the promo still finds the offer customers
    assert (jan["customers"], jan["repeat_gross_profit_to_date"]) == (3, 130.0)
    assert jan["offer_cost"] is jan["payback_period"] is jan["payback_ratio"] is None
    assert doc["offer_cost_known"] is False
    assert any("No discount column" in n for n in doc["notes"])


def test_one_customer_one_order(tmp_path):
    inputs = _inputs(tmp_path, "order_id,customer_id,order_time,amount\nx,Z,2024-05-15,9\n")
    result = cohort_retention(inputs)
    doc = result.to_json()
    (c,) = doc["cohorts"]
    assert (c["cohort"], c["size"], c["active"], c["retention"]) == ("2024-05", 1, [1], [1.0])
    assert c["complete"] == [False]  # May is not over on 2024-05-15
    assert doc["second_order"]["with_second_order"] == 0
    assert doc["second_order"]["median_days"] is None
    assert [t.key for t in result.tables()][-1] == "payback"
    export = result.export_table()
    assert export.columns[:7] == ["cohort", "cohort_start", "size", "k", "active", "retention",
                                  "complete"]
    assert export.height == 1


def test_second_orders(inputs):
    second = cohort_retention(inputs).to_json()["second_order"]
    # D after 3 days, C after 16, E after 50; A, B and F never.
    assert (second["customers"], second["with_second_order"], second["median_days"]) == (6, 3, 16)
    assert second["one_order_share"] == 0.5
    assert second["days_to_second_order"] == {
        "days_0_to_7": 1, "days_8_to_30": 1, "days_31_to_90": 1, "over_90_days": 0
    }


def test_nothing_selected(inputs):
    with pytest.raises(EmptySelectionError):
        cohort_retention(inputs, period=Period(since=date(2025, 1, 1)))


def test_offer_rule_from_cust_toml(tmp_path):
    from cust.pipelines.errors import ConfigError
    from cust.pipelines.settings import load_config

    # B's first order has no promo but a discount: an offer customer only by discount.
    inputs = _inputs(tmp_path, ORDERS.replace("10,first_order,paid", "10,,paid"))
    by_promo = _payback(cohort_retention(inputs).to_json())
    assert by_promo[("2024-01", "offer")]["customers"] == 2
    (tmp_path / "cust.toml").write_text('[cohort]\noffer = "discount"\n', encoding="utf-8")
    config = load_config(tmp_path / "cust.toml")
    doc = cohort_retention(inputs, config=config).to_json()
    assert _payback(doc)[("2024-01", "offer")]["customers"] == 3
    assert "has a discount" in doc["offer_rule"]
    assert cohort_retention(inputs, config=config, offer="promo").offer_rule.endswith("promo")
    (tmp_path / "bad.toml").write_text('[cohort]\noffer = "coupon"\n', encoding="utf-8")
    with pytest.raises(ConfigError):
        cohort_retention(inputs, config=load_config(tmp_path / "bad.toml"))


def test_payback_per_split_group(tmp_path):
    text = ORDERS.replace("status\n", "status,channel\n", 1)
    text = "\n".join(
        line + ("" if i == 0 else ",ads" if line.startswith(("a", "c")) else ",search")
        for i, line in enumerate(text.splitlines())
    ) + "\n"
    doc = cohort_retention(_inputs(tmp_path, text), split="channel").to_json()
    pay = {(p["cohort"], p["split_group"], p["group"]): p for p in doc["payback"]}
    ads = pay[("2024-01", "ads", "offer")]  # A and C
    assert (ads["customers"], ads["offer_cost"], ads["payback_period"]) == (2, 50.0, 2)
    assert pay[("2024-01", "search", "offer")]["repeat_customers"] == 0  # B
    splits = {(s["cohort"], s["group"]): s for s in doc["splits"]}
    assert splits[("2024-01", "ads")]["active"] == [2, 1, 1]
    assert splits[("2024-01", "search")]["active"] == [2, 0, 0]  # B and D (d2 is in k = 0)
