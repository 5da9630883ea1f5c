"""Issue 24: deeper funnels, each figure against plain Python on generated streams.

The generated streams are small (a few hundred sessions) and seeded; the reference
functions below read the rows as Python tuples and share no code with the pipelines.
"""

import random
from datetime import datetime, timedelta
from statistics import median

import numpy as np
import pytest

from cust.pipelines.errors import InvalidOptionError
from cust.pipelines.funnel import DriftSpec, FunnelSpec, funnel, parse_window
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


def ref_funnel(rows, steps, unit="session", window=None, order="ordered", exclude=(),
               optional=None):
    """Entered per step and seconds per step for --order, --exclude and optional steps.

    A plain-Python reading of the definitions in FunnelSpec's docstring (issue 24).
    """
    n = len(steps)
    optional = optional or (False,) * n
    entered = [0] * n
    seconds: list[list[float]] = [[] for _ in steps]

    def ref(k):  # 0-based: the last required step before k
        r = k - 1
        while r > 0 and optional[r]:
            r -= 1
        return r

    for events in units_of(rows, unit).values():
        times = (_ref_ordered if order == "ordered" else _ref_strict if order == "strict"
                 else _ref_any)(events, steps, window, exclude, optional, ref)
        if times is None:
            continue
        for k in range(n):
            if times.get(k) is not None:
                entered[k] += 1
                if k:
                    r = k - 1 if order != "ordered" else ref(k)
                    seconds[k].append((times[k] - times[r]).total_seconds())
    return entered, seconds


def _ref_ordered(events, steps, window, exclude, optional, ref):
    t1 = min((t for e, t in events if e == steps[0]), default=None)
    if t1 is None:
        return None
    times = {0: t1}

    def excl_after(t):
        return min((x for e, x in events if e in exclude and x > t), default=None)

    def first(k, lo, hi):
        return min((t for e, t in events if e == steps[k] and t >= lo
                    and (hi is None or t <= hi)
                    and (window is None or t <= t1 + window)), default=None)

    for k in range(1, len(steps)):
        if optional[k]:
            continue
        r = ref(k)
        if times.get(r) is None:
            break
        times[k] = first(k, times[r], excl_after(times[r]))
        if times[k] is None:
            break
    for k in range(1, len(steps)):
        if not optional[k] or times.get(ref(k)) is None:
            continue
        nxt = next((j for j in range(k + 1, len(steps)) if not optional[j]), None)
        end = times.get(nxt) if nxt is not None else None
        if end is None:
            end = excl_after(times[ref(k)])
        times[k] = first(k, times[ref(k)], end)
    return times


def _ref_strict(events, steps, window, exclude, optional, ref):
    t1 = min((t for e, t in events if e == steps[0]), default=None)
    if t1 is None:
        return None
    ks = [steps.index(e) if e in steps else None for e, _ in events]
    times = {0: t1}
    for i, (_e, t) in enumerate(events):
        k = ks[i]
        if not k or (window is not None and t > t1 + window):
            continue
        if all(i - j >= 0 and ks[i - j] == k - j for j in range(1, k + 1)):
            if times.get(k) is None or t < times[k]:
                times[k] = t
    return times


def _ref_any(events, steps, window, exclude, optional, ref):
    starts = [t for e, t in events if e in steps]
    if not starts:
        return None
    start = min(starts)
    cap = min((t for e, t in events if e in exclude and t > start), default=None)
    kept = [(e, t) for e, t in events
            if (window is None or t <= start + window) and (cap is None or t <= cap)]
    firsts = [min((t for e, t in kept if e == s), default=None) for s in steps]
    if firsts[0] is None:
        return None
    times = {}
    for k in range(len(steps)):
        if all(f is not None for f in firsts[: k + 1]):
            times[k] = max(firsts[: k + 1])
    return times


STEPS4 = ("product_view", "add_to_cart", "checkout", "purchase")
CASES = [
    # (order, unit, window, exclude, steps with ? for optional)
    ("strict", "session", None, (), ("product_view", "add_to_cart", "purchase")),
    ("strict", "user", "3h", (), ("product_view", "add_to_cart")),
    ("any", "session", None, (), STEPS4),
    ("any", "user", "2h", ("remove_from_cart",), ("product_view", "add_to_cart", "purchase")),
    ("ordered", "session", None, ("remove_from_cart",), STEPS4),
    ("ordered", "user", "2h", ("remove_from_cart", "search"), STEPS4),
    ("ordered", "session", None, (), ("product_view", "add_to_cart?", "purchase")),
    ("ordered", "user", "1d", ("remove_from_cart",),
     ("product_view", "add_to_cart?", "checkout?", "purchase")),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(map(str, c[:4])))
