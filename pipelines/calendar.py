"""Calendar periods, in one place: days, ISO weeks (Monday first) and calendar months.

Every analysis that buckets time (buckets' trend, funnel periods, cohorts, the weekly report's
editions) asks here for a period's first day, the period ``k`` later and its label, so a week
is the same week everywhere.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

UNITS = {"day": "1d", "week": "1w", "month": "1mo"}


def start_expr(unit: str, when: pl.Expr) -> pl.Expr:
    """The first day (a Date) of the ``unit`` holding each time or date of ``when``."""
    return when.dt.truncate(UNITS[unit]).dt.date()


def start_of(unit: str, day: date) -> date:
    """The first day of the ``unit`` holding ``day``."""
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day


def shift(unit: str, start: date, k: int) -> date:
    """The first day of the period ``k`` periods after the one starting on ``start``."""
    if unit == "day":
        return start + timedelta(days=k)
    if unit == "week":
        return start + timedelta(weeks=k)
    months = start.year * 12 + start.month - 1 + k
    return date(months // 12, months % 12 + 1, 1)


def label(unit: str, start: date) -> str:
    """``2026-W43`` (ISO week), ``2026-10`` (month) or ``2026-10-19`` (day)."""
    if unit == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if unit == "month":
        return start.strftime("%Y-%m")
    return start.isoformat()


def periods_between(unit: str, start: pl.Expr, when: pl.Expr) -> pl.Expr:
    """Whole periods from the period starting ``start`` to the period starting ``when``."""
    if unit == "month":
        return (when.dt.year() - start.dt.year()) * 12 + (
            when.dt.month().cast(pl.Int32) - start.dt.month().cast(pl.Int32)
        )
    days = (when - start).dt.total_days()
    return (days if unit == "day" else days // 7).cast(pl.Int32)
