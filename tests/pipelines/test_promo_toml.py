"""Scenario tables (a scenarios file, ``[promo.scenarios]``): every value of its TOML type.

A wrongly typed value was a traceback (``threshold = "abc"``, ``tiers = 5``), or worse read
as something else (``per_multiple = "false"`` as true, ``reward_amount = true`` as 1).
"""

import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cust.cli.main import app
from cust.pipelines.errors import ConfigError
from cust.pipelines.promo import Scenario, scenarios_from_mapping, scenarios_from_toml

runner = CliRunner()


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


BAD_VALUES = [
    ('threshold = "abc"\nreward_amount = 10', "threshold must be a number, found 'abc'"),
    ('threshold = "100"\nreward_amount = 10', "threshold must be a number, found '100'"),
    ("threshold = 100\nreward_amount = true", "reward_amount must be a number, found True"),
    ('threshold = 100\nreward_amount = "ten"', "reward_amount must be a number, found 'ten'"),
    ("threshold = 100\ngift_cost = {a = 1}", "gift_cost must be a number, found {'a': 1}"),
    ("threshold = 100\nreward_percent = [5]", "reward_percent must be a number"),
    ("threshold = 100\npoints_rate = 1\npoint_value = false", "point_value must be a number"),
    ("tiers = 5", "tiers must be pairs of threshold and reward, found 5"),
    ("tiers = [[100]]", "tiers must be pairs of threshold and reward, found [[100]]"),
    ('tiers = [["a", 1]]', "tiers must be pairs of threshold and reward"),
    ("tiers = [[100, true]]", "tiers must be pairs of threshold and reward"),
    ("tiers = []", "tiers must be pairs of threshold and reward"),
    ('tiers = "100-10"', "tiers '100-10' is not a list of threshold:reward"),
    ("threshold = 100\nreward_amount = 10\nper_multiple = 'false'",
     "per_multiple must be true or false, found 'false'"),
    ("threshold = 100\nreward_amount = 10\nper_multiple = 'no'",
     "per_multiple must be true or false, found 'no'"),
    ("threshold = 100\nreward_amount = 10\nper_multiple = 1",
     "per_multiple must be true or false, found 1"),
    # Conflicts a table can state as well as the options.
    ("threshold = 50\ntiers = [[200, 30], [100, 10]]",
     "threshold 50 contradicts the tiers 200:30,100:10, whose lowest threshold is 100"),
    ('tiers = "100:10,100:20"', "tiers 100:10,100:20 give the threshold 100 twice"),
    ("tiers = [[100, 10], [100, 20]]", "tiers 100:10,100:20 give the threshold 100 twice"),
    ("tiers = [[0, 10]]", "tiers 0:10 need positive thresholds"),
    ("threshold = 100\ngift_cost = 3\nper_multiple = true",
     "--per-multiple (per_multiple) applies only to an amount reward"),
]


@pytest.mark.parametrize(("table", "message"), BAD_VALUES, ids=[b[0] for b in BAD_VALUES])
def test_a_wrongly_typed_value_names_the_scenario_and_the_key(tmp_path, table, message):
    path = write(tmp_path, f"[scenarios.ok]\nthreshold = 5\nreward_amount = 1\n"
                           f"[scenarios.spend]\n{table}\n")
    with pytest.raises(ConfigError) as info:
        scenarios_from_toml(path)
    assert info.value.message.startswith(f"scenario 'spend' in {path}: ")
    assert message in info.value.message
    assert info.value.hint
    # The same tables in cust.toml, as promo compare, promo simulate --scenario and
    # report weekly read them.
    with pytest.raises(ConfigError, match="scenario 'spend' in cust.toml"):
        scenarios_from_mapping({"spend": tomllib.loads(table)}, "cust.toml")


def test_values_of_their_type_are_read():
    tables = {
        "every": {"threshold": 1000, "reward_amount": 80, "per_multiple": True},
        "once": {"threshold": 1000.0, "reward_amount": 80, "per_multiple": False},
        "pairs": {"tiers": [[100, 10], [500, 60.5]]},
        "agreeing": {"threshold": 100, "tiers": "500:60,100:10"},
        "points": {"threshold": 10, "points_rate": 2, "point_value": 0.02},
    }
    every, once, pairs, agreeing, points = scenarios_from_mapping(tables, "here")
    assert (every.kind, once.kind) == ("per_multiple", "amount")
    assert pairs.tiers == ((100.0, 10.0), (500.0, 60.5))
    assert pairs.threshold == 100.0  # the lowest tier, when no threshold is stated
    assert (agreeing.threshold, agreeing.tiers) == (100.0, ((500.0, 60.0), (100.0, 10.0)))
    assert (points.points_rate, points.point_value) == (2.0, 0.02)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # [scenario.b] (singular) ran only a, silently.
        ("[scenarios.a]\nthreshold = 100\nreward_amount = 10\n"
         "[scenario.b]\nthreshold = 100\nreward_amount = 20\n",
         "unknown top-level key scenario in a scenarios file"),
        ('timezone = "Asia/Shanghai"\n[scenarios.a]\nthreshold = 1\nreward_amount = 1\n',
         "unknown top-level key timezone in a scenarios file"),
        # A cust.toml (it has [promo]) may hold cust.toml's keys, and nothing else.
        ("[promo.scenarios.a]\nthreshold = 1\nreward_amount = 1\n"
         "[scenarios.b]\nthreshold = 1\nreward_amount = 1\n",
         "unknown top-level key scenarios in a cust.toml"),
        ("[promo.scenario.a]\nthreshold = 1\nreward_amount = 1\n",
         "unknown key scenario in [promo]"),
    ],
)
def test_an_unknown_table_of_a_scenarios_file_is_refused(tmp_path, text, message):
    with pytest.raises(ConfigError) as info:
        scenarios_from_toml(write(tmp_path, text))
    assert message in info.value.message
    assert "scenarios" in (info.value.hint or "")


