"""An orders export of several files, cached file by file.

A cron job that drops this week's (or today's) file into the export folder should not pay
for re-reading the year before it. The export's cache entry keeps, beside its orders and
tally, each file's own orders, rows and order ids as if the file were the whole export (but
with the whole export's columns and date order), under a key of the file's content
(:meth:`.cache.Cache.file_keys`). When a file is added, changed, removed or renamed, the
entry of the export as it was is the starting point: the files it knows are not read, the
others are read in one pass, and the export's answer is put together from the files'.

The rules across files stay exact. An order whose accepted lines are all in one file is the
same order whether that file is read alone or with the others. The orders two or more files
share (an order split across daily files, overlapping weekly exports) are found from each
file's order ids (a 64-bit hash of each: two ids colliding only sends their files to be read
again), and the files holding them are read again together, where the lines' own checks say
which file's lines count (``--dedupe``) and whether the order names two customers.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import polars as pl

from .cache import Cache
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
from .passes import orders_and_tally, run_plans
from .sources import scratch_dir

ID, NUMBER = "__id", "__file"  # a hash of an order id; the file's position in the export
ID_SEED = 29
# The tables the export's entry keeps beside its orders (Cache.write's ``tables``).
FILES_TABLE, TALLIES_TABLE, IDS_TABLE = "files.parquet", "file_tallies.parquet", "ids.parquet"


def orders_by_file(
    source: Source, cache: Cache, options: LoadOptions, slot: tuple[Path, str]
) -> tuple[dict[str, Path], pl.DataFrame, dict[str, pl.DataFrame]]:
    """The per-order parts (entry name -> file), the rows' tally and the tables to keep.

    ``source`` is an export of several files; ``slot`` its entry (to be written by the
    caller), whose older entry says which files are known.
    """
    keys = cache.file_keys(source, options)
    scratch = Path(tempfile.mkdtemp(prefix="orders-", dir=scratch_dir()))
    known, old_tallies, old_ids = _known(cache, slot, source)
    parts: dict[int, Path] = {}
    moved: list[tuple[int, int]] = []  # (number in the older entry, number now)
    missing = []
    for i, key in enumerate(keys):
        if key in known:
            number, parts[i] = known[key]
            moved.append((number, i))
        else:
            missing.append(i)
    # The known files' tallies and ids, renumbered (one join each, not one per file).
    renumber = pl.DataFrame(moved, schema={NUMBER: pl.Int32, "__now": pl.Int32}, orient="row")
    tallies = [] if old_tallies is None else [_renumbered(old_tallies, renumber)]
    ids = [] if old_ids is None else [_renumbered(old_ids, renumber)]
    if missing:
        fresh = source.subset(missing)
        lines = fresh.marked
        assert lines is not None  # subset() builds them
        if FILE_INDEX not in lines.collect_schema():
            lines = lines.with_columns(pl.lit(0, dtype=pl.Int32).alias(FILE_INDEX))
            fresh = replace(fresh, marked=lines)
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
            parts[i] = scratch / f"file-{i:05d}.parquet"
            per_order.write_parquet(parts[i], statistics=True, compression="lz4")
            position = pl.lit(i, dtype=pl.Int32).alias(NUMBER)
            tallies.append(_aligned(tally).with_columns(position))
            ids.append(mine.select(pl.col("order_id").hash(seed=ID_SEED).alias(ID), position))
    every_id = pl.concat(ids)
    every_tally = pl.concat(tallies)
    shared = set(every_id.filter(pl.col(ID).is_duplicated())[NUMBER].unique().to_list())
    # The export's parts: each file's orders (per_order-*, counted) unless it shares an
    # order with another file (alone-*, kept for the next run only), and the shared files'
    # orders read together.
    named = {f"{'alone' if i in shared else 'per_order'}-{i:05d}.parquet": parts[i]
             for i in range(len(keys))}
    files = list(named)
    counted = [every_tally.filter(~pl.col(NUMBER).is_in(list(shared))).drop(NUMBER)]
    if shared:
        per_order, tally = orders_and_tally(source.subset(sorted(shared)))
        part = scratch / "shared.parquet"
        per_order.write_parquet(part, statistics=True, compression="lz4")
        named["per_order-shared.parquet"] = part
        counted.append(_aligned(tally))
    tables = {
        FILES_TABLE: pl.DataFrame({NUMBER: pl.Series(range(len(keys)), dtype=pl.Int32),
                                   "key": keys, "part": files}),
        TALLIES_TABLE: every_tally,
        IDS_TABLE: every_id,
    }
    return named, merge_tallies(counted), tables


def _known(
    cache: Cache, slot: tuple[Path, str], source: Source
) -> tuple[dict[str, tuple[int, Path]], pl.DataFrame | None, pl.DataFrame | None]:
    """The files the export's older entry knows, and its tallies and ids of every file.

    Files by key: their number in that entry and their orders. Without an entry: no file
    known, and no tallies or ids (every file is read).
    """
    entry = cache.older(slot, source)
    if entry is None or not {FILES_TABLE, TALLIES_TABLE, IDS_TABLE} <= set(entry.tables):
        return {}, None, None
    files = pl.read_parquet(entry.tables[FILES_TABLE])
    where = entry.tables[FILES_TABLE].parent
    known = {key: (n, where / part) for n, key, part in files.iter_rows()}
    return (known, pl.read_parquet(entry.tables[TALLIES_TABLE]),
            pl.read_parquet(entry.tables[IDS_TABLE]))


def _renumbered(frame: pl.DataFrame, renumber: pl.DataFrame) -> pl.DataFrame:
    """The rows of the files kept, under their number now."""
    return (frame.join(renumber, on=NUMBER, how="inner").drop(NUMBER)
            .rename({"__now": NUMBER}).select(frame.columns))


def _aligned(tally: pl.DataFrame) -> pl.DataFrame:
    """A tally with the columns of an export of several files (see ``Source.tally``)."""
    if IN_LATER_FILE not in tally.columns:
        tally = tally.with_columns(pl.lit(False).alias(IN_LATER_FILE))
    return tally.select(REASON, IN_LATER_FILE, ODD_DAY, pl.col("rows").cast(pl.Int64),
                        ODD_FIRST, ODD_LAST).cast(
        {ODD_FIRST: pl.Datetime("us"), ODD_LAST: pl.Datetime("us")})
