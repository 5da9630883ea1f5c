"""Cohorts: hand-computed retention, payback and second orders, then against DuckDB."""

from pathlib import Path

import duckdb
import pytest

from cust.pipelines.cohort.cohorts import cohort_retention
from cust.pipelines.errors import InvalidOptionError, MissingColumnError
from cust.pipelines.io.inputs import Inputs
from cust.pipelines.io.loader import LoadOptions
from cust.pipelines.io.orders import Period

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"

# C4 crosses the year (2023-12-31, then 2024-01-01). C2's first order was refunded, so its
# cohort is its first *paid* order (2024-01-31). C1 and C3 took the first-order offer.
# The last paid order (C3, 2024-04-01) is the default analysis date.
ORDERS = """\
order_id,customer_id,order_time,amount,cost,discount,promo,status,channel
o1,C1,2024-01-15 10:00,40,30,10,first_order,paid,search
o2,C1,2024-02-03,100,60,0,,paid,search
o3,C1,2024-03-31 23:00,50,30,0,,paid,direct
r1,C2,2024-01-05,70,50,0,,refunded,ads
o4,C2,2024-01-31,200,150,0,,paid,ads
o5,C3,2024-02-10,0,15,20,first_order,paid,
o6,C3,2024-04-01,80,50,0,,paid,search
o7,C4,2023-12-31 18:00,60,40,0,,paid,direct
o8,C4,2024-01-01 09:00,30,20,0,,paid,direct
"""
CUSTOMERS = """\
customer_id,customer_type
C1,enterprise
C2,student
C3,enterprise
C4,individual
"""


@pytest.fixture
def inputs(tmp_path):
    (tmp_path / "o.csv").write_text(ORDERS, encoding="utf-8")
    (tmp_path / "c.csv").write_text(CUSTOMERS, encoding="utf-8")
    return Inputs({"orders": tmp_path / "o.csv", "customers": tmp_path / "c.csv"}, LoadOptions())


def by_cohort(rows):
    return {r["cohort"]: r for r in rows}


def test_monthly_matrix_by_hand(inputs):
    result = cohort_retention(inputs)
    doc = result.to_json()
    rows = by_cohort(doc["cohorts"])
    assert list(rows) == ["2023-12", "2024-01", "2024-02"]
    assert doc["as_of"] == "2024-04-01"
    dec, jan, feb = rows["2023-12"], rows["2024-01"], rows["2024-02"]
    assert (dec["size"], dec["active"]) == (1, [1, 1, 0, 0, 0])
    assert dec["complete"] == [True, True, True, True, False]
    assert (jan["size"], jan["active"], jan["retention"]) == (2, [2, 1, 1, 0], [1.0, 0.5, 0.5, 0.0])
    assert jan["complete"] == [True, True, True, False]
    assert jan["one_order_share"] == 0.5
    assert (feb["size"], feb["active"], feb["complete"]) == (1, [1, 0, 1], [True, True, False])


def test_cumulative_is_on_or_after(inputs):
    rows = by_cohort(cohort_retention(inputs, cumulative=True).to_json()["cohorts"])
    assert rows["2024-01"]["active"] == [2, 1, 1, 0]
    assert rows["2024-02"]["active"] == [1, 1, 1]  # C3 orders again in k=2
    on = by_cohort(cohort_retention(inputs).to_json()["cohorts"])
    for key, row in rows.items():
        assert all(c >= o for c, o in zip(row["active"], on[key]["active"], strict=True))


def test_weeks_and_year_change(inputs):
    rows = by_cohort(cohort_retention(inputs, unit="week", max_periods=3).to_json()["cohorts"])
    # 2023-12-31 is a Sunday: ISO week 2023-W52 (from Monday 12-25); 2024-01-01 is k = 1.
    assert rows["2023-W52"]["active"] == [1, 1, 0]
    # C1 from Monday 2024-01-15; Saturday 2024-02-03 is in the week of Monday 01-29: k = 2.
    assert rows["2024-W03"]["active"] == [1, 0, 1]
    assert rows["2024-W05"]["size"] == 1  # C2, first paid 2024-01-31


def test_revenue_metric(inputs):
    jan = by_cohort(cohort_retention(inputs, metric="revenue").to_json()["cohorts"])["2024-01"]
    assert jan["revenue"] == [240.0, 100.0, 50.0, 0.0]
    assert jan["revenue_retention"] == pytest.approx([1.0, 100 / 240, 50 / 240, 0.0])


def test_payback_by_hand(inputs):
    pay = {(p["cohort"], p["group"]): p for p in cohort_retention(inputs).to_json()["payback"]}
    jan = pay[("2024-01", "offer")]  # C1: offer 10 off, first-order GP 10, later 40 and 20
    assert (jan["customers"], jan["offer_cost"], jan["first_order_gross_profit"]) == (1, 10.0, 10.0)
    assert jan["cumulative_gross_profit"] == [10.0, 50.0, 70.0, 70.0]
    assert jan["repeat_gross_profit"] == [0.0, 40.0, 60.0, 60.0]
    assert jan["payback_period"] == 1
    feb = pay[("2024-02", "offer")]  # C3: free first order (GP -15, 20 off), then GP 30 in k=2
    assert feb["cumulative_gross_profit"] == [-15.0, -15.0, 15.0]
    assert (feb["offer_cost"], feb["payback_period"]) == (20.0, 2)
    assert pay[("2024-01", "no_offer")]["payback_period"] is None
    assert pay[("2023-12", "no_offer")]["cumulative_gross_profit"] == [20.0, 30.0, 30.0, 30.0, 30.0]


