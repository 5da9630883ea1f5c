"""Calendar periods by hand: ISO weeks start on Monday, months on the 1st, labels ISO."""

from datetime import date, datetime

import polars as pl
import pytest

from cust.pipelines import calendar


@pytest.mark.parametrize(("unit", "day", "start"), [
    ("week", date(2026, 1, 1), date(2025, 12, 29)),  # a Thursday; its week began in 2025
    ("week", date(2026, 10, 19), date(2026, 10, 19)),  # a Monday is its own start
    ("week", date(2026, 10, 25), date(2026, 10, 19)),  # Sunday closes it
    ("month", date(2024, 2, 29), date(2024, 2, 1)),
    ("day", date(2024, 2, 29), date(2024, 2, 29)),
])
def test_start_of_agrees_with_the_frame_expression(unit, day, start):
    assert calendar.start_of(unit, day) == start
    frame = pl.DataFrame({"t": [datetime.combine(day, datetime.min.time().replace(hour=23))]})
    assert frame.select(calendar.start_expr(unit, pl.col("t")))["t"][0] == start


@pytest.mark.parametrize(("unit", "start", "k", "shifted"), [
    ("month", date(2026, 11, 1), 2, date(2027, 1, 1)),
    ("month", date(2026, 1, 1), -1, date(2025, 12, 1)),
    ("week", date(2025, 12, 29), 1, date(2026, 1, 5)),
    ("day", date(2024, 2, 28), 2, date(2024, 3, 1)),
])
def test_shift(unit, start, k, shifted):
    assert calendar.shift(unit, start, k) == shifted


@pytest.mark.parametrize(("unit", "start", "text"), [
    ("week", date(2025, 12, 29), "2026-W01"),  # ISO year, not the calendar year
    ("week", date(2026, 10, 19), "2026-W43"),
    ("month", date(2026, 10, 1), "2026-10"),
    ("day", date(2026, 10, 1), "2026-10-01"),
])
def test_label(unit, start, text):
    assert calendar.label(unit, start) == text


def test_periods_between():
    frame = pl.DataFrame({"a": [date(2025, 11, 1), date(2025, 12, 29), date(2026, 1, 1)],
                          "b": [date(2026, 2, 1), date(2026, 1, 12), date(2026, 1, 31)]})
    got = frame.select(
        month=calendar.periods_between("month", pl.col("a"), pl.col("b")),
        week=calendar.periods_between("week", pl.col("a"), pl.col("b")),
        day=calendar.periods_between("day", pl.col("a"), pl.col("b")),
    )
    assert got["month"].to_list() == [3, 1, 0]
    assert got["week"].to_list() == [13, 2, 4]  # 92, 14 and 30 days
    assert got["day"].to_list() == [92, 14, 30]