@pytest.mark.parametrize("seed", [5, 6])
def test_orders_exclusions_and_optional_steps_equal_plain_python(tmp_path, case, seed):
    order, unit, window, exclude, marked = case
    rows = stream(seed, users=400)
    spec = FunnelSpec(steps=marked, unit=unit, order=order, exclude=exclude,
                      window=parse_window(window) if window else parse_window("24h"))
    result = funnel(write(tmp_path, rows), spec, banners=False)
    names = tuple(s.rstrip("?") for s in marked)
    optional = tuple(s.endswith("?") for s in marked)
    entered, seconds = ref_funnel(rows, names, unit, spec.window if unit == "user" else None,
                                  order, exclude, optional)
    assert result.steps["entered"].to_list() == entered
    assert entered[-1] > 0  # the case is not vacuous
    if exclude:  # and the exclusions take units out
        assert entered != ref_funnel(rows, names, unit, spec.window if unit == "user" else None,
                                     order, (), optional)[0]
    medians = result.steps["median_seconds_to_convert"].to_list()[1:]
    assert medians == pytest.approx([median(s) if s else None for s in seconds[1:]])


# s1: a search between view and cart. s2: cart before the view. s3: the cart removed
# before the purchase. s4: the three steps back to back.
ORDERS = """\
user_id,session_id,event,event_time
u1,s1,product_view,2024-03-01 10:00:00
u1,s1,search,2024-03-01 10:01:00
u1,s1,add_to_cart,2024-03-01 10:02:00
u1,s1,purchase,2024-03-01 10:03:00
u2,s2,add_to_cart,2024-03-01 11:00:00
u2,s2,product_view,2024-03-01 11:01:00
u2,s2,purchase,2024-03-01 11:02:00
u3,s3,product_view,2024-03-01 12:00:00
u3,s3,add_to_cart,2024-03-01 12:01:00
u3,s3,remove_from_cart,2024-03-01 12:02:00
u3,s3,purchase,2024-03-01 12:03:00
u4,s4,product_view,2024-03-01 13:00:00
u4,s4,add_to_cart,2024-03-01 13:01:00
u4,s4,purchase,2024-03-01 13:02:00
"""


@pytest.mark.parametrize(("order", "exclude", "entered"), [
    ("ordered", (), [4, 3, 3]),
    ("ordered", ("remove_from_cart",), [4, 3, 2]),
    ("strict", (), [4, 2, 1]),
    ("any", (), [4, 4, 4]),
    ("any", ("remove_from_cart",), [4, 4, 3]),
])
def test_orders_and_exclusions_by_hand(tmp_path, order, exclude, entered):
    (tmp_path / "o.csv").write_text(ORDERS, encoding="utf-8")
    inputs = Inputs({"events": tmp_path / "o.csv"}, LoadOptions())
    result = funnel(inputs, FunnelSpec(order=order, exclude=exclude), banners=False)
    assert result.steps["entered"].to_list() == entered


def test_optional_step_by_hand(tmp_path):
    (tmp_path / "o.csv").write_text(ORDERS, encoding="utf-8")
    inputs = Inputs({"events": tmp_path / "o.csv"}, LoadOptions())
    result = funnel(inputs, FunnelSpec(steps=("product_view", "add_to_cart?", "purchase")),
                    banners=False)
    # Every session purchased after its view; s2's cart came before its view.
    assert result.steps["entered"].to_list() == [4, 3, 4]
    # The purchase converts from the view (the last required step), not from the cart.
    assert result.steps["conversion_from_previous"].to_list() == [1.0, 0.75, 1.0]
    assert result.spec.optional == (False, True, False)
    # View to purchase: 3, 1, 3 and 2 minutes.
    assert result.steps["median_seconds_to_convert"].to_list()[2] == 150.0


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"steps": ("product_view?", "purchase")}, "cannot be optional"),
    ({"steps": ("product_view", "add_to_cart?"), "order": "strict"}, "need --order ordered"),
    ({"exclude": ("purchase",)}, "also a step"),
    ({"order": "sideways"}, "is not ordered, strict or any"),
])
def test_spec_refuses_with_a_hint(kwargs, match):
    with pytest.raises(InvalidOptionError, match=match) as info:
        FunnelSpec(**kwargs)
    assert info.value.hint


