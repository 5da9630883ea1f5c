"""Every fixed choice of an option, as a ``StrEnum``.

Typer lists the values in ``--help`` and refuses anything else with exit 2 before a file is
read; commands hand the pipelines the plain string (``str(choice)``).

The pipelines keep their own checks (they are called from tests and other programs too);
these enums name the same values.
"""

from enum import StrEnum


class Unit(StrEnum):
    """What a funnel counts."""

    session = "session"
    user = "user"


class FunnelOrder(StrEnum):
    """How a funnel's steps follow each other."""

    ordered = "ordered"
    strict = "strict"
    any = "any"


class FunnelCount(StrEnum):
    """What a funnel with --same counts."""

    units = "units"
    conversions = "conversions"


class FunnelPeriod(StrEnum):
    """Periods of a funnel."""

    day = "day"
    week = "week"


class CohortPeriod(StrEnum):
    """Periods of a cohort."""

    month = "month"
    week = "week"


class Trend(StrEnum):
    """Periods of the band-mix trend."""

    month = "month"
    week = "week"


class Metric(StrEnum):
    """What a cohort cell counts."""

    customers = "customers"
    revenue = "revenue"
    gross_profit = "gross_profit"


class Split(StrEnum):
    """Groups of a cohort's retention."""

    promo = "promo"
    channel = "channel"
    customer_type = "customer_type"
    industry = "industry"


class Offer(StrEnum):
    """Who took the first-order offer."""

    promo = "promo"
    discount = "discount"
    either = "either"


class Method(StrEnum):
    """How ABC classes are cut."""

    share = "share"
    rank = "rank"


class Response(StrEnum):
    """How customers respond to a threshold promotion."""

    none = "none"
    fixed = "fixed"
    bunching = "bunching"


class Correction(StrEnum):
    """How --drift keeps false alarms down (pipelines.funnel.drift.decide)."""

    fdr = "fdr"
    fwer = "fwer"


class TimeUnit(StrEnum):
    """The time unit of the CLV model's frequency, recency and T."""

    day = "day"
    week = "week"
    month = "month"


class Edition(StrEnum):
    """Report periods."""

    week = "week"
    month = "month"


class Lang(StrEnum):
    """Label languages."""

    en = "en"
    zh = "zh"


class Monetary(StrEnum):
    """What the M of RFM measures."""

    value = "value"
    gross_profit = "gross_profit"


class DateFormat(StrEnum):
    """The order of day, month and year in the exports' dates (``--date-format``)."""

    auto = "auto"
    ymd = "ymd"
    dmy = "dmy"
    mdy = "mdy"


class Engine(StrEnum):
    """What reads and validates the orders export and groups its lines into orders."""

    polars = "polars"
    spark = "spark"
