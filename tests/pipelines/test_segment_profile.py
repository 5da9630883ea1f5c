"""Customer profiles by attribute, tiers from points, key accounts vs sample buyers."""

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cust.pipelines.errors import ConfigError, InputFileError, MissingColumnError
from cust.pipelines.io.inputs import Inputs
from cust.pipelines.io.loader import LoadOptions
from cust.pipelines.io.orders import Period
from cust.pipelines.segment.profile import (
    DAYS_PER_MONTH,
    parse_by,
    profile_customers,
)
from cust.pipelines.segment.tiers import DEFAULT_LADDER, parse_ladder, tier_expr

# January 2024 (31 days). Per customer:
#   P1 enterprise/purchaser/automotive, 1000 points (silver), channel sales:
#      o1 500 (two skus, gp 200), o2 1000 (gp 300); the refunded o8 does not count
#   P2 individual/engineer/iot, 999.99 points (regular), no channel of its own:
#      o3 30 (ads, gp 10), o4 60 (ads, two skus, gp 15), o5 50 (web, gp 10)
#   P3 student/engineer/blank industry, 5000 points (gold), channel partner: o6 10 (gp 5)
#   P4 has no customers row: o7 100 (ads, gp 40)
#   P5 enterprise, 60000 points (diamond), never bought
ORDERS = """\
order_id,customer_id,order_time,amount,cost,sku,status,channel
o1,P1,2024-01-01 09:00,300,200,s1,paid,web
o1,P1,2024-01-01 09:00,200,100,s2,paid,web
o2,P1,2024-01-11,1000,700,s1,paid,web
o8,P1,2024-01-12,999,1,s1,refunded,web
o3,P2,2024-01-05,30,20,s3,paid,ads
o4,P2,2024-01-06,20,15,s3,paid,ads
o4,P2,2024-01-06,40,30,s4,paid,ads
o5,P2,2024-01-20,50,40,s5,paid,web
o6,P3,2024-01-31 23:00,10,5,s1,paid,seo
o7,P4,2024-01-15,100,60,s2,paid,ads
"""

CUSTOMERS = """\
customer_id,customer_type,role,industry,points,channel
P1,企业,采购,automotive,1000,sales
P2,individual,工程师,iot,999.99,
P3,学生,engineer,,5000,partner
P5,enterprise,purchaser,automotive,60000,sales
"""

MONTHS = 31 / DAYS_PER_MONTH


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def inputs_for(orders, customers=None):
    return Inputs({"orders": orders, "customers": customers, "events": None, "prices": None},
                  LoadOptions())


@pytest.fixture
def paths(tmp_path):
    return write(tmp_path, "orders.csv", ORDERS), write(tmp_path, "customers.csv", CUSTOMERS)


ALL = ("customer_type", "role", "industry", "tier", "channel")


def groups(result, dimension):
    return result.groups.filter(pl.col("dimension") == dimension).drop("dimension")


def test_customer_type_by_hand(paths):
    result = profile_customers(inputs_for(*paths), by=ALL)
    expected = pl.DataFrame(
        {
            "group": ["enterprise", "individual", "student", "unknown"],
            "customers": [1, 1, 1, 1],
            "orders": [2, 3, 1, 1],
            "revenue": [1500.0, 140.0, 10.0, 100.0],
            "revenue_share": [1500 / 1750, 140 / 1750, 10 / 1750, 100 / 1750],
            "gross_profit": [500.0, 35.0, 5.0, 40.0],
            "gross_margin": [500 / 1500, 0.25, 0.5, 0.4],
            "aov": [750.0, 46.67, 10.0, 100.0],
            "orders_per_customer_month": [round(2 / MONTHS, 4), round(3 / MONTHS, 4),
                                          round(1 / MONTHS, 4), round(1 / MONTHS, 4)],
            "skus_per_order": [1.5, 1.333, 1.0, 1.0],
        }
    )
    assert_frame_equal(groups(result, "customer_type"), expected, check_dtypes=False)


