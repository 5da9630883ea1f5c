"""An orders export of several files, cached file by file.

A cron job that drops this week's (or today's) file into the export folder should not pay
for re-reading the year before it. Each file's orders and rows are kept in an entry of
their own (:meth:`.cache.Cache.file_locations`), as if the file were the whole export but
with the whole export's columns and date order; the export's answer is put together from
those entries, so the next run reads only the new or changed files.

The rules across files stay exact. An order whose accepted lines are in one file is the
same order whether that file is read alone or with the others. The orders that two or more
files share (an order split across daily files, overlapping weekly exports) are found from
each file's order ids (a hash of each: two ids colliding only sends their files to be read
again), and the files holding them are read again together, where the lines' own checks
say which file's lines count (``--dedupe``) and whether the order names two customers.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl

from .cache import ORDERS_FILES, Cache
from .loader import (
    FILE_INDEX,
    IN_LATER_FILE,
    ODD_DAY,
    ODD_FIRST,
    ODD_LAST,
    REASON,
    LoadOptions,
    Source,
    merge_tallies,
)
from .orders import order_pass, rows_apart, settle
from .sources import scratch_dir

ID = "__id"  # a hash of an order id in a file's entry
FILE = "__file"
ID_SEED = 29


def orders_by_file(
    source: Source, cache: Cache, options: LoadOptions
) -> tuple[list[Path], pl.DataFrame]:
    """The per-order parts and the rows' tally of ``source``, an export of several files.

    Files with an entry are not read; the others are read in one pass and get one each.
    """
    from .inputs import orders_and_tally, run_plans

    slots = cache.file_locations(source, options)
    entries = [cache.read(slot, source) for slot in slots]
    missing = [i for i, e in enumerate(entries) if e is None]
    scratch = Path(tempfile.mkdtemp(prefix="orders-", dir=scratch_dir()))
    parts: dict[int, Path] = {}
    tallies: dict[int, pl.DataFrame] = {}
    ids: dict[int, pl.LazyFrame] = {}
    for i, entry in enumerate(entries):
        if entry is not None and entry.ids is not None:
            parts[i] = next(slots[i][0].glob(ORDERS_FILES))
            tallies[i], ids[i] = entry.tally, entry.ids
    if missing:
        fresh = source.subset(missing)
        lines = fresh.marked
        assert lines is not None
        if FILE_INDEX not in lines.collect_schema():
            lines = lines.with_columns(pl.lit(0, dtype=pl.Int32).alias(FILE_INDEX))
            fresh = _with_marked(fresh, lines)
        grouped, apart = run_plans(
            [order_pass(fresh, lines, by_file=True), rows_apart(fresh, by_file=True)], [source]
        )
        by_index = grouped.partition_by(FILE_INDEX, as_dict=True, include_key=False)
        apart_of = apart.partition_by(FILE_INDEX, as_dict=True, include_key=False)
        empty_apart, empty = apart.drop(FILE_INDEX).clear(), grouped.drop(FILE_INDEX).clear()
        for k, i in enumerate(missing):
            mine = by_index.get((k,), empty)
            settled = settle(mine, apart_of.get((k,), empty_apart))
            if settled is None:  # the lines' own checks (see settle), this file alone
                settled = orders_and_tally(fresh.subset([k]))
            per_order, tally = settled
            file_ids = mine.select(pl.col("order_id").hash(seed=ID_SEED).alias(ID))
            part = scratch / f"file-{i:05d}" / "per_order-000.parquet"
            part.parent.mkdir()
            per_order.write_parquet(part, statistics=True, compression="lz4")
            written = cache.write(slots[i], source, [part], tally, ids=file_ids, evict=False,
                                  files=source.files[i:i + 1])
            parts[i] = next(written.glob(ORDERS_FILES)) if written else part
            tallies[i], ids[i] = tally, file_ids.lazy()
    cache.keep_only(slots[0][1], [slot for slot, _ in slots])
    order = range(len(source.files))
    shared = _files_sharing_orders([ids[i] for i in order])
    kept = [parts[i] for i in order if i not in shared]
    counted = [tallies[i] for i in order if i not in shared]
    if shared:
        per_order, tally = orders_and_tally(source.subset(sorted(shared)))
        part = scratch / "shared" / "per_order-000.parquet"
        part.parent.mkdir()
        per_order.write_parquet(part, statistics=True, compression="lz4")
        kept.append(part)
        counted.append(tally)
    # Every part is named per_order-000: the export's entry numbers them.
    named = []
    for n, part in enumerate(kept):
        link = scratch / "parts" / f"per_order-{n:05d}.parquet"
        link.parent.mkdir(exist_ok=True)
        try:
            link.hardlink_to(part)
        except OSError:
            link.write_bytes(part.read_bytes())
        named.append(link)
    return named, merge_tallies([_aligned(t) for t in counted])


def _with_marked(source: Source, lines: pl.LazyFrame) -> Source:
    from dataclasses import replace

    return replace(source, marked=lines)


def _files_sharing_orders(ids: list[pl.LazyFrame]) -> set[int]:
    """The positions of the files that hold an order id another file holds too."""
    if len(ids) < 2:
        return set()
    every = pl.concat(
        [f.with_columns(pl.lit(i, dtype=pl.Int32).alias(FILE)) for i, f in enumerate(ids)]
    )
    found = every.filter(pl.col(ID).is_duplicated()).select(pl.col(FILE).unique()).collect()
    return set(found[FILE].to_list())


def _aligned(tally: pl.DataFrame) -> pl.DataFrame:
    """A tally with the columns of an export of several files (see ``Source.tally``)."""
    if IN_LATER_FILE not in tally.columns:
        tally = tally.with_columns(pl.lit(False).alias(IN_LATER_FILE))
    return tally.select(REASON, IN_LATER_FILE, ODD_DAY, pl.col("rows").cast(pl.Int64),
                        ODD_FIRST, ODD_LAST)
