"""The weekly report's figures: the edition, the headline with its alerts, the trend."""

from .report import Edition, default_edition, headline_and_trend, order_days, row

__all__ = [
    "Edition",
    "default_edition",
    "headline_and_trend",
    "order_days",
    "row",
]
