"""``cust.toml`` keys: a misspelt key is refused like a misspelt table, ``[funnel] steps`` typed."""

from pathlib import Path

import pytest

from cust.cli.main import app
from cust.pipelines.errors import ConfigError, InvalidOptionError
from cust.pipelines.funnel import steps_from
from cust.pipelines.settings import KNOWN_KEYS, load_config

EVERY_SECTION = """\
timezone = "Asia/Shanghai"
[columns.orders]
amount = "实付金额"
[funnel]
steps = ["product_view", "purchase"]
[cohort]
offer = "discount"
[promo.scenarios.big]
threshold = 1000
reward_amount = 100
[tiers]
regular = 0
vip = 2000
[rfm]
[cache]
enabled = false
[privacy]
salt = "s3cret"
[engine]
name = "polars"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cust.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_documented_key_is_accepted(tmp_path):
    config = load_config(write(tmp_path, EVERY_SECTION))
    assert set(config.sections) | {"timezone", "columns"} == set(KNOWN_KEYS)


@pytest.mark.parametrize(
    ("text", "key", "guess"),
    [
        ('timzone = "Asia/Shanghai"\n', "timzone", "timezone"),  # silently ignored before
        ("[funel]\nsteps = ['a', 'b']\n", "funel", "funnel"),
        ("[report]\nlang = 'zh'\n", "report", None),
    ],
)
def test_an_unknown_top_level_key_is_refused(tmp_path, text, key, guess):
    with pytest.raises(ConfigError, match=rf"cust\.toml: unknown key {key}") as info:
        load_config(write(tmp_path, text))
    assert info.value.hint == (
        "known top-level keys and tables: timezone, columns, funnel, cohort, promo, tiers, rfm, "
        "cache, privacy, engine"
    )
    assert (f"did you mean {guess}?" in info.value.message) == (guess is not None)


def test_an_unknown_key_of_promo_is_refused(tmp_path):
    # [promo.scenario.x] (singular) would otherwise leave every scenario out.
    path = write(tmp_path, "[promo.scenario.x]\nthreshold = 100\nreward_amount = 10\n")
    with pytest.raises(ConfigError, match=r"unknown key scenario in \[promo\]") as info:
        load_config(path)
    assert "scenarios" in info.value.hint


@pytest.mark.parametrize(
    "value", ["5", "[]", "['product_view', '']", "['product_view', 3]", "' , '", "true"]
)
def test_funnel_steps_that_are_not_event_names_are_refused(tmp_path, value):
    with pytest.raises(ConfigError, match=r"\[funnel\] steps must be a list of event names"):
        load_config(write(tmp_path, f"[funnel]\nsteps = {value}\n"))


def test_funnel_steps_as_one_string_are_split_like_the_option(tmp_path):
    # Before: tuple("product_view,add_to_cart") gave the steps "p", "r", "o", ...
    config = load_config(write(tmp_path, '[funnel]\nsteps = " product_view, add_to_cart ,"\n'))
    assert config.section("funnel") == {"steps": ["product_view", "add_to_cart"]}
    assert steps_from(None, config) == ("product_view", "add_to_cart")
    listed = load_config(write(tmp_path, '[funnel]\nsteps = [" product_view", "purchase"]\n'))
    assert steps_from(None, listed) == ("product_view", "purchase")
    with pytest.raises(InvalidOptionError, match="at least two"):
        steps_from(None, load_config(write(tmp_path, '[funnel]\nsteps = "product_view"\n')))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('timzone = "Asia/Shanghai"\n', "unknown key timzone"),
        ("[funnel]\nsteps = 5\n", "[funnel] steps must be a list of event names, found 5"),
    ],
)
def test_through_the_cli_exit_2_without_a_traceback(tmp_path, runner, text, message):
    config = write(tmp_path, text)
    result = runner.invoke(app, ["--config", str(config), "funnel"])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Hint:" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("table", "typo", "guess"), [
    ("funnel", "stpes", "steps"), ("cache", "enable", "enabled"), ("cohort", "offers", "offer"),
    ("privacy", "slat", "salt"), ("rfm", "segment", "segments"),
])
def test_a_misspelt_key_inside_a_table_is_refused(tmp_path, table, typo, guess):
    path = tmp_path / "cust.toml"
    path.write_text(f'[{table}]\n{typo} = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"unknown key {typo} in \[{table}\] \(did you mean "
                                          rf"{guess}\?\)"):
        load_config(path)
