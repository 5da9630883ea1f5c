"""One loader for every export: files in, validated lazy frames and bad-row counts out.

``load_source`` resolves the paths, opens each file (:mod:`.sources`), matches its headers
(:mod:`.schema`), parses every canonical column (:mod:`.parse`) and marks each row with the
first reason it is bad, or null. Nothing is collected here: a :class:`Source` holds the
lazy plan, and :func:`collect` runs the answer of a command together with the row counts
of its sources in one pass (``pl.collect_all`` shares the scans).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

from ..errors import InputFileError, InvalidOptionError, MissingColumnError
from . import parse
from .schema import SCHEMAS, Column, Kind, match_headers, normalise_header
from .sources import OpenedFile, head_rows, open_file, resolve_paths

REASON = "reason"
FILE = "source_file"
ROW = "source_row"

# Bad-row reasons in the order they are checked; a row reports the first that applies.
REASONS = (
    "invalid_encoding",
    "missing_order_id",
    "missing_customer_id",
    "missing_user_id",
    "missing_event",
    "missing_sku",
    "bad_order_time",
    "bad_event_time",
    "bad_changed_at",
    "bad_registered_at",
    "bad_amount",
    "bad_cost",
    "bad_discount",
    "bad_old_price",
    "bad_new_price",
    "bad_points",
    "bad_service_cost",
    "bad_quantity",
    "negative_quantity",
    "bad_status",
    "order_in_later_file",
    "mixed_customers",
    "duplicate_customer",
)
# The position of a row's file among the files of an orders export of several files, and
# the flag of an accepted line whose order a later file holds too (overlapping exports).
FILE_INDEX, IN_LATER_FILE = "__file_index", "__in_later_file"

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)


@dataclass(frozen=True)
class LoadOptions:
    """How exports are read: encoding override, header mappings, the shop's time zone."""

    encoding: str | None = None
    columns: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    timezone: str | None = None
    # --dedupe: an order in several files of the export counts from the last one only.
    dedupe: bool = False
    # --date-format / [columns] date_format: auto (detected from the cells), ymd, dmy, mdy.
    date_format: str = "auto"

    def explicit_map(self, source: str) -> dict[str, str]:
        """Canonical -> header for ``source``: config first, then ``--map`` on top."""
        names = {c.name for c in SCHEMAS[source]}
        merged = dict(self.columns.get(source, {}))
        merged.update({k: v for k, v in self.columns.get("*", {}).items() if k in names})
        return merged


