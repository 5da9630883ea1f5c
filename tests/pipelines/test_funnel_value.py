"""Issue 24: value in funnels (--value), against plain Python and hand-computed figures.

The reference reads the rows as Python tuples, sums Decimals and shares no code with the
pipelines.
"""

import random
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from cust.pipelines.errors import InvalidOptionError, MissingColumnError
from cust.pipelines.funnel import FunnelSpec, funnel
from cust.pipelines.io.inputs import Inputs
from cust.pipelines.io.loader import LoadOptions

NAMES = ("product_view", "add_to_cart", "purchase", "search")
STEPS = ("product_view", "add_to_cart", "purchase")
START = datetime(2024, 3, 1, 8)


def stream(seed, users=50):
    """Rows (user, session, event, time, value) with values to the cent."""
    rng = random.Random(seed)
    rows = []
    for u in range(users):
        t = START + timedelta(hours=rng.randrange(0, 48))
        for s in range(rng.randrange(1, 4)):
            for _ in range(rng.randrange(1, 9)):
                t += timedelta(seconds=rng.choice([0, 30, 900, 5000]))
                value = Decimal(rng.randrange(0, 100_000)) / 100
                rows.append((f"u{u}", f"s{u}-{s}", rng.choice(NAMES), t, value))
            t += timedelta(hours=rng.choice([1, 20, 30]))
    return rows


