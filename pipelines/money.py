"""Money: one rounding rule for every figure of every output, from exact sums.

Amounts are summed exactly, in integer micro-units (a millionth of a yuan: every amount of
up to six decimals below about 9 billion is a whole number of them), and a figure is
rounded once, to the cent, half up (half away from zero) on its exact decimal value:
17.615 -> 17.62, 32.505 -> 32.51, 0.105 -> 0.11, -0.105 -> -0.11. Rounding the binary
float instead (17.615 is 17.61499999... as a float, 32.505 is 32.50500000...03) gives
17.61 and 32.51: neither half up nor half even.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import overload

import polars as pl

MICRO = 1_000_000
CENT = Decimal("0.01")
# Above 2**53 micro-units (about 9 billion yuan) a float no longer holds every micro-unit;
# such a figure is rounded half away from zero on its float value instead.
_EXACT_LIMIT = 9e9


def exact_sum(expr: pl.Expr) -> pl.Expr:
    """The sum of a money expression computed exactly (integer micro-units), as Float64.

    The result is the float nearest the exact decimal sum, whatever the order of the
    additions (parallel float sums differ in the last bits from run to run).
    """
    return from_micro(micro(expr).sum())


def micro(expr: pl.Expr) -> pl.Expr:
    """A money expression in whole micro-units (Int64): what :func:`exact_sum` adds up.

    For sums taken in parts (a group-by over lines masked by a condition): the sum of
    these, given to :func:`from_micro`, is :func:`exact_sum`'s result.
    """
    return (expr * MICRO).round(0).cast(pl.Int64, strict=False)


def from_micro(total: pl.Expr) -> pl.Expr:
    """A sum of :func:`micro` values back in yuan: the float nearest the exact decimal."""
    # Polars divides by a constant as a multiplication by its inverse (45.230000000000004
    # for 4523 / 100): the round gives back the float nearest the exact value.
    return (total / MICRO).round(6).cast(pl.Float64)


def money(expr: pl.Expr) -> pl.Expr:
    """Round a money expression to the cent for output: half up on its exact decimal value.

    The value is first read as a whole number of micro-units (which undoes the binary
    noise of a float: 17.615 stored as 17.614999... is 17,615,000), then rounded to the
    cent in integers. Null, NaN and infinite values stay as they are.
    """
    micro = (expr * MICRO).round(0).cast(pl.Int64, strict=False)
    cents = (micro.abs() + MICRO // 200) // (MICRO // 100) * micro.sign()
    exact = expr.is_finite() & (expr.abs() < _EXACT_LIMIT)
    large = expr.round(2, mode="half_away_from_zero")
    return pl.when(exact).then((cents / 100).round(2)).otherwise(large).cast(pl.Float64)


@overload
def round_money(value: float) -> float: ...
@overload
def round_money(value: None) -> None: ...
def round_money(value: float | None) -> float | None:
    """:func:`money` for one Python number (the same rule, the same result)."""
    if value is None or not math.isfinite(value):
        return value
    if abs(value) >= _EXACT_LIMIT:
        return float(Decimal(value).quantize(CENT, ROUND_HALF_UP))
    micro = round(value * MICRO)
    cents = (abs(micro) + MICRO // 200) // (MICRO // 100)
    return (cents if micro >= 0 else -cents) / 100


def sum_money(values: Iterable[float]) -> float:
    """The exact sum of Python money values (micro-units), as the nearest float."""
    return sum(round(v * MICRO) for v in values) / MICRO