def test_drift_refuses_optional_steps(tmp_path):
    (tmp_path / "o.csv").write_text(ORDERS, encoding="utf-8")
    inputs = Inputs({"events": tmp_path / "o.csv"}, LoadOptions())
    with pytest.raises(InvalidOptionError, match="--drift needs every step required"):
        funnel(inputs, FunnelSpec(steps=("product_view", "add_to_cart?", "purchase")),
               drift=DriftSpec())


def item_stream(seed: int, users: int = 300):
    """Rows (user, session, event, time, sku): searches carry no sku."""
    rng = random.Random(seed)
    return [(u, s, e, t, "" if e == "search" else rng.choice("ABC"))
            for u, s, e, t in stream(seed, users)]


def write_items(tmp_path, rows, name="i.csv"):
    lines = ["user_id,session_id,event,event_time,sku"]
    lines += [f"{u},{s},{e},{t.isoformat(sep=' ', timespec='milliseconds')},{k}"
              for u, s, e, t, k in rows]
    (tmp_path / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Inputs({"events": tmp_path / name}, LoadOptions())


@pytest.mark.parametrize("seed", [7, 8])
def test_same_sku_counts_equal_plain_python(tmp_path, seed):
    rows = item_stream(seed)
    steps = ("product_view", "add_to_cart", "purchase")
    inputs = write_items(tmp_path, rows)
    # Per unit-and-item pair: each pair is its own funnel (plain Python, keyed by the pair).
    pairs = [(f"{u}|{k}", s, e, t) for u, s, e, t, k in rows if k]
    conv_entered, conv_seconds = ref_ordered(pairs, steps)
    conversions = funnel(inputs, FunnelSpec(steps=steps, same="sku", count="conversions"),
                         banners=False)
    assert conversions.steps["entered"].to_list() == conv_entered
    assert conversions.steps["median_seconds_to_convert"].to_list()[1:] == pytest.approx(
        [median(s) for s in conv_seconds[1:]])
    # Units: a session counts at step k when any of its items reached k.
    per_unit: dict[tuple, int] = {}
    for key, events in units_of(pairs, "session").items():
        user, _sku = key[0].split("|")
        depth = ref_ordered([(key[0], key[1], e, t) for e, t in events], steps)[0]
        unit = (user, key[1])
        per_unit[unit] = max(per_unit.get(unit, 0), sum(depth))
    units = funnel(inputs, FunnelSpec(steps=steps, same="sku"), banners=False)
    expected = [sum(1 for d in per_unit.values() if d > k) for k in range(3)]
    assert units.steps["entered"].to_list() == expected
    assert conv_entered[-1] > 0  # not vacuous
    assert expected[0] < conv_entered[0]
    # Cart abandonment per unit and item.
    ab = units.behaviour["cart_abandonment"]
    assert (ab["units_with_cart"], ab["abandoned"]) == ref_abandonment(pairs)
    assert ab["per"] == "unit and sku"


# u1 views A and B, carts B and buys A: no item went the whole way. u2 does A all through.
SAME = """\
user_id,session_id,event,event_time,sku
u1,s1,product_view,2024-03-01 10:00:00,A
u1,s1,product_view,2024-03-01 10:01:00,B
u1,s1,add_to_cart,2024-03-01 10:02:00,B
u1,s1,purchase,2024-03-01 10:03:00,A
u2,s2,product_view,2024-03-01 11:00:00,A
u2,s2,add_to_cart,2024-03-01 11:01:00,A
u2,s2,purchase,2024-03-01 11:02:00,A
u2,s2,product_view,2024-03-01 11:03:00,C
"""


def test_same_sku_by_hand(tmp_path):
    (tmp_path / "s.csv").write_text(SAME, encoding="utf-8")
    inputs = Inputs({"events": tmp_path / "s.csv"}, LoadOptions())
    assert funnel(inputs, FunnelSpec()).steps["entered"].to_list() == [2, 2, 2]
    units = funnel(inputs, FunnelSpec(same="sku"))
    assert units.steps["entered"].to_list() == [2, 2, 1]
    # Pairs: u1-A, u1-B, u2-A, u2-C viewed; u1-B and u2-A carted; u2-A bought.
    pairs = funnel(inputs, FunnelSpec(same="sku", count="conversions"))
    assert pairs.steps["entered"].to_list() == [4, 2, 1]
    assert pairs.to_json()["same"] == "sku"


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"count": "conversions"}, "needs --same"),
    ({"same": "sku", "order": "any"}, "--same works with --order ordered"),
    ({"same": "event_time"}, "cannot be held constant"),
])
def test_same_refusals(kwargs, match):
    with pytest.raises(InvalidOptionError, match=match):
        FunnelSpec(**kwargs)


