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



# The one pass (pipelines/io/orders.py) counts the rows from the orders it groups; two
# cases it hands to the lines' own checks: a mixed order with a line of a suspicious time
# (the tally keeps that line's day), and an order held by two files.
ODD_MIXED = """order_id,customer_id,order_time,amount,cost,status
X1,C1,1960-01-01 00:00:00,10,4,paid
X1,C2,2024-03-01 10:00:00,5,2,paid
X2,C3,1960-01-01 00:00:00,7,1,paid
X3,C3,2024-03-02 10:00:00,9,3,paid
"""


def test_a_mixed_order_with_a_line_of_a_suspicious_time(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(ODD_MIXED, encoding="utf-8")
    source = Inputs({"orders": str(path)}, LoadOptions()).get("orders")
    (orders,), report = collect([orders_frame(source).sort("order_id")], [source])
    rep = report.sources["orders"]
    # X1's two lines are mixed (its line of 1960 with them); X2's line of 1960 is
    # accepted and suspicious, alone.
    assert (rep.rows_read, rep.rows_rejected) == (4, 2)
    assert rep.reasons == {"mixed_customers": 2}
    assert rep.suspicious_times.rows == 1
    assert rep.suspicious_times.first.year == 1960
    assert orders["order_id"].to_list() == ["X2", "X3"]
    assert orders["value"].to_list() == [7.0, 9.0]


def test_files_that_share_no_order_and_files_that_do(tmp_path):
    first = "order_id,customer_id,order_time,amount,cost,status\n"
    (tmp_path / "a.csv").write_text(
        first + "A1,C1,2024-03-01 10:00:00,10,4,paid\nS1,C1,2024-03-01 11:00:00,3,1,paid\n"
        "A2,C2,1960-01-01 00:00:00,4,1,paid\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text(
        first + "B1,C3,2024-03-02 10:00:00,20,5,paid\nB1,C3,2024-03-02 10:00:00,1,,refunded\n"
        "B2,,2024-03-02 10:00:00,1,1,paid\n", encoding="utf-8")
    source = Inputs({"orders": str(tmp_path / "[ab].csv")}, LoadOptions()).get("orders")
    (orders,), report = collect([orders_frame(source).sort("order_id")], [source])
    rep = report.sources["orders"]
    assert (rep.rows_read, rep.rows_rejected, rep.in_later_file) == (6, 1, 0)
    assert rep.reasons == {"missing_customer_id": 1}
    assert rep.suspicious_times.rows == 1
    assert orders["order_id"].to_list() == ["A1", "A2", "B1", "S1"]
    assert orders["gross_profit"].to_list() == [6.0, 3.0, 15.0, 2.0]
    # S1 in b.csv too, naming another customer: mixed across the files (4 lines checked
    # across rows: S1's two lines are mixed_customers).
    (tmp_path / "b.csv").write_text(
        first + "B1,C3,2024-03-02 10:00:00,20,5,paid\nS1,C9,2024-03-02 10:00:00,1,1,paid\n",
        encoding="utf-8")
    source = Inputs({"orders": str(tmp_path / "[ab].csv")}, LoadOptions()).get("orders")
    (orders,), report = collect([orders_frame(source).sort("order_id")], [source])
    rep = report.sources["orders"]
    assert (rep.rows_read, rep.rows_rejected, rep.in_later_file) == (5, 2, 1)
    assert rep.reasons == {"mixed_customers": 2}
    assert orders["order_id"].to_list() == ["A1", "A2", "B1"]