def test_second_order_timing(inputs):
    second = cohort_retention(inputs).to_json()["second_order"]
    # Days to the second order: C4 1, C1 19, C3 51; C2 never.
    assert second["customers"] == 4
    assert second["with_second_order"] == 3
    assert second["median_days"] == 19
    assert second["days_to_second_order"] == {
        "days_0_to_7": 1, "days_8_to_30": 1, "days_31_to_90": 1, "over_90_days": 0
    }


def test_since_selects_cohorts_without_moving_first_orders(inputs):
    from datetime import date

    rows = by_cohort(cohort_retention(inputs, period=Period(since=date(2024, 1, 1))).to_json()[
        "cohorts"])
    assert list(rows) == ["2024-01", "2024-02"]  # C4 stays a December customer
    assert rows["2024-01"]["size"] == 2


def test_as_of_cuts_orders_and_completes_periods(inputs):
    from datetime import date

    rows = by_cohort(cohort_retention(inputs, period=Period(as_of=date(2024, 3, 31))).to_json()[
        "cohorts"])
    assert rows["2024-02"]["active"] == [1, 0]  # C3's April order is after the analysis date
    assert rows["2024-01"]["complete"] == [True, True, True]


def test_split_by_promo_and_customer_type(inputs):
    splits = cohort_retention(inputs, split="promo").to_json()["splits"]
    jan = {s["group"]: s for s in splits if s["cohort"] == "2024-01"}
    assert jan["offer"]["active"] == [1, 1, 1, 0]
    assert jan["no_offer"]["active"] == [1, 0, 0, 0]
    types = cohort_retention(inputs, split="customer_type").to_json()["splits"]
    assert {(s["cohort"], s["group"], s["size"]) for s in types} == {
        ("2023-12", "individual", 1), ("2024-01", "enterprise", 1), ("2024-01", "student", 1),
        ("2024-02", "enterprise", 1),
    }


def test_offer_by_discount(inputs):
    pay = cohort_retention(inputs, offer="discount").to_json()["payback"]
    assert {(p["cohort"], p["group"]) for p in pay if p["group"] == "offer"} == {
        ("2024-01", "offer"), ("2024-02", "offer")
    }


def test_bad_options_and_missing_columns(tmp_path, inputs):
    with pytest.raises(InvalidOptionError):
        cohort_retention(inputs, unit="day")
    with pytest.raises(InvalidOptionError):
        cohort_retention(inputs, max_periods=0)
    (tmp_path / "nocost.csv").write_text(
        "order_id,customer_id,order_time,amount\na,C1,2024-01-01,5\n", encoding="utf-8")
    bare = Inputs({"orders": tmp_path / "nocost.csv"}, LoadOptions())
    with pytest.raises(MissingColumnError):
        cohort_retention(bare, metric="gross_profit")
    with pytest.raises(MissingColumnError):
        cohort_retention(bare, split="industry")
    doc = cohort_retention(bare).to_json()
    assert doc["cohorts"][0]["active"] == [1]
    assert (doc["gross_profit_known"], doc["offer_cost_known"]) == (False, False)
    (row,) = doc["payback"]  # still counted, but no gross profit and no offer cost
    assert (row["group"], row["customers"], row["one_order_customers"]) == ("no_offer", 1, 1)
    assert row["offer_cost"] is row["repeat_gross_profit"] is row["payback_ratio"] is None
    assert any("No cost column" in n for n in doc["notes"])


def test_matrix_matches_duckdb_on_the_sample():
    result = cohort_retention(Inputs({"orders": SAMPLE / "orders.csv"}, LoadOptions()))
    ours = {
        (c["cohort"], k): a
        for c in result.to_json()["cohorts"] for k, a in enumerate(c["active"]) if a
    }
    rows = duckdb.sql(f"""
        with o as (
            select customer_id, min(cast(order_time as timestamp)) as t
            from read_csv('{SAMPLE / "orders.csv"}', all_varchar=true)
            where status = 'paid' group by order_id, customer_id
        ), f as (select customer_id, date_trunc('month', min(t)) as c from o group by 1)
        select strftime(f.c, '%Y-%m'), datediff('month', f.c, date_trunc('month', o.t)),
               count(distinct o.customer_id)
        from o join f using (customer_id) group by all
    """).fetchall()
    theirs = {(c, int(k)): int(n) for c, k, n in rows}
    assert ours == theirs
    sizes = {c["cohort"]: c["size"] for c in result.to_json()["cohorts"]}
    assert sizes == {c: n for (c, k), n in theirs.items() if k == 0}