def test_role_industry_tier_channel_by_hand(paths):
    result = profile_customers(inputs_for(*paths), by=ALL)
    role = groups(result, "role")
    assert role["group"].to_list() == ["purchaser", "engineer", "unknown"]
    engineer = role.row(1, named=True)
    assert (engineer["customers"], engineer["orders"], engineer["revenue"]) == (2, 4, 150.0)
    assert engineer["gross_margin"] == pytest.approx(40 / 150)
    assert engineer["aov"] == 37.5
    assert engineer["skus_per_order"] == 1.25
    assert engineer["orders_per_customer_month"] == pytest.approx(4 / 2 / MONTHS, abs=1e-4)

    industry = groups(result, "industry")
    # P3's blank industry and P4's missing row are both unknown
    assert industry.select("group", "customers", "orders", "revenue").rows() == [
        ("automotive", 1, 2, 1500.0), ("iot", 1, 3, 140.0), ("unknown", 2, 2, 110.0)]

    tier = groups(result, "tier")
    # every level in ladder order, empty ones with 0; P5 (diamond) never bought
    assert tier.select("group", "customers", "orders", "revenue").rows() == [
        ("regular", 1, 3, 140.0), ("silver", 1, 2, 1500.0), ("gold", 1, 1, 10.0),
        ("platinum", 0, 0, 0.0), ("diamond", 0, 0, 0.0), ("unknown", 1, 1, 100.0)]

    channel = groups(result, "channel")
    # the customers export's channel first, the order's own channel where it has none
    assert channel.select("group", "customers", "orders", "revenue").rows() == [
        ("sales", 1, 2, 1500.0), ("ads", 2, 3, 190.0), ("web", 1, 1, 50.0),
        ("partner", 1, 1, 10.0)]
    assert channel["revenue_share"].sum() == pytest.approx(1.0)


def test_notes_period_and_json(paths):
    result = profile_customers(inputs_for(*paths), by=ALL)
    assert result.period == {"start": date(2024, 1, 1), "end": date(2024, 1, 31), "days": 31,
                             "months": round(MONTHS, 3)}
    assert result.customers_without_row == 1
    assert any("1 buying customers have no row" in n for n in result.notes())
    doc = result.to_json()
    assert {"groups", "comparison", "tiers", "period", "dimensions"} <= set(doc)
    assert doc["tiers"][:2] == [{"tier": "regular", "min_points": 0.0},
                                {"tier": "silver", "min_points": 1000.0}]
    assert doc["period"]["start"] == "2024-01-01"


def test_key_accounts_vs_sample_buyers(paths):
    result = profile_customers(inputs_for(*paths), by=("tier",), top=1)
    comp = {row["group"]: row for row in result.comparison.iter_rows(named=True)}
    key = comp["key_accounts"]
    assert (key["customers"], key["orders"], key["revenue"], key["gross_profit"]) == (
        1, 2, 1500.0, 500.0)
    assert key["gross_margin"] == pytest.approx(1 / 3)
    assert key["aov"] == 750.0
    assert key["revenue_share"] == pytest.approx(1500 / 1750)
    assert key["gross_profit_share"] == pytest.approx(500 / 580)
    sample = comp["sample_buyers"]  # P2: 3 orders, median 50 < 100
    assert (sample["customers"], sample["orders"], sample["revenue"], sample["gross_profit"]) == (
        1, 3, 140.0, 35.0)
    assert sample["gross_margin"] == 0.25
    assert sample["aov"] == pytest.approx(46.67)
    assert sample["skus_per_order"] == pytest.approx(1.333)


def test_sample_thresholds_are_options(paths):
    result = profile_customers(inputs_for(*paths), by=("tier",), top=2, sample_min_orders=1,
                               sample_max_median=50)
    comp = {row["group"]: row for row in result.comparison.iter_rows(named=True)}
    # median < 50: P3 (10) only; P2's median is exactly 50
    assert comp["sample_buyers"]["customers"] == 1
    assert comp["sample_buyers"]["revenue"] == 10.0
    # top 2 by gross profit: P1 (500) and P4 (40)
    assert comp["key_accounts"]["revenue"] == 1600.0


