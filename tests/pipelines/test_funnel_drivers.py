"""Issue 24: ``cust funnel drivers`` against plain Python on generated streams.

The reference walks each unit's events as Python tuples, counts the 2x2 tables itself and
applies Benjamini-Hochberg by hand; only Fisher's exact test is scipy's in both.
"""

import math
import random
from datetime import datetime, timedelta

import numpy as np
import pytest
from scipy.stats import fisher_exact
from scipy.stats.contingency import odds_ratio

from cust.pipelines.errors import InvalidOptionError, MissingColumnError
from cust.pipelines.funnel import FunnelSpec, drivers
from cust.pipelines.funnel.drivers import odds_ratios
from cust.pipelines.io.inputs import Inputs
from cust.pipelines.io.loader import LoadOptions

NAMES = ("product_view", "add_to_cart", "purchase", "search", "banner_click", "home")
STEPS = ("product_view", "add_to_cart", "purchase")
START = datetime(2024, 3, 1, 8)


def stream(seed, users=150):
    """Rows (user, session, event, time, platform, channel); times strictly increase."""
    rng = random.Random(seed)
    rows = []
    for u in range(users):
        t = START + timedelta(hours=rng.randrange(0, 48))
        for s in range(rng.randrange(1, 4)):
            for _ in range(rng.randrange(1, 10)):
                t += timedelta(seconds=rng.choice([1, 30, 900]))
                platform = rng.choice(["web", "web", "app", "mini"])
                # web carts convert more: the purchase is likelier after a web cart.
                event = rng.choice(NAMES)
                rows.append((f"u{u}", f"s{u}-{s}", event, t, platform,
                             rng.choice(["ads", "search", "direct"])))
            t += timedelta(hours=rng.choice([1, 20, 30]))
    return rows


