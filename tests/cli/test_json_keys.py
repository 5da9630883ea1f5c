"""Every JSON document's keys are snake_case, and it has `command` and `input` (CONTRACT.md
section 4), on the sample data."""

import json
import re

import pytest
from typer.testing import CliRunner

from cust.cli.main import app

runner = CliRunner()
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
# Objects whose keys are the data's own names (columns of --by, banner ids, file names):
# not keys of the format.
DATA_KEYED = {"segment", "breakdown", "files"}
# (the document's `command`, the arguments): funnel paths (also `cust paths`) is "paths";
# promo compare ranks simulations, so its document is a promo simulate one.
COMMANDS = [
    ("check", ["check"]),
    ("segment buckets", ["segment", "buckets", "--trend", "month"]),
    ("segment abc", ["segment", "abc", "--weight", "gross_profit=0.6,orders=0.2,recency=0.2"]),
    ("segment rfm", ["segment", "rfm"]),
    ("segment profile", ["segment", "profile", "--by", "customer_type,tier"]),
    ("funnel", ["funnel", "--by", "platform", "--drift", "--explain"]),
    ("paths", ["funnel", "paths", "--from", "home"]),
    ("paths", ["funnel", "paths", "--from", "home", "--depth", "3", "--matrix"]),
    ("paths", ["paths", "--to", "purchase", "--depth", "3"]),
    ("funnel", ["funnel", "--value", "orders"]),
    ("funnel drivers", ["funnel", "drivers", "--step", "all"]),
    ("cohort", ["cohort", "--split", "promo"]),
    ("promo simulate", ["promo", "simulate", "--threshold", "500", "--reward-amount", "50",
                        "--response", "fixed", "--reach", "100", "--uptake", "0.2",
                        "--bootstrap", "20"]),
    ("promo simulate", ["promo", "simulate", "--sweep", "100:1000:100", "--reward-percent", "5"]),
    ("promo simulate", ["promo", "compare"]),
    ("clv", ["clv", "--as-of", "2026-06-30", "--holdout-until", "2026-10-25"]),
]


def _bad_keys(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            if not SNAKE.match(str(key)):
                yield f"{path}.{key}"
            if key not in DATA_KEYED:
                yield from _bad_keys(value, f"{path}.{key}")
    elif isinstance(node, list):
        for item in node:
            yield from _bad_keys(item, f"{path}[]")


@pytest.mark.parametrize(("command", "args"), COMMANDS, ids=[" ".join(a[:2]) for _, a in COMMANDS])
def test_json_keys_are_snake_case(command, args, tmp_path, monkeypatch):
    monkeypatch.setenv("CUST_CACHE_DIR", str(tmp_path / "cache"))
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert list(_bad_keys(doc)) == []
    # Every document has `command` and `input` per source (CONTRACT section 4).
    assert doc["command"] == command
    assert doc["input"], "no source in input"
    for name, report in doc["input"].items():
        assert name in {"orders", "customers", "events", "prices"}
        assert isinstance(report["rows_read"], int)
        assert isinstance(report["rows_rejected"], int)
        assert 0 <= report["rows_rejected"] <= report["rows_read"]
        assert sum(report["rejected_by_reason"].values()) == report["rows_rejected"]


def test_the_key_walk_finds_a_bad_key():
    assert list(_bad_keys({"ok": [{"a b": 1}], "segment": {"Platform": 1}})) == [".ok[].a b"]