def test_the_allowed_keys_are_listed():
    with pytest.raises(ConfigError) as info:
        scenarios_from_mapping({"a": {"threshold": 1, "reward": 1}}, "here")
    assert "unknown keys ['reward']" in info.value.message
    assert "reward_amount" in info.value.hint


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("promo = 5\n", "[promo] must be a table, found int"),  # was an AttributeError
        ("scenarios = 5\n", "scenarios must be tables like [scenarios.<name>], found 5"),
        ("[scenarios]\na = 5\n", "scenario 'a' in"),
        ("[scenarios]\n", "defines no scenarios"),
    ],
)
def test_a_file_without_scenario_tables_is_refused(tmp_path, text, message):
    with pytest.raises(ConfigError) as info:
        scenarios_from_toml(write(tmp_path, text))
    assert message in info.value.message


def test_a_cust_toml_may_be_given_as_the_scenarios_file(tmp_path):
    path = write(tmp_path, 'timezone = "Asia/Shanghai"\n[tiers]\nvip = 0\n'
                           "[promo.scenarios.big]\nthreshold = 1000\nreward_amount = 100\n",
                 name="cust.toml")
    assert scenarios_from_toml(path) == [Scenario(threshold=1000, reward_amount=100, name="big")]


# -- through the CLI: exit 2, the message, never a traceback ---------------------------------

CLI_FILES = [
    '[scenarios.a]\nthreshold = "abc"\nreward_amount = 10\n',
    "[scenarios.a]\ntiers = 5\n",
    "[scenarios.a]\ntiers = [[100]]\n",
    '[scenarios.a]\ntiers = [["a", 1]]\n',
    '[scenarios.a]\nthreshold = 5\nreward_amount = "ten"\n',
    "[scenarios.a]\nthreshold = 5\ngift_cost = {a = 1}\n",
    "[scenarios.a]\nthreshold = 5\nreward_amount = 5\nper_multiple = 'false'\n",
    "[scenarios.a]\nthreshold = 5\nreward_amount = true\n",
]


@pytest.mark.parametrize("text", CLI_FILES)
def test_promo_compare_refuses_with_exit_2(tmp_path, text):
    result = runner.invoke(app, ["promo", "compare", str(write(tmp_path, text))])
    assert result.exit_code == 2, result.output
    assert "scenario 'a' in" in result.stderr
    assert "Hint:" in result.stderr
    assert "Traceback" not in result.output


def test_a_file_holding_only_promo_5_exits_2(tmp_path):
    result = runner.invoke(app, ["promo", "compare", str(write(tmp_path, "promo = 5\n"))])
    assert result.exit_code == 2, result.output
    assert "[promo] must be a table" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("text", CLI_FILES[:3])
@pytest.mark.parametrize(
    "args",
    [["promo", "compare"], ["promo", "simulate", "--scenario", "a"], ["report", "weekly"]],
)
def test_cust_toml_scenarios_refuse_with_exit_2(tmp_path, text, args):
    config = write(tmp_path, text.replace("[scenarios.", "[promo.scenarios."), name="my.toml")
    out = ["--out", str(tmp_path / "r.html")] if args[0] == "report" else []
    result = runner.invoke(app, ["--config", str(config), *args, *out])
    assert result.exit_code == 2, result.output
    assert f"scenario 'a' in {config} [promo.scenarios]" in result.stderr
    assert "Traceback" not in result.output


def test_report_weekly_refuses_a_bad_scenario_with_exit_2(tmp_path):
    config = write(tmp_path, '[promo.scenarios.a]\nthreshold = "abc"\nreward_amount = 10\n',
                   name="cust.toml")
    result = runner.invoke(app, ["--config", str(config), "report", "weekly",
                                 "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 2, result.output
    assert "threshold must be a number, found 'abc'" in result.stderr
    assert "Traceback" not in result.output