def write(tmp_path, rows):
    lines = ["user_id,session_id,event,event_time,platform,channel"]
    lines += [f"{u},{s},{e},{t.isoformat(sep=' ')},{p},{c}" for u, s, e, t, p, c in rows]
    (tmp_path / "e.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Inputs({"events": tmp_path / "e.csv"}, LoadOptions())


def bh(p):
    """Benjamini-Hochberg q-values, by hand."""
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    q = [0.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p[i] * m / rank)
        q[i] = running
    return q


def reference(rows, k, unit, window, min_units, properties=("platform", "channel")):
    per: dict[tuple, list] = {}
    for u, s, e, t, p, c in rows:
        per.setdefault((u, s) if unit == "session" else (u,), []).append(
            (e, t, {"platform": p, "channel": c}))
    at_step = []  # (converted, {property: value}, events done before)
    for events in per.values():
        events.sort(key=lambda x: x[1])
        firsts = [x for x in events if x[0] == STEPS[0]]
        if not firsts:
            continue
        t1 = firsts[0][1]
        end = t1 + window if window else None
        reached = [firsts[0]]
        for step in STEPS[1:]:
            nxt = [x for x in events if x[0] == step and x[1] >= reached[-1][1]
                   and (end is None or x[1] <= end)]
            if not nxt:
                break
            reached.append(nxt[0])
        if len(reached) < k:
            continue
        tk = reached[k - 1][1]
        did = {e for e, t, _ in events if e not in STEPS[:k] and t <= tk
               and (unit == "session" or t >= t1)}
        at_step.append((len(reached) > k, reached[k - 1][2], did))
    total = len(at_step)
    converted = sum(c for c, _, _ in at_step)
    groups: dict[tuple, list] = {}
    for conv, props, did in at_step:
        for p in properties:
            groups.setdefault((p, props[p]), []).append(conv)
        for e in did:
            groups.setdefault(("did_before", e), []).append(conv)
    out = {}
    for key, convs in groups.items():
        n, a = len(convs), sum(convs)
        if n < min_units or total - n < min_units:
            continue
        b, c = n - a, converted - a
        d = total - n - c
        cells = [a, b, c, d]
        if 0 in cells:
            cells = [x + 0.5 for x in cells]
        ratio = cells[0] * cells[3] / (cells[1] * cells[2])
        se = math.sqrt(sum(1 / x for x in cells))
        out[key] = {"units_with": n, "converted_with": a, "odds_ratio": ratio,
                    "ci_low": ratio * math.exp(-1.959963984540054 * se),
                    "ci_high": ratio * math.exp(1.959963984540054 * se),
                    "p_value": fisher_exact([[a, b], [c, d]]).pvalue}
    keys = list(out)
    for key, q in zip(keys, bh([out[x]["p_value"] for x in keys]), strict=True):
        out[key]["q_value"] = q
    return total, converted, out


@pytest.mark.parametrize(("seed", "k", "unit", "window", "min_units"), [
    (1, 2, "session", None, 5), (2, 1, "session", None, 10), (3, 2, "user", None, 3),
    (4, 1, "user", timedelta(hours=2), 8), (6, 2, "user", timedelta(hours=2), 4),
])
def test_drivers_against_plain_python(tmp_path, seed, k, unit, window, min_units):
    rows = stream(seed)
    spec = FunnelSpec(steps=STEPS, unit=unit, **({"window": window} if window else {}))
    result = drivers(write(tmp_path, rows), spec, step=str(k), properties=("platform", "channel"),
                     min_units=min_units, top=1000)
    total, converted, ref = reference(rows, k, unit, window or timedelta(hours=24), min_units)
    assert result.units == [{"step": STEPS[k - 1], "next_step": STEPS[k], "units": total,
                             "converted": converted}]
    got = {(r["property"], r["value"]): r for r in result.drivers.iter_rows(named=True)}
    assert set(got) == set(ref)
    assert len(ref) >= 5  # properties and prior events both tested
    # A user's events before step k count from its step-1 time: none before step 1.
    assert any(p == "did_before" for p, _ in ref) == (unit == "session" or k > 1)
    for key, want in ref.items():
        row = got[key]
        assert (row["units_with"], row["converted_with"]) == (want["units_with"],
                                                              want["converted_with"])
        for c in ("odds_ratio", "ci_low", "ci_high", "p_value", "q_value"):
            assert row[c] == pytest.approx(want[c], rel=1e-9), (key, c)
        assert row["direction"] == ("over" if want["odds_ratio"] >= 1 else "under")
    strength = [abs(math.log(r)) for r in result.drivers["odds_ratio"]]
    assert strength == sorted(strength, reverse=True)


def test_all_steps_share_one_correction_and_top_cuts(tmp_path):
    rows = stream(5)
    inputs = write(tmp_path, rows)
    spec = FunnelSpec(steps=STEPS)
    every = drivers(inputs, spec, step="all", properties=("platform",), min_units=5, top=1000)
    assert [u["step"] for u in every.units] == ["product_view", "add_to_cart"]
    assert set(every.drivers["step"]) == {"product_view", "add_to_cart"}
    assert every.tested == every.drivers.height
    # One correction over both steps: BH over all p-values together.
    p = every.drivers["p_value"].to_list()
    assert every.drivers["q_value"].to_list() == pytest.approx(bh(p), rel=1e-9)
    top = drivers(inputs, spec, step="all", properties=("platform",), min_units=5, top=3)
    assert top.drivers.height == 3
    assert top.drivers.to_dicts() == every.drivers.head(3).to_dicts()


def test_woolf_interval_is_scipys_sample_interval_without_zeros():
    tables = [(12, 5, 7, 30), (300, 210, 95, 120), (1, 2, 3, 4)]
    a, b, c, d = (np.array(x) for x in zip(*tables, strict=True))
    ratio, low, high = odds_ratios(a, b, c, d)
    for i, (w, x, y, z) in enumerate(tables):
        res = odds_ratio([[w, x], [y, z]], kind="sample")
        ci = res.confidence_interval(0.95)
        assert (ratio[i], low[i], high[i]) == pytest.approx(
            (res.statistic, ci.low, ci.high), rel=1e-9)
    # An empty cell: 0.5 added to each (Haldane-Anscombe), so the ratio stays finite.
    ratio, low, high = odds_ratios(np.array([0]), np.array([10]), np.array([5]),
                                   np.array([5]))
    assert ratio[0] == pytest.approx(0.5 * 5.5 / (10.5 * 5.5))
    assert 0 < low[0] < ratio[0] < high[0]


def test_drivers_refusals(tmp_path):
    inputs = write(tmp_path, stream(1, users=10))
    spec = FunnelSpec(steps=STEPS)
    with pytest.raises(InvalidOptionError, match="--step 'purchase'"):
        drivers(inputs, spec, step="purchase")
    with pytest.raises(InvalidOptionError, match="--step '9'"):
        drivers(inputs, spec, step="9")
    with pytest.raises(MissingColumnError, match="no 'category' column"):
        drivers(inputs, spec, properties=("category",))
    with pytest.raises(InvalidOptionError, match="no drivers to test"):
        drivers(inputs, spec, properties=(), prior=False)
    with pytest.raises(InvalidOptionError, match="--top 0"):
        drivers(inputs, spec, top=0)
