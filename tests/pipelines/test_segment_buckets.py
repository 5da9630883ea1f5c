"""Order-value bands: hand-computed figures, and DuckDB on generated data."""

from datetime import date

import duckdb
import numpy as np
import polars as pl
import pytest

from cust.pipelines.errors import InvalidOptionError
from cust.pipelines.io.inputs import Inputs
from cust.pipelines.io.loader import LoadOptions
from cust.pipelines.io.orders import Period
from cust.pipelines.segment.buckets import bucket_orders, parse_edges

HEADER = "order_id,customer_id,order_time,sku,quantity,amount,cost,status\n"
ROWS = """\
O1,C1,2024-01-05 10:00:00,S1,2,30,10,paid
O2,C1,2024-01-20 09:00:00,S1,1,40,30,paid
O2,C1,2024-01-20 09:00:00,S2,3,20,5,paid
O3,C2,2024-02-01 12:00:00,S3,1,50,45,paid
O4,C3,2024-02-10 08:00:00,S1,1,99.99,50,paid
O5,C3,2024-02-11 08:00:00,S9,100,5000,4500,paid
O6,C2,2024-03-01 08:00:00,S1,1,1200,900,refunded
O7,C4,2024-03-02 08:00:00,S4,8,800,700,paid
O7,C4,2024-03-02 08:00:00,S5,1,300,100,cancelled
O8,C5,2024-03-03 08:00:00,S1,1,0,15,paid
O9,C6,2024-03-04 08:00:00,S1,1,10,1,paid
O9,C7,2024-03-04 08:00:00,S1,1,10,1,paid
"""


def _inputs(tmp_path, text=HEADER + ROWS):
    path = tmp_path / "orders.csv"
    path.write_text(text, encoding="utf-8")
    return Inputs({"orders": str(path)}, LoadOptions())


def _by_label(result):
    return {row["label"]: row for row in result.buckets.to_dicts()}


def test_bands_hand_computed(tmp_path):
    result = bucket_orders(_inputs(tmp_path))
    bands = _by_label(result)
    assert list(bands) == ["0-50", "50-100", "100-500", "500-1000", "1000-5000", "5000+"]
    low, mid, big = bands["0-50"], bands["50-100"], bands["5000+"]
    assert (low["orders"], low["customers"], low["revenue"], low["gross_profit"]) == (
        2,
        2,
        30.0,
        5.0,
    )
    assert (mid["orders"], mid["customers"], mid["revenue"]) == (3, 3, 209.99)
    assert mid["gross_profit"] == pytest.approx(79.99)
    assert bands["500-1000"]["revenue"] == 800.0  # the cancelled line does not count
    assert bands["500-1000"]["gross_profit"] == 100.0
    assert (big["orders"], big["revenue"], big["lower"], big["upper"]) == (1, 5000.0, 5000.0, None)
    assert bands["100-500"]["orders"] == 0
    assert bands["1000-5000"]["orders"] == 0  # O6 was refunded
    assert low["order_share"] == pytest.approx(2 / 7)
    assert mid["revenue_share"] == pytest.approx(209.99 / 6039.99)
    assert mid["avg_lines"] == pytest.approx(4 / 3, abs=1e-3)
    assert mid["avg_units"] == pytest.approx(2.0)
    assert low["avg_units"] == pytest.approx(1.5)
    assert result.totals["orders"] == 7
    assert result.totals["revenue"] == 6039.99
    # O9 names two customers: both lines are rejected, and counted
    assert result.input.sources["orders"].rows_rejected == 2
    assert result.input.sources["orders"].reasons == {"mixed_customers": 2}


def test_an_order_of_exactly_an_edge_is_in_the_band_above(tmp_path):
    # 0.01 + 32.91 + 17.08 is 49.99999999999999 in floats; to the cent it is 50.00.
    assert 0.01 + 32.91 + 17.08 < 50
    rows = (
        "O1,C1,2024-01-05 10:00:00,S1,1,0.01,0,paid\n"
        "O1,C1,2024-01-05 10:00:00,S2,1,32.91,0,paid\n"
        "O1,C1,2024-01-05 10:00:00,S3,1,17.08,0,paid\n"
    )
    bands = _by_label(bucket_orders(_inputs(tmp_path, HEADER + rows)))
    assert bands["0-50"]["orders"] == 0
    assert (bands["50-100"]["orders"], bands["50-100"]["revenue"]) == (1, 50.0)


def test_bands_respect_the_period(tmp_path):
    period = Period(since=date(2024, 2, 1), until=date(2024, 2, 10))
    bands = _by_label(bucket_orders(_inputs(tmp_path), period=period))
    assert bands["50-100"]["orders"] == 2
    assert sum(b["orders"] for b in bands.values()) == 2


def test_an_empty_period_gives_zeros_and_says_so(tmp_path):
    result = bucket_orders(_inputs(tmp_path), period=Period(since=date(2030, 1, 1)))
    assert result.totals["orders"] == 0
    assert sum(b["orders"] for b in _by_label(result).values()) == 0
    assert any("No paid orders" in n for n in result.notes())
    assert not any("No paid orders" in n for n in bucket_orders(_inputs(tmp_path)).notes())


