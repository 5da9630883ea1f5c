"""``cust.toml`` and ``--map``: reading, validating, and their effect on what the loader reads."""

from pathlib import Path

import pytest

from cust.cli.main import app
from cust.pipelines.errors import ConfigError
from cust.pipelines.settings import (
    Config,
    load_config,
    parse_column_map,
    validate_timezone,
)

FULL = """\
timezone = "Asia/Shanghai"

[columns.orders]
amount = "实付金额"
customer_id = "买家账号"

[columns.events]
user_id = "访客ID"

[funnel]
steps = ["product_view", "add_to_cart", "purchase"]
"""


def write(tmp_path: Path, text: str, name: str = "cust.toml", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


# -- load_config ----------------------------------------------------------------------------


def test_a_full_config_is_read(tmp_path):
    path = write(tmp_path, FULL)
    config = load_config(path)
    assert config.path == path
    assert config.timezone == "Asia/Shanghai"
    assert config.columns == {
        "orders": {"amount": "实付金额", "customer_id": "买家账号"},
        "events": {"user_id": "访客ID"},
    }
    assert config.section("funnel") == {"steps": ["product_view", "add_to_cart", "purchase"]}
    assert config.section("cohort") == {}
    assert "timezone" not in config.sections
    assert "columns" not in config.sections


def test_a_config_saved_with_a_bom_is_read(tmp_path):
    config = load_config(write(tmp_path, FULL, encoding="utf-8-sig"))
    assert config.timezone == "Asia/Shanghai"


def test_without_a_path_the_current_directory_cust_toml_is_used(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_config(None) == Config()
    write(tmp_path, 'timezone = "Europe/Berlin"\n')
    config = load_config(None)
    assert config.timezone == "Europe/Berlin"
    assert config.path == Path("cust.toml")


def test_an_empty_config_means_defaults(tmp_path):
    config = load_config(write(tmp_path, ""))
    assert (config.timezone, dict(config.columns), dict(config.sections)) == (None, {}, {})


def test_a_missing_config_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match=r"config file not found: .*nope\.toml"):
        load_config(tmp_path / "nope.toml")


def test_invalid_toml_is_an_error_with_a_hint(tmp_path):
    path = write(tmp_path, "[columns.orders]\namount = 实付金额\n")
    with pytest.raises(ConfigError, match=r"cust\.toml is not valid TOML") as info:
        load_config(path)
    assert info.value.hint == 'values need quotes: amount = "实付金额"'


def test_a_config_that_is_not_utf8_is_an_error(tmp_path):
    path = tmp_path / "cust.toml"
    path.write_bytes('[columns.orders]\namount = "实付金额"\n'.encode("gbk"))
    with pytest.raises(ConfigError, match=r"is not valid TOML"):
        load_config(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('timezone = "Mars/Olympus"\n', r"unknown time zone 'Mars/Olympus'"),
        ("timezone = 8\n", r"timezone must be a string, found 8"),
        ("columns = 5\n", r"\[columns\] must be tables like \[columns\.orders\]"),
        ('[columns.invoices]\namount = "x"\n', r"unknown table \[columns\.invoices\]"),
        ('[columns]\norders = "x"\n', r"unknown table \[columns\.orders\]"),
    ],
)
def test_bad_settings_are_errors(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text))


def test_a_section_that_is_not_a_table_is_an_error(tmp_path):
    config = load_config(write(tmp_path, 'funnel = "view,cart"\n'))
    with pytest.raises(ConfigError, match=r"\[funnel\] must be a table, found str"):
        config.section("funnel")


@pytest.mark.parametrize("name", ["Asia/Shanghai", "UTC", "America/New_York"])
def test_known_time_zones_are_accepted(name):
    assert validate_timezone(name, where="here") == name


# The last five open as files of the system's zoneinfo but are no IANA zone Polars knows:
# they passed this check and stopped the run with a traceback (issue 20, item 12).
@pytest.mark.parametrize("name", ["Asia/Beijing", "", "+08:00", "posixrules", "Factory",
                                  "localtime", "right/Asia/Shanghai", "posix/Asia/Shanghai"])
def test_unknown_time_zones_are_refused(name):
    with pytest.raises(ConfigError, match=r"here: unknown time zone") as info:
        validate_timezone(name, where="here")
    assert "Asia/Shanghai" in info.value.hint


# -- --map ----------------------------------------------------------------------------------


def test_map_without_a_source_applies_to_every_source():
    assert parse_column_map(["amount=实付金额", " customer_id = 买家账号 "]) == {
        "*": {"amount": "实付金额", "customer_id": "买家账号"}
    }


