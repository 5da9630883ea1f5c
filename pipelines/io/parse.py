"""Polars expressions that turn raw export cells into typed values.

Each parser returns a :class:`Parsed`: the parsed value and a boolean ``bad`` that is true
where the cell held something that could not be parsed. An empty cell is never "bad" here;
whether it is allowed is the loader's decision (required columns).

Parsers work in stages. Polars does not share a sub-expression used several times inside
one expression (a ``when/then`` repeats its operands), so a money cell's regexes or a time
cell's ``strptime`` candidates, written as one tree, would run once per use: nine times for
a money cell. Instead each intermediate result is a named temporary column computed once
(``stages``, in order), and ``value``/``bad`` only refer to those columns by name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from .schema import Column

MONEY_LIMIT = 1e12  # larger amounts are typos or overflow, not orders
_CURRENCY = r"[¥￥$€£\s\u00a0]|RMB|CNY|元"
# Commas only as thousands separators: "1,234.50" is 1234.5, but "1,5" (a decimal comma)
# is not a number this shop writes, and reading it as 15 would be silently wrong.
_GROUPED = r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$"
_ZONE = r"(Z|[+-]\d{2}:?\d{2})$"
TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y%m%d %H:%M:%S",
    "%Y%m%d%H%M%S",
)
DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d")
# The forms above, spelled out (after "/" became "-" and "T" a space, the zone removed):
# Polars' %Y takes any number of digits, so "24/3/1 9:05" was the year 24, and %m, %d
# and %H take one digit. A time of another form is bad, whatever strptime makes of it.
_FORMS = (
    r"^(\d{4}-\d{1,2}-\d{1,2}( \d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?"
    r"|\d{8}( \d{1,2}:\d{2}:\d{2}|\d{6})?)$"
)
MAX_OFFSET_HOURS = 14  # UTC+14:00 (Kiribati) is the largest offset in use; -12:00 the least
# Years a time may have. The first and last years databases hold (0001-01-01, 9999-12-31)
# are their "no date" placeholders, not dates, and a week or month of the year 9999 has no
# successor (the reports' period arithmetic overflowed): such a time is a bad one.
YEARS = (2, 9998)
# The orders a date may be written in (``--date-format``, ``[columns] date_format``).
DATE_ORDERS = ("ymd", "dmy", "mdy")
# A date whose year comes last: 31/10/2026, 31.10.2026, 31-10-2026 (one separator throughout,
# four-digit year). Which of the first two fields is the day is the date order's business.
DAY_MONTH = r"^(\d{1,2})(?:/(\d{1,2})/|\.(\d{1,2})\.|-(\d{1,2})-)(\d{4})"
# A year-first date with dots (2026.10.31), read as 2026-10-31 once a date order is known.
YEAR_DOTS = r"^(\d{4})\.(\d{1,2})\.(\d{1,2})"
# DAY_MONTH rewritten year first: the month is whichever of groups 2-4 took part.
_REORDER = {"dmy": "${5}-${2}${3}${4}-${1}", "mdy": "${5}-${1}-${2}${3}${4}"}


def in_order(cell: pl.Expr, order: str | None) -> pl.Expr:
    """``cell`` with a date of ``order`` rewritten year first (``31/10/2026`` -> ``2026-10-31``).

    ``None`` leaves the cell as it is (the forms of :data:`_FORMS` only: no regex runs on
    the common ISO export). ``ymd`` also reads dots (``2026.10.31``); ``dmy`` and ``mdy``
    read a date of the year last with ``/``, ``.`` or ``-``. A two-digit year is no such date.
    """
    if order is None:
        return cell
    out = cell.str.replace(YEAR_DOTS, "${1}-${2}-${3}")
    if order in _REORDER:
        out = out.str.replace(DAY_MONTH, _REORDER[order])
    return out


def _in_years(value: pl.Expr) -> pl.Expr:
    return value.dt.year().is_between(*YEARS)
TEMP = "__cust_"


@dataclass(frozen=True)
class Parsed:
    """A parsed column: temporary stages, then ``value`` and ``bad`` over them."""

    value: pl.Expr
    bad: pl.Expr
    stages: list[dict[str, pl.Expr]] = field(default_factory=list)


def text(expr: pl.Expr) -> pl.Expr:
    """Strip a cell and turn the empty string into null (one expression; see :func:`stripped`)."""
    text = expr.cast(pl.String).str.strip_chars()
    # when/then, not .replace("", None): replace is not streamed by Polars' streaming engine
    # and would hold the whole column in memory (3.6 GB to count 50M events).
    return pl.when(text != "").then(text)


def stripped(expr: pl.Expr, name: str) -> tuple[dict[str, pl.Expr], pl.Expr]:
    """A stage holding the stripped cell, and the cell as :func:`text` over that stage.

    :func:`text` strips twice (its ``when`` and its ``then``); stripping once in a stage
    is 1.2 s faster on two columns of 50M events.
    """
    temp = f"{TEMP}{name}_strip"
    cell = pl.col(temp)
    return {temp: expr.cast(pl.String).str.strip_chars()}, pl.when(cell != "").then(cell)


def plain_text(expr: pl.Expr, name: str) -> Parsed:
    """A free-text or id cell: stripped, the empty string as null; never bad."""
    stage, value = stripped(expr, name)
    return Parsed(value, pl.lit(False), [stage])


def _finite(number: pl.Expr, present: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    ok = number.is_finite() & (number.abs() < MONEY_LIMIT)
    return pl.when(ok).then(number), present & ~ok.fill_null(False)


def money(expr: pl.Expr, dtype: pl.DataType, name: str) -> Parsed:
    """Parse ``¥1,234.50``-style cells (or numeric Parquet columns) to Float64."""
    if dtype.is_numeric():
        number = expr.cast(pl.Float64)
        value, bad = _finite(number, number.is_not_null())
        return Parsed(value, bad)
    plain, num = f"{TEMP}{name}_plain", f"{TEMP}{name}_num"
    p = pl.col(plain)
    commas_ok = ~p.str.contains(",", literal=True) | p.str.contains(_GROUPED)
    strip, cell = stripped(expr, name)
    stages = [
        strip,
        {plain: cell.str.replace_all(_CURRENCY, "")},
        {
            num: pl.when(commas_ok)
            .then(p.str.replace_all(",", "", literal=True))
            .cast(pl.Float64, strict=False)
        },
    ]
    value, bad = _finite(pl.col(num), p.is_not_null())
    return Parsed(value, bad, stages)


def integer(expr: pl.Expr, dtype: pl.DataType, name: str) -> Parsed:
    """Parse a whole number to Int64; a negative number is the loader's business."""
    number = money(expr, dtype, name)
    stages = [*number.stages, {f"{TEMP}{name}_float": number.value}]
    n = pl.col(f"{TEMP}{name}_float")
    whole = n == n.round(0)
    bad = number.bad | (n.is_not_null() & ~whole)
    return Parsed(pl.when(whole).then(n).cast(pl.Int64), bad, stages)


