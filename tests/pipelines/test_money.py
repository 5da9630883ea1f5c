"""Money: every figure of every output rounded once, half up on its exact decimal value,
from an exact sum (issue 20, item 18). Expected values come from Python's decimal module."""

import json
import random
from decimal import ROUND_HALF_UP, Decimal

import polars as pl
import pytest
from typer.testing import CliRunner

from cust.cli.main import app
from cust.pipelines.money import exact_sum, money, round_money, sum_money

CENT = Decimal("0.01")
HALVES = [("17.615", "17.62"), ("32.505", "32.51"), ("0.105", "0.11"), ("1.005", "1.01"),
          ("2.675", "2.68"), ("-0.105", "-0.11"), ("-17.615", "-17.62"), ("0.125", "0.13"),
          ("1234567.895", "1234567.90"), ("17.614", "17.61"), ("17.6149", "17.61"),
          ("0", "0.00")]


def half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


@pytest.mark.parametrize(("text", "expected"), HALVES)
def test_one_rule_half_up_on_the_exact_decimal(text, expected):
    # Binary floats would give 17.61 for 17.615 but 32.51 for 32.505 (neither rule).
    assert round_money(float(text)) == float(expected)
    frame = pl.DataFrame({"v": [float(text)]})
    assert frame.select(money(pl.col("v"))).item() == float(expected)


def test_the_rule_agrees_with_decimal_on_many_values():
    rng = random.Random(20)
    texts = [f"{rng.randint(-10**9, 10**9) / 1000:.3f}" for _ in range(20_000)]
    texts += [f"{rng.randint(0, 10**6)}.{rng.randint(0, 99):02d}5" for _ in range(5_000)]
    expected = [float(half_up(Decimal(t))) for t in texts]
    values = [float(t) for t in texts]
    assert [round_money(v) for v in values] == expected
    assert pl.DataFrame({"v": values}).select(money(pl.col("v")))["v"].to_list() == expected


def test_nulls_and_non_finite_values_stay():
    frame = pl.DataFrame({"v": [None, float("nan"), float("inf")]}, schema={"v": pl.Float64})
    out = frame.select(money(pl.col("v")))["v"].to_list()
    assert out[0] is None
    assert out[2] == float("inf")
    assert round_money(None) is None


def test_sums_of_many_lines_are_exact():
    rng = random.Random(7)
    texts = [f"{rng.randint(0, 99_999) / 1000:.3f}" for _ in range(100_000)]
    exact = sum(Decimal(t) for t in texts)
    frame = pl.DataFrame({"v": [float(t) for t in texts]})
    total = frame.select(exact_sum(pl.col("v"))).item()
    assert Decimal(repr(total)) == exact
    assert Decimal(repr(sum_money(frame["v"].to_list()))) == exact
    # In any order: the same float, bit for bit.
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=1)
    assert shuffled.select(exact_sum(pl.col("v"))).item() == total


# -- every output of the commands -----------------------------------------------------------


