"""Synthetic sample data for ``cust``: orders, customers, click events and price changes.

The generator simulates one year (by default) of a B2B web shop for electronic components.
Engineers buy samples worth a few tens of yuan, purchasers buy production lots worth
thousands, and the shop pays for new customers with a first-order offer.  Everything is drawn
with vectorised numpy from a seeded generator, so the same arguments always give the same
files byte for byte.

*Catalogue.*  About 1,500 SKUs with part-number-like names in eight categories (resistors,
capacitors, ics, mcu, connectors, sensors, power, passives_kits).  List prices are lognormal
per category, each SKU has a purchase-cost ratio (40-62 % of list) and a Zipf-like popularity
within its category.  Prices follow a ladder: the larger the line, the lower the unit price,
so small sample lines earn 35-60 % gross margin and production lots 5-20 %.

*Customers.*  Every customer has a hidden behaviour segment: one-and-done bargain hunters
brought by the first-order offer, hobbyists (students, makers), sample-buying engineers,
purchasers of production lots and a few lasting key accounts.  The visible attributes
(customer type, role, industry, region, channel) are drawn consistently with the segment.
About 10 % of the customers registered before the covered period; the others register during
it, following a calendar with weekday rhythm, growth, Double-11 and Spring-Festival effects.
Some registered customers never order.  Loyalty points follow lifetime paid spend.

*Orders.*  A customer's first order comes soon after registering; further orders arrive as a
Poisson process over a segment-specific lifetime.  The order value is lognormal per segment,
split over a few lines whose quantities are rounded to pack sizes.  Most new customers' first
orders carry the ``first_order`` offer (10-30 yuan off, occasionally the whole order free).
Past threshold campaigns (``MJ500``: 50 off from 500, ``MJ1000``: 100 off from 1000) make some
orders just below the threshold get topped up with a cheap filler line.  About 2 % of orders
are refunded and 3 % cancelled.  A few purchaser lines were sold below cost.

*Events.*  A clickstream of sessions by logged-in customers (``C...``) and anonymous visitors
(``V...``).  A session walks a funnel template (home, banners, search, product views,
add-to-cart, checkout, payment, purchase) with other steps in between; events inside a session
are less than 30 minutes apart and a user's sessions are at least 31 minutes apart.  Visitors
cannot pay (checkout requires an account).  Add-to-cart decisions use stratified uniforms per
category and period, so realised conversions sit close to the design rates even in small
samples.  The clickstream is a simulation of its own: its purchase events are not reconciled
line by line with the orders file.

*Planted story.*  On ``drop_date`` (270 days after the start by default) every ``mcu`` SKU's
list price rises by about 25 % (rows in the price file), and from that moment the
product-view to add-to-cart conversion of mcu sessions drops by 35 % relative, while other
categories stay the same; mcu order lines also become rarer.  Some unrelated small price
changes (up and down) on other SKUs and dates are mixed in.

Large runs are generated in chunks of customers: events are written chunk by chunk with a
parquet writer (each chunk is sorted by time, so the file is time-sorted within row groups),
while the order lines are kept as compact numpy arrays, sorted globally and written in slices.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq

__all__ = ["DEFAULT_START", "SampleSummary", "generate"]

DEFAULT_START = date(2025, 11, 1)

_DAY = 86_400
_CHUNK = 50_000  # customers per generation chunk (fixed: results depend on it)
_WRITE_SLICE = 2_000_000  # order lines per written slice
_EPOCH = datetime(1970, 1, 1)

# ----------------------------------------------------------------------------- catalogue
_CATS = (
    "resistors", "capacitors", "ics", "mcu", "connectors", "sensors", "power", "passives_kits",
)
_MCU = _CATS.index("mcu")
_CAT_SHARE = np.array([0.18, 0.16, 0.18, 0.10, 0.12, 0.10, 0.10, 0.06])
_PRICE_MEDIAN = np.array([0.02, 0.05, 4.0, 9.0, 0.8, 12.0, 3.0, 35.0])
_PRICE_SIGMA = np.array([0.8, 1.0, 1.0, 0.7, 0.9, 0.9, 0.9, 0.5])
_PACK = np.array([100, 50, 1, 1, 10, 1, 1, 1])
_N_SKU = 1500
_MCU_RISE = (1.22, 1.28)  # price factor range of the planted mcu rise
_MCU_CART_FACTOR = 0.65  # mcu view -> cart conversion after the rise, relative

# ----------------------------------------------------------------------------- customers
_TYPES = ("enterprise", "individual", "student")
_TYPE_P = np.array([0.45, 0.40, 0.15])
_ROLES = ("purchaser", "engineer", "other")
_ROLE_P = np.array([  # rows: customer type
    [0.45, 0.45, 0.10],
    [0.10, 0.50, 0.40],
    [0.00, 0.60, 0.40],
])
_INDUSTRIES = (
    "automotive", "industrial_control", "consumer_electronics", "medical", "communications",
    "energy", "education", "other",
)
_INDUSTRY_P = np.array([  # rows: customer type
    [0.14, 0.24, 0.22, 0.08, 0.12, 0.10, 0.02, 0.08],
    [0.03, 0.08, 0.32, 0.02, 0.05, 0.04, 0.04, 0.42],
    [0.00, 0.00, 0.02, 0.00, 0.00, 0.00, 0.90, 0.08],
])
_REGIONS = ("华东", "华南", "华北", "华中", "西南", "西北", "东北")
_REGION_P = np.array([0.36, 0.29, 0.13, 0.09, 0.07, 0.035, 0.025])
_CHANNELS = ("search", "ads", "referral", "direct", "social")

# Behaviour segments (hidden).
_BARGAIN, _HOBBY, _ENGINEER, _PURCHASER, _KEY = range(5)
_SEG_P = np.array([  # rows: type * 3 + role; columns: segment
    [0.00, 0.00, 0.00, 0.98, 0.02],  # enterprise purchaser
    [0.25, 0.00, 0.75, 0.00, 0.00],  # enterprise engineer
    [0.40, 0.30, 0.00, 0.30, 0.00],  # enterprise other
    [0.30, 0.00, 0.00, 0.70, 0.00],  # individual purchaser
    [0.40, 0.25, 0.35, 0.00, 0.00],  # individual engineer
    [0.60, 0.40, 0.00, 0.00, 0.00],  # individual other
    [1.00, 0.00, 0.00, 0.00, 0.00],  # student purchaser (does not occur)
    [0.40, 0.50, 0.10, 0.00, 0.00],  # student engineer
    [0.65, 0.35, 0.00, 0.00, 0.00],  # student other
])
_SEG_CHANNEL_P = np.array([  # search, ads, referral, direct, social
    [0.22, 0.38, 0.10, 0.08, 0.22],
    [0.35, 0.20, 0.12, 0.15, 0.18],
    [0.45, 0.12, 0.13, 0.25, 0.05],
    [0.35, 0.10, 0.20, 0.32, 0.03],
    [0.15, 0.02, 0.43, 0.40, 0.00],
])
_P_NEVER = np.array([0.10, 0.25, 0.12, 0.10, 0.0])  # registered but never orders
_FIRST_DELAY_PRE = np.array([60.0, 40.0, 25.0, 20.0, 2.0])  # days, pre-existing customers
_RATE = np.array([1 / 70, 1 / 80, 1 / 13, 1 / 33, 1 / 9])  # repeat orders per day
_P_ONE = np.array([0.8, 0.3, 0.1, 0.25, 0.0])  # never order again after the first
_LIFE = np.array([20.0, 70.0, 150.0, 200.0, 1e9])  # mean active lifetime, days
_VAL_MEDIAN = np.array([24.0, 20.0, 18.0, 220.0, 800.0])  # order list value, yuan
_VAL_SIGMA = np.array([0.65, 0.85, 1.0, 1.35, 1.0])
_EXTRA_LINES = np.array([0.4, 0.9, 1.6, 3.0, 5.0])  # lines per order = 1 + Poisson(.)
_FIRST_PROMO_P = np.array([1.0, 0.8, 0.75, 0.6, 0.3])
_BUSINESS_HOURS_P = np.array([0.85, 0.25, 0.15])  # by customer type
_SEG_CAT_P = np.array([  # rows: segment; columns: _CATS
    [0.10, 0.08, 0.12, 0.12, 0.10, 0.16, 0.10, 0.22],
    [0.12, 0.10, 0.12, 0.14, 0.12, 0.16, 0.10, 0.14],
    [0.14, 0.13, 0.18, 0.14, 0.10, 0.14, 0.12, 0.05],
    [0.20, 0.20, 0.18, 0.10, 0.12, 0.08, 0.11, 0.01],
    [0.20, 0.20, 0.20, 0.10, 0.12, 0.07, 0.10, 0.01],
])

_STATUSES = ("paid", "refunded", "cancelled")
_PROMOS = ("first_order", "MJ500", "MJ1000")
# (promo index, threshold, discount, start as fraction of the period, length in days)
_CAMPAIGNS = ((1, 500.0, 50.0, 0.11, 14), (1, 500.0, 50.0, 0.55, 10), (2, 1000.0, 100.0, 0.85, 7))

# ----------------------------------------------------------------------------- events
_EVENTS = (
    "home", "search", "product_view", "banner_view", "banner_click", "add_to_cart", "checkout",
    "payment", "purchase",
)
_E = {name: i for i, name in enumerate(_EVENTS)}
_PLATFORMS = ("web", "app", "mini_program")
_PLATFORM_P = np.array([  # rows: enterprise, individual, student, visitor
    [0.75, 0.15, 0.10],
    [0.45, 0.30, 0.25],
    [0.30, 0.30, 0.40],
    [0.50, 0.25, 0.25],
])
_PAGES = ("home", "search", "product", "cart", "checkout", "pay")
_EVENT_PAGE = np.array([0, 1, 2, 0, 0, 2, 3, 4, 5])  # page of each event (cart may be search)
_BANNERS = ("B01", "B02", "B03", "B04", "B05", "B06")
_BANNER_CTR = np.array([0.025, 0.035, 0.045, 0.05, 0.06, 0.075])
_SESSION_CHANNEL_P = np.array([0.30, 0.15, 0.10, 0.35, 0.10])
_SESSION_CAT_P = np.array([0.12, 0.11, 0.17, 0.14, 0.10, 0.16, 0.12, 0.08])
_CART_P = np.array([0.35, 0.34, 0.32, 0.34, 0.35, 0.31, 0.33, 0.29])  # view -> cart
# Slot template of a session: the event of each slot, in order.
_SLOT_EVENT = np.array([
    _E["home"], _E["banner_view"], _E["banner_view"], _E["banner_click"], _E["search"],
    *[_E["product_view"]] * 6, _E["add_to_cart"], _E["product_view"], _E["search"],
    _E["product_view"], _E["product_view"], _E["add_to_cart"], _E["home"], _E["checkout"],
    _E["payment"], _E["purchase"], _E["purchase"],
])
_N_SLOTS = len(_SLOT_EVENT)
_EVENTS_PER_SESSION = 4.63  # measured mean of the template, used to size the session count
_CUSTOMER_EVENT_SHARE = 0.62
_MIN_SESSION_GAP = 31 * 60  # seconds between two sessions of one user
_MAX_EVENT_GAP = 1700  # seconds, < 30 minutes

_HOURS_BUSINESS = np.array([
    0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.3, 0.8, 2.0, 4.0, 5.0, 4.5,
    2.5, 3.0, 4.5, 5.0, 4.5, 3.5, 2.0, 1.5, 1.5, 1.2, 0.8, 0.4,
])
_HOURS_EVENING = np.array([
    1.0, 0.5, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 1.5, 2.0, 2.0,
    2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.5, 3.5, 4.5, 5.0, 4.0, 2.5,
])
_SPRING_FESTIVAL = {
    2024: date(2024, 2, 10), 2025: date(2025, 1, 29), 2026: date(2026, 2, 17),
    2027: date(2027, 2, 6), 2028: date(2028, 1, 26), 2029: date(2029, 2, 13),
    2030: date(2030, 2, 3), 2031: date(2031, 1, 23), 2032: date(2032, 2, 11),
}


@dataclass(frozen=True)
class SampleSummary:
    """What :func:`generate` wrote.

    Attributes
    ----------
    out_dir : Path
        Directory holding the files.
    files : dict of str to Path
        Paths of ``"orders"``, ``"customers"``, ``"events"`` and ``"prices"``.
    customers : int
        Registered customers (rows of the customers file).
    order_lines : int
        Rows of the orders file.
    orders : int
        Distinct orders.
    events : int
        Rows of the events file.
    price_changes : int
        Rows of the prices file.
    start : date
        First day covered.
    end : date
        Last day covered (inclusive).
    drop_category : str
        Category with the planted price rise and conversion drop.
    drop_date : date
        Date the price rise took effect.
    """

    out_dir: Path
    files: dict[str, Path]
    customers: int
    order_lines: int
    orders: int
    events: int
    price_changes: int
    start: date
    end: date
    drop_category: str
    drop_date: date


# ============================================================================= helpers
def _ts(d: date | datetime) -> int:
    """Return seconds since the epoch of a naive date or datetime."""
    if not isinstance(d, datetime):
        d = datetime(d.year, d.month, d.day)
    return int((d - _EPOCH).total_seconds())


def _choice(rng: np.random.Generator, p: np.ndarray, n: int) -> np.ndarray:
    """Draw ``n`` category codes with probabilities ``p``."""
    cum = np.cumsum(p / p.sum())
    return np.minimum(np.searchsorted(cum, rng.random(n), side="right"), len(p) - 1)


def _choice_rows(rng: np.random.Generator, table: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Draw one code per element, each from the probability row ``table[rows]``."""
    cum = np.cumsum(table / table.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(rows))
    out = np.zeros(len(rows), dtype=np.int64)
    for k in range(table.shape[1] - 1):
        out += u >= cum[rows, k]
    return out


