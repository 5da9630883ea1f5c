"""Editions (ISO weeks and months), the default edition, and the headline figures.

Hand-computed on a tiny export, then checked against a plain-Python computation on the
bundled sample (csv module, no Polars).
"""

import csv
from collections import defaultdict
from datetime import date, datetime, timedelta

import pytest

from cust.pipelines.errors import EmptySelectionError, InvalidOptionError
from cust.pipelines.io.inputs import Inputs, sample_path
from cust.pipelines.io.loader import LoadOptions
from cust.pipelines.weekly.report import (
    Edition,
    default_edition,
    headline,
    headline_and_trend,
    order_days,
)


def test_editions():
    assert Edition.containing(date(2026, 10, 28), "week").start == date(2026, 10, 26)
    assert Edition.last_complete(date(2026, 11, 1), "week").label == "2026-W44"  # a Sunday
    assert Edition.last_complete(date(2026, 10, 31), "week").label == "2026-W43"  # Saturday
    assert Edition.last_complete(date(2026, 10, 31), "month").label == "2026-10"
    assert Edition.last_complete(date(2026, 10, 30), "month").label == "2026-09"
    assert Edition("week", date(2026, 1, 5)).shift(-1).label == "2026-W01"
    assert Edition("month", date(2026, 1, 1)).shift(-1).end == date(2025, 12, 31)
    assert Edition("month", date(2024, 2, 1)).end == date(2024, 2, 29)


def test_iso_week_labels_across_the_year_end():
    # 2024-12-30 is the Monday of ISO week 1 of 2025; 2021-01-03 is in 2020-W53.
    assert Edition.containing(date(2025, 1, 1), "week").label == "2025-W01"
    assert Edition.containing(date(2025, 1, 1), "week").start == date(2024, 12, 30)
    assert Edition.containing(date(2021, 1, 3), "week").label == "2020-W53"
    assert Edition("week", date(2020, 12, 28)).shift(1).label == "2021-W01"


def test_unknown_kind_is_refused():
    with pytest.raises(InvalidOptionError, match="week or month"):
        Edition("day", date(2024, 1, 1))


def test_default_edition_is_the_last_complete_week():
    # Orders from Wed 2024-01-03 to Wed 2024-03-13: W10 (03-04..03-10) is the last complete.
    assert default_edition(date(2024, 1, 3), date(2024, 3, 13), "week").label == "2024-W10"
    # Ending on a Sunday: that week is complete.
    assert default_edition(date(2024, 1, 3), date(2024, 3, 10), "week").label == "2024-W10"
    # A short export (Tue to Thu) has no complete week: the week of its last order.
    assert default_edition(date(2024, 3, 5), date(2024, 3, 7), "week").label == "2024-W10"
    assert default_edition(date(2024, 3, 5), date(2024, 3, 7), "month").label == "2024-03"
    assert default_edition(date(2024, 1, 3), date(2024, 3, 7), "month").label == "2024-02"


# Week of 2024-03-04 (W10): A buys 100 (cost 60) and 50 (cost 30), B (new) buys 200
# (cost 150). Previous week (W09): A buys 80 (cost 40). A's first order: 2024-02-01 (W05).
# A refunded line never counts; C's only order is refunded, so C is no customer at all.
ORDERS = """\
order_id,customer_id,order_time,amount,cost,status
o0,A,2024-02-01,10,5,paid
o1,A,2024-02-27,80,40,paid
o2,A,2024-03-04 09:00,100,60,paid
o2,A,2024-03-04 09:00,999,1,refunded
o3,A,2024-03-10 23:00,50,30,paid
o4,B,2024-03-06,200,150,paid
o5,C,2024-03-07,500,100,refunded
o6,D,2024-03-11 00:00,70,35,paid
"""


def _inputs(tmp_path, text=ORDERS):
    (tmp_path / "o.csv").write_text(text, encoding="utf-8")
    return Inputs({"orders": tmp_path / "o.csv"}, LoadOptions())