def _orders(tmp_path):
    """Customers whose figures fall on half a cent, and many-line orders of 3-decimal lines.

    Returns the file and the expected figures per customer (decimal module): order value =
    exact sum of its lines rounded half up; revenue = sum of order values; monetary_value =
    mean order value of the days after the first (half up).
    """
    rows = []
    fixed = {  # first day, then two later days: the repeat mean is the half cent
        "CX": ["10.00", "17.61", "17.62"], "CY": ["5.00", "32.50", "32.51"],
        "CZ": ["1.00", "0.10", "0.11"], "CW": ["2.00", "1.00", "1.01"],
    }
    for c, amounts in fixed.items():
        for day, amount in enumerate(amounts):
            rows.append((f"{c}-{day}", c, f"2024-01-{day * 4 + 1:02d} 10:00:00", amount))
    rng = random.Random(18)
    for n in range(40):
        c = f"R{n:02d}"
        for day in range(rng.randint(1, 4)):
            for _ in range(rng.randint(1, 60)):  # lines of one order
                amount = f"{rng.randint(1, 99_999) / 1000:.3f}"
                rows.append((f"{c}-{day}", c, f"2024-02-{day * 3 + 1:02d} 09:00:00", amount))
    path = tmp_path / "orders.csv"
    path.write_text("order_id,customer_id,order_time,amount\n"
                    + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    orders: dict[str, Decimal] = {}
    customer_of, day_of = {}, {}
    for order_id, c, time, amount in rows:
        orders[order_id] = orders.get(order_id, Decimal(0)) + Decimal(amount)
        customer_of[order_id], day_of[order_id] = c, time[:10]
    expected = {}
    for c in sorted(set(customer_of.values())):
        mine = sorted((day_of[o], half_up(v)) for o, v in orders.items() if customer_of[o] == c)
        revenue = sum(v for _, v in mine)
        first = mine[0][0]
        repeats = [v for d, v in mine if d != first]
        mean = half_up(sum(repeats) / len(repeats)) if repeats else Decimal(0)
        expected[c] = {"revenue": revenue, "monetary_value": mean}
    return path, expected


def _run(*args):
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def test_the_rfm_members_file_rounds_every_figure_half_up(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path, expected = _orders(tmp_path)
    assert expected["CX"]["monetary_value"] == Decimal("17.62")  # 17.615
    assert expected["CY"]["monetary_value"] == Decimal("32.51")  # 32.505
    assert expected["CZ"]["monetary_value"] == Decimal("0.11")  # 0.105
    assert expected["CW"]["monetary_value"] == Decimal("1.01")  # 1.005
    _run("segment", "rfm", "--orders", path, "--out", "m.csv", "-q")
    _run("segment", "rfm", "--orders", path, "--out", "m.parquet", "-q")
    csv = pl.read_csv(tmp_path / "m.csv", schema_overrides={"customer_id": pl.String})
    parquet = pl.read_parquet(tmp_path / "m.parquet")
    for frame in (csv, parquet):
        got = {r["customer_id"]: r for r in frame.to_dicts()}
        assert set(got) == set(expected)
        for c, want in expected.items():
            assert got[c]["revenue"] == float(want["revenue"]), c
            assert got[c]["monetary"] == float(want["revenue"]), c
            assert got[c]["monetary_value"] == float(want["monetary_value"]), c
    # The CSV holds the decimal text itself, not a float's expansion.
    text = (tmp_path / "m.csv").read_text(encoding="utf-8")
    assert ",17.62\n" in text
    assert ",32.51\n" in text
    # JSON: the segments' revenue is the exact sum of their members'.
    doc = json.loads(_run("segment", "rfm", "--orders", path, "-f", "json", "-q").stdout)
    members = {r["customer_id"]: r["segment"] for r in csv.to_dicts()}
    for seg in doc["segments"]:
        want = sum((e["revenue"] for c, e in expected.items() if members[c] == seg["segment"]),
                   Decimal(0))
        assert seg["revenue"] == float(want), seg["segment"]


def test_every_command_totals_the_same_exact_revenue(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path, expected = _orders(tmp_path)
    total = float(sum(e["revenue"] for e in expected.values()))
    buckets = json.loads(_run("segment", "buckets", "--orders", path, "-f", "json", "-q").stdout)
    assert buckets["totals"]["revenue"] == total
    promo = json.loads(_run("promo", "simulate", "--orders", path, "-f", "json", "-q").stdout)
    assert promo["revenue_before"] == total
    abc = json.loads(_run("segment", "abc", "--orders", path, "-f", "json", "-q").stdout)
    assert float(sum(Decimal(repr(c["value"])) for c in abc["classes"])) == total
    cohort = json.loads(_run("cohort", "--orders", path, "--metric", "revenue", "-f", "json",
                             "-q").stdout)
    cells = [Decimal(repr(v)) for c in cohort["cohorts"] for v in c["revenue"]]
    assert float(sum(cells)) == total
    for c in cohort["cohorts"]:  # each cell the exact sum of its orders, to the cent
        assert all(Decimal(repr(v)) == half_up(Decimal(repr(v))) for v in c["revenue"])
    # The table shows the same figures as the JSON.
    doc = json.loads(_run("segment", "rfm", "--orders", path, "-f", "json", "-q").stdout)
    table = _run("segment", "rfm", "--orders", path, "-q").stdout
    for seg in doc["segments"]:
        if seg["customers"]:
            assert f"{seg['revenue']:,.2f}" in table, seg


@pytest.mark.parametrize(("text", "expected"), HALVES)
def test_tables_and_html_show_money_by_the_same_rule(text, expected):
    # A money figure that reaches a renderer unrounded (a mean) is shown by the same rule.
    from cust.cli.tables import _cell
    from cust.reports.html import format_cell

    shown = f"{Decimal(expected):,.2f}"
    assert _cell(float(text), "money") == shown
    assert format_cell(float(text), "money") == shown
