"""ABC classes: hand-computed boundaries, rank method, weights, and an independent check."""

import duckdb
import numpy as np
import polars as pl
import pytest

from cust.pipelines.errors import InvalidOptionError
from cust.pipelines.io.inputs import Inputs
from cust.pipelines.io.loader import LoadOptions
from cust.pipelines.segment.abc import classify_customers, parse_pair, parse_weights

# Gross profit per customer: C1 60, C2 25, C3 10, C4 5, C5 0, C6 -8 (loss-making).
ORDERS = """\
order_id,customer_id,order_time,amount,cost,discount
O1,C1,2024-01-01,100,60,0
O2,C1,2024-03-01,50,30,5
O3,C2,2024-02-01,45,20,0
O4,C3,2024-02-02,30,20,0
O5,C4,2024-02-03,15,10,0
O6,C5,2024-02-04,12,12,0
O7,C6,2024-02-05,0,8,20
"""


def _inputs(tmp_path, orders=ORDERS, customers=None):
    path = tmp_path / "orders.csv"
    path.write_text(orders, encoding="utf-8")
    paths = {"orders": str(path)}
    if customers is not None:
        cpath = tmp_path / "customers.csv"
        cpath.write_text(customers, encoding="utf-8")
        paths["customers"] = str(cpath)
    return Inputs(paths, LoadOptions())


def _classes(result):
    return {r["class"]: r for r in result.classes.to_dicts()}


def _members(result):
    return dict(result.members.select("customer_id", "class").iter_rows())


def test_share_method_boundaries(tmp_path):
    result = classify_customers(_inputs(tmp_path))
    # Ranked: C1 60 (before 0%), C2 25 (before 60%) -> A; C3 10 (before 85%) -> B;
    # C4 5 (before 95%: not below 0.95) -> C; C5 0 -> C. C6 is loss-making.
    assert _members(result) == {"C1": "A", "C2": "A", "C3": "B", "C4": "C", "C5": "C", "C6": "loss"}
    classes = _classes(result)
    assert (classes["A"]["customers"], classes["A"]["value"]) == (2, 85.0)
    assert classes["A"]["value_share"] == pytest.approx(0.85)
    assert classes["B"]["value_share"] == pytest.approx(0.10)
    assert (classes["C"]["customers"], classes["C"]["value"]) == (2, 5.0)
    assert classes["A"]["customer_share"] == pytest.approx(2 / 5)
    assert result.loss_making == {"customers": 1, "value": -8.0}
    members = result.members.filter(pl.col("customer_id") == "C2").row(0, named=True)
    assert members["rank"] == 2
    assert members["cumulative_share"] == pytest.approx(0.85)
    assert result.settings["measure"] == "gross_profit"


def test_rank_method(tmp_path):
    result = classify_customers(_inputs(tmp_path), method="rank", ranks=(0.2, 0.5))
    # n = 5 classed customers: A = first ceil(1.0) = 1, B up to ceil(2.5) = 3
    assert _members(result) == {"C1": "A", "C2": "B", "C3": "B", "C4": "C", "C5": "C", "C6": "loss"}


def test_subtract_discounts_and_service_cost(tmp_path):
    customers = "customer_id,service_cost\nC1,70\nC3,1\n"
    result = classify_customers(_inputs(tmp_path, customers=customers), subtract_discounts=True)
    contributions = dict(result.members.select("customer_id", "contribution").iter_rows())
    assert contributions["C1"] == pytest.approx(60 - 5 - 70)  # now loss-making
    assert contributions["C3"] == pytest.approx(9.0)
    assert contributions["C6"] == pytest.approx(-8 - 20)
    assert result.loss_making == {"customers": 2, "value": pytest.approx(-15 - 28)}
    assert "discounts" in result.settings["contribution"]
    assert "service cost" in result.settings["contribution"]


def test_revenue_when_no_cost(tmp_path):
    orders = "order_id,customer_id,order_time,amount\nA,X,2024-01-01,90\nB,Y,2024-01-02,10\n"
    result = classify_customers(_inputs(tmp_path, orders))
    assert _members(result) == {"X": "A", "Y": "B"}  # Y starts at 90%: >= 80% and < 95%
    assert result.settings["measure"] == "revenue"
    assert any("revenue" in n for n in result.notes())