@dataclass(frozen=True)
class Source:
    """A validated export: the lazy rows, each with a rejection reason or null.

    Attributes
    ----------
    name
        ``orders``, ``customers``, ``events`` or ``prices``.
    files
        The files read, in order.
    columns
        The canonical columns present (required ones always are), plus kept extras.
    checked
        Every row, parsed, with the :data:`REASON` column.
    """

    name: str
    files: tuple[OpenedFile, ...]
    columns: tuple[str, ...]
    checked: pl.LazyFrame
    located: pl.LazyFrame  # like ``checked`` plus source_file and source_row, for --rejects
    # Orders only, once materialized: one row per paid order over the whole export
    # (:func:`.orders.orders_frame`), so the report's sections do not each regroup the lines.
    per_order: pl.LazyFrame | None = None
    # Rows per rejection reason when they are known already (orders read from the cache,
    # or grouped ahead of the answer: see ``Inputs._orders`` in :mod:`.inputs`).
    counts: pl.DataFrame | None = None
    # The columns ``per_order``'s rows are sorted by (none: unknown order).
    per_order_sorted_by: tuple[str, ...] = ()
    # Every row with the reasons of its own cells, before the checks across rows.
    marked: pl.LazyFrame | None = None
    options: LoadOptions | None = None  # as loaded (for where())
    dates: DateOrder = field(default_factory=lambda: DateOrder())  # how dates are read
    # What computed ``per_order``: "spark" keeps the lines on the cluster (only the orders,
    # the counts and the rejected rows came back), so nothing can read them here.
    engine: str = "polars"
    # ``checked`` is the valid rows as validated by an earlier run (the events cache: see
    # :meth:`kept`), with ``counts`` the whole export's tally; ``located`` reads the files.
    prevalidated: bool = False

    def where(self, column: str, values: Sequence[str]) -> Source:
        """The rows whose ``column`` (a plain text column) is one of ``values``, checked.

        The rows are dropped before they are parsed, so a command that needs a few event
        names of a click-stream validates those rows only (the funnel's steps are half
        of 50M events: 10.4 -> 7.5 s). Its rows are not the export's: counts come from the
        whole source. Not for sources with checks across rows (orders, customers).
        """
        spec = {c.name: c for c in SCHEMAS[self.name]}.get(column)
        if self.prevalidated:  # the cells are parsed already: the rows that hold one of values
            return replace(self, checked=self.checked.filter(pl.col(column).is_in(list(values))))
        plain = spec is None or (spec.kind in (Kind.ID, Kind.TEXT) and not spec.values)
        if self.name in CROSS_ROW_CHECKED or not plain or self.options is None:
            msg = f"where() cannot select {self.name} rows by {column}"
            raise ValueError(msg)
        return _build(
            self.name, self.files, self.options, self.dates, (column, tuple(values))
        )

    def part(self, key: str, i: int, n: int) -> Source:
        """The rows whose ``key`` hashes to part ``i`` of ``n``, checked across rows.

        Rows sharing a key (the lines of one order) are in the same part, so the checks
        across rows (an order naming two customers) give what they give on all rows.
        """
        rows = self.marked if self.marked is not None else self.checked
        picked = rows.filter(pl.col(key).hash(seed=17) % n == i)
        checked = _cross_row_checks(self.name, picked, parsed=True, dedupe=self._dedupe)
        return replace(self, checked=checked, marked=picked if self.marked is not None else None,
                       per_order=None, counts=None, per_order_sorted_by=())

    def subset(self, indices: Sequence[int]) -> Source:
        """The export's files at ``indices`` (in their order), read as the whole export is.

        With the whole export's columns and their types (a column one file lacks is
        null, or its default, there as here) and its date order, so the orders and rows
        of these files come out as they do inside the whole (the per-file cache).
        """
        if self.options is None or self.marked is None:
            msg = f"subset() needs the {self.name} export as loaded"
            raise ValueError(msg)
        schema = self.marked.collect_schema()
        return _build(self.name, [self.files[i] for i in indices], self.options, self.dates,
                      like=(self.columns, {c: schema[c] for c in self.columns}))

    def kept(self, rows: pl.LazyFrame, counts: pl.DataFrame) -> Source:
        """The source with its valid ``rows`` as validated before, and its rows' ``counts``.

        ``rows``: :attr:`valid` of this export, written by an earlier run (the events
        cache); ``counts``: its :meth:`tally`. The cells are not parsed or checked again;
        the rejected rows (``--rejects``) are still read from the files.
        """
        checked = rows.with_columns(pl.lit(None, dtype=pl.String).alias(REASON))
        return replace(self, checked=checked, marked=None, counts=counts, prevalidated=True)

    @property
    def _dedupe(self) -> bool:
        return self.options is not None and self.options.dedupe

    @property
    def valid(self) -> pl.LazyFrame:
        """The rows that enter figures (no rejection reason)."""
        if self.engine != "polars":  # not an empty frame: that would give wrong figures
            msg = (f"this needs the {self.name} lines themselves, which stay on the "
                   f"{self.engine} cluster (--engine {self.engine})")
            raise InvalidOptionError(msg, hint="run it with --engine polars")
        return self.checked.filter(pl.col(REASON).is_null()).drop(REASON)

    def has(self, column: str) -> bool:
        """Whether the export carries ``column``."""
        return column in self.columns

    def tally(self, frame: pl.LazyFrame | None = None, *more: pl.Expr) -> pl.LazyFrame:
        """Rows per rejection reason, the accepted rows under a null reason.

        One pass gives ``rows_read`` (the sum), ``rows_rejected`` and the reasons, so a
        command validates each export once for its figures and once for the counts.
        Accepted rows of a suspicious time (:func:`odd_day`) are counted by day apart,
        with their first and last time. ``frame`` (``checked`` with columns of the
        caller's) and ``more`` fold a command's own figures into the same group-by.
        """
        if self.counts is not None and frame is None:
            return self.counts.lazy()
        keys, times = [REASON], []
        if frame is None and self.marked is not None and (
            FILE_INDEX in self.marked.collect_schema()
        ):
            # Orders of several files: the lines of an order a later file holds too are
            # counted apart (IN_LATER_FILE), dropped by --dedupe or not.
            frame = _cross_row_checks(
                self.name, self.marked, parsed=True, dedupe=self._dedupe, flag=True
            )
            keys.append(IN_LATER_FILE)
        frame = self.checked if frame is None else frame
        when = TIME_COLUMNS[self.name]
        if self.has(when):
            frame = frame.with_columns(odd_day(pl.col(when)).alias(ODD_DAY))
            keys.append(ODD_DAY)
            times = [pl.col(when).min().alias(ODD_FIRST), pl.col(when).max().alias(ODD_LAST)]
        return frame.group_by(keys).agg(pl.len().alias("rows"), *times, *more)

    def rejected(self) -> pl.LazyFrame:
        """The bad rows with their reason, file and 1-based data row number."""
        return self.located.filter(pl.col(REASON).is_not_null())


# The time column of each source, whose accepted values are checked for plausibility.
TIME_COLUMNS = {
    "orders": "order_time",
    "customers": "registered_at",
    "events": "event_time",
    "prices": "changed_at",
}
# Accepted rows of a suspicious time: before 1970 (a sentinel such as 0001-01-01, or a
# year typed short), or more than a year after the day of the run (9999-12-31, 2204 for
# 2024). They are read, and reported apart (``suspicious_times`` of ``input``).
EARLIEST = date(1970, 1, 1)
LATEST_AHEAD = timedelta(days=365)
ODD_DAY, ODD_FIRST, ODD_LAST = "__odd_day", "__odd_first", "__odd_last"


