"""RFM scores, segments and lifetimes columns: hand-computed, then against plain Python."""

import math
import random
from datetime import date, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cust.pipelines.errors import ConfigError, EmptySelectionError, MissingColumnError
from cust.pipelines.io.inputs import Inputs
from cust.pipelines.io.loader import LoadOptions
from cust.pipelines.io.orders import Period
from cust.pipelines.segment.rfm import (
    DEFAULT_RULES,
    OTHER,
    Rule,
    parse_rules,
    rfm_segments,
    uncovered_cells,
)

# as_of defaults to the latest order date, 2024-06-30.
#   C1: 4 paid orders (two on 06-01, one of them two lines), last 06-30; 500 yuan
#   C2: 2 orders, last 06-30; 80          C3: 1 order 06-20; 1000
#   C4: 3 orders, last 05-31; 90          C5: 1 order 01-01; 500 (ties C1 on monetary)
#   C6: 1 paid order 03-02 (the 03-01 one was refunded); 20
ORDERS = """\
order_id,customer_id,order_time,amount,cost,status
a1,C1,2024-05-01 09:00,150,100,paid
a2,C1,2024-06-01 10:00,120,90,paid
a2,C1,2024-06-01 10:00,80,60,paid
a3,C1,2024-06-01 18:30,50,30,paid
a4,C1,2024-06-30 23:59,100,60,paid
b1,C2,2024-06-20,40,30,paid
b2,C2,2024-06-30,40,30,paid
c1,C3,2024-06-20 12:00,1000,900,paid
d1,C4,2024-04-01,30,20,paid
d2,C4,2024-04-15,30,20,paid
d3,C4,2024-05-31,30,20,paid
e1,C5,2024-01-01,500,450,paid
f0,C6,2024-03-01,20,5,refunded
f1,C6,2024-03-02,20,5,paid
"""


def write(tmp_path, text, name="orders.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def inputs_for(path):
    return Inputs({"orders": path, "customers": None, "events": None, "prices": None},
                  LoadOptions())


@pytest.fixture
def orders(tmp_path):
    return write(tmp_path, ORDERS)


def by_customer(result):
    return {row["customer_id"]: row for row in result.members.iter_rows(named=True)}


def test_hand_computed_measures_scores_and_segments(orders):
    result = rfm_segments(inputs_for(orders))
    assert result.as_of == date(2024, 6, 30)
    got = result.members.select(
        "customer_id", "days_since_last", "orders", "monetary", "r_score", "f_score", "m_score",
        "segment",
    ).sort("customer_id")
    # n = 6, score = ceil(5 * rank / 6):  rank 1 -> 1, 2 -> 2, 3 -> 3, 4 -> 4, 5 -> 5, 6 -> 5
    # recency ranked on -days: C5 (181 d) 1, C6 (120) 2, C4 (30) 3, C3 (10) 4, C1 = C2 (0) 5
    # frequency: C3 = C5 = C6 (1) 1, C2 (2) 4, C4 (3) 5, C1 (4) 6
    # monetary: C6 20 1, C2 80 2, C4 90 3, C1 = C5 500 4, C3 1000 6
    expected = pl.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4", "C5", "C6"],
            "days_since_last": [0, 0, 10, 30, 181, 120],
            "orders": [4, 2, 1, 3, 1, 1],
            "monetary": [500.0, 80.0, 1000.0, 90.0, 500.0, 20.0],
            "r_score": [5, 5, 4, 3, 1, 2],
            "f_score": [5, 4, 1, 5, 1, 1],
            "m_score": [4, 2, 5, 3, 4, 1],
            "segment": ["champions", "champions", "promising", "loyal", "lost", "hibernating"],
        }
    )
    assert_frame_equal(got, expected, check_dtypes=False)


def test_ties_share_the_lower_score(orders):
    rows = by_customer(rfm_segments(inputs_for(orders)))
    # three customers with one order hold ranks 1-3 but all get rank 1 and F = 1
    assert {rows[c]["f_score"] for c in ("C3", "C5", "C6")} == {1}
    # C1 and C5 tie on 500 yuan at rank 4 (not 5): M = ceil(20 / 6) = 4 for both
    assert rows["C1"]["m_score"] == rows["C5"]["m_score"] == 4


