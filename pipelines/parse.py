"""Polars expressions that turn raw export cells into typed values.

Each parser returns ``(value, bad)``: the parsed expression and a boolean expression that
is true where the cell held something that could not be parsed. An empty cell is never
"bad" here; whether it is allowed is the loader's decision (required columns).
"""

from __future__ import annotations

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


def text(expr: pl.Expr) -> pl.Expr:
    """Strip a cell and turn the empty string into null."""
    return expr.cast(pl.String).str.strip_chars().replace("", None)


def money(expr: pl.Expr, dtype: pl.DataType) -> tuple[pl.Expr, pl.Expr]:
    """Parse ``¥1,234.50``-style cells (or numeric Parquet columns) to Float64."""
    if dtype.is_numeric():
        value = expr.cast(pl.Float64)
        present = value.is_not_null()
    else:
        raw = text(expr)
        plain = raw.str.replace_all(_CURRENCY, "")
        commas_ok = ~plain.str.contains(",", literal=True) | plain.str.contains(_GROUPED)
        value = (
            pl.when(commas_ok)
            .then(plain.str.replace_all(",", "", literal=True))
            .cast(pl.Float64, strict=False)
        )
        present = raw.is_not_null()
    ok = value.is_finite() & (value.abs() < MONEY_LIMIT)
    bad = present & ~ok.fill_null(False)
    return pl.when(ok).then(value), bad


def integer(expr: pl.Expr, dtype: pl.DataType) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """Parse a whole number; returns ``(value, bad, negative)``."""
    number, bad = money(expr, dtype)
    whole = number == number.round(0)
    bad = bad | (number.is_not_null() & ~whole)
    value = pl.when(whole).then(number).cast(pl.Int64)
    return value, bad, value < 0


def timestamp(expr: pl.Expr, dtype: pl.DataType, timezone: str | None) -> tuple[pl.Expr, pl.Expr]:
    """Parse the time forms of the contract to a naive Datetime in the shop's zone.

    Zone-less times are taken as the shop's local time. A time carrying an offset
    (``+08:00``, ``Z``) is converted to the shop's zone when one is configured;
    without one its wall-clock time is kept as written.
    """
    if isinstance(dtype, pl.Datetime):
        value = expr
        if dtype.time_zone is not None:
            value = value.dt.convert_time_zone(timezone) if timezone else value
            value = value.dt.replace_time_zone(None)
        return value.cast(pl.Datetime("us")), pl.lit(False)
    if isinstance(dtype, pl.Date):
        return expr.cast(pl.Datetime("us")), pl.lit(False)
    raw = text(expr)
    norm = raw.str.replace_all("/", "-").str.replace("T", " ")
    zone = norm.str.extract(_ZONE, 1)
    base = norm.str.replace(_ZONE, "").str.strip_chars()
    candidates = [base.str.strptime(pl.Datetime("us"), f, strict=False) for f in TIME_FORMATS]
    candidates += [
        base.str.strptime(pl.Date, f, strict=False).cast(pl.Datetime("us")) for f in DATE_FORMATS
    ]
    wall = pl.coalesce(candidates)
    if timezone:
        sign = pl.when(zone.str.starts_with("-")).then(-1).otherwise(1)
        digits = zone.str.replace_all(r"[^0-9]", "")
        minutes = sign * (
            digits.str.slice(0, 2).cast(pl.Int64, strict=False) * 60
            + digits.str.slice(2, 2).cast(pl.Int64, strict=False)
        )
        minutes = pl.when(zone == "Z").then(0).otherwise(minutes)
        utc = (wall - pl.duration(minutes=minutes)).dt.replace_time_zone("UTC")
        converted = utc.dt.convert_time_zone(timezone).dt.replace_time_zone(None)
        wall = pl.when(zone.is_not_null()).then(converted).otherwise(wall)
    return wall, raw.is_not_null() & wall.is_null()


def category(expr: pl.Expr, column: Column) -> tuple[pl.Expr, pl.Expr]:
    """Map a categorical cell through its aliases; returns ``(value, unknown)``."""
    raw = text(expr)
    folded = raw.str.to_lowercase()
    mapping = {alias.casefold(): value for value, aliases in column.values for alias in aliases}
    mapped = folded.replace_strict(mapping, default=None, return_dtype=pl.String)
    return mapped, raw.is_not_null() & mapped.is_null()