def _round_price(p: np.ndarray) -> np.ndarray:
    """Round list prices like a shop does: 4 decimals below 1 yuan, else 2."""
    return np.where(p < 1, np.round(p, 4), np.round(p, 2))


def _labels(codes: np.ndarray, names: Sequence[str] | pl.Series) -> pl.Series:
    """Map integer codes to names; negative codes become null."""
    s = pl.Series(np.asarray(codes, dtype=np.int64))
    idx = pl.select(pl.when(s >= 0).then(s)).to_series()
    return pl.Series(list(names) if not isinstance(names, pl.Series) else names).gather(idx)


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pl.Series:
    """Format integers as ids such as ``C000123``."""
    s = pl.Series(np.asarray(numbers, dtype=np.int64))
    return pl.select(pl.lit(prefix) + s.cast(pl.String).str.zfill(width)).to_series()


def _datetimes(seconds: np.ndarray, micros: np.ndarray | None = None) -> pl.Series:
    """Naive ``Datetime('us')`` series from seconds (and optional extra microseconds)."""
    us = np.asarray(seconds, dtype=np.int64) * 1_000_000
    if micros is not None:
        us = us + micros
    return pl.Series(us).cast(pl.Datetime("us"))


# ============================================================================= catalogue
_TOKEN = re.compile(r"\{(\w+)\}")
_TEMPLATES: dict[str, tuple[str, ...]] = {
    "ics": (
        "TPS{n5}DDAR", "TPS{n4}DBVR", "LM{n3}DR", "OPA{n4}AIDR", "SN74HC{n3}PWR",
        "TLV{n4}IDBVR", "AD{n4}ARZ", "MAX{n4}ESE+T", "CD4{n3}BM96", "TXS{n4}EPWR",
        "LMV{n3}IDBVR", "ULN{n4}ADR", "PCA{n4}PW", "SGM{n4}YS8G/TR", "74HC{n3}D,653",
    ),
    "mcu": (
        "STM32F103{P}{F}T6", "STM32F030{P}{F}T6", "STM32G431{P}{F}T6", "STM32L431{P}{F}T6",
        "STM32F407{P}{F}T6", "GD32F303{P}{F}T6", "GD32E230{P}{F}T6", "CH32V203{P}{F}T6",
        "CH32V003{P}4P6", "ESP32-S3-WROOM-1-N{n1}R{n1}", "ESP32-C3-MINI-1-N{n1}",
        "ATMEGA{n3}P-AU", "PIC16F{n4}-I/SO", "HC32L{n3}{P}{F}TA", "N32G{n3}{P}{F}L7",
        "AT32F{n3}{P}{F}T7", "NRF52{n3}-QFAA-R", "APM32F{n3}{P}{F}T6", "MSP430G{n4}IPW20R",
    ),
    "connectors": (
        "B{n1}B-XH-A", "S{n1}B-PH-K-S", "KF2EDG-5.08-{n1}P", "PZ254V-11-{n2}P",
        "FPC-05F-{n2}PH20", "TYPE-C-31-M-{n2}", "HX25003-{n1}A", "DF13-{n1}P-1.25H",
        "RJ45-{n3}A", "DC-{n3}", "XH2.54-{n1}PW", "HDR-F-2.54_1X{n2}",
    ),
    "sensors": (
        "BME{n3}", "SHT{n2}-DIS-B", "LIS{n1}DHTR", "ICM-{n5}-P", "TMP{n3}AIDRVR",
        "HDC{n4}DMBR", "AHT{n2}", "MLX{n5}KDC-BAA", "OPT{n4}DNPR", "QMI{n4}",
        "VL53L{n1}CXV0DH/1", "INA{n3}AIDR", "ACS{n3}ELCTR-{n2}A-T", "HX{n3}", "BMP{n3}",
    ),
    "power": (
        "LM{n4}S-{V}", "AMS{n4}-{V}", "TPS{n5}DDCR", "MP{n4}GJ-Z", "XL{n4}-{V}E1",
        "SY{n4}AAC", "ME{n4}C{V2}M5G", "RT{n4}-{V2}GB", "B{n4}S-1WR3", "HLK-{n1}M{n2}",
        "SX{n4}", "TLV{n4}-{V2}DBVR",
    ),
    "passives_kits": (
        "KIT-R{SZ}-{n3}", "KIT-C{SZ}-{n2}", "KIT-LED{n1}MM-{n3}", "KIT-HDR-{n2}P",
        "KIT-DUPONT-{n3}", "KIT-ZENER-{n2}", "KIT-TRANS-{n3}", "KIT-CRYSTAL-{n2}",
        "KIT-INDUCTOR-{n2}", "KIT-SCREW-M{n1}-{n3}",
    ),
}
_E24 = (
    "10", "11", "12", "13", "15", "16", "18", "20", "22", "24", "27", "30",
    "33", "36", "39", "43", "47", "51", "56", "62", "68", "75", "82", "91",
)
_SIZES = ("0402", "0603", "0805", "1206")