def odd_day(when: pl.Expr, today: date | None = None) -> pl.Expr:
    """The day of an accepted row's suspicious time, null for the others.

    The bound ahead is from the day of the run. A tally kept in the cache holds the days
    that were suspicious when it was made; a later run, whose bound is later, keeps those
    still beyond it (:func:`suspicious_of`), so a cached count is the same as a fresh one.
    """
    odd = pl.col(REASON).is_null() & ~plausible(when, today)
    return pl.when(odd).then(when.dt.date())


def plausible(when: pl.Expr, today: date | None = None) -> pl.Expr:
    """Whether a time lies in 1970 to a year after the day of the run (see above)."""
    day = when.dt.date()
    return (day >= EARLIEST) & (day <= (today or date.today()) + LATEST_AHEAD)


@dataclass(frozen=True)
class Suspicious:
    """Accepted rows of a suspicious time (see :data:`EARLIEST`), with the first and last."""

    rows: int = 0
    first: datetime | None = None
    last: datetime | None = None

    def to_json(self) -> dict[str, object]:
        """``{"rows": 2, "first": "0001-01-01T00:00:00", "last": "9999-12-31T00:00:00"}``."""
        return {
            "rows": self.rows,
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
        }


def suspicious_of(tally: pl.DataFrame, today: date | None = None) -> Suspicious:
    """The suspicious rows of a :meth:`Source.tally`, judged against ``today`` (the run's)."""
    if ODD_DAY not in tally.columns:
        return Suspicious()
    latest = (today or date.today()) + LATEST_AHEAD
    day = pl.col(ODD_DAY)
    odd = tally.filter(day.is_not_null() & ((day < EARLIEST) | (day > latest)))
    if not odd.height:
        return Suspicious()
    first: Any = odd[ODD_FIRST].min()
    last: Any = odd[ODD_LAST].max()
    return Suspicious(int(odd["rows"].sum()), first, last)