def test_lifetimes_columns_by_hand(orders):
    got = rfm_segments(inputs_for(orders)).members.select(
        "customer_id", "frequency", "recency", "T", "monetary_value"
    ).sort("customer_id")
    expected = pl.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4", "C5", "C6"],
            # C1 buys on 05-01, 06-01 (two orders: 250 that day) and 06-30 (100)
            "frequency": [2, 1, 0, 2, 0, 0],
            "recency": [60, 10, 0, 60, 0, 0],
            "T": [60, 10, 10, 90, 181, 120],
            "monetary_value": [175.0, 40.0, 0.0, 30.0, 0.0, 0.0],
        }
    )
    assert_frame_equal(got, expected, check_dtypes=False)


def test_segment_summary_in_rule_order_with_empty_segments(orders):
    result = rfm_segments(inputs_for(orders))
    seg = result.segments
    assert seg["segment"].to_list() == [r.segment for r in DEFAULT_RULES]
    counts = dict(zip(seg["segment"], seg["customers"], strict=True))
    assert counts == {
        "champions": 2, "loyal": 1, "cant_lose_them": 0, "at_risk": 0, "need_attention": 0,
        "potential_loyalists": 0, "promising": 1, "new": 0, "about_to_sleep": 0,
        "hibernating": 1, "lost": 1,
    }
    champions = seg.row(0, named=True)
    assert champions["revenue"] == 580.0
    assert champions["gross_profit"] == pytest.approx(160.0 + 20.0)
    assert champions["share"] == pytest.approx(2 / 6)
    assert champions["revenue_share"] == pytest.approx(580 / 2190)
    assert champions["avg_orders"] == 3.0
    assert seg.filter(pl.col("segment") == "new").row(0, named=True)["revenue"] == 0.0
    doc = result.to_json()
    assert [s["segment"] for s in doc["segments"]] == [r.segment for r in DEFAULT_RULES]
    assert doc["rules"][0] == {"segment": "champions", "r": [5, 5], "f": [4, 5], "m": None}


def test_every_customer_in_exactly_one_segment(orders):
    result = rfm_segments(inputs_for(orders))
    assert result.members["customer_id"].n_unique() == result.members.height == 6
    assert result.segments["customers"].sum() == 6
    assert OTHER not in result.members["segment"].to_list()


def test_default_rules_cover_the_whole_grid():
    assert uncovered_cells(DEFAULT_RULES) == 0
    for r in range(1, 6):
        for f in range(1, 6):
            first = next(rule for rule in DEFAULT_RULES if rule.matches(r, f, 3))
            assert first.segment


def test_config_rules_with_gaps_put_the_rest_into_other(orders):
    rules = parse_rules(
        {"segments": {"top": {"r": [5, 5], "f": [4, 5]}, "bottom": {"r": [1, 2]}}}
    )
    result = rfm_segments(inputs_for(orders), rules=rules)
    segments = dict(zip(result.members["customer_id"], result.members["segment"], strict=True))
    assert segments == {"C1": "top", "C2": "top", "C3": OTHER, "C4": OTHER, "C5": "bottom",
                        "C6": "bottom"}
    assert result.segments["segment"].to_list() == ["top", "bottom", OTHER]
    assert result.segments["customers"].to_list() == [2, 2, 2]
    assert result.uncovered_cells == 125 - 10 - 50
    assert any("2 customers are in 'other'" in n for n in result.notes())


def test_config_rule_with_m_range(orders):
    rules = parse_rules({"segments": {"whales": {"m": [5, 5]}, "rest": {}}})
    result = rfm_segments(inputs_for(orders), rules=rules)
    rows = by_customer(result)
    assert rows["C3"]["segment"] == "whales"
    assert {rows[c]["segment"] for c in ("C1", "C2", "C4", "C5", "C6")} == {"rest"}
    assert result.uncovered_cells == 0
    assert result.segments["segment"].to_list() == ["whales", "rest"]