def test_without_cost_gross_figures_are_null(tmp_path):
    orders = write(tmp_path, "orders.csv", "order_id,customer_id,order_time,amount,channel\n"
                   "a,X,2024-01-01,10,web\nb,X,2024-01-02,20,web\nc,X,2024-01-03,30,web\n"
                   "d,Y,2024-01-03,900,ads\n")
    result = profile_customers(inputs_for(orders), by=("channel",), top=1)
    assert result.groups["gross_profit"].to_list() == [None, None]
    assert result.groups["gross_margin"].to_list() == [None, None]
    comp = {row["group"]: row for row in result.comparison.iter_rows(named=True)}
    assert comp["key_accounts"]["revenue"] == 900.0  # ranked by revenue instead
    assert comp["key_accounts"]["gross_profit"] is None
    assert comp["sample_buyers"]["revenue"] == 60.0
    assert any("no cost column" in n for n in result.notes())


def test_since_until_set_the_months(paths):
    period = Period(since=date(2024, 1, 1), until=date(2024, 3, 31))
    result = profile_customers(inputs_for(*paths), by=("role",), period=period)
    assert result.period["days"] == 91
    purchaser = groups(result, "role").row(0, named=True)
    assert purchaser["orders_per_customer_month"] == pytest.approx(2 / (91 / 30.44), abs=1e-4)


def test_as_of_ends_the_period(paths):
    result = profile_customers(inputs_for(*paths), by=("role",),
                               period=Period(as_of=date(2024, 1, 10)))
    assert result.period["end"] == date(2024, 1, 10)
    assert groups(result, "role")["orders"].sum() == 3  # o1, o3, o4


def test_missing_customers_export_names_dimension_and_option(paths):
    orders, _ = paths
    with pytest.raises(InputFileError, match="--by tier") as info:
        profile_customers(inputs_for(orders), by=("channel", "tier"))
    assert "--customers" in str(info.value)
    # channel alone works from the orders' own channel
    result = profile_customers(inputs_for(orders), by=("channel",))
    assert groups(result, "channel")["group"].to_list() == ["web", "ads", "seo"]


def test_missing_points_column(tmp_path, paths):
    orders, _ = paths
    customers = write(tmp_path, "c2.csv", "customer_id,customer_type\nP1,enterprise\n")
    with pytest.raises(MissingColumnError, match="points"):
        profile_customers(inputs_for(orders, customers), by=("tier",))
    # by default, dimensions without a column are left out with a note
    result = profile_customers(inputs_for(orders, customers))
    assert result.dimensions == ("customer_type",)
    assert any("no points column: tier is left out" in n for n in result.notes())


def test_parse_by():
    assert parse_by("tier, channel,tier") == ("tier", "channel")
    with pytest.raises(Exception, match="unknown dimension 'region'"):
        parse_by("tier,region")


@pytest.mark.parametrize(
    ("points", "tier"),
    [(0, "regular"), (999.99, "regular"), (1000, "silver"), (4999.99, "silver"),
     (5000, "gold"), (20000, "platinum"), (49999, "platinum"), (50000, "diamond"),
     (10**9, "diamond"), (-10, "regular"), (None, None)],
)
def test_tier_ladder_edges(points, tier):
    frame = pl.DataFrame({"points": [points]}, schema={"points": pl.Float64})
    assert frame.select(tier_expr(pl.col("points"), DEFAULT_LADDER))[0, 0] == tier


def test_ladder_from_config_replaces_the_default():
    ladder = parse_ladder({"vip": 500, "normal": 0, "svip": 2000.5})
    assert ladder == (("normal", 0.0), ("vip", 500.0), ("svip", 2000.5))
    assert parse_ladder({}) == DEFAULT_LADDER


@pytest.mark.parametrize(
    ("section", "fragment"),
    [
        ({"silver": 1000}, "needs a level at 0"),
        ({"regular": 0, "silver": "1000"}, "not a number"),
        ({"regular": 0, "silver": -1}, "must be >= 0"),
        ({"regular": 0, "silver": True}, "not a number"),
        ({"regular": 0, "a": 10, "b": 10}, "both start at 10"),
    ],
)
def test_nonsense_ladders_are_refused(section, fragment):
    with pytest.raises(ConfigError) as info:
        parse_ladder(section)
    assert fragment in str(info.value)
    assert "Hint:" in str(info.value)


def test_custom_ladder_in_groups(paths):
    ladder = parse_ladder({"basic": 0, "vip": 1000})
    result = profile_customers(inputs_for(*paths), by=("tier",), ladder=ladder)
    assert groups(result, "tier").select("group", "customers").rows() == [
        ("basic", 1), ("vip", 2), ("unknown", 1)]
