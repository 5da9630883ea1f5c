"""``cust cohort`` from the command line: contract keys, sample data, clear refusals."""

import json

from typer.testing import CliRunner

from cust.cli.main import app

runner = CliRunner()


def test_cohort_json_on_the_bundled_sample():
    result = runner.invoke(app, ["cohort", "--max-periods", "6", "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["command"] == "cohort"
    assert doc["input"]["orders"]["rows_read"] > 0
    first = doc["cohorts"][0]
    assert set(first) >= {"cohort", "size", "active", "retention", "complete"}
    for c in doc["cohorts"]:
        assert c["retention"][0] == 1.0
        assert all(a <= c["size"] for a in c["active"])
        assert len(c["active"]) == len(c["retention"]) == len(c["complete"]) <= 6
    assert any(p["group"] == "offer" for p in doc["payback"])


def test_cohort_bad_option_exits_2():
    result = runner.invoke(app, ["cohort", "--period", "day"])
    assert result.exit_code == 2
    assert "Hint:" in result.output
