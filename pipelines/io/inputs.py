"""The exports a command works on, loaded on demand, and the one collect that runs it.

With no input option at all, every source is the bundled sample data (``sample_data/``),
so a first run needs no files. As soon as one input option is given, only the given
sources are read: the user's orders are never mixed with the sample's customers.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import InputFileError
from ..settings import EngineSettings
from .by_file import orders_by_file
from .cache import EVENTS_FILES, ORDERS_FILES, Cache
from .loader import (
    IN_LATER_FILE,
    REASON,
    DateOrder,
    LoadOptions,
    Source,
    Suspicious,
    by_reason,
    check_unique_files,
    load_source,
    merge_tallies,
    parquet_passes,
    suspicious_of,
)
from .orders import CUSTOMER_ORDER, orders_frame
from .passes import ENGINE, orders_and_tally, run_plans
from .sources import scratch_dir

# Orders exports of more lines are grouped into orders in passes (about 6 GB each here).
ORDER_PASS_ROWS = 40_000_000


SAMPLE_FILES = {
    "orders": "orders.csv",
    "customers": "customers.csv",
    "events": "events.parquet",
    "prices": "prices.csv",
}


def sample_path(name: str) -> Path:
    """Path of the bundled sample export for source ``name``."""
    return Path(str(resources.files("cust.sample_data").joinpath(SAMPLE_FILES[name])))


@dataclass(frozen=True)
class SourceReport:
    """Rows read and rejected for one source."""

    rows_read: int
    rows_rejected: int
    files: tuple[str, ...]
    reasons: dict[str, int]
    # Accepted rows dated before 1970 or more than a year after the run (a warning).
    suspicious_times: Suspicious = field(default_factory=Suspicious)
    # Orders of several files: lines of an order that a later file holds too (a warning;
    # rejected as order_in_later_file under --dedupe).
    in_later_file: int = 0
    # How the source's dates were read (day, month and year order; given or detected).
    dates: DateOrder = field(default_factory=DateOrder)

    def to_json(self) -> dict[str, Any]:
        """The contract's ``input.<source>`` object."""
        return {
            "rows_read": self.rows_read,
            "rows_rejected": self.rows_rejected,
            "files": list(self.files),
            "rejected_by_reason": self.reasons,
            "suspicious_times": self.suspicious_times.to_json(),
            "lines_in_later_file": self.in_later_file,
            "date_format": self.dates.to_json(),
        }


@dataclass(frozen=True)
class InputReport:
    """Per source, what was read; goes into every JSON document as ``input``."""

    sources: dict[str, SourceReport] = field(default_factory=dict)

    @property
    def rows_rejected(self) -> int:
        """Rejected rows over all sources."""
        return sum(s.rows_rejected for s in self.sources.values())

    def warnings(self) -> list[str]:
        """Doubts about rows that were read: one sentence each, for stderr."""
        lines = []
        for name, s in self.sources.items():
            repeated = s.in_later_file
            if repeated and s.reasons.get("order_in_later_file"):
                lines.append(
                    f"{repeated} {name} line{'s' if repeated > 1 else ''} of orders that a later "
                    "file holds too were left out (--dedupe): each order counts once, from the "
                    "last file holding it"
                )
            elif repeated:
                lines.append(
                    f"{repeated} {name} line{'s' if repeated > 1 else ''} of orders that a later "
                    "file holds too were counted with them: if the files overlap (the same "
                    "order exported twice), add --dedupe to count each order from its last file"
                )
            if s.dates.ambiguous and s.rows_rejected:
                cells = ", ".join(s.dates.ambiguous)
                lines.append(
                    f"{name} dates such as {cells} could be day first or month first, and "
                    "nothing in the export says which: they were rejected; give the order "
                    "with --date-format dmy or --date-format mdy"
                )
            odd = s.suspicious_times
            if odd.rows:
                first = odd.first.isoformat(" ") if odd.first else "?"
                last = odd.last.isoformat(" ") if odd.last else "?"
                lines.append(
                    f"{odd.rows} {name} row{'s' if odd.rows > 1 else ''} dated before 1970 or "
                    f"more than a year after today ({first} to {last}) entered the figures: "
                    "a placeholder date or a mistyped year? (cust check shows the span)"
                )
        return lines

    def to_json(self) -> dict[str, Any]:
        """``{"orders": {"rows_read": ..., "rows_rejected": ...}, ...}``."""
        return {name: s.to_json() for name, s in self.sources.items()}


