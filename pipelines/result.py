"""Typed results: what every pipeline returns and every renderer understands.

A pipeline returns a frozen dataclass derived from :class:`Result`. It holds Polars
DataFrames and scalars, gives the contract's JSON document (:meth:`Result.to_json`) and
the tables to show (:meth:`Result.tables`, the first being the main table written by
``--format csv`` and ``--out x.parquet``). Renderers never need to know which analysis
produced a result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar

import polars as pl

if TYPE_CHECKING:
    from .io.inputs import InputReport

SIGNIFICANT = 12


@dataclass(frozen=True)
class Table:
    """A titled frame with hints for display: which columns are money and which shares.

    ``shown`` are the terminal table's default columns, in the order shown (empty: all, in
    the frame's order); the others appear with ``--wide`` or ``--columns``. ``headers``
    overrides the header of a column in this table only.
    Neither changes JSON, CSV or Parquet, which always carry every column by its key.
    """

    key: str
    title: str
    frame: pl.DataFrame
    money: tuple[str, ...] = ()
    shares: tuple[str, ...] = ()
    bar: str | None = None  # a share column drawn as an inline bar in terminals
    bar_to_max: bool = False  # the bar of the largest value is full (a histogram)
    shown: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    # Retention cells ``{"retention": share, "complete": bool}``, drawn as a heatmap cell
    # (a percent and a shade) by the renderers; the figures stay numbers here.
    heat: tuple[str, ...] = ()

    def kind(self, column: str) -> str:
        """How a column's cells read: ``money``, ``share``, ``heat`` or ``""`` (by type)."""
        if column in self.money:
            return "money"
        if column in self.shares:
            return "share"
        return "heat" if column in self.heat else ""


@dataclass(frozen=True, kw_only=True)
class Result:
    """Base of every analysis result."""

    command: ClassVar[str] = ""
    input: InputReport

    def payload(self) -> dict[str, Any]:
        """The command's own keys of the JSON document."""
        raise NotImplementedError

    def tables(self) -> list[Table]:
        """Tables to render; the first is the main table."""
        raise NotImplementedError

    def notes(self) -> list[str]:
        """Short sentences shown under the tables (assumptions, caveats)."""
        return []

    def to_json(self) -> dict[str, Any]:
        """The whole JSON document: ``command``, the payload, ``input`` and ``notes``."""
        doc = {"command": self.command, **self.payload(), "input": self.input.to_json()}
        if self.notes():
            doc["notes"] = self.notes()
        return jsonable(doc)


def jsonable(value: Any) -> Any:
    """Convert frames, dates and non-finite floats into plain JSON values."""
    if isinstance(value, pl.DataFrame):
        return [jsonable(row) for row in value.to_dicts()]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, float):
        # 12 significant digits, and never fewer than to the cent: money stays exact (an
        # order of 12,345,678,901.23 needs 13), and the last-bit noise of parallel float
        # sums cannot make two runs of the same data print differently.
        if not math.isfinite(value):
            return None
        whole = int(math.log10(abs(value))) + 1 if abs(value) >= 1 else 0
        return float(f"{value:.{max(SIGNIFICANT, whole + 2)}g}")
    if isinstance(value, datetime):
        return value.isoformat(sep="T")
    if isinstance(value, date):
        return value.isoformat()
    return value