def _fill(template: str, rng: np.random.Generator) -> str:
    """Fill the placeholders of a part-number template with random pieces."""

    def piece(m: re.Match[str]) -> str:
        key = m.group(1)
        if key.startswith("n"):
            k = int(key[1:])
            first = str(rng.integers(1, 10))
            return first + "".join(str(d) for d in rng.integers(0, 10, k - 1))
        options = {
            "P": "CRVKGZ", "F": "468BCE", "V": ("3.3", "5.0", "ADJ", "12", "1.8"),
            "V2": ("33", "50", "18", "25", "12"), "SZ": _SIZES,
        }[key]
        return str(options[rng.integers(len(options))])

    return _TOKEN.sub(piece, template)


def _resistor(rng: np.random.Generator) -> str:
    """Return a resistor part number, Yageo or Uniroyal style."""
    size = _SIZES[rng.integers(4)]
    val = _E24[rng.integers(24)]
    dec = int(rng.integers(2, 7))
    if rng.random() < 0.5:
        ohms = int(val) * 10 ** (dec - 1) / 10
        unit, x = ("R", ohms) if ohms < 1000 else ("K", ohms / 1e3) if ohms < 1e6 else (
            "M", ohms / 1e6)
        text = f"{x:g}"
        code = text.replace(".", unit) if "." in text else text + unit
        tol = "F" if rng.random() < 0.7 else "J"
        return f"RC{size}{tol}R-07{code}L"
    return f"{size}WAF{val}0{dec - 2}T5E"


def _capacitor(rng: np.random.Generator) -> str:
    """Return a capacitor part number, Samsung or Murata style."""
    sig = ("10", "12", "15", "18", "22", "27", "33", "39", "47", "56", "68", "82")[
        rng.integers(12)]
    code = f"{sig}{rng.integers(0, 7)}"
    tol = "KMJ"[rng.integers(3)]
    if rng.random() < 0.6:
        size = ("05", "10", "21", "31")[rng.integers(4)]
        return f"CL{size}{'ABC'[rng.integers(3)]}{code}{tol}{'BOQA'[rng.integers(4)]}8NNNC"
    size = ("155", "188", "21B", "31M")[rng.integers(4)]
    volt = ("1H", "1E", "1C", "0J")[rng.integers(4)]
    return f"GRM{size}R7{volt}{code}{tol}A01D"


@dataclass(frozen=True)
class _Catalogue:
    """SKUs sorted by category (codes index the arrays)."""

    names: pl.Series
    category: np.ndarray  # category code per SKU
    price0: np.ndarray  # list price at the start
    price1: np.ndarray  # list price after the SKU's change (== price0 when none)
    change_ts: np.ndarray  # second of the SKU's price change (int64 max when none)
    cost_ratio: np.ndarray
    pack: np.ndarray
    cum: np.ndarray  # category + cumulative popularity within the category

    def sample(self, rng: np.random.Generator, cats: np.ndarray) -> np.ndarray:
        """Draw one SKU per element of ``cats`` by popularity within the category."""
        x = cats + rng.random(len(cats)) * (1 - 1e-9)
        return np.minimum(np.searchsorted(self.cum, x, side="right"), len(self.cum) - 1)

    def price_at(self, sku: np.ndarray, ts: np.ndarray) -> np.ndarray:
        """List price of ``sku`` at second ``ts``."""
        return np.where(ts >= self.change_ts[sku], self.price1[sku], self.price0[sku])


def _catalogue(rng: np.random.Generator) -> _Catalogue:
    """Build the SKU catalogue (prices without changes yet)."""
    counts = np.maximum(np.round(_CAT_SHARE * _N_SKU).astype(int), 5)
    names: list[str] = []
    seen: set[str] = set()
    for c, cat in enumerate(_CATS):  # loop over a few hundred SKUs per category
        made = 0
        tries = 0
        while made < counts[c]:
            tries += 1
            if tries > 100 * counts[c]:
                msg = f"could not make {counts[c]} distinct part numbers for {cat}"
                raise RuntimeError(msg)
            if cat == "resistors":
                name = _resistor(rng)
            elif cat == "capacitors":
                name = _capacitor(rng)
            else:
                templates = _TEMPLATES[cat]
                name = _fill(templates[rng.integers(len(templates))], rng)
            if name not in seen:
                seen.add(name)
                names.append(name)
                made += 1
    category = np.repeat(np.arange(len(_CATS)), counts)
    n = len(names)
    price = _round_price(
        _PRICE_MEDIAN[category] * np.exp(_PRICE_SIGMA[category] * rng.standard_normal(n))
    )
    price = np.maximum(price, 0.0005)
    pop = np.empty(n)
    cum = np.empty(n)
    start = 0
    for c in range(len(_CATS)):
        k = counts[c]
        w = 1.0 / (rng.permutation(k) + 2.0) ** 1.05
        pop[start:start + k] = w
        cum[start:start + k] = c + np.cumsum(w) / w.sum()
        start += k
    cum[np.cumsum(counts) - 1] = np.arange(1, len(_CATS) + 1)  # exact block ends
    return _Catalogue(
        names=pl.Series(names),
        category=category,
        price0=price,
        price1=price.copy(),
        change_ts=np.full(n, np.iinfo(np.int64).max),
        cost_ratio=rng.uniform(0.40, 0.62, n),
        pack=_PACK[category],
        cum=cum,
    )