class Inputs:
    """The sources of one invocation, opened the first time a pipeline asks for them."""

    def __init__(
        self,
        paths: dict[str, str | Path | None],
        options: LoadOptions,
        cache: Cache | None = None,
        engine: EngineSettings | None = None,
    ) -> None:
        self.using_sample = all(v is None for v in paths.values())
        if self.using_sample:
            paths = {name: sample_path(name) for name in SAMPLE_FILES}
        self.paths = paths
        self.options = options
        self.cache = cache
        self.engine = engine or EngineSettings()
        self._loaded: dict[str, Source] = {}
        self._materialized: set[str] = set()

    def get(self, name: str) -> Source:
        """The source ``name``; raises a clear error when it was not given."""
        if name not in self._loaded:
            spec = self.paths.get(name)
            if spec is None:
                msg = f"this command needs the {name} export, and none was given"
                raise InputFileError(msg, hint=f"add --{name} PATH (a file, directory or glob)")
            if name == "orders" and self.engine.name == "spark":
                from .spark import is_uri, spark_orders

                source = spark_orders(spec, self.options, self.engine)
                if not is_uri(spec):
                    check_unique_files([*self._loaded.values(), source])
                self._materialized.add(name)
                self._loaded[name] = source
                return source
            source = load_source(name, spec, self.options)
            check_unique_files([*self._loaded.values(), source])
            if name == "orders":
                source = self._orders(source)
            elif name == "events":
                source = self._events(source)
            self._loaded[name] = source
        return self._loaded[name]

    def _events(self, source: Source) -> Source:
        """The events with their valid rows from the cache, kept there by the first run.

        A click-stream is read by several commands (a funnel, its drift, paths, drivers, the
        report): the first run validates every event once, in one pass that writes the
        valid rows (every column, as parsed) and counts the rows by reason, and later runs
        read those instead of parsing and checking 50M events again. Without a cache, or on
        Spark (which reads the files on the cluster), the events are read as before.
        """
        cache = self.cache
        if cache is None or self.engine.name == "spark":
            return source
        slot = cache.location(source, self.options)
        entry = cache.read(slot, source)
        if entry is not None:
            return source.kept(entry.frame, entry.tally)
        folder = Path(tempfile.mkdtemp(prefix="events-", dir=scratch_dir()))
        part = folder / "valid-000.parquet"
        # lz4: 50M events written faster than zstd's, read back as fast.
        sink = source.valid.sink_parquet(part, compression="lz4", lazy=True)
        _, tally = run_plans([sink, source.tally()], [source])
        where = cache.write(slot, source, {part.name: part}, tally)
        rows = pl.scan_parquet(where / EVENTS_FILES if where else part)
        return source.kept(rows, tally)

    def _orders(self, source: Source) -> Source:
        """The orders, with their per-order frame and row counts ready where that pays.

        From the cache when it holds them. Otherwise, with a cache, or when the export is
        too large to group at once, they are computed now and written to the cache (or to
        this run's scratch directory): in passes of at most :data:`ORDER_PASS_ROWS` lines
        for a large Parquet export, each pass taking the orders whose id hashes to it, so
        memory stays bounded and every order is whole in one pass. Without either, the
        plan stays lazy and runs with the command's answer.
        """
        cache, slot = self.cache, None
        if cache is not None:
            slot = cache.location(source, self.options)
            entry = cache.read(slot, source)
            if entry is not None:
                self._materialized.add(source.name)
                return replace(source, per_order=entry.frame, counts=entry.tally,
                               per_order_sorted_by=entry.sorted_by)
        n = parquet_passes(source, ORDER_PASS_ROWS)
        # One part is kept in customer order, which the pipelines over customers read
        # faster (1.0 s to sort 3M orders once; cohort's firsts 1.2 -> 0.3 s every run).
        # Parts of a larger export split each customer's orders: they stay unsorted.
        sorted_by = CUSTOMER_ORDER if n == 1 else ()
        if cache is None and n == 1:  # kept in memory for this run's pipelines
            # Unsorted: a pipeline over customers sorts them (customer_orders), the others
            # need no order, and no later run gains from a sort now.
            per_order, tally = orders_and_tally(source)
            self._materialized.add(source.name)
            return replace(source, per_order=per_order.lazy(), counts=tally)
        if cache is not None and slot is not None and n == 1 and len(source.files) > 1:
            # Several files: each file's orders kept apart, so a new file is read alone.
            parts, counts, tables = orders_by_file(source, cache, self.options, slot)
            where = cache.write(slot, source, parts, counts, tables=tables)
            self._materialized.add(source.name)
            # Without the entry (the disk refused it), the parts that count: not the files'
            # own orders kept for a next run (alone-*), which the shared part holds read together.
            counted = [p for name, p in parts.items() if Path(name).match(ORDERS_FILES)]
            lazy = pl.scan_parquet(where / ORDERS_FILES if where else counted)
            return replace(source, per_order=lazy, counts=counts, per_order_sorted_by=())
        folder = Path(tempfile.mkdtemp(prefix="orders-", dir=scratch_dir()))
        tallies = []
        kept = None
        for i in range(n):
            part = source if n == 1 else source.part("order_id", i, n)
            per_order, tally = orders_and_tally(part)
            if sorted_by:  # in memory: sorting in the streaming plan held 1 GB more
                per_order = per_order.sort(sorted_by)
            # lz4: written in 0.6 s instead of zstd's 1.0 s (3M orders), read as fast; the
            # file is 89 MB instead of 61 MB.
            per_order.write_parquet(
                folder / f"per_order-{i:03d}.parquet", statistics=True, compression="lz4"
            )
            tallies.append(tally)
            # One pass: this run goes on from the frame in memory (not read back).
            kept = per_order if n == 1 else None
            del per_order
        counts = merge_tallies(tallies)
        if cache is not None and slot is not None:
            written = {p.name: p for p in sorted(folder.iterdir())}
            folder = cache.write(slot, source, written, counts, sorted_by) or folder
        self._materialized.add(source.name)
        frame = kept.lazy() if kept is not None else pl.scan_parquet(folder / ORDERS_FILES)
        return replace(source, per_order=frame, counts=counts, per_order_sorted_by=sorted_by)

    def optional(self, name: str) -> Source | None:
        """The source ``name`` when it was given (or the sample is in use), else None."""
        return self.get(name) if self.paths.get(name) is not None else None

    def materialize(self, name: str, columns: Sequence[str] | None = None) -> None:
        """Validate source ``name`` once and keep it in memory for the following pipelines.

        For commands that run several pipelines on the same export (the weekly report):
        each would otherwise scan, parse and check the file again. ``columns`` limits
        what is kept (the reason column always is). The orders also keep their per-order
        frame (one group-by of the lines instead of one per pipeline). A missing optional
        source is skipped.
        """
        if self.paths.get(name) is None or name in self._materialized:
            return
        source = self.get(name)
        if name in self._materialized:  # the orders' per-order frame is ready already
            return
        self._materialized.add(name)
        keep = [c for c in (columns or source.columns) if source.has(c)]
        # The counts in the same pass: afterwards the rows kept no longer say everything
        # the tally needs (an orders line's place among the files).
        frame, tally = run_plans([source.checked.select(*keep, REASON), source.tally()], [source])
        source = replace(source, checked=frame.lazy(), columns=tuple(keep), counts=tally)
        if name == "orders":  # in customer order, as the cache keeps it (see _orders)
            per_order = orders_frame(source).collect(engine=ENGINE).sort(CUSTOMER_ORDER)
            source = replace(source, per_order=per_order.lazy(), per_order_sorted_by=CUSTOMER_ORDER)
        self._loaded[name] = source

    @property
    def loaded(self) -> list[Source]:
        """The sources opened so far."""
        return list(self._loaded.values())