def test_an_order_without_cost_adds_nothing_and_is_said(tmp_path):
    # C1's second order has no cost: it adds 0, so C1 contributes 40 (100 - 60), not 40 + 50.
    orders = ORDERS.replace("O2,C1,2024-03-01,50,30,5", "O2,C1,2024-03-01,50,,5")
    result = classify_customers(_inputs(tmp_path, orders))
    members = result.members.to_dicts()
    c1 = next(m for m in members if m["customer_id"] == "C1")
    assert c1["contribution"] == 40.0
    assert result.settings["orders_without_cost"] == 1
    assert any("1 orders have a line without cost" in n for n in result.notes())
    assert classify_customers(_inputs(tmp_path)).settings["orders_without_cost"] == 0


def test_one_customer_and_all_equal(tmp_path):
    one = classify_customers(
        _inputs(tmp_path, "order_id,customer_id,order_time,amount,cost\nA,X,2024-01-01,10,4\n")
    )
    assert _members(one) == {"X": "A"}
    equal = "order_id,customer_id,order_time,amount,cost\n" + "".join(
        f"O{i},C{i},2024-01-01,10,5\n" for i in range(10)
    )
    result = classify_customers(_inputs(tmp_path, equal))
    # ten customers of 10% each: customers 1-8 start below 80% -> A, 9th starts at 80% -> B,
    # 10th starts at 90% -> B (below 95%)
    counts = {r["class"]: r["customers"] for r in result.classes.to_dicts()}
    assert counts == {"A": 8, "B": 2, "C": 0}


def test_weighted_score_ranks_by_score(tmp_path):
    result = classify_customers(_inputs(tmp_path), weights={"orders": 1.0}, ranks=(0.2, 0.5))
    # only C1 has two orders: top score -> A
    assert _members(result)["C1"] == "A"
    assert "score" in result.members.columns
    assert result.settings["method"] == "rank"


def test_a_recency_weight_ranks_by_recency_not_by_profit(tmp_path):
    # Days from the last order to 2024-03-01: C1 0, C5 26, C4 27, C3 28, C2 29 (by gross
    # profit the order would be C1, C2, C3, C4, C5). Five classed customers: A is the first
    # ceil(0.2 * 5) = 1, B up to ceil(0.5 * 5) = 3. C6 loses money: outside A/B/C.
    result = classify_customers(_inputs(tmp_path), weights={"recency": 1.0}, ranks=(0.2, 0.5))
    assert _members(result) == {"C1": "A", "C5": "B", "C4": "B", "C3": "C", "C2": "C",
                                "C6": "loss"}


def test_b_to_a_candidates_are_top_fifth_of_b_by_growth(tmp_path):
    rows = ["order_id,customer_id,order_time,amount,cost"]
    # one whale holding most profit, then ten B customers with different recent growth
    rows.append("W,WHALE,2024-06-30,10000,0")
    for i in range(10):
        rows.append(f"P{i},B{i},2024-02-01,{300 + i},0")  # previous window (age 90..179 days)
        rows.append(f"R{i},B{i},2024-06-01,{10 * i},0")  # recent window (age < 90 days)
    result = classify_customers(_inputs(tmp_path, "\n".join(rows) + "\n"), cutoffs=(0.5, 0.99))
    b = result.members.filter(pl.col("class") == "B")
    assert b.height == 10
    cand = result.b_to_a
    assert cand.height == 2  # ceil(0.2 * 10)
    assert cand["customer_id"].to_list() == ["B9", "B8"]
    assert cand["growth"].to_list() == [90.0 - 309.0, 80.0 - 308.0]


@pytest.mark.parametrize("text", ["0.8", "0.9,0.8", "0,0.5", "a,b", "0.5,1.5"])
def test_bad_cutoffs(text):
    with pytest.raises(InvalidOptionError, match="--cutoffs"):
        parse_pair(text, "--cutoffs")