def merge_tallies(tallies: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """Tallies of parts of one source added up, by reason (and suspicious day)."""
    frame = pl.concat([t.with_columns(pl.col("rows").cast(pl.Int64)) for t in tallies])
    keys = [c for c in (REASON, ODD_DAY, IN_LATER_FILE) if c in frame.columns]
    times = [pl.col(ODD_FIRST).min(), pl.col(ODD_LAST).max()] if ODD_DAY in keys else []
    return frame.group_by(keys).agg(pl.col("rows").sum(), *times)


def parquet_passes(source: Source, rows_per_pass: int) -> int:
    """Passes of at most ``rows_per_pass`` rows over a Parquet export (rows from the footers).

    Text exports have no row count without reading them: one pass.
    """
    if any(f.format != "parquet" for f in source.files):
        return 1
    try:
        import pyarrow.parquet as pq  # the footers alone (one scan per file cost 0.2 s on 365)

        rows = sum(pq.read_metadata(f.path).num_rows for f in source.files)
    except (pl.exceptions.PolarsError, OSError, ValueError):  # ArrowInvalid: a ValueError
        return 1
    return max(1, -(-rows // rows_per_pass))


def by_reason(tally: FrameT) -> FrameT:
    """The rejected rows of a :meth:`Source.tally` by reason, most frequent first."""
    return tally.filter(pl.col(REASON).is_not_null()).sort(
        "rows", REASON, descending=[True, False]
    )


def load_source(name: str, spec: str | Path, options: LoadOptions | None = None) -> Source:
    """Open, match and validate the export(s) at ``spec`` as source ``name``.

    Raises
    ------
    InputFileError
        A file is missing, empty, corrupt or not what its name says.
    MissingColumnError
        A required column matches no header; the message lists the headers found.
    """
    options = options or LoadOptions()
    paths = resolve_paths(spec, name)
    opened = [open_file(p, name, encoding=options.encoding) for p in paths]
    return _build(name, opened, options, date_order(name, opened, options))


@dataclass(frozen=True)
class DateOrder:
    """How a source's dates are read: the order of day, month and year, and who chose it.

    Attributes
    ----------
    order
        ``ymd`` (year first: the ISO forms), ``dmy`` (day first) or ``mdy`` (month first).
    how
        ``given`` (``--date-format`` or ``[columns] date_format``), ``detected`` (a cell
        proves it: a first field above 12 is a day, a second above 12 a day too), or
        ``default`` (nothing to detect: the year-first forms only).
    evidence
        The cell that proved a detected order (``31/10/2026``).
    ambiguous
        Up to three cells with the year last that could be either order (``default``
        only: they are bad rows until the order is given).
    """

    order: str = "ymd"
    how: str = "default"
    evidence: str | None = None
    ambiguous: tuple[str, ...] = ()

    @property
    def parsing(self) -> str | None:
        """The order handed to :func:`.parse.timestamp` (None: the default forms only)."""
        return None if self.how == "default" else self.order

    def to_json(self) -> dict[str, object]:
        """``{"order": "dmy", "how": "detected", "evidence": "31/10/2026"}``."""
        return {"order": self.order, "how": self.how, "evidence": self.evidence,
                "ambiguous": list(self.ambiguous)}

    def label(self) -> str:
        """``dmy (detected: 31/10/2026)`` for a table cell."""
        if self.how == "detected" and self.evidence:
            return f"{self.order} (detected: {self.evidence})"
        if self.ambiguous:
            return f"{self.order} (default; {self.ambiguous[0]} is ambiguous)"
        return f"{self.order} ({self.how})"


SNIFF_ROWS = 10_000  # rows of each file looked at for dates of another order than ISO


def date_order(name: str, opened: Sequence[OpenedFile], options: LoadOptions) -> DateOrder:
    """The date order of a source: the one given, or the one its cells prove.

    Like DuckDB's sniffer: the first :data:`SNIFF_ROWS` rows of every file say whether any
    date has its year last (``31/10/2026``) or dots (``2026.10.31``). A proof is a first
    field of 13 to 31 (a day: ``dmy``) or a second one (``mdy``); when the first rows have
    dates of the year last but no proof, the whole time columns are searched for one. An
    ISO export costs the look at its first rows only. Both proofs in one export are refused
    (exit 2): the order must be given, and the rows of the other order are bad rows.
    """
    if options.date_format != "auto":
        return DateOrder(options.date_format, "given")
    explicit = options.explicit_map(name)
    times = {c.name for c in SCHEMAS[name] if c.kind is Kind.TIME}
    heads, whole = [], []
    for f in opened:
        mapping, missing = match_headers(name, f.headers, explicit)
        if missing:
            return DateOrder()  # refused with its message by _build
        schema = f.frame.collect_schema()
        cols = [h for h, c in mapping.items() if c in times and schema.get(h) == pl.String]
        if not cols:
            continue
        head = head_rows(f, SNIFF_ROWS, cols)
        heads += [_cells(head, h) for h in cols if h in head.columns]
        whole += [f.frame.select(pl.col(h).str.strip_chars().alias(CELL)) for h in cols]
    if not heads:
        return DateOrder()
    sample = pl.concat(heads)
    found = _proofs(sample.lazy()).collect()
    if not found["day_month"][0]:
        dotted = found["dotted"][0]
        return DateOrder("ymd", "detected", dotted) if dotted is not None else DateOrder()
    if found["dmy"][0] is None and found["mdy"][0] is None:
        try:  # no proof in the first rows: a day above 12 may come later (sorted by time)
            found = _proofs(pl.concat(whole)).collect()
        except (pl.exceptions.ComputeError, pl.exceptions.NoDataError):
            pass  # unreadable: the file's own error comes when its rows are read
    dmy, mdy = found["dmy"][0], found["mdy"][0]
    if dmy is not None and mdy is not None:
        msg = (
            f"the {name} export has dates day first ({dmy!r}) and month first ({mdy!r}): "
            "cust cannot tell which order the others are in"
        )
        hint = (
            "give the order with --date-format dmy (31/10/2026) or --date-format mdy "
            "(10/31/2026), or date_format in [columns] of cust.toml; the rows of the other "
            "order are then rejected"
        )
        raise InputFileError(msg, hint=hint)
    if dmy is not None:
        return DateOrder("dmy", "detected", dmy)
    if mdy is not None:
        return DateOrder("mdy", "detected", mdy)
    dotted = found["dotted"][0] if "dotted" in found.columns else None
    return DateOrder("ymd", "detected" if dotted else "default", dotted,
                     tuple(found["some"][0].to_list()))


CELL = "cell"


def _cells(frame: pl.DataFrame, header: str) -> pl.DataFrame:
    return frame.select(pl.col(header).cast(pl.String).str.strip_chars().alias(CELL))


def _proofs(cells: pl.LazyFrame) -> pl.LazyFrame:
    """One row: whether a cell has its year last, the first cells proving each order."""
    cell = pl.col(CELL)
    year_last = cell.str.contains(parse.DAY_MONTH)
    first = cell.str.extract(parse.DAY_MONTH, 1).cast(pl.Int64)
    second = pl.coalesce(
        *(cell.str.extract(parse.DAY_MONTH, i) for i in (2, 3, 4))
    ).cast(pl.Int64)
    return cells.select(
        year_last.any().alias("day_month"),
        cell.filter(year_last & first.is_between(13, 31)).first().alias("dmy"),
        cell.filter(year_last & second.is_between(13, 31)).first().alias("mdy"),
        cell.filter(year_last).head(3).implode().alias("some"),
        cell.filter(cell.str.contains(parse.YEAR_DOTS)).first().alias("dotted"),
    )


def _build(
    name: str,
    opened: Sequence[OpenedFile],
    options: LoadOptions,
    dates: DateOrder,
    only: tuple[str, tuple[str, ...]] | None = None,
    like: tuple[tuple[str, ...], Mapping[str, pl.DataType]] | None = None,
) -> Source:
    """The :class:`Source` over ``opened``; ``only``: see :meth:`Source.where`.

    ``like``: the columns and types to give the rows (see :meth:`Source.subset`).
    """
    explicit = options.explicit_map(name)
    parts: list[tuple[pl.LazyFrame, set[str]]] = []
    located_parts: list[tuple[pl.LazyFrame, set[str]]] = []
    present: set[str] = set()
    # Orders of several files: an order also in a later file is checked for (see
    # _cross_row_checks), so overlapping exports do not count it twice.
    overlap = name == "orders" and len(opened) > 1
    for first, f, paths in _runs(opened):
        i = first
        mapping, missing = match_headers(name, f.headers, explicit)
        if missing:
            raise _missing(name, f, missing, explicit)
        _refuse_repeated_headers(f, mapping)
        mapping = _readable_types(name, f, mapping)
        file_schema = f.frame.collect_schema()
        schema = {c: file_schema[h] for h, c in mapping.items()}
        present.update(schema)
        # Cells stay typed until the reason is computed (it parses by the file's dtypes);
        # _concat(as_text=True) turns them into text afterwards.
        raw = [pl.col(h).alias(c) for h, c in mapping.items()]
        index = pl.lit(i, dtype=pl.Int32).alias(FILE_INDEX)
        if paths is None:
            frame = f.frame.select(raw)
            located = f.frame if f.numbered else f.frame.with_row_index(ROW, offset=1)
            located = located.select(pl.lit(str(f.path)).alias(FILE), pl.col(ROW), *raw)
        else:  # one scan for a run of files alike; each row's file from its path
            scan = pl.scan_parquet(paths, include_file_paths=FILE, hive_partitioning=False)
            position = pl.col(FILE).cast(pl.Enum(paths)).to_physical().cast(pl.Int32)
            index = (position + i).alias(FILE_INDEX)
            frame = scan.select(*raw, index)
            row = pl.int_range(1, pl.len() + 1, dtype=pl.UInt32).over(FILE).alias(ROW)
            located = scan.select(pl.col(FILE), row, *raw)
        if only is not None:
            # On the raw cell, stripped as the parsers strip it (the names are not empty),
            # so the Parquet reader can skip the other columns of the rows it drops before
            # any of them is parsed.
            kept = pl.col(only[0]).cast(pl.String).str.strip_chars().is_in(list(only[1]))
            frame, located = frame.filter(kept), located.filter(kept)
        rules = _rules(name, schema, options.timezone, text=f.text, order=dates.parsing)
        if paths is None:
            parsed = rules.parse(frame)
        else:
            parsed = rules.parse(frame, keep=[FILE_INDEX] if overlap else [])
            index = pl.col(FILE).cast(pl.Enum(paths)).to_physical().cast(pl.Int32) + i
            index = index.alias(FILE_INDEX)
        marked_rows = rules.mark(located)
        if overlap and paths is None:
            parsed, marked_rows = parsed.with_columns(index), marked_rows.with_columns(index)
        elif overlap:
            marked_rows = marked_rows.with_columns(index)
        has = {*schema, REASON, FILE, ROW, *((FILE_INDEX,) if overlap else ())}
        located_parts.append((marked_rows, has))
        parts.append((parsed, has))
    canonical = [c.name for c in SCHEMAS[name] if c.name in present]
    extras = sorted(present - set(canonical))
    columns = tuple(canonical + extras) if like is None else like[0]
    file_index = (FILE_INDEX,) if overlap else ()
    marked = _concat(parts, (*columns, *file_index), source=name)
    if like is not None:
        marked = marked.cast(pl.Schema(like[1]))
    checked = _cross_row_checks(name, marked, parsed=True, dedupe=options.dedupe)
    located_all = _cross_row_checks(
        name, _concat(located_parts, (FILE, ROW, *columns, *file_index), as_text=True),
        parsed=False,
        dedupe=options.dedupe,
    )
    return Source(
        name, tuple(opened), columns, checked, located_all, marked=marked, options=options,
        dates=dates,
    )


RUN_FILES = 4  # Parquet files alike in a row read by one scan from this many on


def _runs(opened: Sequence[OpenedFile]) -> list[tuple[int, OpenedFile, list[str] | None]]:
    """The files in runs read together: (first position, first file, the run's paths).

    Consecutive Parquet files of the same columns and types (a folder of daily exports)
    are one scan, so the plan has one branch for them instead of one per file (365
    branches took seconds to build and to optimise). Other files are alone (paths None).
    """
    runs: list[tuple[int, OpenedFile, list[str] | None]] = []
    key_of: list[object] = []
    for f in opened:
        alike = f.format == "parquet" and not f.numbered and not f.scratch
        key_of.append((tuple(f.headers), tuple(f.frame.collect_schema().dtypes())) if alike
                      else None)
    i = 0
    while i < len(opened):
        j = i + 1
        while key_of[i] is not None and j < len(opened) and key_of[j] == key_of[i]:
            j += 1
        if j - i >= RUN_FILES:
            runs.append((i, opened[i], [str(f.path) for f in opened[i:j]]))
        else:
            runs += [(k, opened[k], None) for k in range(i, j)]
        i = j
    return runs


def _refuse_repeated_headers(f: OpenedFile, mapping: Mapping[str, str]) -> None:
    """Refuse a used header that the file has twice (which of the columns would be meant)."""
    folded = [normalise_header(h) for h in f.headers]
    for header, column in mapping.items():
        times = folded.count(normalise_header(header))
        if times > 1:
            msg = f"{f.path}: the header {header!r} ({column}) appears {times} times"
            hint = "remove or rename the extra columns in the export, so one is the " + column
            raise InputFileError(msg, hint=hint)


def _unreadable(dtype: pl.DataType) -> bool:
    """A Parquet type no cell parser reads: lists, arrays, maps, structs, durations."""
    return dtype.is_nested() or isinstance(dtype, (pl.Duration, pl.Object))


def _readable_types(name: str, f: OpenedFile, mapping: dict[str, str]) -> dict[str, str]:
    """``mapping`` without kept extra columns of unreadable types; a canonical one is refused.

    A list, map, struct or duration cannot be cast to text, so a used column of such a
    type stopped the run with a Polars traceback. An extra column (kept for breakdowns)
    of such a type is left out instead: it cannot be a breakdown value anyway.
    """
    if f.format != "parquet":
        return mapping
    schema = f.frame.collect_schema()
    canonical = {c.name for c in SCHEMAS[name]}
    kept = {}
    for header, column in mapping.items():
        dtype = schema[header]
        if not _unreadable(dtype):
            kept[header] = column
        elif column in canonical:
            msg = f"{f.path}: the {name} column {column} ({header!r}) is of Parquet type {dtype}"
            hint = (
                f"write {column} as text, a number or a time (e.g. one value per row, not a "
                "list), or export the file as CSV"
            )
            raise InputFileError(msg, hint=hint)
    return kept


def _missing(name: str, f: OpenedFile, missing: list[str], explicit: dict[str, str]) -> Exception:
    cols = {c.name: c for c in SCHEMAS[name]}
    first = cols[missing[0]]
    aliases = ", ".join(first.aliases[:4])
    shown = [_short(h) for h in f.headers[:SHOWN_HEADERS]]
    more = len(f.headers) - len(shown)
    found = ", ".join(shown) + (f" and {more:,} more" if more > 0 else "") or "(none)"
    mapped = f" (mapped to {explicit[first.name]!r})" if first.name in explicit else ""
    msg = (
        f"{f.path}: required {name} column {', '.join(missing)}{mapped} not found; "
        f"headers found: {found}"
    )
    hint = (
        f"name the header holding {first.name} with --map {first.name}=<header> or in cust.toml "
        f"[columns.{name}]; recognised names: {first.name}, {aliases}"
    )
    if f.format == "csv" and len(f.headers) <= 1:
        hint = (
            f"only one column was found with delimiter {f.delimiter!r}: is the file "
            "delimited by something else, or not a CSV at all?"
        )
    return MissingColumnError(msg, hint=hint)


SHOWN_HEADERS = 50  # a message lists at most this many of a file's headers


def _short(header: str, limit: int = 80) -> str:
    """``header`` quoted for a message, a long one cut (a header may be 128 KiB)."""
    return repr(header if len(header) <= limit else header[:limit] + "…")


def _concat(
    parts: Sequence[tuple[pl.LazyFrame, set[str]]],
    columns: Sequence[str],
    *,
    as_text: bool = False,
    source: str = "",
) -> pl.LazyFrame:
    def col(c: str) -> pl.Expr:
        return pl.col(c).cast(pl.String) if as_text and c not in (ROW, FILE_INDEX) else pl.col(c)

    # Each part with the columns it has (given: asking a plan for its schema resolves the
    # whole plan, 2 s for an export of 365 files).
    aligned = [
        p.select([col(c) if c in has else _null_of(source, c, as_text=as_text)
                  for c in (*columns, REASON)])
        for p, has in parts
    ]
    return aligned[0] if len(aligned) == 1 else pl.concat(aligned, how="vertical_relaxed")


# What a column absent from one file of several means for that file's rows.
ABSENT = {("orders", "status"): "paid", ("orders", "discount"): 0.0}


def _null_of(source: str, column: str, *, as_text: bool) -> pl.Expr:
    """A column one file lacks: its default, or a null that takes the other files' type."""
    if as_text:
        return pl.lit(None, dtype=pl.String).alias(column)
    return pl.lit(ABSENT.get((source, column))).alias(column)


@dataclass(frozen=True)
class _Rules:
    """How one file's cells are parsed and checked, each expression evaluated once.

    First the parsers' temporary stages (:mod:`.parse`), then every parsed value and
    problem flag from them, then the reason from those columns by name. Built as one
    expression tree instead, each parse would run once per place it is used: on a
    1M-line CSV that took 9 s and 2.6 GB.
    """

    stages: list[dict[str, pl.Expr]]
    values: dict[str, pl.Expr]  # canonical column -> parsed value
    flags: dict[str, pl.Expr]  # flag column -> problem found in the cell
    checks: list[tuple[str, Callable[[Callable[[str], pl.Expr]], pl.Expr]]]

    def _reason(self, value: Callable[[str], pl.Expr]) -> pl.Expr:
        conds = [(r, build(value)) for r, build in self.checks]
        conds.sort(key=lambda rc: REASONS.index(rc[0]) if rc[0] in REASONS else len(REASONS))
        branches: list[pl.Expr] = [pl.when(c.fill_null(False)).then(pl.lit(r)) for r, c in conds]
        return pl.coalesce(branches or [pl.lit(None)]).cast(pl.String)

    def _staged(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        for stage in self.stages:
            if stage:
                frame = frame.with_columns(**stage)
        return frame

    def parse(self, frame: pl.LazyFrame, keep: Sequence[str] = ()) -> pl.LazyFrame:
        """Every canonical column parsed, plus the :data:`REASON` column (and ``keep``)."""
        staged = self._staged(frame).select(
            *keep,
            *(v.alias(c) for c, v in self.values.items()),
            *(f.alias(n) for n, f in self.flags.items()),
        )
        return staged.with_columns(self._reason(pl.col).alias(REASON)).drop(list(self.flags))

    def mark(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        """``frame`` with its raw cells kept, plus the :data:`REASON` column."""
        temp = {c: f"{parse.TEMP}value_{c}" for c in self.values}
        staged = self._staged(frame).with_columns(
            *(v.alias(temp[c]) for c, v in self.values.items()),
            *(f.alias(n) for n, f in self.flags.items()),
        )
        reason = self._reason(lambda c: pl.col(temp.get(c, c)))
        names = [n for stage in self.stages for n in stage]
        return staged.with_columns(reason.alias(REASON)).drop(
            [*names, *temp.values(), *self.flags]
        )


def _rules(
    name: str,
    schema: Mapping[str, pl.DataType],
    timezone: str | None,
    *,
    text: bool,
    order: str | None = None,
) -> _Rules:
    """Parsed value expressions for every column, and the rejection checks.

    ``text`` says the file was decoded from bytes (lossily, so a bad byte became U+FFFD);
    Parquet strings are valid UTF-8 by construction and skip that check.
    """
    specs: dict[str, Column] = {c.name: c for c in SCHEMAS[name]}
    parsed: list[parse.Parsed] = []
    values: dict[str, pl.Expr] = {}
    flags: dict[str, pl.Expr] = {}
    checks: list[tuple[str, Callable[[Callable[[str], pl.Expr]], pl.Expr]]] = []

    def check(reason: str, bad: pl.Expr, *, required: str | None = None) -> None:
        flag = f"{parse.TEMP}flag_{reason}"
        flags[flag] = bad.fill_null(False)
        if required is None:
            checks.append((reason, lambda _v: pl.col(flag)))
        else:
            checks.append((reason, lambda v: pl.col(flag) | v(required).is_null()))

    text_columns = [c for c, t in schema.items() if t == pl.String] if text else []
    if text_columns:
        check(
            "invalid_encoding",
            pl.any_horizontal(
                pl.col(c).str.contains("\ufffd", literal=True).fill_null(False)
                for c in text_columns
            ),
        )
    for column, dtype in schema.items():
        spec = specs.get(column)
        expr = pl.col(column)
        if spec is None:
            cell = parse.plain_text(expr, column)
            parsed.append(cell)
            values[column] = cell.value
            continue
        required = column if spec.required else None
        if spec.kind is Kind.ID or spec.kind is Kind.TEXT:
            if spec.values:
                cat = parse.category(expr, spec, column)
                parsed.append(cat)
                value = pl.coalesce(cat.value, pl.col(parse.raw_name(column)).str.to_lowercase())
            else:
                cell = parse.plain_text(expr, column)
                parsed.append(cell)
                value = cell.value
            if spec.required:
                checks.append((f"missing_{column}", _is_missing(column)))
        elif spec.kind is Kind.STATUS:
            cat = parse.category(expr, spec, column)
            parsed.append(cat)
            value = cat.value.fill_null("paid")
            check("bad_status", cat.bad)
        elif spec.kind is Kind.TIME:
            when = parse.timestamp(expr, dtype, timezone, column, order)
            parsed.append(when)
            value = when.value
            check(f"bad_{column}", when.bad, required=required)
        elif spec.kind is Kind.MONEY or spec.kind is Kind.NUMBER:
            amount = parse.money(expr, dtype, column)
            parsed.append(amount)
            value = amount.value.fill_null(0.0) if column == "discount" else amount.value
            check(f"bad_{column}", amount.bad, required=required)
            if (name, column) in NOT_NEGATIVE:
                zero_bad = NOT_NEGATIVE[(name, column)]
                checks.append((f"bad_{column}", _below(column, zero_bad)))
        elif spec.kind is Kind.INT:
            number = parse.integer(expr, dtype, column)
            parsed.append(number)
            value = number.value
            check(f"bad_{column}", number.bad)
            checks.append((f"negative_{column}", _below(column, False)))
        else:  # pragma: no cover - every Kind is handled above
            msg = f"unhandled column kind {spec.kind}"
            raise AssertionError(msg)
        values[column] = value
    depth = max((len(p.stages) for p in parsed), default=0)
    stages = [
        {k: e for p in parsed if i < len(p.stages) for k, e in p.stages[i].items()}
        for i in range(depth)
    ]
    return _Rules(stages, values, flags, checks)


# Money columns that cannot be negative, and whether 0 is refused too: a price below 0 is a
# typo, and a rise from an old price of 0 has no size.
NOT_NEGATIVE = {("prices", "old_price"): True, ("prices", "new_price"): False}
CROSS_ROW_CHECKED = frozenset({"orders", "customers"})  # see _cross_row_checks


def _cross_row_checks(
    name: str, frame: pl.LazyFrame, *, parsed: bool, dedupe: bool = False, flag: bool = False
) -> pl.LazyFrame:
    """Checks that look across rows: an order naming two customers, duplicate customers.

    Orders of several files (a :data:`FILE_INDEX` column): an accepted line whose order a
    later file holds too is rejected as ``order_in_later_file`` with ``dedupe``, and
    marked in an :data:`IN_LATER_FILE` column with ``flag``.

    ``parsed`` says the id columns are parsed already (stripped text); raw cells are
    parsed first. Orders are grouped by a 128-bit key (two independently seeded 64-bit
    hashes of the order id) rather than by the string, which is several times faster on
    millions of lines; a collision of two order ids (odds about 1e-25 for 10 million
    orders) is the only way the grouping could differ from grouping by the string.
    """
    ok = pl.col(REASON).is_null()

    def ids(column: str) -> pl.Expr:
        return pl.col(column) if parsed else parse.text(pl.col(column))

    if name == "orders":
        order = ids("order_id")
        keys = [order.hash(seed=1), order.hash(seed=2)]
        if FILE_INDEX in frame.collect_schema():
            # Overlapping exports (the same order in two weekly files), or an order whose
            # lines were split between files: cust cannot tell them apart, so by default
            # the files add up (and the lines are counted for a warning); with --dedupe
            # the lines of the last file holding the order count, the earlier ones not.
            index = pl.col(FILE_INDEX)
            later = ok & (index < pl.when(ok).then(index).max().over(keys)).fill_null(False)
            if flag:
                frame = frame.with_columns(later.alias(IN_LATER_FILE))
                later = pl.col(IN_LATER_FILE)
            if dedupe:
                frame = frame.with_columns(
                    pl.when(later)
                    .then(pl.lit("order_in_later_file"))
                    .otherwise(pl.col(REASON))
                    .alias(REASON)
                )
            frame = frame.drop(FILE_INDEX)
        cust = pl.when(ok).then(ids("customer_id").hash(seed=3))
        mixed = (cust.min().over(keys) != cust.max().over(keys)).fill_null(False)
        return frame.with_columns(
            pl.when(ok & mixed)
            .then(pl.lit("mixed_customers"))
            .otherwise(pl.col(REASON))
            .alias(REASON)
        )
    if name == "customers":
        dup = pl.int_range(pl.len()).over(ids("customer_id")) > 0
        return frame.with_columns(
            pl.when(ok & dup)
            .then(pl.lit("duplicate_customer"))
            .otherwise(pl.col(REASON))
            .alias(REASON)
        )
    return frame


def check_unique_files(sources: Sequence[Source]) -> None:
    """Refuse the same file given as two different sources (a common slip)."""
    seen: dict[Path, str] = {}
    for s in sources:
        for f in s.files:
            p = f.path.resolve()
            if p in seen and seen[p] != s.name:
                msg = f"{f.path} is given both as {seen[p]} and as {s.name}"
                raise InputFileError(msg, hint=f"pass the {s.name} export to --{s.name}")
            seen[p] = s.name


def rejected_rows(sources: Sequence[Source]) -> pl.DataFrame | None:
    """Every rejected row of ``sources`` as text, with its ``source`` and ``reason``.

    None when no source was loaded. Columns of different sources line up by name.
    """
    frames = []
    for s in sources:
        rejected = s.rejected()
        cols = rejected.collect_schema().names()
        frames.append(
            rejected.select(
                pl.lit(s.name).alias("source"), *[pl.col(c).cast(pl.String) for c in cols]
            )
        )
    if not frames:
        return None
    return pl.concat(pl.collect_all(frames), how="diagonal")


Check = Callable[[Callable[[str], pl.Expr]], pl.Expr]  # a rule over a column getter


def _is_missing(column: str) -> Check:
    """The rule: ``column`` is empty."""
    return lambda v: v(column).is_null()


def _below(column: str, zero_too: bool) -> Check:
    """The rule: ``column`` is negative (or zero too)."""
    return lambda v: v(column) <= 0 if zero_too else v(column) < 0
