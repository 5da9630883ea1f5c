"""Tables as files: the export table of a result, ready for CSV (formula cells neutralised).

A CSV cell that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab,
carriage return) gets a leading apostrophe; plain numbers such as ``-2`` stay as they are.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from cust.pipelines.result import SIGNIFICANT

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Plain negative numbers such as -2 stay as they are; a leading "+" is how formula
# injections start ("+1+cmd|..."), and no number cust writes carries one.
NUMBER = r"^-?[0-9][0-9,]*(\.[0-9]+)?$"


def neutralise(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix text cells that start like a formula with ``'`` (CSV injection)."""
    pattern = "^[" + "".join("\\" + c if c in "-+" else c for c in FORMULA_START) + "]"
    exprs = []
    for name, dtype in frame.schema.items():
        if dtype == pl.String:
            col = pl.col(name)
            risky = col.str.contains(pattern) & ~col.str.contains(NUMBER)
            exprs.append(pl.when(risky).then(pl.lit("'") + col).otherwise(col).alias(name))
    return frame.with_columns(exprs) if exprs else frame


def csv_ready(frame: pl.DataFrame) -> pl.DataFrame:
    """Nested columns (lists) become JSON text; floats get 12 significant digits."""
    nested = [n for n, t in frame.schema.items() if isinstance(t, pl.List | pl.Struct | pl.Array)]
    if nested:
        frame = frame.with_columns(
            pl.col(n).map_elements(
                lambda v: json.dumps(v, ensure_ascii=False, default=str), return_dtype=pl.String
            )
            for n in nested
        )
    floats = [n for n, t in frame.schema.items() if t in (pl.Float32, pl.Float64)]
    if floats:  # same data, same bytes: no last-bit noise from parallel float sums
        frame = frame.with_columns(pl.col(floats).round_sig_figs(SIGNIFICANT))
    return neutralise(frame)


def export_frame(result: Any) -> pl.DataFrame:
    """The table that CSV and Parquet output write: ``export_table()`` or the first table.

    Member lists (ABC classes, RFM segments) are exported one row per customer, while the
    terminal shows their summaries.
    """
    exporter = getattr(result, "export_table", None)
    return exporter() if exporter is not None else result.tables()[0].frame