def test_map_with_a_source_applies_to_that_source():
    assert parse_column_map(["orders.amount=实付金额", "events.user_id=访客ID", "sku=型号"]) == {
        "orders": {"amount": "实付金额"},
        "events": {"user_id": "访客ID"},
        "*": {"sku": "型号"},
    }


def test_the_last_map_of_a_column_wins():
    assert parse_column_map(["amount=a", "amount=b"]) == {"*": {"amount": "b"}}


def test_a_header_may_contain_an_equals_sign():
    assert parse_column_map(["amount=金额(=实付)"]) == {"*": {"amount": "金额(=实付)"}}


@pytest.mark.parametrize("item", ["amount", "=实付金额", "amount=", " = "])
def test_malformed_maps_are_errors(item):
    with pytest.raises(ConfigError, match=r"is not of the form column=header") as info:
        parse_column_map([item])
    assert "--map amount=实付金额" in info.value.hint


def test_a_map_naming_an_unknown_source_is_an_error():
    with pytest.raises(ConfigError, match=r"unknown source 'invoices'"):
        parse_column_map(["invoices.amount=x"])


# -- through the CLI ------------------------------------------------------------------------

GBK_ORDERS = (
    "订单号,买家账号,下单时间,付款金额\n"
    "单1,客户甲,2024-02-01T10:00:00Z,100\n"
    "单2,客户乙,2024-02-01T20:00:00Z,200\n"
    "单3,客户甲,2024-02-03 09:30:00,300\n"
)


@pytest.fixture
def gbk_orders(tmp_path):
    path = tmp_path / "订单.csv"
    path.write_bytes(GBK_ORDERS.encode("gbk"))
    return path


def test_config_columns_and_timezone_apply(tmp_path, gbk_orders, check_json):
    config = write(
        tmp_path,
        'timezone = "Asia/Shanghai"\n\n[columns.orders]\namount = "付款金额"\n'
        'customer_id = "买家账号"\n',
    )
    doc = check_json("--orders", gbk_orders, "--config", config)
    assert doc["columns"]["orders"] == {
        "order_id": "订单号",
        "customer_id": "买家账号",
        "order_time": "下单时间",
        "amount": "付款金额",
    }
    (source,) = doc["sources"]
    assert (source["rows_read"], source["rows_rejected"]) == (3, 0)
    # 10:00Z is 18:00 in Shanghai, 20:00Z is 04:00 the next day; zone-less times are kept.
    assert source["first"] == "2024-02-01T18:00:00"
    assert source["last"] == "2024-02-03T09:30:00"


def test_without_a_timezone_zoned_times_keep_their_wall_clock(gbk_orders, check_json):
    doc = check_json(
        "--orders", gbk_orders, "--map", "amount=付款金额", "--map", "customer_id=买家账号"
    )
    assert doc["sources"][0]["first"] == "2024-02-01T10:00:00"
    assert doc["sources"][0]["last"] == "2024-02-03T09:30:00"


def test_the_map_option_beats_the_config_file(tmp_path, check_json):
    orders = tmp_path / "o.csv"
    orders.write_text(
        "order_id,customer_id,order_time,实付金额,订单金额\nA1,C1,2024-02-01,90,100\n",
        encoding="utf-8",
    )
    config = write(tmp_path, '[columns.orders]\namount = "实付金额"\n')
    doc = check_json("--orders", orders, "--config", config, "--map", "orders.amount=订单金额")
    assert doc["columns"]["orders"]["amount"] == "订单金额"


def test_cust_toml_in_the_current_directory_is_used(tmp_path, gbk_orders, check_json, monkeypatch):
    write(tmp_path, '[columns.orders]\namount = "付款金额"\ncustomer_id = "买家账号"\n')
    monkeypatch.chdir(tmp_path)
    doc = check_json("--orders", gbk_orders.name)
    assert doc["columns"]["orders"]["amount"] == "付款金额"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--config", "missing.toml"], "config file not found"),
        (["--map", "amount"], "is not of the form column=header"),
        (["--map", "invoices.amount=x"], "unknown source 'invoices'"),
    ],
)
def test_config_errors_exit_2_without_a_traceback(
    tmp_path, runner, orders_csv, monkeypatch, args, message
):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["check", "--orders", str(orders_csv), *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Hint:" in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


@pytest.mark.parametrize("zone", ["China/Beijing", "posixrules", "right/Asia/Shanghai"])
def test_a_bad_time_zone_in_the_config_exits_2(tmp_path, runner, orders_csv, zone):
    config = write(tmp_path, f'timezone = "{zone}"\n')
    result = runner.invoke(app, ["check", "--orders", str(orders_csv), "--config", str(config)])
    assert result.exit_code == 2
    assert f"unknown time zone '{zone}'" in result.stderr