def test_headline_by_hand(tmp_path):
    rows, report = headline(_inputs(tmp_path), Edition("week", date(2024, 3, 4)))
    got = {r["metric"]: r for r in rows}
    assert [r["metric"] for r in rows] == [
        "orders", "customers", "new_customers", "revenue", "gross_profit", "gross_margin", "aov"]
    assert got["orders"]["current"] == 3
    assert got["orders"]["previous"] == 1
    assert got["customers"]["current"] == 2
    assert got["new_customers"]["current"] == 1
    assert got["new_customers"]["previous"] == 0
    assert got["revenue"]["current"] == 350.0
    assert got["gross_profit"]["current"] == 110.0
    assert got["gross_margin"]["current"] == pytest.approx(110 / 350)
    assert got["aov"]["current"] == pytest.approx(350 / 3)
    assert got["revenue"]["change"] == pytest.approx((350 - 80) / 80)
    # The four weeks before W10: W09 (80), W08, W07 (none), W06 (none) -> average 20.
    assert got["revenue"]["average_4"] == 20.0
    assert got["revenue"]["change_vs_average"] == pytest.approx((350 - 20) / 20)
    # Margin and AOV are averaged over the weeks that have orders only (W09: 40/80, 80).
    assert got["gross_margin"]["average_4"] == pytest.approx(0.5)
    assert got["aov"]["average_4"] == pytest.approx(80.0)
    assert report.sources["orders"].rows_read == 8


def test_headline_of_a_month(tmp_path):
    rows, _ = headline(_inputs(tmp_path), Edition("month", date(2024, 3, 1)))
    got = {r["metric"]: r["current"] for r in rows}
    # March: o2, o3, o4, o6 (A, B, D; B and D new): revenue 420, gross profit 145.
    assert got["orders"] == 4
    assert got["customers"] == 3
    assert got["new_customers"] == 2
    assert got["revenue"] == 420.0
    assert got["gross_profit"] == 40 + 20 + 50 + 35
    prev = {r["metric"]: r["previous"] for r in rows}
    assert prev["orders"] == 2  # February: o0, o1
    assert prev["new_customers"] == 1


def test_weeks_before_the_data_are_not_zeros(tmp_path):
    # W06 (2024-02-05): the data starts in W05 (o0, 10 yuan on 2024-02-01). Of the four
    # weeks before W06 only W05 has data: the average is 10, not (10 + 0 + 0 + 0) / 4.
    rows, _ = headline(_inputs(tmp_path), Edition("week", date(2024, 2, 5)))
    got = {r["metric"]: r for r in rows}
    assert (got["revenue"]["previous"], got["revenue"]["average_4"]) == (10.0, 10.0)
    assert got["orders"]["average_4"] == 1
    # W05 itself: nothing before it, so no previous week and no average.
    rows, _ = headline(_inputs(tmp_path), Edition("week", date(2024, 1, 29)))
    got = {r["metric"]: r for r in rows}
    assert (got["orders"]["current"], got["orders"]["previous"]) == (1, None)
    assert (got["orders"]["average_4"], got["orders"]["change"]) == (None, None)
    _, trend, _ = headline_and_trend(_inputs(tmp_path), Edition("week", date(2024, 2, 12)))
    assert [t["label"] for t in trend] == ["2024-W05", "2024-W06", "2024-W07"]
    assert [t["orders"] for t in trend] == [1, 0, 0]


def test_an_empty_week_has_zero_counts_and_no_ratios(tmp_path):
    rows, _ = headline(_inputs(tmp_path), Edition("week", date(2024, 2, 12)))
    got = {r["metric"]: r for r in rows}
    assert got["orders"]["current"] == 0
    assert got["gross_margin"]["current"] is None
    assert got["aov"]["current"] is None
    assert got["orders"]["change"] is None  # 0 orders the week before as well


def test_margin_is_taken_on_the_orders_with_cost(tmp_path):
    text = ("order_id,customer_id,order_time,amount,cost\n"
            "o1,A,2024-03-04,100,60\no2,B,2024-03-05,300,\n")
    rows, _ = headline(_inputs(tmp_path, text), Edition("week", date(2024, 3, 4)))
    got = {r["metric"]: r["current"] for r in rows}
    assert got["revenue"] == 400.0
    assert got["gross_profit"] == 40.0
    assert got["gross_margin"] == pytest.approx(0.4)