@pytest.mark.parametrize(
    ("section", "fragment"),
    [
        ({"segments": {"x": {"r": [0, 5]}}}, "scores run from 1 to 5"),
        ({"segments": {"x": {"r": [5, 4]}}}, "lo <= hi"),
        ({"segments": {"x": {"f": "high"}}}, "not a score range"),
        ({"segments": {"x": {"f": [1, 2, 3]}}}, "not a score range"),
        ({"segments": {"x": {"f": [True, 2]}}}, "not a score range"),
        ({"segments": {"x": {"q": [1, 2]}}}, "unknown key 'q'"),
        ({"segments": {"x": 5}}, "is not a rule"),
        ({"segments": {}}, "table of named rules"),
        ({"segment": {}}, "unknown key 'segment'"),
    ],
)
def test_nonsense_rules_are_refused_with_a_hint(section, fragment):
    with pytest.raises(ConfigError, match="Hint|hint") as info:
        parse_rules(section, where="cust.toml")
    assert fragment in str(info.value)
    assert "Hint:" in str(info.value)


def test_single_score_is_a_range():
    (rule,) = parse_rules({"segments": {"best": {"r": 5, "f": [4, 5]}}})
    assert rule == Rule("best", r=(5, 5), f=(4, 5))


def test_gross_profit_as_monetary(orders):
    rows = by_customer(rfm_segments(inputs_for(orders), monetary="gross_profit"))
    # C1: 50 + 30 + 20 + 20 + 40 = 160 (the 06-01 order has two lines: 30 + 20)
    assert rows["C1"]["monetary"] == 160.0
    assert rows["C3"]["monetary"] == 100.0
    assert rows["C1"]["revenue"] == 500.0
    # gross profit: C6 15, C2 20, C4 30, C5 50, C3 100, C1 160
    assert [rows[c]["m_score"] for c in ("C6", "C2", "C4", "C5", "C3", "C1")] == [
        1, 2, 3, 4, 5, 5]


def test_gross_profit_without_cost_is_refused(tmp_path):
    path = write(tmp_path, "order_id,customer_id,order_time,amount\no1,C1,2024-01-01,10\n")
    with pytest.raises(MissingColumnError, match="cost"):
        rfm_segments(inputs_for(path), monetary="gross_profit")
    result = rfm_segments(inputs_for(path))
    assert result.members["gross_profit"].to_list() == [None]
    assert any("no cost column" in n for n in result.notes())


def test_as_of_excludes_later_orders(orders):
    result = rfm_segments(inputs_for(orders), period=Period(as_of=date(2024, 6, 25)))
    rows = by_customer(result)
    assert result.as_of == date(2024, 6, 25)
    assert rows["C1"]["orders"] == 3
    assert rows["C1"]["days_since_last"] == 24
    assert rows["C2"]["orders"] == 1
    assert rows["C2"]["days_since_last"] == 5
    assert rows["C1"]["T"] == 55


def test_since_until_limit_the_orders(orders):
    result = rfm_segments(
        inputs_for(orders), period=Period(since=date(2024, 3, 1), until=date(2024, 6, 20))
    )
    rows = by_customer(result)
    assert set(rows) == {"C1", "C2", "C3", "C4", "C6"}
    assert result.as_of == date(2024, 6, 20)
    assert rows["C1"]["orders"] == 3
    assert rows["C1"]["days_since_last"] == 19


def test_no_orders_in_period_is_a_clear_error(orders):
    with pytest.raises(EmptySelectionError, match="no paid orders"):
        rfm_segments(inputs_for(orders), period=Period(since=date(2030, 1, 1)))


def test_export_table_is_the_member_list(orders):
    result = rfm_segments(inputs_for(orders))
    members = result.export_table()
    assert members.columns[:8] == ["customer_id", "segment", "r_score", "f_score", "m_score",
                                   "days_since_last", "orders", "monetary"]
    assert {"frequency", "recency", "T", "monetary_value"} <= set(members.columns)
    assert [t.key for t in result.tables()] == ["segments", "rules"]


# --- a larger generated data set against a plain-Python computation -----------------


def _score(values, value, *, reverse=False):
    """ceil(5 * rank / n), rank = 1 + number of strictly better-placed values (rank 'min')."""
    n = len(values)
    rank = 1 + sum((v > value) if reverse else (v < value) for v in values)
    return min(5, max(1, math.ceil(5 * rank / n)))