@pytest.mark.parametrize(("option", "default"), [("--cutoffs", "0.8,0.95"), ("--ranks", "0.2,0.5")])
def test_a_bad_pair_is_hinted_with_its_own_default(option, default):
    with pytest.raises(InvalidOptionError) as info:
        parse_pair("0.5,0.2", option)
    assert info.value.hint == f"{option} {default} (the default)"


def test_bad_weights():
    with pytest.raises(InvalidOptionError, match="unknown factor"):
        parse_weights("profit=1")
    assert parse_weights("gross_profit=0.6,orders=0.2,recency=0.2") == {
        "gross_profit": 0.6,
        "orders": 0.2,
        "recency": 0.2,
    }


def test_partition_and_classes_equal_duckdb(tmp_path):
    rng = np.random.default_rng(11)
    n = 8_000
    frame = pl.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(n)],
            "customer_id": [f"C{c}" for c in rng.integers(0, 900, n)],
            "order_time": "2024-03-01",
            "amount": np.round(rng.lognormal(3.5, 1.3, n), 2),
        }
    ).with_columns(cost=(pl.col("amount") * pl.Series(rng.uniform(0.4, 1.15, n))).round(2))
    path = tmp_path / "orders.csv"
    frame.write_csv(path)
    result = classify_customers(Inputs({"orders": str(path)}, LoadOptions()))
    expected = duckdb.sql(f"""
        with c as (
            select customer_id, sum(amount - cost) as v from read_csv('{path}') group by 1
        ), r as (
            select *, sum(v) over (order by v desc, customer_id
                                   rows between unbounded preceding and 1 preceding) as before,
                   sum(v) over () as total
            from c where v >= 0
        )
        select customer_id, case when coalesce(before, 0) / total < 0.8 then 'A'
                                 when coalesce(before, 0) / total < 0.95 then 'B' else 'C' end
        from r
        union all select customer_id, 'loss' from c where v < 0
    """).fetchall()
    members = _members(result)
    assert len(members) == frame["customer_id"].n_unique()  # every customer exactly once
    mismatched = [(cid, cls, members[cid]) for cid, cls in expected if members[cid] != cls]
    assert mismatched == []


def test_b_to_a_candidates_have_a_history_issue_26(tmp_path):
    # Issue 26: brand-new customers (one recent order: all their contribution is "growth")
    # are not B-to-A candidates; a candidate has >= 2 orders, the first >= growth_days ago.
    rows = ["order_id,customer_id,order_time,amount,cost", "W,WHALE,2024-06-30,20000,0"]
    for i in range(5):
        rows.append(f"P{i},OLD{i},2024-02-01,{300 + i},0")  # age 150 days
        rows.append(f"R{i},OLD{i},2024-06-01,{100 + 10 * i},0")  # recent
        rows.append(f"N{i},NEW{i},2024-06-20,{900 + i},0")  # one recent order: new
        rows.append(f"Y{i},YOUNG{i},2024-05-01,{400 + i},0")  # 2 orders, first 60 days ago
        rows.append(f"Z{i},YOUNG{i},2024-06-25,{400 + i},0")
    result = classify_customers(_inputs(tmp_path, "\n".join(rows) + "\n"), cutoffs=(0.5, 0.999))
    b = result.members.filter(pl.col("class") == "B")["customer_id"].to_list()
    assert {f"NEW{i}" for i in range(5)} <= set(b)  # they are B, and grew the most
    cand = result.b_to_a
    assert cand.height == 1  # ceil(0.2 * 5 eligible: OLD0..OLD4)
    assert cand["customer_id"].to_list() == ["OLD4"]
    assert cand["growth"].to_list() == [140.0 - 304.0]
    assert result.settings["min_orders"] == 2
    looser = classify_customers(_inputs(tmp_path, "\n".join(rows) + "\n"), cutoffs=(0.5, 0.999),
                                min_orders=1, growth_days=30)
    # growth_days 30: the first order >= 30 days ago; NEW* (5 days) still out, YOUNG* in
    assert not any(c.startswith("NEW") for c in looser.b_to_a["customer_id"].to_list())
