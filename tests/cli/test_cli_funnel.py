"""``cust funnel`` and ``cust paths`` from the command line."""

import json

from typer.testing import CliRunner

from cust.cli.main import app

runner = CliRunner()


def test_funnel_json_keys_on_the_sample():
    result = runner.invoke(app, ["funnel", "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [s["step"] for s in doc["steps"]] == ["product_view", "add_to_cart", "purchase"]
    assert set(doc["steps"][0]) >= {"step", "entered", "conversion_from_previous",
                                    "conversion_from_first"}
    entered = [s["entered"] for s in doc["steps"]]
    assert entered == sorted(entered, reverse=True)
    assert sum(p["entered"][0] for p in doc["periods"]) == entered[0]
    assert "alerts" not in doc


def test_fail_on_drift_exits_3_and_alerts_have_contract_keys():
    result = runner.invoke(app, ["funnel", "--period", "week", "--by", "category",
                                 "--drift", "--explain", "--fail-on-drift", "-f", "json"])
    assert result.exit_code == 3, result.output
    doc = json.loads(result.stdout)
    alert = doc["alerts"][0]
    assert set(alert) >= {"period", "step", "segment", "rate", "expected", "lower", "upper",
                          "direction"}
    assert alert["segment"] == {"category": "mcu"}


def test_paths_and_refusals():
    result = runner.invoke(app, ["paths", "--from", "home", "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert abs(sum(r["share"] for r in doc["next"]) - 1) < 0.05 or len(doc["next"]) == 10
    bad = runner.invoke(app, ["funnel", "--steps", "home"])
    assert bad.exit_code == 2
    assert "Hint:" in bad.output
    for args in (["--baseline", "0"], ["--baseline", "1"], ["--steps", ","], ["--steps", ""]):
        bad = runner.invoke(app, ["funnel", "--drift", *args])
        assert bad.exit_code == 2, args
        assert "Hint:" in bad.output


def test_funnel_paths_is_paths_and_takes_the_options_given_before_it(tmp_path):
    """``cust funnel paths`` (the issue's spelling) is ``cust paths``; options before the
    subcommand's name reach it, as after it."""
    direct = runner.invoke(app, ["paths", "--from", "home", "--top", "3", "-f", "json"])
    nested = runner.invoke(app, ["funnel", "paths", "--from", "home", "--top", "3",
                                 "-f", "json"])
    assert direct.exit_code == nested.exit_code == 0, nested.output
    assert json.loads(direct.stdout) == json.loads(nested.stdout)
    events = tmp_path / "e.csv"
    events.write_text("user_id,session_id,event,event_time\n"
                      "u1,s1,home,2024-03-01 10:00:00\nu1,s1,search,2024-03-01 10:01:00\n"
                      "u2,s2,home,2024-03-01 11:00:00\nu2,s2,search,2024-03-01 11:02:00\n"
                      "u3,s3,home,2024-03-01 12:00:00\nu3,s3,product_view,2024-03-01 12:01:00\n",
                      encoding="utf-8")
    before = runner.invoke(app, ["funnel", "--events", str(events), "-f", "json", "paths"])
    assert before.exit_code == 0, before.output
    doc = json.loads(before.stdout)
    assert [(r["step"], r["count"]) for r in doc["next"]] == [("search", 2), ("product_view", 1)]
    assert doc["input"]["events"]["rows_read"] == 6


def test_explain_tells_the_price_story_on_the_sample():
    result = runner.invoke(app, ["funnel", "--period", "week", "--by", "category",
                                 "--drift", "--explain"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "product_view -> add_to_cart (category=mcu) went down" in text
    assert "prices rose on" in text
    assert "2026-07-29" in text
    doc = json.loads(runner.invoke(app, ["funnel", "--period", "week", "--by", "category",
                                         "--drift", "--explain", "-f", "json"]).stdout)
    [story] = doc["explanations"]
    assert {c["column"] for c in story["contributors"]} == {"platform", "channel"}
    assert story["price_rise_summary"][0]["category"] == "mcu"