def collect(
    answers: Sequence[pl.LazyFrame], sources: Sequence[Source]
) -> tuple[list[pl.DataFrame], InputReport]:
    """Run the answer frames and every source's row counts in one pass.

    ``pl.collect_all`` lets Polars share the scan of each file between the answer and
    the counts, so a command reads its inputs once.
    """
    frames = run_plans([*answers, *(s.tally() for s in sources)], sources)
    return frames[: len(answers)], report_of(sources, frames[len(answers) :])


def report_of(sources: Sequence[Source], tallies: Sequence[pl.DataFrame]) -> InputReport:
    """Rows read and rejected per source, from its tally (see :meth:`Source.tally`).

    A tally may carry more keys than the reason (a command that folds figures of its own
    into the counting pass): its rows are summed by reason.
    """
    report: dict[str, SourceReport] = {}
    for s, tally in zip(sources, tallies, strict=True):
        suspicious = suspicious_of(tally)
        later = (
            int(tally.filter(pl.col(IN_LATER_FILE))["rows"].sum())
            if IN_LATER_FILE in tally.columns else 0
        )
        if tally.columns != [REASON, "rows"]:
            tally = tally.group_by(REASON).agg(pl.col("rows").sum())
        rejected = by_reason(tally)
        report[s.name] = SourceReport(
            rows_read=int(tally["rows"].sum()),
            rows_rejected=int(rejected["rows"].sum()),
            files=tuple(str(f.path) for f in s.files),
            reasons=dict(zip(rejected[REASON].to_list(), rejected["rows"].to_list(), strict=True)),
            suspicious_times=suspicious,
            in_later_file=later,
            dates=s.dates,
        )
    return InputReport(report)