def test_custom_edges_and_unbanded(tmp_path):
    result = bucket_orders(_inputs(tmp_path), edges=(10.0, 100.0))
    bands = _by_label(result)
    assert list(bands) == ["10-100", "100+"]
    assert bands["10-100"]["orders"] == 4  # 30, 60, 50, 99.99
    assert bands["100+"]["orders"] == 2
    assert result.totals["unbanded_orders"] == 1  # the free order (value 0)
    assert any("below the first edge" in n for n in result.notes())
    # Totals are those of the banded orders, as the bands' shares are: C5's free order (gross
    # profit -15) is left out. 20 + 25 + 5 + 49.99 + 500 + 100 = 699.99.
    tot = result.totals
    assert (tot["orders"], tot["customers"], tot["revenue"]) == (6, 4, 6039.99)
    assert tot["gross_profit"] == pytest.approx(699.99)
    assert tot["unbanded_revenue"] == 0.0
    assert sum(b["revenue"] for b in bands.values()) == pytest.approx(tot["revenue"])


def test_margin_leaves_out_orders_without_cost(tmp_path):
    # P1 has a line without cost: its gross profit is unknown, and so is its margin. The band's
    # margin is that of P2 alone (15 / 20), not 15 over both orders' 60.
    text = HEADER + (
        "P1,C1,2024-01-05 10:00:00,S1,1,20,10,paid\n"
        "P1,C1,2024-01-05 10:00:00,S2,1,20,,paid\n"
        "P2,C2,2024-01-06 10:00:00,S1,1,20,5,paid\n"
    )
    result = bucket_orders(_inputs(tmp_path, text))
    low = _by_label(result)["0-50"]
    assert (low["orders"], low["revenue"], low["gross_profit"]) == (2, 60.0, 15.0)
    assert low["gross_margin"] == pytest.approx(0.75)
    assert result.totals["orders_without_cost"] == 1


def test_no_cost_column(tmp_path):
    text = "order_id,customer_id,order_time,amount\nA,C1,2024-01-01,20\nB,C2,2024-01-02,70\n"
    result = bucket_orders(_inputs(tmp_path, text))
    bands = _by_label(result)
    assert bands["0-50"]["gross_profit"] is None
    assert bands["50-100"]["revenue"] == 70.0
    assert any("no cost column" in n for n in result.notes())


def test_trend_by_month(tmp_path):
    result = bucket_orders(_inputs(tmp_path), trend="month")
    trend = result.trend.filter(pl.col("label") == "50-100").sort("period")
    assert trend["period"].to_list() == [date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)]
    assert trend["orders"].to_list() == [1, 2, 0]
    # January: O1 (0-50) and O2 (50-100); February: O3, O4 (50-100) and O5 (5000+)
    assert trend["order_share"].to_list() == pytest.approx([0.5, 2 / 3, 0.0])
    assert trend["order_share_change"].to_list()[1:] == pytest.approx([2 / 3 - 0.5, -2 / 3])
    # Shown as a share (16.7%), not as the fraction 0.17 under a % header.
    assert "order_share_change" in result.tables()[1].shares


@pytest.mark.parametrize(
    "text", ["", "a,b", "0,0", "100,50", "1,x", "0,nan", "0,inf", "-100,0,100", "nan"]
)
def test_bad_edges_are_refused(text):
    with pytest.raises(InvalidOptionError, match="--edges"):
        parse_edges(text)


def test_customers_of_a_band_are_distinct(tmp_path):
    # C1 has two orders in 0-50 (10 and 20), C2 one (30): 3 orders, 2 customers, 60 yuan.
    rows = "P1,C1,2024-01-05 10:00:00,S1,1,10,5,paid\nP2,C1,2024-01-06 10:00:00,S1,1,20,5,paid\n"
    rows += "P3,C2,2024-01-07 10:00:00,S1,1,30,5,paid\n"
    band = _by_label(bucket_orders(_inputs(tmp_path, HEADER + rows)))["0-50"]
    assert (band["orders"], band["customers"], band["revenue"]) == (3, 2, 60.0)


def test_bands_equal_duckdb_on_generated_orders(tmp_path):
    rng = np.random.default_rng(3)
    n = 20_000
    order = rng.integers(0, 6_000, n)
    frame = pl.DataFrame(
        {
            "order_id": [f"O{o}" for o in order],
            "customer_id": [f"C{o % 1_500}" for o in order],
            "order_time": "2024-05-01 10:00:00",
            "amount": np.round(rng.lognormal(3.6, 1.4, n), 2),
            "status": rng.choice(["paid", "paid", "paid", "refunded"], n),
        }
    ).with_columns(cost=(pl.col("amount") * 0.7).round(2))
    path = tmp_path / "orders.csv"
    frame.write_csv(path)
    edges = (0.0, 50.0, 100.0, 500.0, 1000.0, 5000.0)
    result = bucket_orders(Inputs({"orders": str(path)}, LoadOptions()), edges=edges)
    expected = duckdb.sql(f"""
        with o as (
            select order_id, any_value(customer_id) as customer_id, sum(amount) as value,
                   sum(amount - cost) as gp
            from read_csv('{path}') where status = 'paid' group by order_id
        ), b as (
            select *, case when value >= 5000 then 5 when value >= 1000 then 4
                when value >= 500 then 3 when value >= 100 then 2 when value >= 50 then 1
                else 0 end as band from o
        )
        select band, count(*) as orders, count(distinct customer_id) as customers,
               round(sum(value), 2) as revenue, round(sum(gp), 2) as gp
        from b group by band order by band
    """).fetchall()
    got = {i: r for i, r in enumerate(result.buckets.to_dicts())}
    for band, orders, customers, revenue, gp in expected:
        assert got[band]["orders"] == orders
        assert got[band]["customers"] == customers
        assert got[band]["revenue"] == pytest.approx(revenue, abs=0.005)
        assert got[band]["gross_profit"] == pytest.approx(gp, abs=0.005)
    assert sum(r["orders"] for r in got.values()) == sum(e[1] for e in expected)