BANDS = [(0, 10), (10, 60), (60, 600), (600, 3600), (3600, 86400), (86400, 604800),
         (604800, None)]


@pytest.mark.parametrize("passes", [1, 3])
def test_times_to_convert_equal_numpy(tmp_path, passes):
    rows = stream(9, users=300)
    steps = ("product_view", "add_to_cart", "purchase")
    window = parse_window("7d")
    spec = FunnelSpec(steps=steps, unit="user", window=window)
    result = funnel(write(tmp_path, rows), spec, banners=False, timing=True, passes=passes)
    entered, seconds = ref_ordered(rows, steps, "user", window)
    frame = result.times_to_convert
    assert frame["step"].to_list() == ["add_to_cart", "purchase"]
    for i, k in enumerate((1, 2)):
        row = frame.row(i, named=True)
        s = np.array(seconds[k])
        assert row["units"] == len(s) == entered[k]
        assert row["median_seconds"] == pytest.approx(float(np.median(s)))
        assert row["p90_seconds"] == pytest.approx(float(np.quantile(s, 0.9)))
        for name, limit in (("within_1h", 3600), ("within_1d", 86400),
                            ("within_7d", 604800)):
            assert row[name] == pytest.approx(sum(x <= limit for x in seconds[k])
                                              / entered[k - 1])
        hist = [sum(lo <= x and (hi is None or x < hi) for x in seconds[k])
                for lo, hi in BANDS]
        assert [row[f"hist_{j}"] for j in range(len(BANDS))] == hist
    assert frame["within_1h"][0] < frame["within_7d"][0]  # the users' windows are long
    doc = result.to_json()["times_to_convert"]
    assert [b["units"] for b in doc[0]["histogram"]] == [frame[f"hist_{j}"][0]
                                                        for j in range(len(BANDS))]
    assert "times_to_convert" not in funnel(write(tmp_path, rows, "b.csv"), spec,
                                            banners=False).to_json()


def _cat(t: datetime) -> str:
    """A category that is the same for events at the same time (ties stay unambiguous)."""
    return "c" + str((t.second * 1000 + t.microsecond // 1000) % 3)


def ref_attribution(rows, steps, attribution):
    """Entered per step per attributed category (plain Python)."""
    out: dict[str, list[int]] = {}
    for events in units_of(rows, "session").values():
        times = _ref_ordered(events, steps, None, (), (False,) * len(steps), lambda k: k - 1)
        if times is None:
            continue
        reached = [k for k in range(len(steps)) if times.get(k) is not None]
        if attribution == "first":
            at = 0
        elif attribution == "last":
            at = max(reached)
        else:
            at = int(attribution.removeprefix("step:")) - 1
        value = _cat(times[at]) if at in reached else "(none)"
        counts = out.setdefault(value, [0] * len(steps))
        for k in reached:
            counts[k] += 1
    return out


@pytest.mark.parametrize("attribution", ["first", "last", "step:2", "step:3"])
def test_attribution_equals_plain_python(tmp_path, attribution):
    rows = stream(10, users=300)
    lines = ["user_id,session_id,event,event_time,category"]
    lines += [f"{u},{s},{e},{t.isoformat(sep=' ', timespec='milliseconds')},{_cat(t)}"
              for u, s, e, t in rows]
    (tmp_path / "a.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    inputs = Inputs({"events": tmp_path / "a.csv"}, LoadOptions())
    steps = ("product_view", "add_to_cart", "purchase")
    result = funnel(inputs, FunnelSpec(steps=steps, by=("category",),
                                       attribution=attribution), banners=False)
    got: dict[str, list[int]] = {}
    for p in result.to_json()["periods"]:
        counts = got.setdefault(p["segment"]["category"], [0] * 3)
        for k, e in enumerate(p["entered"]):
            counts[k] += e
    assert got == ref_attribution(rows, steps, attribution)
    assert len(got) >= 3


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"attribution": "last"}, "needs --by"),
    ({"attribution": "step:9", "by": ("category",)}, "is not first, last or step:1..3"),
    ({"attribution": "middle", "by": ("category",)}, "is not first, last"),
    ({"attribution": "last", "by": ("category",), "order": "any"}, "--order ordered"),
])
def test_attribution_refusals(kwargs, match):
    with pytest.raises(InvalidOptionError, match=match):
        FunnelSpec(**kwargs)