# Reasons that say nothing about the export's health: the lines of an order that a later
# file holds too, left out under --dedupe (three overlapping weekly files: two thirds).
NOT_A_FAULT = frozenset({"order_in_later_file"})
MOSTLY = 0.5  # more than this share of a source's rows rejected for one reason is refused
EXAMPLES = 3


def tally_loaded(sources: Sequence[Source]) -> InputReport:
    """Rows read and rejected per source, by themselves (when a command failed before them)."""
    return report_of(sources, run_plans([s.tally() for s in sources], sources))


def refusal(sources: Sequence[Source], report: InputReport) -> InputFileError | None:
    """The error for an export whose rows are all, or mostly for one reason, rejected.

    Figures of the few rows left (or a table of zeros) would look like an answer: the
    export is refused instead (exit 2), naming the reason, three of its cells and what to
    do (``--date-format dmy`` for day-first dates). ``--strict`` still refuses any reject.
    """
    for source in sources:
        rep = report.sources.get(source.name)
        if rep is None or not rep.rows_read:
            continue
        faults = {r: n for r, n in rep.reasons.items() if r not in NOT_A_FAULT}
        if not faults:
            continue
        reason, rows = max(faults.items(), key=lambda rn: rn[1])
        everything = rep.rows_rejected == rep.rows_read
        if not everything and rows <= MOSTLY * rep.rows_read:
            continue
        column = reason_column(source.name, reason)
        cells = _examples(source, reason, column)
        if everything and len(faults) > 1:
            reasons = ", ".join(f"{r} {n:,}" for r, n in faults.items())
            head = f"all {rep.rows_read:,} {source.name} rows were rejected ({reasons})"
        elif everything:
            head = f"all {rep.rows_read:,} {source.name} rows were rejected as {reason}"
        else:
            head = (
                f"{rows:,} of {rep.rows_read:,} {source.name} rows ({rows / rep.rows_read:.0%}) "
                f"were rejected as {reason}"
            )
        where = f"{column} cells" if column else "rows"
        left = "nothing is left to count" if everything else (
            "figures of the rows left would mislead")
        msg = f"{head}; {where} such as {cells}: {left}"
        return InputFileError(msg, hint=_hint(source, reason, column))
    return None


