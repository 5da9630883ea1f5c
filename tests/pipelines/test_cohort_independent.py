"""Cohorts on generated order lines against an independent plain-Python computation."""

from collections import defaultdict
from datetime import date, datetime, timedelta

import numpy as np
import pytest

from cust.pipelines.cohort.cohorts import cohort_retention
from cust.pipelines.io.inputs import Inputs
from cust.pipelines.io.loader import LoadOptions

START = datetime(2023, 11, 3, 8, 0)


def _lines(seed: int = 11) -> list[dict]:
    """About 300 customers, 1-7 orders each, 1-3 lines per order, some refunds."""
    rng = np.random.default_rng(seed)
    lines, n = [], 0
    for c in range(300):
        when = START + timedelta(minutes=int(rng.integers(0, 240 * 24 * 60)))
        offer = rng.random() < 0.6
        for i in range(int(rng.geometric(0.45))):
            n += 1
            status = "refunded" if rng.random() < 0.08 else "paid"
            for _ in range(int(rng.integers(1, 4))):
                amount = round(float(rng.lognormal(3.5, 1.0)), 2)
                lines.append({
                    "order_id": f"O{n:05d}", "customer_id": f"C{c:03d}",
                    "order_time": when.strftime("%Y-%m-%d %H:%M"),
                    "amount": amount, "cost": round(amount * float(rng.uniform(0.5, 1.1)), 2),
                    "discount": round(float(rng.uniform(1, 20)), 2) if offer and i == 0 else 0.0,
                    "promo": "first_order" if offer and i == 0 else "",
                    "status": status,
                })
            when += timedelta(days=int(rng.exponential(25)), minutes=int(rng.integers(1, 600)))
    return lines


def _write(path, lines):
    cols = list(lines[0])
    rows = [",".join(str(line[c]) for c in cols) for line in lines]
    path.write_text("\n".join([",".join(cols), *rows]) + "\n", encoding="utf-8")


def _start(unit: str, d: date) -> date:
    return d.replace(day=1) if unit == "month" else d - timedelta(days=d.weekday())


def _shift(unit: str, start: date, k: int) -> date:
    if unit == "week":
        return start + timedelta(weeks=k)
    m = start.year * 12 + start.month - 1 + k
    return date(m // 12, m % 12 + 1, 1)


def _k(unit: str, cohort: date, d: date) -> int:
    s = _start(unit, d)
    if unit == "week":
        return (s - cohort).days // 7
    return (s.year - cohort.year) * 12 + s.month - cohort.month


def _expected(lines, unit, cumulative):
    orders: dict[str, dict] = {}
    for line in lines:
        if line["status"] != "paid":
            continue
        t = datetime.strptime(line["order_time"], "%Y-%m-%d %H:%M")
        o = orders.setdefault(line["order_id"], {
            "id": line["order_id"], "customer": line["customer_id"], "time": t,
            "gp": 0.0, "discount": 0.0, "promo": False,
        })
        o["time"] = min(o["time"], t)
        o["gp"] += line["amount"] - line["cost"]
        o["discount"] += line["discount"]
        o["promo"] |= line["promo"] == "first_order"
    by_customer = defaultdict(list)
    for o in orders.values():
        by_customer[o["customer"]].append(o)
    end = max(o["time"] for o in orders.values()).date()
    cohorts: dict[date, dict] = {}
    pay: dict[tuple, dict] = {}
    for mine in by_customer.values():
        mine.sort(key=lambda o: (o["time"], o["id"]))
        first = mine[0]
        cohort = _start(unit, first["time"].date())
        c = cohorts.setdefault(cohort, {"size": 0, "active": defaultdict(set)})
        c["size"] += 1
        ks = [_k(unit, cohort, o["time"].date()) for o in mine]
        for k in range(max(ks) + 1) if cumulative else ks:
            c["active"][k].add(first["customer"])
        group = "offer" if first["promo"] else "no_offer"
        p = pay.setdefault((cohort, group), {"cost": 0.0, "first": 0.0, "gp": defaultdict(float),
                                             "customers": 0, "one": 0})
        p["customers"] += 1
        p["one"] += len(mine) == 1
        p["cost"] += first["discount"] if first["promo"] else 0.0
        p["first"] += first["gp"]
        for o, k in zip(mine[1:], ks[1:], strict=True):
            p["gp"][k] += o["gp"]
    matrix = {}
    for cohort, c in cohorts.items():
        ks = []
        while _shift(unit, cohort, len(ks)) <= end:
            ks.append(len(ks))
        matrix[cohort] = {
            "size": c["size"],
            "active": [len(c["active"][k]) for k in ks],
            "complete": [_shift(unit, cohort, k + 1) - timedelta(days=1) <= end for k in ks],
        }
    payback = {}
    for (cohort, group), p in pay.items():
        running, repeat = 0.0, []
        k = 0
        while _shift(unit, cohort, k) <= end:
            running += p["gp"][k]
            repeat.append(running)
            k += 1
        period = next((k for k, g in enumerate(repeat) if g >= p["cost"] - 1e-9), None)
        payback[(cohort, group)] = {
            "customers": p["customers"], "one": p["one"], "cost": p["cost"],
            "repeat": repeat, "period": period if group == "offer" else None,
        }
    return end, matrix, payback


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    lines = _lines()
    path = tmp_path_factory.mktemp("cohort") / "orders.csv"
    _write(path, lines)
    return lines, Inputs({"orders": path}, LoadOptions())


@pytest.mark.parametrize(("unit", "cumulative"), [
    ("month", False), ("month", True), ("week", False), ("week", True),
])
def test_matrix_and_payback_match_plain_python(generated, unit, cumulative):
    lines, inputs = generated
    end, matrix, payback = _expected(lines, unit, cumulative)
    result = cohort_retention(inputs, unit=unit, cumulative=cumulative)
    assert result.as_of == end
    ours = {
        c["cohort_start"]: {"size": c["size"], "active": c["active"], "complete": c["complete"]}
        for c in result.cohorts
    }
    assert ours == matrix
    assert any(not all(c["complete"]) for c in ours.values())
    for c in result.cohorts:
        assert c["retention"] == [a / c["size"] for a in c["active"]]
        assert c["retention"][0] == 1.0
    got = {}
    for p in result.payback:
        start = next(c["cohort_start"] for c in result.cohorts if c["cohort"] == p["cohort"])
        got[(start, p["group"])] = p
    assert set(got) == set(payback)
    for key, want in payback.items():
        p = got[key]
        assert (p["customers"], p["one_order_customers"]) == (want["customers"], want["one"])
        assert p["offer_cost"] == pytest.approx(want["cost"], abs=1e-6)
        assert p["repeat_gross_profit"] == pytest.approx(want["repeat"], abs=0.011)
        assert p["payback_period"] == want["period"]
    assert any(p["payback_period"] is not None for p in result.payback)
    assert any(p["group"] == "offer" and p["payback_period"] is None for p in result.payback)


def test_cumulative_is_at_least_on(generated):
    _, inputs = generated
    for unit in ("month", "week"):
        on = cohort_retention(inputs, unit=unit).cohorts
        after = cohort_retention(inputs, unit=unit, cumulative=True).cohorts
        for a, b in zip(on, after, strict=True):
            assert all(x <= y <= a["size"] for x, y in zip(a["active"], b["active"], strict=True))
            assert all(b["active"][i] >= b["active"][i + 1] for i in range(len(b["active"]) - 1))
