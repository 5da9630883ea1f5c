"""``cust check``: what the loader made of each export, before any analysis.

For every source: the files with their detected format, encoding and delimiter; which
header became which canonical column; rows read and rejected by reason; the time span.
It is the first thing to run on a new export.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import polars as pl

from ..result import Result, Table
from .inputs import Inputs, collect
from .loader import TIME_COLUMNS as TIME_COLUMN
from .schema import SCHEMAS, match_headers


@dataclass(frozen=True, kw_only=True)
class CheckResult(Result):
    """Per source: files, column mapping, row counts and time span."""

    command: ClassVar[str] = "check"
    sources: pl.DataFrame
    files: pl.DataFrame
    mapping: dict[str, dict[str, str]]

    def payload(self) -> dict[str, Any]:
        """``sources``, ``files`` and ``columns`` (canonical -> header, per source)."""
        return {"sources": self.sources, "files": self.files, "columns": self.mapping}

    def tables(self) -> list[Table]:
        """The per-source summary, the rejected rows by reason, the matched columns, the files."""
        matched = pl.DataFrame(
            [
                {"source": src, "column": col, "header": header}
                for src, cols in self.mapping.items()
                for col, header in cols.items()
            ],
            schema={"source": pl.String, "column": pl.String, "header": pl.String},
        )
        reasons = pl.DataFrame(
            [
                {"source": name, "reason": reason, "rows": rows}
                for name, s in self.input.sources.items()
                for reason, rows in s.reasons.items()
            ],
            schema={"source": pl.String, "reason": pl.String, "rows": pl.Int64},
        )
        tables = [
            Table(
                "sources",
                "Exports checked",
                self.sources.drop("columns"),
                shares=("rejected_share",),
            ),
        ]
        if reasons.height:  # where the rows are is said on stderr (written, or --rejects)
            tables.append(Table("rejected", "Rows rejected, by reason", reasons))
        return [
            *tables,
            Table("columns", "Columns matched", matched),
            Table("files", "Files", self.files),
        ]


def check_inputs(inputs: Inputs) -> CheckResult:
    """Load every source that was given (the sample when none was) and describe it."""
    names = [n for n in SCHEMAS if inputs.paths.get(n) is not None]
    sources = [inputs.get(n) for n in names]
    spans = []
    for s in sources:
        col = TIME_COLUMN[s.name]
        if not s.has(col):  # an optional time column (registered_at) the export lacks
            spans.append(s.valid.select(
                pl.lit(None, dtype=pl.Datetime("us")).alias("first"),
                pl.lit(None, dtype=pl.Datetime("us")).alias("last"),
            ).head(1))
            continue
        spans.append(
            s.valid.select(pl.col(col).min().alias("first"), pl.col(col).max().alias("last"))
        )
    frames, report = collect(spans, sources)
    rows, files, mapping = [], [], {}
    for s, span in zip(sources, frames, strict=True):
        rep = report.sources[s.name]
        read, rejected = rep.rows_read, rep.rows_rejected
        rows.append(
            {
                "source": s.name,
                "files": len(s.files),
                "rows_read": read,
                "rows_rejected": rejected,
                "rejected_share": rejected / read if read else 0.0,
                # Accepted rows dated before 1970 or more than a year ahead (a warning).
                "suspicious_times": rep.suspicious_times.rows,
                # The date order: given (--date-format), detected (and the cell proving it).
                "dates": s.dates.label(),
                "first": span["first"][0],
                "last": span["last"][0],
                "columns": ", ".join(s.columns),
            }
        )
        cols: dict[str, str] = {}
        for f in s.files:
            found, _ = match_headers(s.name, f.headers, inputs.options.explicit_map(s.name))
            cols.update({canonical: header for header, canonical in found.items()})
            files.append(
                {
                    "source": s.name,
                    "path": str(f.path),
                    "format": f.format,
                    "encoding": f.encoding,
                    "delimiter": f.delimiter,
                    "headers": len(f.headers),
                }
            )
        mapping[s.name] = cols
    schema_rows: dict[str, Any] = {
        "source": pl.String,
        "files": pl.Int64,
        "rows_read": pl.Int64,
        "rows_rejected": pl.Int64,
        "rejected_share": pl.Float64,
        "suspicious_times": pl.Int64,
        "dates": pl.String,
        "first": pl.Datetime("us"),
        "last": pl.Datetime("us"),
        "columns": pl.String,
    }
    schema_files: dict[str, Any] = {
        "source": pl.String,
        "path": pl.String,
        "format": pl.String,
        "encoding": pl.String,
        "delimiter": pl.String,
        "headers": pl.Int64,
    }
    return CheckResult(
        input=report,
        sources=pl.DataFrame(rows, schema=schema_rows),
        files=pl.DataFrame(files, schema=schema_files),
        mapping=mapping,
    )
