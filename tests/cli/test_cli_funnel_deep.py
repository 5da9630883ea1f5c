"""``cust funnel --order/--exclude`` and optional steps from the command line (issue 24)."""

import json

import pytest
from typer.testing import CliRunner

from cust.cli.main import app

runner = CliRunner()

# s1: a search between view and cart; s2: the cart removed before the purchase.
EVENTS = """\
user_id,session_id,event,event_time
u1,s1,product_view,2024-03-01 10:00:00
u1,s1,search,2024-03-01 10:01:00
u1,s1,add_to_cart,2024-03-01 10:02:00
u1,s1,purchase,2024-03-01 10:03:00.500
u2,s2,product_view,2024-03-01 12:00:00
u2,s2,add_to_cart,2024-03-01 12:01:00
u2,s2,remove_from_cart,2024-03-01 12:02:00
u2,s2,purchase,2024-03-01 12:03:00
"""


def _events(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text(EVENTS, encoding="utf-8")
    return str(path)


def _json(tmp_path, *args):
    result = runner.invoke(app, ["funnel", "--events", _events(tmp_path), "-f", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_plain_funnel_has_no_new_option_keys(tmp_path):
    doc = _json(tmp_path)
    assert [s["entered"] for s in doc["steps"]] == [2, 2, 2]
    assert not {"order", "exclude", "optional_steps"} & set(doc)
    # Cart to purchase: 60.5 and 120 s -> median 90.25 (sub-seconds kept).
    assert doc["steps"][2]["median_seconds_to_convert"] == 90.25


@pytest.mark.parametrize(("args", "entered", "keys"), [
    # strict: s1 stops at the view (a search follows it), s2 at the cart (a removal).
    (["--order", "strict"], [2, 1, 0], {"order": "strict"}),
    (["--order", "any"], [2, 2, 2], {"order": "any"}),
    (["--exclude", "remove_from_cart"], [2, 2, 1], {"exclude": ["remove_from_cart"]}),
    (["--steps", "product_view,add_to_cart?,purchase", "--exclude", "search"], [2, 1, 1],
     {"optional_steps": ["add_to_cart"]}),
])
def test_order_exclude_and_optional_steps(tmp_path, args, entered, keys):
    doc = _json(tmp_path, *args)
    assert [s["entered"] for s in doc["steps"]] == entered
    for k, v in keys.items():
        assert doc[k] == v


@pytest.mark.parametrize(("args", "words"), [
    (["--order", "sideways"], "sideways"),
    (["--steps", "product_view?,purchase"], "cannot be optional"),
    (["--steps", "product_view,add_to_cart?", "--order", "any"], "need --order ordered"),
    (["--exclude", "purchase"], "also a step"),
    (["--steps", "product_view,add_to_cart?,purchase", "--drift"], "every step required"),
])
def test_bad_options_exit_2_with_a_hint(tmp_path, args, words):
    result = runner.invoke(app, ["funnel", "--events", _events(tmp_path), *args])
    assert result.exit_code == 2, result.output
    assert words in " ".join(result.stderr.split())
    assert result.stdout == ""


def test_same_sku_on_the_sample_counts_pairs_at_least_units():
    def entered(*args):
        result = runner.invoke(app, ["funnel", "-f", "json", "--same", "sku", *args])
        assert result.exit_code == 0, result.output
        doc = json.loads(result.stdout)
        assert (doc["same"], doc["count"]) == ("sku", args[-1] if args else "units")
        return [s["entered"] for s in doc["steps"]]

    units, pairs = entered(), entered("--count", "conversions")
    assert all(u <= p for u, p in zip(units, pairs, strict=True))
    assert pairs[0] > units[0]


def test_same_needs_the_column(tmp_path):
    result = runner.invoke(app, ["funnel", "--events", _events(tmp_path), "--same", "sku"])
    assert result.exit_code == 2
    assert "no 'sku' column" in result.stderr
    assert "Hint:" in result.stderr


def test_times_in_json_and_table(tmp_path):
    doc = _json(tmp_path, "--times")
    first = doc["times_to_convert"][0]
    # View to cart: 120 and 60 s -> median 90, p90 114 (linear), both within an hour.
    assert (first["step"], first["from_step"], first["units"]) == ("add_to_cart",
                                                                   "product_view", 2)
    assert (first["median_seconds"], first["p90_seconds"]) == (90.0, 114.0)
    assert first["within_1h"] == 1.0
    assert [b["units"] for b in first["histogram"]] == [0, 0, 2, 0, 0, 0, 0]
    table = runner.invoke(app, ["funnel", "--events", _events(tmp_path), "--times"])
    assert table.exit_code == 0, table.output
    assert "Time to convert" in table.stdout


def test_attribution_on_the_sample_keeps_the_totals():
    def doc(*args):
        result = runner.invoke(app, ["funnel", "-f", "json", "--by", "category", *args])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    first, last = doc(), doc("--attribution", "last")
    assert last["attribution"] == "last"
    assert "attribution" not in first
    # The units are the same; only the breakdown value each carries may move.
    assert [s["entered"] for s in first["steps"]] == [s["entered"] for s in last["steps"]]
    bad = runner.invoke(app, ["funnel", "--attribution", "step:0", "--by", "category"])
    assert bad.exit_code == 2
    assert "Hint:" in bad.stderr
