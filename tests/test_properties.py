"""Invariants on random order books (Hypothesis), and the same data in every format."""

import gzip
import json
import random
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cust.cli.main import app
from cust.pipelines.cohort.cohorts import cohort_retention
from cust.pipelines.io.inputs import Inputs
from cust.pipelines.io.loader import LoadOptions
from cust.pipelines.promo import Scenario, simulate
from cust.pipelines.segment.abc import classify_customers
from cust.pipelines.segment.buckets import bucket_orders
from cust.pipelines.segment.rfm import rfm_segments

runner = CliRunner()
SETTINGS = settings(max_examples=12, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

line = st.tuples(
    st.integers(0, 30),  # order number
    st.integers(0, 8),  # customer number
    st.integers(0, 120),  # day
    st.decimals(min_value=-50, max_value=8000, places=2, allow_nan=False),
    st.decimals(min_value=0, max_value=6000, places=2, allow_nan=False),
    st.sampled_from(["paid", "paid", "paid", "refunded", "cancelled"]),
)


def _book(lines) -> str:
    # One customer per order (the first line's), so no order is rejected as mixed.
    owner: dict[int, int] = {}
    rows = ["order_id,customer_id,order_time,amount,cost,status"]
    for order, customer, day, amount, cost, status in lines:
        customer = owner.setdefault(order, customer)
        rows.append(f"o{order},C{customer},2024-01-01 00:00:00,{amount},{cost},{status}"
                    .replace("2024-01-01", f"2024-{1 + day // 31:02d}-{1 + day % 28:02d}"))
    return "\n".join(rows) + "\n"


def _inputs(path: Path) -> Inputs:
    return Inputs({"orders": path}, LoadOptions())


def _paid(lines) -> tuple[int, int]:
    owner: dict[int, int] = {}
    paid_orders, customers = set(), set()
    for order, customer, *_rest, status in lines:
        customer = owner.setdefault(order, customer)
        if status == "paid":
            paid_orders.add(order)
            customers.add(customer)
    return len(paid_orders), len(customers)


@SETTINGS
@given(st.lists(line, min_size=1, max_size=40))
def test_partitions(tmp_path, lines):
    path = tmp_path / "o.csv"
    path.write_text(_book(lines), encoding="utf-8")
    orders, customers = _paid(lines)
    bands = bucket_orders(_inputs(path))
    assert int(bands.buckets["orders"].sum()) + bands.totals["unbanded_orders"] == orders
    if not orders:
        return
    abc = classify_customers(_inputs(path))
    assert int(abc.classes["customers"].sum()) + abc.loss_making["customers"] == customers
    rfm = rfm_segments(_inputs(path))
    assert int(rfm.segments["customers"].sum()) == customers
    cohorts = cohort_retention(_inputs(path)).to_json()["cohorts"]
    assert sum(c["size"] for c in cohorts) == customers
    for c in cohorts:
        assert c["retention"][0] == 1.0
        assert all(0 <= a <= c["size"] for a in c["active"])


@SETTINGS
@given(st.lists(line, min_size=1, max_size=40), st.integers(1, 6000),
       st.lists(st.integers(0, 2000), min_size=2, max_size=5))
def test_promo_cost_is_non_negative_and_monotone(tmp_path, lines, threshold, rewards):
    path = tmp_path / "o.csv"
    path.write_text(_book(lines), encoding="utf-8")
    costs = [simulate(_inputs(path), [Scenario(threshold=threshold, reward_amount=r)])
             .to_json()["subsidy_cost"] for r in sorted(rewards)]
    assert all(c >= 0 for c in costs)
    assert costs == sorted(costs)


@SETTINGS
@given(st.lists(line, min_size=3, max_size=40), st.randoms(use_true_random=False))
def test_same_data_in_every_format_and_order(tmp_path, lines, rnd: random.Random):
    text = _book(lines)
    head, *rows = text.splitlines()
    rnd.shuffle(rows)
    shuffled = "\n".join([head, *rows]) + "\n"
    files = {
        "csv": ("o.csv", text.encode()),
        "shuffled": ("s.csv", shuffled.encode()),
        "gbk": ("g.csv", text.replace("order_id", "订单号").encode("gb18030")),
        "gzip": ("z.csv.gz", gzip.compress(text.encode(), mtime=0)),
    }
    docs = {}
    for name, data in files.values():
        (tmp_path / name).write_bytes(data)
    frame = pl.read_csv(tmp_path / "o.csv", infer_schema=False)
    frame.write_parquet(tmp_path / "p.parquet")
    files["parquet"] = ("p.parquet", b"")
    for key, (name, _data) in files.items():
        result = runner.invoke(app, ["segment", "buckets", "-f", "json", "--orders",
                                     str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        doc = json.loads(result.stdout)
        doc.pop("input")
        docs[key] = doc
    first = docs.pop("csv")
    for key, doc in docs.items():
        assert doc == first, key


event = st.tuples(st.integers(0, 5), st.integers(0, 2),
                  st.sampled_from(["product_view", "add_to_cart", "checkout", "purchase", "home"]),
                  st.integers(0, 600))


@SETTINGS
@given(st.lists(event, min_size=1, max_size=60))
def test_funnel_counts_never_increase(tmp_path, events):
    from cust.pipelines.errors import EmptySelectionError
    from cust.pipelines.funnel import FunnelSpec, funnel

    rows = ["user_id,session_id,event,event_time"]
    rows += [f"u{u},s{s},{e},2024-03-01 {m // 60:02d}:{m % 60:02d}:00" for u, s, e, m in events]
    (tmp_path / "e.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    spec = FunnelSpec(steps=("product_view", "add_to_cart", "checkout", "purchase"))
    try:
        result = funnel(Inputs({"events": tmp_path / "e.csv"}, LoadOptions()), spec)
    except EmptySelectionError:
        assert not any(e == "product_view" for _, _, e, _ in events)
        return
    entered = result.steps["entered"].to_list()
    assert entered == sorted(entered, reverse=True)
    assert entered[0] == len({(u, s) for u, s, e, _ in events if e == "product_view"})