def timestamp(
    expr: pl.Expr, dtype: pl.DataType, timezone: str | None, name: str, order: str | None = None
) -> Parsed:
    """Parse the time forms of the contract to a naive Datetime in the shop's zone.

    ``order`` (see :func:`in_order`) also reads dates of that order: day first
    (``31/10/2026``), month first (``10/31/2026``) or year first with dots.

    Zone-less times are taken as the shop's local time. A time carrying an offset
    (``+08:00``, ``Z``) is converted to the shop's zone when one is configured;
    without one its wall-clock time is kept as written.
    """
    if isinstance(dtype, (pl.Datetime, pl.Date)):
        value = expr
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
            value = value.dt.convert_time_zone(timezone) if timezone else value
            value = value.dt.replace_time_zone(None)
        value = value.cast(pl.Datetime("us"))
        ok = _in_years(value)
        return Parsed(pl.when(ok).then(value), value.is_not_null() & ~ok)
    t = {k: f"{TEMP}{name}_{k}" for k in ("norm", "zone", "base", "wall", "zoned", "value")}
    norm, zone, base, wall = (pl.col(t[k]) for k in ("norm", "zone", "base", "wall"))
    candidates = [base.str.strptime(pl.Datetime("us"), f, strict=False) for f in TIME_FORMATS]
    candidates += [
        base.str.strptime(pl.Date, f, strict=False).cast(pl.Datetime("us")) for f in DATE_FORMATS
    ]
    strip, cell = stripped(expr, name)
    if order is not None:
        t["ordered"] = f"{TEMP}{name}_ordered"
    stages: list[dict[str, pl.Expr]] = [
        strip,
        *([{t["ordered"]: in_order(cell, order)}] if order is not None else []),
        {t["norm"]: (pl.col(t["ordered"]) if order is not None else cell)
         .str.replace_all("/", "-").str.replace("T", " ")},
        {
            t["zone"]: norm.str.extract(_ZONE, 1),
            t["base"]: norm.str.replace(_ZONE, "").str.strip_chars(),
        },
        {t["wall"]: pl.when(base.str.contains(_FORMS)).then(pl.coalesce(candidates))},
    ]
    digits = zone.str.replace_all(r"[^0-9]", "")
    hours = digits.str.slice(0, 2).cast(pl.Int64, strict=False)
    mins = digits.str.slice(2, 2).cast(pl.Int64, strict=False)
    # "+99:99" is no offset: a time carrying it is bad, with or without a shop zone.
    zone_ok = zone.is_null() | (zone == "Z") | ((hours <= MAX_OFFSET_HOURS) & (mins < 60))
    final = wall
    if timezone:
        sign = pl.when(zone.str.starts_with("-")).then(-1).otherwise(1)
        minutes = sign * (hours * 60 + mins)
        minutes = pl.when(zone == "Z").then(0).otherwise(minutes)
        utc = (wall - pl.duration(minutes=minutes)).dt.replace_time_zone("UTC")
        converted = utc.dt.convert_time_zone(timezone).dt.replace_time_zone(None)
        final = pl.when(zone.is_not_null()).then(converted).otherwise(wall)
    stages.append({t["zoned"]: pl.when(zone_ok).then(final)})
    zoned = pl.col(t["zoned"])
    stages.append({t["value"]: pl.when(_in_years(zoned)).then(zoned)})
    value = pl.col(t["value"])
    return Parsed(value, norm.is_not_null() & value.is_null(), stages)