def reason_column(source: str, reason: str) -> str | None:
    """The column whose cell a rejection reason is about (None: the row as a whole)."""
    if reason == "mixed_customers":
        return "order_id"
    if reason == "duplicate_customer":
        return "customer_id"
    for prefix in ("missing_", "bad_", "negative_"):
        if reason.startswith(prefix):
            return reason.removeprefix(prefix)
    return None


def _examples(source: Source, reason: str, column: str | None) -> str:
    """Up to three distinct cells (or row numbers) of the rows rejected for ``reason``."""
    from .loader import FILE, ROW

    rows = source.located.filter(pl.col(REASON) == reason)
    try:
        if column is not None and column in source.columns:
            cells = (rows.select(pl.col(column).fill_null(""))
                     .unique(maintain_order=True).head(EXAMPLES).collect()[column].to_list())
            return ", ".join(repr(c) if c else "(empty)" for c in cells)
        found = rows.select(FILE, ROW).head(EXAMPLES).collect()
    except pl.exceptions.PolarsError:
        return "(unreadable)"
    return ", ".join(f"{Path(f).name} row {r}" for f, r in found.iter_rows())


TIME_HINT = (
    "cust reads 2026-10-31, 2026/10/31 9:05, 20261031 and ISO 8601 times; for 31/10/2026 "
    "give --date-format dmy, for 10/31/2026 --date-format mdy (or date_format in [columns] "
    "of cust.toml); a two-digit year (31/10/26) is never read: export four-digit years"
)


def _hint(source: Source, reason: str, column: str | None) -> str:
    rejects = "; --rejects rejects.csv writes every rejected row with its reason"
    dates = source.dates
    if column is not None and reason.startswith("bad_") and column in (
        "order_time", "event_time", "changed_at", "registered_at"
    ):
        if dates.ambiguous:
            return (
                f"the dates could be day first or month first ({dates.ambiguous[0]}) and no "
                "cell says which: give --date-format dmy (31/10/2026) or --date-format mdy "
                f"(10/31/2026){rejects}"
            )
        if dates.how != "default":
            return f"the dates were read as {dates.order} ({dates.how}); {TIME_HINT}{rejects}"
        return TIME_HINT + rejects
    if reason.startswith("missing_") and column is not None:
        return (
            f"the {column} cells are empty: is the right header mapped? cust check shows which "
            f"header became {column}; name it with --map {column}=<header>{rejects}"
        )
    if reason == "invalid_encoding":
        enc = next((f.encoding for f in source.files if f.encoding), "utf-8")
        return f"the bytes are not {enc}: name the export's encoding, e.g. --encoding gbk{rejects}"
    if reason == "bad_status":
        return "a status is paid, refunded or cancelled (已支付, 已退款, 已取消; blank is paid)" + (
            rejects)
    if reason == "mixed_customers":
        return (
            "one order number names several customers: are order_id and customer_id mapped "
            f"to the right columns (cust check)?{rejects}"
        )
    if column is not None and reason.startswith(("bad_", "negative_")):
        return (
            f"{column} takes numbers such as 1234.50 or ¥1,234.50 (not 1,5 or text): is the "
            f"right header mapped (--map {column}=<header>)?{rejects}"
        )
    return "fix the rows in the export" + rejects
