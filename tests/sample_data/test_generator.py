"""Invariants of the synthetic sample generator, checked on a generated 2,000-customer set."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

import cust.sample_data.generator as gen_module
from cust.sample_data.generator import DEFAULT_START, SampleSummary, generate

N_CUSTOMERS = 2000

ORDER_COLUMNS = [
    "order_id", "customer_id", "order_time", "sku", "quantity", "amount", "cost", "discount",
    "promo", "status", "channel",
]
CUSTOMER_COLUMNS = [
    "customer_id", "registered_at", "customer_type", "role", "industry", "points", "region",
    "channel",
]
EVENT_COLUMNS = [
    "event_time", "user_id", "session_id", "event", "platform", "channel", "page", "banner_id",
    "sku", "category",
]
PRICE_COLUMNS = ["sku", "changed_at", "old_price", "new_price", "category"]
CHANNELS = {"search", "ads", "referral", "direct", "social"}
EVENTS = {
    "home", "search", "product_view", "banner_view", "banner_click", "add_to_cart", "checkout",
    "payment", "purchase",
}
CATEGORIES = {
    "resistors", "capacitors", "ics", "mcu", "connectors", "sensors", "power", "passives_kits",
}
TIME_FMT = "%Y-%m-%d %H:%M:%S"


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleSummary:
    return generate(tmp_path_factory.mktemp("sample_a"), customers=N_CUSTOMERS)


@pytest.fixture(scope="module")
def orders(sample: SampleSummary) -> pl.DataFrame:
    return pl.read_csv(
        sample.files["orders"],
        schema_overrides={"promo": pl.String, "order_id": pl.String, "sku": pl.String},
    ).with_columns(pl.col("order_time").str.to_datetime(TIME_FMT))


@pytest.fixture(scope="module")
def customers(sample: SampleSummary) -> pl.DataFrame:
    return pl.read_csv(sample.files["customers"]).with_columns(
        pl.col("registered_at").str.to_datetime(TIME_FMT)
    )


@pytest.fixture(scope="module")
def events(sample: SampleSummary) -> pl.DataFrame:
    return pl.read_parquet(sample.files["events"])


@pytest.fixture(scope="module")
def prices(sample: SampleSummary) -> pl.DataFrame:
    return pl.read_csv(sample.files["prices"]).with_columns(
        pl.col("changed_at").str.to_datetime(TIME_FMT)
    )


@pytest.fixture(scope="module")
def order_table(orders: pl.DataFrame) -> pl.DataFrame:
    """One row per order: paid value, list value, cost, discount, first promo."""
    return orders.group_by("order_id").agg(
        pl.col("customer_id").first(),
        pl.col("order_time").first(),
        pl.col("status").first(),
        pl.col("promo").first(),
        pl.col("amount").sum().round(2).alias("value"),
        pl.col("cost").sum().alias("cost"),
        pl.col("discount").sum().round(2).alias("discount"),
        (pl.col("amount") + pl.col("discount")).sum().round(2).alias("list_value"),
    )


@pytest.fixture(scope="module")
def session_table(events: pl.DataFrame) -> pl.DataFrame:
    return events.group_by("session_id").agg(
        pl.col("user_id").n_unique().alias("users"),
        pl.col("event_time").min().alias("t0"),
        pl.col("event_time").max().alias("t1"),
        pl.col("event").eq("product_view").any().alias("viewed"),
        pl.col("event").eq("add_to_cart").any().alias("carted"),
        pl.col("event").eq("purchase").any().alias("bought"),
        pl.col("event").sort_by("event_time").first().alias("first_event"),
        pl.col("user_id").first(),
    )


# ----------------------------------------------------------------------------- summary, schema
def test_summary_matches_files(
    sample: SampleSummary,
    orders: pl.DataFrame,
    customers: pl.DataFrame,
    events: pl.DataFrame,
    prices: pl.DataFrame,
) -> None:
    assert set(sample.files) == {"orders", "customers", "events", "prices"}
    assert all(p.exists() and p.parent == sample.out_dir for p in sample.files.values())
    assert sample.files["events"].suffix == ".parquet"
    assert sample.customers == customers.height == N_CUSTOMERS
    assert sample.order_lines == orders.height
    assert sample.orders == orders["order_id"].n_unique()
    assert sample.events == events.height
    assert sample.price_changes == prices.height
    assert sample.start == DEFAULT_START
    assert sample.end == DEFAULT_START + timedelta(days=364)
    assert sample.drop_category == "mcu"
    assert sample.drop_date == DEFAULT_START + timedelta(days=270)
    # about ten lines and fifty events per customer
    assert 7 <= orders.height / N_CUSTOMERS <= 13
    assert 40 <= events.height / N_CUSTOMERS <= 60


def test_columns_and_types(
    orders: pl.DataFrame, customers: pl.DataFrame, events: pl.DataFrame, prices: pl.DataFrame
) -> None:
    assert orders.columns == ORDER_COLUMNS
    assert customers.columns == CUSTOMER_COLUMNS
    assert events.columns == EVENT_COLUMNS
    assert prices.columns == PRICE_COLUMNS
    assert orders["quantity"].dtype.is_integer()
    assert customers["points"].dtype.is_integer()
    for col in ("amount", "cost", "discount"):
        assert orders[col].dtype == pl.Float64
        assert orders[col].min() >= 0
        assert (orders[col] * 100 - (orders[col] * 100).round()).abs().max() < 1e-6
    assert orders["quantity"].min() >= 1
    assert events.schema["event_time"] == pl.Datetime("us")
    assert orders["order_id"].str.contains(r"^SO\d{13,}$").all()
    assert orders["customer_id"].str.contains(r"^C\d{6,}$").all()
    assert set(orders["status"].unique()) == {"paid", "refunded", "cancelled"}
    assert set(orders["channel"].unique()) == CHANNELS
    assert set(orders["promo"].drop_nulls().unique()) <= {"first_order", "MJ500", "MJ1000"}
    assert set(customers["customer_type"].unique()) == {"enterprise", "individual", "student"}
    assert set(customers["role"].unique()) == {"purchaser", "engineer", "other"}
    assert set(customers["industry"].unique()) == {
        "automotive", "industrial_control", "consumer_electronics", "medical", "communications",
        "energy", "education", "other",
    }
    assert set(customers["region"].unique()) == set("华东 华南 华北 华中 西南 西北 东北".split())
    assert set(events["event"].unique()) == EVENTS
    assert set(events["platform"].unique()) == {"web", "app", "mini_program"}
    assert set(events["channel"].unique()) == CHANNELS
    assert set(events["page"].unique()) == {"home", "search", "product", "cart", "checkout", "pay"}
    assert set(events["category"].drop_nulls().unique()) == CATEGORIES
    assert set(prices["category"].unique()) <= CATEGORIES


def test_orders_dates_within_period(sample: SampleSummary, orders: pl.DataFrame) -> None:
    lo = datetime.combine(sample.start, datetime.min.time())
    hi = datetime.combine(sample.end + timedelta(days=1), datetime.min.time())
    assert orders["order_time"].min() >= lo
    assert orders["order_time"].max() < hi


def test_order_lines_share_order_attributes(orders: pl.DataFrame) -> None:
    per_order = orders.group_by("order_id").agg(
        pl.col(c).n_unique() for c in ("customer_id", "order_time", "status", "channel", "promo")
    )
    for c in ("customer_id", "order_time", "status", "channel", "promo"):
        assert per_order[c].max() == 1, c
    # sorted by order_time, then order_id; order ids are numbered within the day
    keys = orders.select("order_time", "order_id")
    assert keys.equals(keys.sort("order_time", "order_id"))
    day_of_id = orders["order_id"].str.slice(2, 8)
    assert (day_of_id == orders["order_time"].dt.strftime("%Y%m%d")).all()


def test_catalogue(events: pl.DataFrame, orders: pl.DataFrame) -> None:
    skus = events.select("sku", "category").drop_nulls().unique()
    assert skus["sku"].n_unique() == skus.height  # one category per SKU
    assert 800 <= skus.height <= 1500
    assert orders["sku"].n_unique() <= 1500
    mcu = skus.filter(pl.col("category") == "mcu")["sku"]
    families = r"^(STM32|GD32|CH32|ESP32|ATMEGA|PIC|HC32|N32|AT32|NRF|APM32|MSP)"
    assert mcu.str.contains(families).all()


# ----------------------------------------------------------------------------- customers
def test_customers_cover_orders(orders: pl.DataFrame, customers: pl.DataFrame) -> None:
    assert customers["customer_id"].is_unique().all()
    ordered = set(orders["customer_id"].unique())
    assert ordered <= set(customers["customer_id"])
    assert len(ordered) < customers.height  # some registered customers never order
    first = orders.group_by("customer_id").agg(pl.col("order_time").min())
    joined = first.join(customers, on="customer_id")
    assert (joined["registered_at"] <= joined["order_time"]).all()


def test_customer_mix(customers: pl.DataFrame) -> None:
    share = customers["customer_type"].value_counts(normalize=True)
    share = dict(zip(share["customer_type"], share["proportion"], strict=True))
    assert share["enterprise"] == pytest.approx(0.45, abs=0.07)
    assert share["individual"] == pytest.approx(0.40, abs=0.07)
    assert share["student"] == pytest.approx(0.15, abs=0.05)
    students = customers.filter(pl.col("customer_type") == "student")
    assert set(students["role"].unique()) <= {"engineer", "other"}


def test_points_follow_spend(orders: pl.DataFrame, customers: pl.DataFrame) -> None:
    spend = (
        orders.filter(pl.col("status") == "paid")
        .group_by("customer_id")
        .agg(pl.col("amount").sum().alias("spend"))
    )
    joined = customers.join(spend, on="customer_id", how="left").with_columns(
        pl.col("spend").fill_null(0.0)
    )
    corr = joined.select(pl.corr("points", "spend", method="spearman")).item()
    assert corr > 0.6


# ----------------------------------------------------------------------------- order economics
def test_order_value_bands(order_table: pl.DataFrame) -> None:
    v = order_table.filter(pl.col("status") == "paid")["value"]
    band = {
        "0-50": (v < 50).mean(),
        "50-100": ((v >= 50) & (v < 100)).mean(),
        "100-1000": ((v >= 100) & (v < 1000)).mean(),
        "1000+": (v >= 1000).mean(),
        "5000+": (v >= 5000).mean(),
    }
    assert band["0-50"] >= 0.45, band
    assert band["50-100"] >= 0.15, band
    assert 0.15 <= band["100-1000"] <= 0.40, band
    assert 0.01 <= band["1000+"] <= 0.08, band
    assert 0.001 <= band["5000+"] <= 0.015, band
    assert v.max() > 20 * v.median()  # heavy tail


def test_one_and_done_share(order_table: pl.DataFrame) -> None:
    per_customer = order_table.group_by("customer_id").agg(
        (pl.col("status") == "paid").sum().alias("paid_orders")
    )
    share = (per_customer["paid_orders"] == 1).mean()
    assert 0.45 <= share <= 0.70


def test_first_order_offer(orders: pl.DataFrame, order_table: pl.DataFrame) -> None:
    first = (
        order_table.sort("order_time", "order_id")
        .group_by("customer_id", maintain_order=True)
        .first()
    )
    assert (first["promo"].fill_null("") == "first_order").mean() > 0.5
    offer = order_table.filter(pl.col("promo") == "first_order")
    assert (offer["discount"] > 0).all()
    free = offer.filter(pl.col("value") == 0)
    assert free.height > 0  # some first orders were completely free
    assert (free["discount"] == free["list_value"]).all()
    partial = offer.filter(pl.col("value") > 0)
    assert partial["discount"].is_in([5.0, 10.0, 15.0, 20.0, 30.0]).all()
    assert partial["discount"].max() == 30.0
    # a first-order offer only ever appears on a customer's first order
    assert offer["customer_id"].is_unique().all()
    no_promo = orders.filter(pl.col("promo").is_null())
    assert (no_promo["discount"] == 0).all()


def test_status_shares(order_table: pl.DataFrame) -> None:
    share = order_table["status"].value_counts(normalize=True)
    share = dict(zip(share["status"], share["proportion"], strict=True))
    assert share["refunded"] == pytest.approx(0.02, abs=0.01)
    assert share["cancelled"] == pytest.approx(0.03, abs=0.012)


def test_margin_small_orders_above_large(order_table: pl.DataFrame, orders: pl.DataFrame) -> None:
    paid = order_table.filter(pl.col("status") == "paid", pl.col("promo").is_null())

    def margin(df: pl.DataFrame) -> float:
        return 1 - df["cost"].sum() / df["value"].sum()

    small = margin(paid.filter(pl.col("value") < 100))
    large = margin(paid.filter(pl.col("value") >= 1000))
    assert 0.35 <= small <= 0.60
    assert 0.05 <= large <= 0.20
    assert small - large > 0.15
    assert (orders["cost"] > orders["amount"] + orders["discount"]).sum() > 0  # below cost


def test_some_loss_making_customers(order_table: pl.DataFrame) -> None:
    profit = (
        order_table.filter(pl.col("status") == "paid")
        .group_by("customer_id")
        .agg((pl.col("value") - pl.col("cost")).sum().alias("profit"))
    )
    share = (profit["profit"] < 0).mean()
    assert 0.005 <= share <= 0.08


def test_threshold_campaign_bunching(order_table: pl.DataFrame) -> None:
    mj = order_table.filter(pl.col("promo") == "MJ500")
    assert mj.height >= 10
    assert (mj["discount"] == 50).all()
    assert (mj["list_value"] >= 500).all()
    days = mj["order_time"].dt.date().unique()
    in_window = order_table.filter(
        pl.col("order_time").dt.date().is_in(days.implode()),
        pl.col("promo").fill_null("") != "first_order",
    )["list_value"]
    below = ((in_window >= 450) & (in_window < 500)).sum()
    above = ((in_window >= 500) & (in_window < 550)).sum()
    assert above > 2 * max(below, 1)
    outside = order_table.filter(~pl.col("order_time").dt.date().is_in(days.implode()))
    lv = outside["list_value"]
    assert ((lv >= 500) & (lv < 550)).sum() < 1.5 * ((lv >= 450) & (lv < 500)).sum()


# ----------------------------------------------------------------------------- prices, story
def test_planted_price_rise(sample: SampleSummary, prices: pl.DataFrame, events: pl.DataFrame):
    on_drop = prices.filter(pl.col("changed_at").dt.date() == sample.drop_date)
    assert set(on_drop["category"].unique()) == {"mcu"}
    mcu_skus = set(events.filter(pl.col("category") == "mcu")["sku"].unique())
    assert mcu_skus <= set(on_drop["sku"])
    ratio = on_drop["new_price"] / on_drop["old_price"]
    assert ratio.min() >= 1.20
    assert ratio.max() <= 1.30
    assert ratio.mean() == pytest.approx(1.25, abs=0.01)
    others = prices.filter(pl.col("changed_at").dt.date() != sample.drop_date)
    assert others.height >= 5
    assert (others["category"] != "mcu").all()
    assert (others["new_price"] > others["old_price"]).any()
    assert (others["new_price"] < others["old_price"]).any()
    assert prices["sku"].is_unique().all()


def _view_to_cart(events: pl.DataFrame, drop: date) -> pl.DataFrame:
    """Per (category, before/after) share of sessions viewing it that also carted it."""
    cutoff = datetime.combine(drop, datetime.min.time())
    per = (
        events.filter(pl.col("category").is_not_null())
        .group_by("session_id", "category")
        .agg(
            pl.col("event").eq("product_view").any().alias("viewed"),
            pl.col("event").eq("add_to_cart").any().alias("carted"),
            (pl.col("event_time").min() >= cutoff).alias("after"),
        )
        .filter("viewed")
    )
    return per.group_by("category", "after").agg(pl.col("carted").mean().alias("rate"), pl.len())


def test_planted_conversion_drop(sample: SampleSummary, events: pl.DataFrame) -> None:
    conv = _view_to_cart(events, sample.drop_date)

    def rate(cats: set[str], after: bool) -> float:
        sub = conv.filter(pl.col("category").is_in(list(cats)), pl.col("after") == after)
        return float((sub["rate"] * sub["len"]).sum() / sub["len"].sum())

    before_mcu, after_mcu = rate({"mcu"}, False), rate({"mcu"}, True)
    assert 0.25 <= before_mcu <= 0.40
    assert after_mcu / before_mcu - 1 <= -0.25
    other = CATEGORIES - {"mcu"}
    before_other, after_other = rate(other, False), rate(other, True)
    assert abs(after_other / before_other - 1) < 0.10
    for c in other:
        assert abs(rate({c}, True) / rate({c}, False) - 1) < 0.10, c


# ----------------------------------------------------------------------------- events
def test_funnel_rates(session_table: pl.DataFrame, events: pl.DataFrame) -> None:
    view_to_cart = session_table.filter("viewed")["carted"].mean()
    cart_to_buy = session_table.filter("carted")["bought"].mean()
    assert 0.25 <= view_to_cart <= 0.35
    assert 0.30 <= cart_to_buy <= 0.45
    ctr = (events["event"] == "banner_click").sum() / (events["event"] == "banner_view").sum()
    assert 0.02 <= ctr <= 0.08
    viewed = session_table.filter("viewed")
    assert viewed["first_event"].is_in(["home", "search"]).mean() >= 0.7
    # anonymous visitors never pay
    assert not session_table.filter(pl.col("user_id").str.starts_with("V"))["bought"].any()


def test_event_columns_are_consistent(events: pl.DataFrame, customers: pl.DataFrame) -> None:
    banner = events["event"].is_in(["banner_view", "banner_click"])
    assert events.filter(banner)["banner_id"].is_not_null().all()
    assert events.filter(~banner)["banner_id"].is_null().all()
    assert events["banner_id"].drop_nulls().str.contains(r"^B0[1-6]$").all()
    with_sku = events["event"].is_in(["product_view", "add_to_cart", "purchase"])
    assert events.filter(with_sku)["sku"].is_not_null().all()
    assert events.filter(~with_sku)["sku"].is_null().all()
    assert (events["sku"].is_null() == events["category"].is_null()).all()
    users = events["user_id"].unique()
    assert users.str.contains(r"^(C\d{6,}|V\d{7,})$").all()
    assert set(users.filter(users.str.starts_with("C"))) <= set(customers["customer_id"])
    assert users.str.starts_with("V").any()


def test_sessions(session_table: pl.DataFrame, events: pl.DataFrame) -> None:
    assert (session_table["users"] == 1).all()  # a session id belongs to one user
    gaps = (
        events.sort("session_id", "event_time")
        .with_columns(gap=pl.col("event_time").diff().over("session_id"))
        .filter(pl.col("gap").is_not_null())
    )
    assert gaps["gap"].max() < timedelta(minutes=30)
    assert gaps["gap"].min() > timedelta(0)
    # a user's sessions are separated by more than 30 minutes
    between = (
        session_table.sort("user_id", "t0")
        .with_columns(gap=pl.col("t0") - pl.col("t1").shift().over("user_id"))
        .filter(pl.col("gap").is_not_null())
    )
    assert between["gap"].min() > timedelta(minutes=30)
    # some sessions have other events between add_to_cart and checkout
    steps = events.sort("session_id", "event_time").with_columns(
        nxt=pl.col("event").shift(-1).over("session_id")
    )
    assert steps.filter(pl.col("event") == "add_to_cart", pl.col("nxt") != "checkout").height > 0


# ----------------------------------------------------------------------------- API behaviour
def test_deterministic(tmp_path: Path, sample: SampleSummary) -> None:
    again = generate(tmp_path / "b", customers=N_CUSTOMERS)
    for key, path in sample.files.items():
        assert again.files[key].read_bytes() == path.read_bytes(), key
    other_seed = generate(tmp_path / "c", customers=200, days=90, seed=8)
    same_seed = generate(tmp_path / "d", customers=200, days=90, seed=7)
    assert (
        other_seed.files["orders"].read_bytes() != same_seed.files["orders"].read_bytes()
    )


def test_parquet_format_and_progress(tmp_path: Path) -> None:
    calls: list[tuple[str, float]] = []
    s = generate(
        tmp_path,
        customers=300,
        days=60,
        fmt="parquet",
        events_per_customer=10,
        progress=lambda stage, f: calls.append((stage, f)),
    )
    assert {p.suffix for p in s.files.values()} == {".parquet"}
    o = pl.read_parquet(s.files["orders"])
    assert o.columns == ORDER_COLUMNS
    assert o.schema["order_time"] == pl.Datetime("us")
    c = pl.read_parquet(s.files["customers"])
    assert c.columns == CUSTOMER_COLUMNS
    assert pl.read_parquet(s.files["prices"]).columns == PRICE_COLUMNS
    assert s.end == s.start + timedelta(days=59)
    assert s.start <= s.drop_date <= s.end
    assert calls
    assert all(0.0 <= f <= 1.0 for _, f in calls)
    assert calls[-1][1] == 1.0
    assert 5 <= s.events / 300 <= 15


def test_lines_per_customer_scales(tmp_path: Path) -> None:
    s = generate(tmp_path, customers=1000, days=180, lines_per_customer=20, events_per_customer=5)
    assert 15 <= s.order_lines / 1000 <= 25


def test_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fmt"):
        generate(tmp_path, customers=10, fmt="xlsx")
    with pytest.raises(ValueError, match="customers"):
        generate(tmp_path, customers=0)


# ----------------------------------------------------------------------------- bundled files
BUNDLED = Path(gen_module.__file__).parent


def test_bundled_sample_is_current(tmp_path: Path) -> None:
    fresh = generate(tmp_path)  # the defaults the bundled sample was made with
    for key, path in fresh.files.items():
        bundled = BUNDLED / path.name
        assert bundled.exists(), key
        assert bundled.read_bytes() == path.read_bytes(), f"regenerate {bundled.name}"
    total = sum((BUNDLED / p.name).stat().st_size for p in fresh.files.values())
    assert total < 8_000_000


def test_bad_orders_file() -> None:
    path = BUNDLED / "bad" / "orders_bad.csv"
    raw = pl.read_csv(path, infer_schema=False)
    assert raw.columns == ORDER_COLUMNS
    assert 15 <= raw.height <= 25
    assert raw["order_id"].null_count() == 1
    assert raw["customer_id"].null_count() == 1
    assert "yesterday" in raw["order_time"].to_list()
    assert {"12,3x", "NaN", "¥1,234.50"} <= set(raw["amount"].to_list())
    assert "-3" in raw["quantity"].to_list()
    assert "lost" in raw["status"].to_list()
    two_customers = raw.drop_nulls("order_id").group_by("order_id").agg(
        pl.col("customer_id").drop_nulls().n_unique()
    )
    assert two_customers["customer_id"].max() == 2
    readme = (BUNDLED / "bad" / "README.md").read_text(encoding="utf-8")
    for row in range(1, raw.height + 1):
        assert f"| {row} |" in readme
