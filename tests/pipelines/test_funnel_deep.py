"""Issue 24: deeper funnels, each figure against plain Python on generated streams.

The generated streams are small (a few hundred sessions) and seeded; the reference
functions below read the rows as Python tuples and share no code with the pipelines.
"""

import random
from datetime import datetime, timedelta
from statistics import median

import pytest

from cust.pipelines.funnel import FunnelSpec, funnel, parse_window
from cust.pipelines.io.inputs import Inputs
from cust.pipelines.io.loader import LoadOptions

EVENT_NAMES = ("product_view", "add_to_cart", "checkout", "purchase", "search",
               "remove_from_cart")
START = datetime(2024, 3, 1, 8)


def stream(seed: int, users: int = 60) -> list[tuple[str, str, str, datetime]]:
    """Rows (user, session, event, time) with millisecond times, some ties, any order."""
    rng = random.Random(seed)
    rows = []
    for u in range(users):
        t = START + timedelta(hours=rng.randrange(0, 72))
        for s in range(rng.randrange(1, 4)):
            for _ in range(rng.randrange(1, 9)):
                # Ties (step 0) are kept: equal times count as in order.
                t += timedelta(milliseconds=rng.choice([0, 250, 1500, 42_460, 600_000]))
                rows.append((f"u{u}", f"s{s}", rng.choice(EVENT_NAMES), t))
            t += timedelta(hours=rng.choice([1, 20, 30]))
    return rows


def write(tmp_path, rows, name="e.csv"):
    lines = ["user_id,session_id,event,event_time"]
    lines += [f"{u},{s},{e},{t.isoformat(sep=' ', timespec='milliseconds')}"
              for u, s, e, t in rows]
    (tmp_path / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Inputs({"events": tmp_path / name}, LoadOptions())


def units_of(rows, unit):
    """A unit's events in file order (stable) sorted by time."""
    out: dict[tuple, list[tuple[str, datetime]]] = {}
    for u, s, e, t in rows:
        out.setdefault((u, s) if unit == "session" else (u,), []).append((e, t))
    return {k: sorted(v, key=lambda x: x[1]) for k, v in out.items()}


def ref_abandonment(rows, unit="session", window=None):
    """Units with an add_to_cart, and those with no purchase at or after the first one."""
    carts = abandoned = 0
    for events in units_of(rows, unit).values():
        cart = min((t for e, t in events if e == "add_to_cart"), default=None)
        if cart is None:
            continue
        carts += 1
        if not any(e == "purchase" and t >= cart and (window is None or t <= cart + window)
                   for e, t in events):
            abandoned += 1
    return carts, abandoned


def ref_ordered(rows, steps, unit="session", window=None):
    """Entered per step and the seconds between steps (contract's ordered funnel)."""
    entered = [0] * len(steps)
    seconds: list[list[float]] = [[] for _ in steps]
    for events in units_of(rows, unit).values():
        t1 = min((t for e, t in events if e == steps[0]), default=None)
        if t1 is None:
            continue
        entered[0] += 1
        prev = t1
        for k, step in enumerate(steps[1:], start=1):
            nxt = min((t for e, t in events if e == step and t >= prev
                       and (window is None or t <= t1 + window)), default=None)
            if nxt is None:
                break
            entered[k] += 1
            seconds[k].append((nxt - prev).total_seconds())
            prev = nxt
    return entered, seconds


# s1: cart, then a purchase without the checkout step between (the funnel's drop-off,
# not an abandonment). s2: purchase before the cart only (abandoned). s3: the whole
# funnel, cart 42.46 s after the view. s4: a cart, nothing after it.
HAND = """\
user_id,session_id,event,event_time
u1,s1,product_view,2024-03-01 10:00:00.000
u1,s1,add_to_cart,2024-03-01 10:00:10.500
u1,s1,purchase,2024-03-01 10:01:00.000
u2,s2,purchase,2024-03-01 11:00:00
u2,s2,product_view,2024-03-01 11:00:01
u2,s2,add_to_cart,2024-03-01 11:00:02
u3,s3,product_view,2024-03-01 12:00:00.000
u3,s3,add_to_cart,2024-03-01 12:00:42.460
u3,s3,checkout,2024-03-01 12:01:00.000
u3,s3,purchase,2024-03-01 12:02:00.250
u4,s4,add_to_cart,2024-03-01 13:00:00
"""


def test_cart_abandonment_is_any_purchase_after_the_cart(tmp_path):
    (tmp_path / "h.csv").write_text(HAND, encoding="utf-8")
    inputs = Inputs({"events": tmp_path / "h.csv"}, LoadOptions())
    spec = FunnelSpec(steps=("product_view", "add_to_cart", "checkout", "purchase"))
    result = funnel(inputs, spec)
    assert result.steps["entered"].to_list() == [3, 3, 1, 1]
    ab = result.behaviour["cart_abandonment"]
    # Four sessions with a cart (s4 never viewed); s2 and s4 did not purchase after it.
    assert (ab["units_with_cart"], ab["abandoned"], ab["rate"]) == (4, 2, 0.5)
    drop = result.behaviour["cart_step_drop_off"]
    # In the funnel's order s1 and s2 left after the cart step (s1 skipped the checkout).
    assert (drop["reached_cart_step"], drop["did_not_reach_purchase_step"]) == (3, 2)
    assert "cart_step_drop_off" in result.to_json()


def test_times_to_convert_keep_sub_seconds(tmp_path):
    (tmp_path / "h.csv").write_text(HAND, encoding="utf-8")
    inputs = Inputs({"events": tmp_path / "h.csv"}, LoadOptions())
    result = funnel(inputs, FunnelSpec(steps=("product_view", "add_to_cart", "checkout",
                                              "purchase")))
    # View to cart: 10.5, 1 and 42.46 s -> median 10.5; checkout to purchase 60.25 s.
    assert result.steps["median_seconds_to_convert"].to_list() == [None, 10.5, 17.54, 60.25]
    single = funnel(inputs, FunnelSpec(steps=("add_to_cart", "checkout")))
    assert single.steps["median_seconds_to_convert"].to_list()[1] == pytest.approx(17.54)


@pytest.mark.parametrize("seed", [1, 2])
def test_generated_sessions_equal_plain_python(tmp_path, seed):
    rows = stream(seed)
    steps = ("product_view", "add_to_cart", "purchase")
    result = funnel(write(tmp_path, rows), FunnelSpec(steps=steps), banners=False)
    entered, seconds = ref_ordered(rows, steps)
    assert result.steps["entered"].to_list() == entered
    medians = result.steps["median_seconds_to_convert"].to_list()[1:]
    assert medians == pytest.approx([median(s) if s else None for s in seconds[1:]])
    ab = result.behaviour["cart_abandonment"]
    assert (ab["units_with_cart"], ab["abandoned"]) == ref_abandonment(rows)


def test_generated_users_with_window_equal_plain_python(tmp_path):
    rows = stream(3)
    steps = ("product_view", "add_to_cart", "purchase")
    window = parse_window("2h")
    result = funnel(write(tmp_path, rows), FunnelSpec(steps=steps, unit="user",
                                                      window=window), banners=False)
    entered, _ = ref_ordered(rows, steps, "user", window)
    assert result.steps["entered"].to_list() == entered
    ab = result.behaviour["cart_abandonment"]
    assert (ab["units_with_cart"], ab["abandoned"]) == ref_abandonment(rows, "user", window)