def test_generated_orders_against_plain_python(tmp_path):
    rng = random.Random(20240630)
    start = datetime(2024, 1, 1)
    lines, orders = [], []
    for i in range(3000):
        customer = f"K{rng.randint(1, 400):04d}"
        when = start + timedelta(days=rng.randint(0, 180), minutes=rng.randint(0, 1439))
        status = "refunded" if rng.random() < 0.05 else "paid"
        n_lines = rng.choice((1, 1, 1, 2, 3))
        amounts = [round(rng.lognormvariate(4, 1.2), 2) for _ in range(n_lines)]
        for amount in amounts:
            lines.append(f"o{i},{customer},{when:%Y-%m-%d %H:%M:%S},{amount},{status}")
        if status == "paid":
            orders.append((customer, when.date(), sum(amounts)))
    path = write(tmp_path, "order_id,customer_id,order_time,amount,status\n" + "\n".join(lines))
    as_of = date(2024, 6, 15)  # some orders come later and must be left out
    result = rfm_segments(inputs_for(path), period=Period(as_of=as_of))

    kept = [o for o in orders if o[1] <= as_of]
    per: dict[str, dict] = {}
    for customer, day, value in kept:
        p = per.setdefault(customer, {"orders": 0, "value": 0.0, "days": {}})
        p["orders"] += 1
        p["value"] += value
        p["days"][day] = p["days"].get(day, 0.0) + value
    recency = {c: (as_of - max(p["days"])).days for c, p in per.items()}
    freq = {c: p["orders"] for c, p in per.items()}
    mon = {c: round(p["value"], 6) for c, p in per.items()}
    rows = by_customer(result)
    assert set(rows) == set(per)
    assert len(set(freq.values())) > 5  # plenty of ties in frequency
    for c, p in per.items():
        row = rows[c]
        days = sorted(p["days"])
        repeat = [p["days"][d] for d in days[1:]]
        assert row["days_since_last"] == recency[c]
        assert row["orders"] == freq[c]
        assert row["monetary"] == pytest.approx(p["value"], abs=0.006)
        assert row["r_score"] == _score(list(recency.values()), recency[c], reverse=True), c
        assert row["f_score"] == _score(list(freq.values()), freq[c]), c
        assert row["m_score"] == _score(list(mon.values()), mon[c]), c
        assert row["frequency"] == len(days) - 1
        assert row["recency"] == (days[-1] - days[0]).days
        assert row["T"] == (as_of - days[0]).days
        expected_mv = sum(repeat) / len(repeat) if repeat else 0.0
        assert row["monetary_value"] == pytest.approx(expected_mv, abs=0.006)
        segment = next(r.segment for r in DEFAULT_RULES
                       if r.matches(row["r_score"], row["f_score"], row["m_score"]))
        assert row["segment"] == segment
    assert result.segments["customers"].sum() == len(per)


def test_orders_without_cost(tmp_path):
    path = write(tmp_path, "order_id,customer_id,order_time,amount,cost\n"
                 "o1,A,2024-01-01,100,60\no2,A,2024-01-02,50,\no3,B,2024-01-02,80,\n")
    result = rfm_segments(inputs_for(path), monetary="gross_profit")
    rows = by_customer(result)
    assert rows["A"]["gross_profit"] == 40.0  # the order without cost adds nothing
    assert rows["B"]["gross_profit"] is None  # no order with a cost at all
    assert rows["B"]["monetary"] == 0.0
    assert rows["A"]["revenue"] == 150.0
    assert result.orders_without_cost == 2
    assert any("2 orders have a line without cost" in n for n in result.notes())


def test_monetary_ties_to_the_cent(tmp_path):
    # A's 0.1 + 0.2 is 0.30000000000000004 in floating point, B's 0.3 is 0.3: the same to
    # the cent, so they must tie (rank 1 of 3 -> M = ceil(5/3) = 2), and C (1.00) gets M = 5.
    path = write(tmp_path, """\
order_id,customer_id,order_time,amount
a1,A,2024-06-01,0.1
a2,A,2024-06-02,0.2
b1,B,2024-06-01,0.3
c1,C,2024-06-01,1.00
""")
    members = rfm_segments(inputs_for(path)).members
    scores = dict(members.select("customer_id", "m_score").iter_rows())
    assert scores == {"A": 2, "B": 2, "C": 5}
    assert members.filter(pl.col("customer_id") == "A")["monetary"][0] == 0.3
