"""Lines to orders and row counts: the mixed-customer rule across statuses and bad lines.

Hand-built lines:

====  ========  =========  ======  ====  ===========================================
id    customer  status     amount  sku   verdict
====  ========  =========  ======  ====  ===========================================
M1    C1        paid       10      S1    mixed_customers (M1 also names C2)
M1    C2        refunded   5       S1    mixed_customers (any status counts)
M2    C1        paid       20      S1    order M2 = 20
M2    C9        paid       n/a     S2    bad_amount (its own reason: M2 is not mixed)
M3    C3        refunded   30      S1    accepted, but M3 has no paid line: no order
M4    C4        paid       40      S1    order M4 = 40 (1 paid line)
M4    C4        cancelled  50      S2    accepted, not in M4's value
M5    C5        paid       15      S1    order M5 = 15 + 25 = 40, 2 lines,
M5    C5        paid       25      (-)   2 distinct part numbers (blank is one)
====  ========  =========  ======  ====  ===========================================
"""

from cust.pipelines.io.inputs import Inputs, collect
from cust.pipelines.io.loader import LoadOptions
from cust.pipelines.io.orders import orders_frame

CSV = """order_id,customer_id,order_time,amount,cost,sku,status
M1,C1,2024-03-01 10:00:00,10,4,S1,paid
M1,C2,2024-03-01 10:00:00,5,2,S1,refunded
M2,C1,2024-03-02 10:00:00,20,5,S1,paid
M2,C9,2024-03-02 10:00:00,n/a,5,S2,paid
M3,C3,2024-03-03 10:00:00,30,10,S1,refunded
M4,C4,2024-03-04 11:00:00,40,30,S1,paid
M4,C4,2024-03-04 09:00:00,50,30,S2,cancelled
M5,C5,2024-03-05 10:00:00,15,5,S1,paid
M5,C5,2024-03-05 08:00:00,25,,,paid
"""


def _source(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(CSV, encoding="utf-8")
    return Inputs({"orders": str(path)}, LoadOptions()).get("orders")


def test_orders_and_counts_by_hand(tmp_path):
    source = _source(tmp_path)
    (orders,), report = collect([orders_frame(source).sort("order_id")], [source])
    rep = report.sources["orders"]
    assert (rep.rows_read, rep.rows_rejected) == (9, 3)
    assert rep.reasons == {"mixed_customers": 2, "bad_amount": 1}
    assert orders["order_id"].to_list() == ["M2", "M4", "M5"]
    assert orders["customer_id"].to_list() == ["C1", "C4", "C5"]
    assert orders["value"].to_list() == [20.0, 40.0, 40.0]
    assert orders["lines"].to_list() == [1, 1, 2]
    assert orders["skus"].to_list() == [1, 1, 2]
    # M5's second line has no cost: its gross profit is unknown.
    assert orders["gross_profit"].to_list() == [15.0, 10.0, None]
    assert [t.hour for t in orders["order_time"].to_list()] == [10, 11, 8]