def lookup(
    expr: pl.Expr, table: Iterable[tuple[Any, Iterable[str]]],
    dtype: pl.DataType | type[pl.DataType],
) -> pl.Expr:
    """``expr`` mapped through ``table`` (value, the keys that give it); null for other keys.

    A when/then chain rather than ``replace_strict``: Polars' streaming engine streams the
    chain but holds the whole column in memory for ``replace_strict``.
    """
    chain: Any = pl
    for value, keys in table:
        chain = chain.when(expr.is_in(list(keys))).then(pl.lit(value, dtype=dtype))
    return chain.otherwise(pl.lit(None, dtype=dtype))


def category(expr: pl.Expr, column: Column, name: str) -> Parsed:
    """Map a categorical cell through its aliases (``bad``: a value with no alias)."""
    low, mapped = f"{TEMP}{name}_low", f"{TEMP}{name}_mapped"
    table = [(value, [a.casefold() for a in aliases]) for value, aliases in column.values]
    strip, cell = stripped(expr, name)
    stages = [
        strip,
        {raw_name(name): cell, low: cell.str.to_lowercase()},
        {mapped: lookup(pl.col(low), table, pl.String)},
    ]
    bad = pl.col(raw_name(name)).is_not_null() & pl.col(mapped).is_null()
    return Parsed(pl.col(mapped), bad, stages)


def raw_name(name: str) -> str:
    """The temporary column of a :func:`category` cell as text (stripped, empty as null)."""
    return f"{TEMP}{name}_raw"