def _price_changes(
    rng: np.random.Generator, cat: _Catalogue, start_ts: int, days: int, drop_day: int
) -> pl.DataFrame:
    """Plant the mcu rise and a few unrelated changes; fill ``cat.price1``/``change_ts``."""
    n = len(cat.category)
    mcu = np.flatnonzero(cat.category == _MCU)
    drop_ts = start_ts + drop_day * _DAY
    cat.price1[mcu] = _round_price(cat.price0[mcu] * rng.uniform(*_MCU_RISE, len(mcu)))
    cat.change_ts[mcu] = drop_ts
    others = np.flatnonzero(cat.category != _MCU)
    k = min(len(others), max(8, n // 50))
    pick = np.sort(rng.choice(others, size=k, replace=False))
    day = rng.integers(1, max(days - 1, 2), k)
    day = np.where(day == drop_day, np.maximum(day - 3, 1), day)
    up = rng.random(k) < 0.5
    factor = np.where(up, rng.uniform(1.03, 1.12, k), rng.uniform(0.88, 0.97, k))
    cat.price1[pick] = _round_price(cat.price0[pick] * factor)
    cat.change_ts[pick] = start_ts + day * _DAY
    rows = np.concatenate([mcu, pick])
    df = pl.DataFrame({
        "sku": cat.names.gather(rows),
        "changed_at": _datetimes(cat.change_ts[rows]),
        "old_price": cat.price0[rows],
        "new_price": cat.price1[rows],
        "category": _labels(cat.category[rows], _CATS),
    })
    return df.sort("changed_at", "sku")


# ============================================================================= calendar
@dataclass(frozen=True)
class _Calendar:
    """Daily activity weights and the time window."""

    start: date
    start_ts: int
    days: int
    cum: np.ndarray  # cumulative day weights, length days + 1
    hours: np.ndarray  # (2, 24) cumulative hour profiles: business, evening

    @property
    def end_ts(self) -> int:
        """First second after the window."""
        return self.start_ts + self.days * _DAY

    @classmethod
    def build(cls, start: date, days: int, campaign_days: list[tuple[int, int]]) -> _Calendar:
        """Weekday rhythm, growth, shopping festivals, Spring Festival and campaigns."""
        d = np.arange(days)
        first = np.datetime64(start, "D")
        dates = first + d
        weekday = (dates.astype("datetime64[D]").view("int64") - 4) % 7  # 0 = Monday
        w = np.array([1.0, 1.02, 1.0, 0.98, 0.92, 0.55, 0.5])[weekday]
        w = w * (1 + 0.3 * d / max(days, 1))
        month = dates.astype("datetime64[M]").view("int64") % 12 + 1
        dom = (dates - dates.astype("datetime64[M]")).view("int64") + 1
        w = np.where((month == 11) & (dom == 11), w * 1.6, w)
        w = np.where((month == 12) & (dom == 12), w * 1.25, w)
        w = np.where((month == 6) & (dom == 18), w * 1.4, w)
        w = np.where((month == 10) & (dom <= 7), w * 0.45, w)
        for sf in _SPRING_FESTIVAL.values():
            off = (dates - np.datetime64(sf, "D")).view("int64")
            w = np.where((off >= -7) & (off <= 10), w * 0.35, w)
        for lo, hi in campaign_days:
            w[lo:hi] *= 1.15
        hours = np.vstack([_HOURS_BUSINESS, _HOURS_EVENING])
        hours = np.cumsum(hours / hours.sum(axis=1, keepdims=True), axis=1)
        return cls(start, _ts(start), days, np.concatenate([[0.0], np.cumsum(w)]), hours)

    def sample(
        self,
        rng: np.random.Generator,
        lo_ts: np.ndarray,
        hi_ts: np.ndarray,
        evening: np.ndarray,
    ) -> np.ndarray:
        """Draw one second per element in ``[lo_ts, hi_ts)`` following the calendar.

        The day follows the day weights restricted to the interval, the time of day the
        business or evening hour profile; results are clamped into the interval.
        """
        grid = np.arange(self.days + 1, dtype=np.float64)
        lo = np.clip((lo_ts - self.start_ts) / _DAY, 0, self.days)
        hi = np.clip((hi_ts - self.start_ts) / _DAY, 0, self.days)
        c_lo = np.interp(lo, grid, self.cum)
        c_hi = np.interp(hi, grid, self.cum)
        pos = np.interp(c_lo + rng.random(len(lo)) * (c_hi - c_lo), self.cum, grid)
        day = np.minimum(pos.astype(np.int64), self.days - 1)
        prof = self.hours[evening.astype(np.int64)]
        u = rng.random(len(lo))
        hour = (u[:, None] >= prof[:, :-1]).sum(axis=1)
        sec = hour * 3600 + rng.integers(0, 3600, len(lo))
        ts = self.start_ts + day * _DAY + sec
        return np.clip(ts, lo_ts, np.maximum(hi_ts - 1, lo_ts))


# ============================================================================= customers
@dataclass
class _Customers:
    """Customer attributes as code arrays (index = customer number - 1)."""

    reg_ts: np.ndarray
    pre: np.ndarray
    ctype: np.ndarray
    role: np.ndarray
    industry: np.ndarray
    region: np.ndarray
    channel: np.ndarray
    seg: np.ndarray
    never: np.ndarray
    evening: np.ndarray
    platform: np.ndarray
    spend: np.ndarray  # lifetime paid spend, filled per chunk
    n_orders: np.ndarray  # orders in the window, filled per chunk


def _customers(rng: np.random.Generator, cal: _Calendar, n: int) -> _Customers:
    """Draw all customers, numbered in registration order."""
    pre = np.sort(rng.random(n) < 0.10)[::-1]  # pre-existing customers come first
    n_pre = int(pre.sum())
    ctype = _choice(rng, _TYPE_P, n)
    # Pre-existing customers lean towards enterprises.
    ent = rng.random(n) < 0.7
    ctype = np.where(pre & ent, 0, ctype)
    role = _choice_rows(rng, _ROLE_P, ctype)
    seg = _choice_rows(rng, _SEG_P, ctype * 3 + role)
    key = pre & (ctype == 0) & (role == 0) & (rng.random(n) < 0.12)
    seg = np.where(key, _KEY, seg)
    evening = rng.random(n) >= _BUSINESS_HOURS_P[ctype]
    reg = np.empty(n, dtype=np.int64)
    hist0 = cal.start_ts - 3 * 365 * _DAY
    reg[:n_pre] = np.sort(rng.integers(hist0, cal.start_ts, n_pre))
    new = cal.sample(
        rng, np.full(n - n_pre, cal.start_ts), np.full(n - n_pre, cal.end_ts), evening[n_pre:]
    )
    reg[n_pre:] = np.sort(new)
    return _Customers(
        reg_ts=reg,
        pre=pre,
        ctype=ctype,
        role=role,
        industry=_choice_rows(rng, _INDUSTRY_P, ctype),
        region=_choice(rng, _REGION_P, n),
        channel=_choice_rows(rng, _SEG_CHANNEL_P, seg),
        seg=seg,
        never=rng.random(n) < _P_NEVER[seg],
        evening=evening,
        platform=_choice_rows(rng, _PLATFORM_P, ctype),
        spend=np.zeros(n),
        n_orders=np.zeros(n, dtype=np.int64),
    )


# ============================================================================= orders
@dataclass
class _Orders:
    """Orders and lines of one chunk (line ``order`` indexes the chunk's orders)."""

    cust: np.ndarray
    ts: np.ndarray
    status: np.ndarray
    promo: np.ndarray
    line_order: np.ndarray
    sku: np.ndarray
    qty: np.ndarray
    amount: np.ndarray
    cost: np.ndarray
    discount: np.ndarray


def _first_order_discount(value: np.ndarray) -> np.ndarray:
    """Tiered new-customer offer: 5 yuan off, 10 from 19, 15 from 49, 20 from 99, 30 from 199."""
    tier = np.select(
        [value >= 199, value >= 99, value >= 49, value >= 19], [30.0, 20.0, 15.0, 10.0], 5.0
    )
    return np.minimum(tier, value)


def _orders_chunk(
    rng: np.random.Generator,
    cal: _Calendar,
    cat: _Catalogue,
    cs: _Customers,
    lo: int,
    hi: int,
    drop_ts: int,
    campaigns: list[tuple[int, float, float, int, int]],
    lines_per_customer: float | None,
) -> _Orders:
    """Simulate the orders of customers ``lo`` to ``hi - 1``."""
    n = hi - lo
    seg = cs.seg[lo:hi]
    reg = cs.reg_ts[lo:hi]
    pre = cs.pre[lo:hi]
    evening = cs.evening[lo:hi]

    # --- first order and order counts
    quick = rng.random(n) < 0.55
    delay = np.where(quick, rng.integers(120, 2400, n), rng.exponential(8.0, n) * _DAY + 600)
    first_new = reg + delay.astype(np.int64)
    pre_day = np.minimum(rng.exponential(_FIRST_DELAY_PRE[seg]), cal.days + 1).astype(np.int64)
    first_pre = cal.sample(
        rng, cal.start_ts + pre_day * _DAY, cal.start_ts + (pre_day + 1) * _DAY, evening
    )
    first = np.where(pre, first_pre, first_new)
    has = ~cs.never[lo:hi] & (first < cal.end_ts)
    life = rng.exponential(_LIFE[seg]) * _DAY
    active_end = np.minimum(cal.end_ts, first + np.minimum(life, 1e12).astype(np.int64))
    one = rng.random(n) < _P_ONE[seg]
    lam = np.where(has & ~one, _RATE[seg] * np.maximum(active_end - first, 0) / _DAY, 0.0)
    scale = 1.0
    if lines_per_customer is not None:
        per_order = 1 + _EXTRA_LINES[seg]
        base = float((has * per_order).sum())
        extra = float((lam * per_order).sum())
        scale = max(0.0, (lines_per_customer * n - base) / extra) if extra > 0 else 0.0
    n_ord = has + rng.poisson(lam * scale) * has
    oc = np.repeat(np.arange(n), n_ord)
    m = len(oc)
    starts = np.cumsum(n_ord) - n_ord
    is_first = np.zeros(m, dtype=bool)
    is_first[starts[n_ord > 0]] = True
    ts = cal.sample(rng, first[oc] + 600, active_end[oc], evening[oc])
    ts = np.where(is_first, first[oc], np.maximum(ts, first[oc] + 600))
    ts = np.minimum(ts, cal.end_ts - 1)
    oseg = seg[oc]

    # --- order value and lines
    median = np.where(is_first & (oseg == _BARGAIN), 36.0, _VAL_MEDIAN[oseg])
    sigma = np.where(is_first & (oseg == _BARGAIN), 0.4, _VAL_SIGMA[oseg])
    value = median * np.exp(sigma * rng.standard_normal(m))
    lot = rng.random(m) < np.where(oseg == _KEY, 0.08, np.where(oseg == _PURCHASER, 0.03, 0.0))
    value = np.where(lot, value * np.exp(rng.uniform(1.5, 2.5, m)), value)  # production lots
    n_lines = np.minimum(1 + rng.poisson(_EXTRA_LINES[oseg]), 40)
    lo_ = np.repeat(np.arange(m), n_lines)
    w = rng.gamma(1.5, size=len(lo_))
    share = w / np.bincount(lo_, w, minlength=m)[lo_]
    target = value[lo_] * share
    after = ts[lo_] >= drop_ts
    mcu_after = np.where(np.arange(len(_CATS)) == _MCU, _MCU_CART_FACTOR, 1.0)
    cat_p = np.vstack([_SEG_CAT_P, _SEG_CAT_P * mcu_after])
    lcat = _choice_rows(rng, cat_p, oseg[lo_] + len(_SEG_CAT_P) * after)
    sku = cat.sample(rng, lcat)
    line_ts = ts[lo_]
    unit = cat.price_at(sku, line_ts)
    pack = cat.pack[sku]
    raw = np.maximum(target / unit, 1.0)
    step = np.maximum(10.0 ** (np.floor(np.log10(raw)) - 1), 1.0)
    step = np.ceil(step / pack) * pack
    qty = np.maximum(np.round(raw / step) * step, pack).astype(np.int64)
    base_value = qty * unit
    m0 = 1 - cat.cost_ratio[sku]
    ladder = np.clip(1 - 0.33 * np.log10(np.maximum(base_value, 20.0) / 20.0), 0.12, 1.0)
    margin = m0 * ladder * rng.uniform(0.9, 1.1, len(sku))
    lseg = oseg[lo_]
    margin = np.where(lseg == _KEY, margin * 0.75, margin)
    big = (lseg >= _PURCHASER) & (rng.random(len(sku)) < 0.004)
    margin = np.where(big, -rng.uniform(0.02, 0.15, len(sku)), margin)
    cost_unit = unit * cat.cost_ratio[sku]
    amount = np.round(qty * cost_unit / (1 - margin), 2)
    cost = np.round(qty * cost_unit, 2)

    # --- promotions: first-order offer, threshold campaigns with top-ups
    new_cust = ~pre[oc]
    first_promo = is_first & new_cust & (rng.random(m) < _FIRST_PROMO_P[oseg])
    promo = np.where(first_promo, 0, -1)
    listv = np.bincount(lo_, amount, minlength=m)
    disc = np.zeros(m)
    extra_lines: list[tuple[np.ndarray, ...]] = []
    for code, thr, off, c_lo, c_hi in campaigns:
        inwin = (promo < 0) & (ts >= c_lo) & (ts < c_hi)
        top = inwin & (listv >= 0.75 * thr) & (listv < thr) & (rng.random(m) < 0.6)
        o = np.flatnonzero(top)
        if len(o):
            need = thr - listv[o] + rng.uniform(0.3, 15.0, len(o))
            tsku = cat.sample(rng, rng.integers(0, 2, len(o)))
            tunit = cat.price_at(tsku, ts[o])
            tpack = cat.pack[tsku]
            tqty = (np.ceil(need / (tunit * tpack)) * tpack).astype(np.int64)
            tamount = np.round(tqty * tunit, 2)
            tcost = np.round(tqty * tunit * cat.cost_ratio[tsku], 2)
            extra_lines.append((o, tsku, tqty, tamount, tcost))
            listv[o] += tamount
        qual = inwin & (listv >= thr) & (rng.random(m) < 0.9)
        promo = np.where(qual, code, promo)
        disc = np.where(qual, off, disc)
    if extra_lines:
        lo_ = np.concatenate([lo_, *[e[0] for e in extra_lines]])
        sku = np.concatenate([sku, *[e[1] for e in extra_lines]])
        qty = np.concatenate([qty, *[e[2] for e in extra_lines]])
        amount = np.concatenate([amount, *[e[3] for e in extra_lines]])
        cost = np.concatenate([cost, *[e[4] for e in extra_lines]])
        order = np.argsort(lo_, kind="stable")
        lo_, sku, qty, amount, cost = lo_[order], sku[order], qty[order], amount[order], cost[
            order]
    free = first_promo & (rng.random(m) < 0.02)
    disc = np.where(first_promo, np.where(free, listv, _first_order_discount(listv)), disc)
    disc = np.round(np.minimum(disc, listv), 2)

    # --- spread order discounts over lines (remainder on the largest line)
    safe = np.where(listv > 0, listv, 1.0)
    ldisc = np.round(disc[lo_] * amount / safe[lo_], 2)
    resid = np.round(disc - np.bincount(lo_, ldisc, minlength=m), 2)
    first_line = np.searchsorted(lo_, np.arange(m))
    nl = np.bincount(lo_, minlength=m)
    big_line = np.lexsort((-amount, lo_))[np.minimum(first_line, max(len(lo_) - 1, 0))]
    has_lines = nl > 0
    ldisc[big_line[has_lines]] += resid[has_lines]
    ldisc = np.round(np.clip(ldisc, 0.0, amount), 2)
    paid = np.round(amount - ldisc, 2)

    u = rng.random(m)
    status = np.where(u < 0.02, 1, np.where(u < 0.05, 2, 0))
    gcust = (lo + oc).astype(np.int64)
    cs.n_orders[lo:hi] = n_ord
    spend = np.bincount(oc[lo_], paid * (status[lo_] == 0), minlength=n)
    hist = np.where(pre, _VAL_MEDIAN[seg] * rng.lognormal(1.5, 0.8, n), 0.0)
    cs.spend[lo:hi] = spend + hist
    return _Orders(
        cust=gcust, ts=ts, status=status, promo=promo, line_order=lo_, sku=sku, qty=qty,
        amount=paid, cost=cost, discount=ldisc,
    )


# ============================================================================= events
@dataclass
class _Events:
    """Events of one chunk, ready to write."""

    frame: pl.DataFrame
    sessions: int
    visitors: int


def _group_starts(keys: np.ndarray) -> np.ndarray:
    """Boolean mask of the first element of each run of equal sorted ``keys``."""
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    return first


def _stratified_uniform(rng: np.random.Generator, groups: np.ndarray) -> np.ndarray:
    """Uniforms on [0, 1) that are evenly spread within each group (stratified sampling).

    Within a group of size ``k`` the values are a random permutation of
    ``(i + U_i) / k``, so the share of values below any ``p`` is ``p`` within ``1 / k``.
    """
    n = len(groups)
    order = np.lexsort((rng.random(n), groups))
    first = _group_starts(groups[order])
    starts = np.flatnonzero(first)
    which = np.cumsum(first) - 1
    sizes = np.diff(np.append(starts, n))
    u = np.empty(n)
    u[order] = (np.arange(n) - starts[which] + rng.random(n)) / sizes[which]
    return u


def _events_chunk(
    rng: np.random.Generator,
    cal: _Calendar,
    cat: _Catalogue,
    cs: _Customers,
    lo: int,
    hi: int,
    vis_offset: int,
    sess_offset: int,
    drop_ts: int,
    events_per_customer: float,
    id_width: tuple[int, int],
) -> _Events:
    """Simulate the sessions of customers ``lo`` to ``hi - 1`` and of a share of visitors."""
    n = hi - lo
    total_sessions = events_per_customer * n / _EVENTS_PER_SESSION
    # --- customers' sessions
    c_lo = np.maximum(cs.reg_ts[lo:hi], cal.start_ts)
    span = np.maximum(cal.end_ts - c_lo, 0) / (cal.days * _DAY)
    n_ord = cs.n_orders[lo:hi]
    w = (1.0 + 2.0 * n_ord) * np.where(n_ord > 0, 1.0, 0.5) * span
    lam = w * _CUSTOMER_EVENT_SHARE * total_sessions / max(w.sum(), 1e-9)
    ns_c = rng.poisson(lam)
    # --- visitors' sessions: 1 + Poisson(1.2) each
    nv = int(round((1 - _CUSTOMER_EVENT_SHARE) * total_sessions / 2.2))
    ns_v = 1 + rng.poisson(1.2, nv)
    cu = np.repeat(np.arange(n), ns_c)
    vu = np.repeat(np.arange(nv), ns_v)
    s = len(cu) + len(vu)
    user = np.concatenate([lo + cu, cs.reg_ts.size + vis_offset + vu]).astype(np.int64)
    is_cust = np.arange(s) < len(cu)
    can_pay = np.concatenate([n_ord[cu] > 0, np.zeros(len(vu), dtype=bool)])
    evening = np.concatenate([cs.evening[lo:hi][cu], rng.random(len(vu)) < 0.6])
    lo_ts = np.concatenate([c_lo[cu], np.full(len(vu), cal.start_ts)])
    start = cal.sample(rng, lo_ts, np.full(s, cal.end_ts), evening)
    order = np.lexsort((start, user))
    user, is_cust, can_pay, start = user[order], is_cust[order], can_pay[order], start[order]
    pref = np.where(
        is_cust, cs.platform[np.minimum(user, cs.reg_ts.size - 1)], _choice(rng, _PLATFORM_P[3], s)
    )
    platform = np.where(rng.random(s) < 0.8, pref, _choice(rng, _PLATFORM_P[3], s))
    own = cs.channel[np.minimum(user, cs.reg_ts.size - 1)]
    channel = np.where(is_cust & (rng.random(s) < 0.4), own, _choice(rng, _SESSION_CHANNEL_P, s))

    # --- slot template
    c1 = _choice(rng, _SESSION_CAT_P, s)
    c2 = (c1 + rng.integers(1, len(_CATS), s)) % len(_CATS)  # a second, different category
    after = start >= drop_ts
    mcu_f = np.where(np.arange(len(_CATS)) == _MCU, _MCU_CART_FACTOR, 1.0)
    p1 = np.where(after, _CART_P[c1] * mcu_f[c1], _CART_P[c1])
    p2 = np.where(after, _CART_P[c2] * mcu_f[c2], _CART_P[c2])
    entry = _choice(rng, np.array([0.55, 0.30, 0.15]), s)  # home, search, product page
    bounce = rng.random(s) < 0.25
    r = rng.random((s, 12))
    P = np.zeros((s, _N_SLOTS), dtype=bool)
    P[:, 0] = entry == 0
    b1 = rng.integers(0, len(_BANNERS), s)
    b2 = (b1 + rng.integers(1, len(_BANNERS), s)) % len(_BANNERS)
    P[:, 1] = P[:, 0] & (r[:, 0] < 0.85)
    P[:, 2] = P[:, 1] & (r[:, 1] < 0.45)
    click1 = P[:, 1] & (rng.random(s) < _BANNER_CTR[b1])
    click2 = P[:, 2] & (rng.random(s) < _BANNER_CTR[b2])
    click = click1 | click2
    P[:, 3] = click
    P[:, 4] = (entry == 1) | ((entry == 0) & ~click & (r[:, 2] < 0.5))
    k_views = np.minimum(rng.geometric(0.45, s), 6)
    k_bounce = np.where((entry == 2) | click | ((entry == 1) & (r[:, 3] < 0.5)), 1, 0)
    k = np.where(bounce, k_bounce, k_views)
    k = np.where(click | (entry == 2), np.maximum(k, 1), k)
    P[:, 5:11] = np.arange(6)[None, :] < k[:, None]
    browse = ~bounce & (k > 0)
    # Cart decisions use stratified uniforms per (category, before/after) so that the
    # realised conversion is close to the design rate even in small samples.
    n_groups = 2 * len(_CATS)
    u1 = _stratified_uniform(rng, np.where(browse, 2 * c1 + after, n_groups))
    P[:, 11] = browse & (u1 < p1)
    P[:, 12] = P[:, 11] & (r[:, 5] < 0.3)
    P[:, 13] = browse & (r[:, 6] < 0.2)
    P[:, 14] = P[:, 13]
    P[:, 15] = P[:, 14] & (r[:, 7] < 0.4)
    u2 = _stratified_uniform(rng, np.where(P[:, 14], 2 * c2 + after, n_groups))
    P[:, 16] = P[:, 14] & (u2 < p2)
    cart = P[:, 11] | P[:, 16]
    P[:, 17] = cart & (r[:, 9] < 0.12)
    P[:, 18] = cart & (r[:, 10] < np.where(can_pay, 0.72, 0.45))
    P[:, 19] = P[:, 18] & can_pay & (r[:, 11] < 0.86)
    pay_ok = P[:, 19] & (rng.random(s) < 0.93)
    P[:, 20] = pay_ok & P[:, 11]
    P[:, 21] = pay_ok & P[:, 16]

    SK = np.full((s, _N_SLOTS), -1, dtype=np.int64)
    SK[:, 5:11] = cat.sample(rng, np.repeat(c1, 6)).reshape(s, 6)
    SK[:, 12] = cat.sample(rng, c1)
    SK[:, 14:16] = cat.sample(rng, np.repeat(c2, 2)).reshape(s, 2)
    pick = (rng.random(s) * np.maximum(k, 1)).astype(np.int64)
    SK[:, 11] = SK[np.arange(s), 5 + pick]
    SK[:, 16] = SK[np.arange(s), 14 + (P[:, 15] & (rng.random(s) < 0.5))]
    SK[:, 20] = SK[:, 11]
    SK[:, 21] = SK[:, 16]
    BN = np.full((s, _N_SLOTS), -1, dtype=np.int64)
    BN[:, 1] = b1
    BN[:, 2] = b2
    BN[:, 3] = np.where(click1, b1, b2)

    rows, cols = np.nonzero(P)
    del P
    ev = _SLOT_EVENT[cols]
    sku = np.where(np.isin(ev, [_E["product_view"], _E["add_to_cart"], _E["purchase"]]),
                   SK[rows, cols], -1)
    banner = np.where(np.isin(ev, [_E["banner_view"], _E["banner_click"]]), BN[rows, cols], -1)
    del SK, BN

    # --- timing inside sessions
    m = len(rows)
    gap = 2.0 + rng.exponential(35.0, m)
    pause = rng.random(m) < 0.04
    gap = np.where(pause, rng.uniform(240, 1500, m), gap)
    gap_us = (np.minimum(gap, _MAX_EVENT_GAP) * 1e6).astype(np.int64)
    first_ev = _group_starts(rows)
    gap_us[first_ev] = 0
    cs_us = np.cumsum(gap_us)
    first_idx = np.flatnonzero(first_ev)
    off = cs_us - cs_us[first_idx][rows]
    dur_s = np.zeros(s, dtype=np.int64)
    last_idx = np.append(first_idx[1:] - 1, m - 1) if m else first_idx
    dur_s[rows[last_idx]] = off[last_idx] // 1_000_000 + 2

    # --- keep a user's sessions apart: start_i >= end_(i-1) + 31 min
    step = dur_s + _MIN_SESSION_GAP
    new_user = _group_starts(user)
    grp = np.cumsum(new_user) - 1
    csum = np.cumsum(step)
    excl = csum - step
    excl = excl - excl[np.flatnonzero(new_user)][grp]
    g = start - excl
    gmin = g.min() if s else 0
    big = np.int64(1) << np.int64(40)
    acc = np.maximum.accumulate(grp * big + (g - gmin)) - grp * big + gmin
    start = excl + acc
    keep = start + dur_s < cal.end_ts
    kept = np.flatnonzero(keep)
    srank = np.empty(s, dtype=np.int64)
    srank[kept[np.lexsort((user[kept], start[kept]))]] = np.arange(len(kept))
    start_us = start * 1_000_000 + rng.integers(0, 1_000_000, s)
    ev_keep = keep[rows]
    rows, ev, sku, banner, off = rows[ev_keep], ev[ev_keep], sku[ev_keep], banner[ev_keep], off[
        ev_keep]
    page = _EVENT_PAGE[ev]
    page = np.where((ev == _E["add_to_cart"]) & (rng.random(len(ev)) < 0.2), 1, page)
    t_us = start_us[rows] + off
    order = np.lexsort((srank[rows], t_us))

    # --- strings
    cw, vw = id_width
    uniq_user, user_idx = np.unique(user, return_inverse=True)
    n_cust_total = cs.reg_ts.size
    is_c = uniq_user < n_cust_total
    user_names = pl.concat([
        _ids("C", uniq_user[is_c] + 1, cw), _ids("V", uniq_user[~is_c] - n_cust_total + 1, vw),
    ])
    sess_names = _ids("S", sess_offset + np.arange(len(kept)) + 1, 10)
    rows_o = rows[order]
    frame = pl.DataFrame({
        "event_time": pl.Series(t_us[order]).cast(pl.Datetime("us")),
        "user_id": user_names.gather(user_idx[rows_o]),
        "session_id": sess_names.gather(srank[rows_o]),
        "event": _labels(ev[order], _EVENTS),
        "platform": _labels(platform[rows_o], _PLATFORMS),
        "channel": _labels(channel[rows_o], _CHANNELS),
        "page": _labels(page[order], _PAGES),
        "banner_id": _labels(banner[order], _BANNERS),
        "sku": _labels(sku[order], cat.names),
        "category": _labels(np.where(sku[order] >= 0, cat.category[sku[order]], -1), _CATS),
    })
    return _Events(frame=frame, sessions=len(kept), visitors=nv)


# ============================================================================= writing
def _write_table(
    frames: Callable[[], Iterable[pl.DataFrame]], path: Path, fmt: str, float_precision: int = 2
) -> int:
    """Write the frames yielded by ``frames()`` to one CSV or parquet file; return rows."""
    rows = 0
    if fmt == "csv":
        with path.open("wb") as fh:
            for i, df in enumerate(frames()):
                df.write_csv(
                    fh, include_header=i == 0, datetime_format="%Y-%m-%d %H:%M:%S",
                    float_precision=float_precision,
                )
                rows += df.height
        return rows
    writer: pq.ParquetWriter | None = None
    try:
        for df in frames():
            table = df.to_arrow()
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema, compression="zstd")
            writer.write_table(table.cast(writer.schema))
            rows += df.height
    finally:
        if writer is not None:
            writer.close()
    return rows


def _campaign_windows(start_ts: int, days: int) -> list[tuple[int, float, float, int, int]]:
    """Threshold campaigns that fit the period: (promo, threshold, discount, from, to)."""
    out = []
    if days < 30:
        return out
    for code, thr, off, frac, length in _CAMPAIGNS:
        d0 = int(frac * days)
        d1 = min(d0 + length, days)
        out.append((code, thr, off, start_ts + d0 * _DAY, start_ts + d1 * _DAY))
    return out


# ============================================================================= public API
def generate(
    out_dir: Path,
    *,
    customers: int = 3000,
    days: int = 365,
    seed: int = 7,
    start: date = DEFAULT_START,
    fmt: str = "csv",
    events_per_customer: float = 50.0,
    lines_per_customer: float | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> SampleSummary:
    """Generate a synthetic sample of orders, customers, events and price changes.

    Parameters
    ----------
    out_dir : Path
        Directory to write into (created if missing).
    customers : int, default 3000
        Registered customers.
    days : int, default 365
        Days covered, starting at ``start``.
    seed : int, default 7
        Random seed; the same arguments give byte-identical files.
    start : date, default ``DEFAULT_START``
        First day covered.
    fmt : {"csv", "parquet"}, default "csv"
        Format of the orders, customers and prices files; events are always parquet.
    events_per_customer : float, default 50.0
        Approximate click events per registered customer (visitors included).
    lines_per_customer : float, optional
        Approximate order lines per registered customer.  By default the model's natural
        rate (about 10) is used; otherwise the repeat-order rates are scaled to match.
    progress : callable, optional
        Called as ``progress(stage, fraction)`` with ``fraction`` in [0, 1].

    Returns
    -------
    SampleSummary
        Paths and counts of what was written, and the planted story.

    Raises
    ------
    ValueError
        On an unknown ``fmt`` or out-of-range sizes.
    """
    if fmt not in ("csv", "parquet"):
        msg = f"fmt must be 'csv' or 'parquet', not {fmt!r}"
        raise ValueError(msg)
    if customers < 1 or days < 7:
        msg = "need customers >= 1 and days >= 7"
        raise ValueError(msg)
    if events_per_customer < 0 or (lines_per_customer is not None and lines_per_customer < 0):
        msg = "events_per_customer and lines_per_customer must be >= 0"
        raise ValueError(msg)

    def report(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, min(max(fraction, 0.0), 1.0))

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    n_chunks = -(-customers // _CHUNK)
    base_seed, points_seed, *chunk_seeds = np.random.SeedSequence(seed).spawn(n_chunks + 2)
    rng = np.random.default_rng(base_seed)
    start_ts = _ts(start)
    drop_day = min(270, max(1, (days * 3) // 4))
    drop_ts = start_ts + drop_day * _DAY
    campaigns = _campaign_windows(start_ts, days)
    cal = _Calendar.build(
        start, days, [((c[3] - start_ts) // _DAY, (c[4] - start_ts) // _DAY) for c in campaigns]
    )
    cat = _catalogue(rng)
    prices = _price_changes(rng, cat, start_ts, days, drop_day)
    cs = _customers(rng, cal, customers)
    report("customers", 1.0)

    cw = max(6, len(str(customers)))
    suffix = "csv" if fmt == "csv" else "parquet"
    files = {
        "orders": out_dir / f"orders.{suffix}",
        "customers": out_dir / f"customers.{suffix}",
        "events": out_dir / "events.parquet",
        "prices": out_dir / f"prices.{suffix}",
    }
    parts: list[_Orders] = []
    vis_offset = 0
    sess_offset = 0
    n_events = 0
    # visitors per chunk are about 3.7 % of its events (see _events_chunk); bound generously
    vw = max(7, len(str(int(0.04 * events_per_customer * customers) + n_chunks)))
    ev_writer: pq.ParquetWriter | None = None
    try:
        for ci in range(n_chunks):
            lo, hi = ci * _CHUNK, min((ci + 1) * _CHUNK, customers)
            o_rng, e_rng = (np.random.default_rng(x) for x in chunk_seeds[ci].spawn(2))
            parts.append(
                _orders_chunk(o_rng, cal, cat, cs, lo, hi, drop_ts, campaigns, lines_per_customer)
            )
            ev = _events_chunk(
                e_rng, cal, cat, cs, lo, hi, vis_offset, sess_offset, drop_ts,
                events_per_customer, (cw, vw),
            )
            vis_offset += ev.visitors
            sess_offset += ev.sessions
            table = ev.frame.to_arrow()
            if ev_writer is None:
                ev_writer = pq.ParquetWriter(files["events"], table.schema, compression="zstd")
            ev_writer.write_table(table.cast(ev_writer.schema))
            n_events += ev.frame.height
            del ev, table
            report("simulate", (ci + 1) / n_chunks)
    finally:
        if ev_writer is not None:
            ev_writer.close()

    n_orders, n_lines = _write_orders(parts, cs, cat, files["orders"], fmt, cw, report)
    del parts
    customer_frame = _customer_frame(np.random.default_rng(points_seed), cs, cw)
    _write_table(lambda: iter([customer_frame]), files["customers"], fmt)
    _write_table(lambda: iter([prices]), files["prices"], fmt, float_precision=4)
    report("write", 1.0)
    return SampleSummary(
        out_dir=out_dir,
        files=files,
        customers=customers,
        order_lines=n_lines,
        orders=n_orders,
        events=n_events,
        price_changes=prices.height,
        start=start,
        end=start + timedelta(days=days - 1),
        drop_category="mcu",
        drop_date=start + timedelta(days=drop_day),
    )


def _customer_frame(rng: np.random.Generator, cs: _Customers, cw: int) -> pl.DataFrame:
    """Customers as written: ids, registration, attributes and loyalty points.

    Points are earned at one per paid yuan of lifetime spend, minus 0-40 % redeemed.
    """
    n = cs.reg_ts.size
    points = np.floor(cs.spend * rng.uniform(0.6, 1.0, n)).astype(np.int64)
    return pl.DataFrame({
        "customer_id": _ids("C", np.arange(1, n + 1), cw),
        "registered_at": _datetimes(cs.reg_ts),
        "customer_type": _labels(cs.ctype, _TYPES),
        "role": _labels(cs.role, _ROLES),
        "industry": _labels(cs.industry, _INDUSTRIES),
        "points": points,
        "region": _labels(cs.region, _REGIONS),
        "channel": _labels(cs.channel, _CHANNELS),
    })


def _write_orders(
    parts: list[_Orders],
    cs: _Customers,
    cat: _Catalogue,
    path: Path,
    fmt: str,
    cw: int,
    report: Callable[[str, float], None],
) -> tuple[int, int]:
    """Sort all orders by time, number them per day and write the lines in slices."""
    offsets = np.cumsum([0] + [len(p.ts) for p in parts])
    cust = np.concatenate([p.cust for p in parts])
    ts = np.concatenate([p.ts for p in parts])
    status = np.concatenate([p.status for p in parts])
    promo = np.concatenate([p.promo for p in parts])
    line_order = np.concatenate([p.line_order + offsets[i] for i, p in enumerate(parts)])
    sku = np.concatenate([p.sku for p in parts])
    qty = np.concatenate([p.qty for p in parts])
    amount = np.concatenate([p.amount for p in parts])
    cost = np.concatenate([p.cost for p in parts])
    discount = np.concatenate([p.discount for p in parts])
    n_orders = len(ts)
    rank_order = np.lexsort((cust, ts))
    rank = np.empty(n_orders, dtype=np.int64)
    rank[rank_order] = np.arange(n_orders)
    day = ts[rank_order] // _DAY
    new_day = _group_starts(day)
    day_first = np.flatnonzero(new_day)
    seq_sorted = np.arange(n_orders) - day_first[np.cumsum(new_day) - 1] + 1
    width = max(5, len(str(int(seq_sorted.max())))) if n_orders else 5
    o_time = _datetimes(ts[rank_order])
    order_ids = pl.select(
        pl.lit("SO") + o_time.dt.strftime("%Y%m%d")
        + pl.Series(seq_sorted).cast(pl.String).str.zfill(width)
    ).to_series()
    cust_ids = _ids("C", cust[rank_order] + 1, cw)
    channel = cs.channel[cust[rank_order]]
    line_sorted = np.argsort(rank[line_order], kind="stable")
    n_lines = len(line_sorted)

    def frames() -> Iterator[pl.DataFrame]:
        for a in range(0, max(n_lines, 1), _WRITE_SLICE):
            idx = line_sorted[a:a + _WRITE_SLICE]
            r = pl.Series(rank[line_order[idx]])
            orank = rank[line_order[idx]]
            yield pl.DataFrame({
                "order_id": order_ids.gather(r),
                "customer_id": cust_ids.gather(r),
                "order_time": o_time.gather(r),
                "sku": cat.names.gather(pl.Series(sku[idx])),
                "quantity": qty[idx],
                "amount": amount[idx],
                "cost": cost[idx],
                "discount": discount[idx],
                "promo": _labels(promo[line_order[idx]], _PROMOS),
                "status": _labels(status[line_order[idx]], _STATUSES),
                "channel": _labels(channel[orank], _CHANNELS),
            })
            report("write", 0.1 + 0.8 * min(1.0, (a + _WRITE_SLICE) / max(n_lines, 1)))

    _write_table(frames, path, fmt)
    return n_orders, n_lines