def write(tmp_path, rows):
    lines = ["user_id,session_id,event,event_time,value"]
    lines += [f"{u},{s},{e},{t.isoformat(sep=' ')},{v}" for u, s, e, t, v in rows]
    (tmp_path / "e.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Inputs({"events": tmp_path / "e.csv"}, LoadOptions())


def reference(rows, unit, window):
    """Value at each step, lost into each step, abandoned carts' value (Decimals)."""
    per: dict[tuple, list] = {}
    for u, s, e, t, v in rows:
        per.setdefault((u, s) if unit == "session" else (u,), []).append((e, t, v))
    at = [Decimal(0)] * 3
    lost = [Decimal(0)] * 3
    abandoned = Decimal(0)
    for events in per.values():
        carts = [t for e, t, _ in events if e == "add_to_cart"]
        if carts and not any(e == "purchase" and min(carts) <= t
                             and (window is None or t <= min(carts) + window)
                             for e, t, _ in events):
            abandoned += sum(v for e, _, v in events if e == "add_to_cart")
        t1 = min((t for e, t, _ in events if e == STEPS[0]), default=None)
        if t1 is None:
            continue
        end = t1 + window if window is not None else None
        times = [t1]
        for step in STEPS[1:]:
            nxt = min((t for e, t, _ in events if e == step and t >= times[-1]
                       and (end is None or t <= end)), default=None)
            if nxt is None:
                break
            times.append(nxt)
        worth = [sum((v for e, t, v in events if e == step and t >= times[k]
                      and (end is None or t <= end)), Decimal(0))
                 for k, step in enumerate(STEPS[:len(times)])]
        for k in range(len(times)):
            at[k] += worth[k]
        if len(times) < 3:
            lost[len(times)] += worth[-1]
    return at, lost, abandoned


def cents(d):
    return float(d.quantize(Decimal("0.01")))


@pytest.mark.parametrize(("seed", "unit", "window"), [
    (1, "session", None), (2, "session", None), (3, "user", timedelta(hours=24)),
    (4, "user", timedelta(hours=2)),
])
def test_value_against_plain_python(tmp_path, seed, unit, window):
    rows = stream(seed)
    spec = FunnelSpec(steps=STEPS, unit=unit, value="value",
                      **({"window": window} if window else {}))
    result = funnel(write(tmp_path, rows), spec)
    at, lost, abandoned = reference(rows, unit, window)
    steps = result.steps
    assert steps["value"].to_list() == [cents(x) for x in at]
    assert steps["value_lost"].to_list() == [0.0, cents(lost[1]), cents(lost[2])]
    assert "gross_profit" not in steps.columns  # a column of money has no cost
    assert result.behaviour["cart_abandonment"]["abandoned_value"] == cents(abandoned)
    assert result.to_json()["value"] == "value"
    assert at[1] > 0
    assert lost[1] > 0


# Session s1 views two SKUs, carts R1 twice (qty 1, then 3) and buys order SO1 (two purchase
# events of it, counted once). Session s2 views R1 and carts C2, then leaves. Session s3 carts
# only (no view: not in the funnel, but in cart abandonment).
EVENTS = """\
user_id,session_id,event,event_time,sku,quantity,order_id
u1,s1,product_view,2024-03-01 10:00:00,R1,,
u1,s1,product_view,2024-03-01 10:01:00,C2,,
u1,s1,add_to_cart,2024-03-01 10:02:00,R1,1,
u1,s1,add_to_cart,2024-03-01 10:03:00,R1,3,
u1,s1,purchase,2024-03-01 10:05:00,R1,4,SO1
u1,s1,purchase,2024-03-01 10:05:00,R1,4,SO1
u2,s2,product_view,2024-03-01 11:00:00,R1,,
u2,s2,add_to_cart,2024-03-01 11:01:00,C2,2,
u3,s3,add_to_cart,2024-03-01 12:00:00,C2,1,
"""
# R1: 10 units for 25.00 -> 2.50 a unit, cost 1.50 -> margin 1.00 a unit.
# C2: 3 units for 0.30 -> 0.10 a unit, cost 0.04 -> margin 0.06 a unit (one line unpaid).
# SO1: the paid order of 4 R1 and 1 C2: value 10.10, gross profit 4.06.
ORDERS = """\
order_id,customer_id,order_time,sku,quantity,amount,cost,status
SO1,u1,2024-03-01 10:05:00,R1,4,10.00,6.00,paid
SO1,u1,2024-03-01 10:05:00,C2,1,0.10,0.04,paid
SO0,u9,2024-02-01 09:00:00,R1,6,15.00,9.00,paid
SO0,u9,2024-02-01 09:00:00,C2,2,0.20,0.08,paid
SO8,u8,2024-02-02 09:00:00,C2,5,9.00,1.00,cancelled
"""


def orders_inputs(tmp_path):
    (tmp_path / "e.csv").write_text(EVENTS, encoding="utf-8")
    (tmp_path / "o.csv").write_text(ORDERS, encoding="utf-8")
    return Inputs({"events": tmp_path / "e.csv", "orders": tmp_path / "o.csv"}, LoadOptions())


def test_value_from_the_orders_by_sku_and_order_id(tmp_path):
    result = funnel(orders_inputs(tmp_path), FunnelSpec(steps=STEPS, value="orders"))
    rows = {r["step"]: r for r in result.steps.iter_rows(named=True)}
    # Views: s1 R1 + C2 = 2.60, s2 R1 = 2.50; margins 1.06 and 1.00.
    assert (rows["product_view"]["value"], rows["product_view"]["gross_profit"]) == (5.10, 2.06)
    # Carts: s1 R1 x1 + R1 x3 = 10.00; s2 C2 x2 = 0.20; margins 4.00 and 0.12.
    assert (rows["add_to_cart"]["value"], rows["add_to_cart"]["gross_profit"]) == (10.20, 4.12)
    assert rows["add_to_cart"]["value_lost"] == 0.0  # both sessions carted
    # Purchase: SO1 once (its two events), 10.10 and 4.06; lost: s2's cart, 0.20 and 0.12.
    assert (rows["purchase"]["value"], rows["purchase"]["gross_profit"]) == (10.10, 4.06)
    assert (rows["purchase"]["value_lost"], rows["purchase"]["gross_profit_lost"]) == (
        0.20, 0.12)
    # Abandoned carts: s2 (0.20) and s3 (0.10), not in the funnel but it carted.
    ab = result.behaviour["cart_abandonment"]
    assert (ab["units_with_cart"], ab["abandoned"], ab["abandoned_value"]) == (3, 2, 0.30)
    assert list(result.input.sources) == ["events", "orders"]


def test_value_refusals(tmp_path):
    inputs = orders_inputs(tmp_path)
    with pytest.raises(MissingColumnError, match="no 'price' column"):
        funnel(inputs, FunnelSpec(steps=STEPS, value="price"))
    with pytest.raises(InvalidOptionError, match="not a column of money"):
        FunnelSpec(steps=STEPS, value="event_time")


def test_value_in_passes_equals_one_pass(tmp_path):
    """Beyond memory the users are split into passes: the money adds up the same."""
    inputs = write(tmp_path, stream(7))
    spec = FunnelSpec(steps=STEPS, value="value")
    one, three = funnel(inputs, spec, passes=1), funnel(inputs, spec, passes=3)
    assert one.steps.to_dicts() == three.steps.to_dicts()
    assert one.behaviour["cart_abandonment"] == three.behaviour["cart_abandonment"]


def test_order_any_counts_a_step_done_early(tmp_path):
    """--order any: the cart before the view is the cart step's value (from its own time)."""
    (tmp_path / "e.csv").write_text(
        "user_id,session_id,event,event_time,value\n"
        "u1,s1,add_to_cart,2024-03-01 10:00:00,5.25\n"
        "u1,s1,product_view,2024-03-01 10:01:00,2.00\n"
        "u1,s1,purchase,2024-03-01 10:02:00,5.25\n"
        "u2,s2,product_view,2024-03-01 11:00:00,1.10\n"
        "u2,s2,add_to_cart,2024-03-01 11:01:00,1.10\n", encoding="utf-8")
    inputs = Inputs({"events": tmp_path / "e.csv"}, LoadOptions())
    anyway = funnel(inputs, FunnelSpec(steps=STEPS, order="any", value="value")).steps
    assert anyway["value"].to_list() == [3.10, 6.35, 5.25]
    assert anyway["value_lost"].to_list() == [0.0, 0.0, 1.10]
    ordered = funnel(inputs, FunnelSpec(steps=STEPS, value="value")).steps
    assert ordered["entered"].to_list() == [2, 1, 0]
    assert ordered["value"].to_list() == [3.10, 1.10, 0.0]
    assert ordered["value_lost"].to_list() == [0.0, 2.00, 1.10]