def test_order_days_and_no_paid_order(tmp_path):
    assert order_days(_inputs(tmp_path)) == (date(2024, 2, 1), date(2024, 3, 11))
    text = "order_id,customer_id,order_time,amount,status\no1,A,2024-03-04,10,refunded\n"
    with pytest.raises(EmptySelectionError, match="no paid order"):
        order_days(_inputs(tmp_path, text))



def test_a_stray_far_future_or_sentinel_time_does_not_choose_the_edition(tmp_path):
    # Issue 20, item 2: one line typed 2204 for 2024 (and a 1900 one) are warned about by
    # cust check; they must not make the default edition an all-zero week of 2204.
    text = ("order_id,customer_id,order_time,amount,status\n"
            "o1,A,2024-03-04,10,paid\no2,B,2024-03-12,20,paid\n"
            "o3,C,2204-03-01,5,paid\no4,D,1900-01-01,5,paid\n")
    first, last = order_days(_inputs(tmp_path, text))
    assert (first, last) == (date(2024, 3, 4), date(2024, 3, 12))
    assert default_edition(first, last, "week").label == "2024-W10"
    only_odd = "order_id,customer_id,order_time,amount,status\no3,C,2204-03-01,5,paid\n"
    assert order_days(_inputs(tmp_path, only_odd)) == (date(2204, 3, 1), date(2204, 3, 1))


def _plain_headline(path, start):
    """Orders, customers, new customers, revenue and gross profit of a week, by hand."""
    orders = {}
    with open(path, encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if (r["status"] or "paid") != "paid":
                continue
            o = orders.setdefault(r["order_id"], {"c": r["customer_id"], "t": None, "v": 0.0,
                                                  "gp": 0.0})
            t = datetime.fromisoformat(r["order_time"])
            o["t"] = t if o["t"] is None else min(o["t"], t)
            o["v"] += float(r["amount"])
            o["gp"] += float(r["amount"]) - float(r["cost"])
    first = defaultdict(lambda: datetime.max)
    for o in orders.values():
        first[o["c"]] = min(first[o["c"]], o["t"])
    end = start + timedelta(days=7)
    week = [o for o in orders.values() if start <= o["t"].date() < end]
    buyers = {o["c"] for o in week}
    return {
        "orders": len(week),
        "customers": len(buyers),
        "new_customers": sum(start <= first[c].date() < end for c in buyers),
        "revenue": round(sum(o["v"] for o in week), 2),
        "gross_profit": round(sum(o["gp"] for o in week), 2),
    }


def test_headline_matches_plain_python_on_the_sample():
    inputs = Inputs({"orders": sample_path("orders")}, LoadOptions())
    first, last = order_days(inputs)
    edition = default_edition(first, last, "week")
    rows, _ = headline(inputs, edition)
    got = {r["metric"]: r for r in rows}
    for offset, key in ((0, "current"), (1, "previous")):
        expected = _plain_headline(sample_path("orders"), edition.shift(-offset).start)
        assert expected["orders"] > 0
        for metric, value in expected.items():
            assert got[metric][key] == pytest.approx(value, abs=0.005), (metric, key)


def test_without_cost_gross_profit_is_absent_not_zero(tmp_path):
    text = ("order_id,customer_id,order_time,amount\n"
            "o1,A,2024-02-27,80\no2,A,2024-03-04,100\n")
    rows, _ = headline(_inputs(tmp_path, text), Edition("week", date(2024, 3, 4)))
    got = {r["metric"]: r for r in rows}
    assert got["gross_profit"]["current"] is None
    assert got["gross_profit"]["previous"] is None
    assert got["gross_profit"]["average_4"] is None
    assert got["gross_margin"]["current"] is None
    assert got["revenue"]["current"] == 100.0


def test_trend_lists_every_edition_oldest_first(tmp_path):
    _, trend, _ = headline_and_trend(_inputs(tmp_path), Edition("week", date(2024, 3, 4)),
                                     periods=6)
    assert [t["label"] for t in trend] == [
        "2024-W05", "2024-W06", "2024-W07", "2024-W08", "2024-W09", "2024-W10"]
    assert [t["orders"] for t in trend] == [1, 0, 0, 0, 1, 3]
    assert [t["revenue"] for t in trend] == [10.0, 0.0, 0.0, 0.0, 80.0, 350.0]
    assert trend[0]["period"] == date(2024, 1, 29)
    assert trend[1]["aov"] is None
