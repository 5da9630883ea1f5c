"""Every JSON document's keys are snake_case (CONTRACT.md section 4), on the sample data."""

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
COMMANDS = [
    ["check"],
    ["segment", "buckets", "--trend", "month"],
    ["segment", "abc", "--weight", "gross_profit=0.6,orders=0.2,recency=0.2"],
    ["segment", "rfm"],
    ["segment", "profile", "--by", "customer_type,tier"],
    ["funnel", "--by", "platform", "--drift", "--explain"],
    ["funnel", "paths", "--from", "home"],
    ["cohort", "--split", "promo"],
    ["promo", "simulate", "--threshold", "500", "--reward-amount", "50", "--response", "fixed",
     "--reach", "100", "--uptake", "0.2", "--bootstrap", "20"],
    ["promo", "simulate", "--sweep", "100:1000:100", "--reward-percent", "5"],
    ["promo", "compare"],
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


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_json_keys_are_snake_case(args, tmp_path, monkeypatch):
    monkeypatch.setenv("CUST_CACHE_DIR", str(tmp_path / "cache"))
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert list(_bad_keys(doc)) == []


def test_the_key_walk_finds_a_bad_key():
    assert list(_bad_keys({"ok": [{"a b": 1}], "segment": {"Platform": 1}})) == [".ok[].a b"]
