"""Validated orders kept between runs, so that a second command on the same export is fast.

Reading an orders export means parsing and checking every line (22 reject reasons, the
cross-row mixed-customer check) and grouping the lines into orders. The team runs several
commands on one weekly export, so the first command that reads it keeps the result: the
per-order frame (:func:`.orders.orders_frame` over the whole export) and the rows read and
rejected by reason. Later commands read those instead of the lines.

An entry is found by a key over everything the result depends on: each file's resolved
path, size, modification time and a SHA-256 of its first and last MiB; the encoding
override, the column mapping and the time zone; the cache format, the versions of cust and
Polars, and the source of the modules that read and validate. Change any of them and the
export is read again. One entry is kept per source and directory (of the export's files):
writing a new one removes the older ones. Entries hold customer ids, so their directories
are private to the user (mode 0700). Entries are written to a temporary directory and
renamed, so a reader never sees half an entry; one that cannot be read is rebuilt.

A cache that cannot be written (read-only or full disk) is skipped: the command still
answers from the export. An export too large to group in memory at once is read in passes
(``Inputs._orders`` in :mod:`.inputs`); each pass's orders are one file of the entry.
Pipelines that need the lines themselves (``cust check``'s time spans, the bunching
estimate, ``--rejects``) still read the export.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from .loader import LoadOptions, Source

# Bump when the meaning of a cached frame changes in a way the code hash would not catch.
FORMAT = 2  # 2: the per-order frame is kept in customer order (meta "sorted_by")
# The modules whose code decides what a validated order is.
CODE = ("loader.py", "parse.py", "schema.py", "sources.py", "orders.py", "cache.py")
EDGE_BYTES = 1 << 20
ORDERS_FILES = "per_order-*.parquet"  # one file per pass over the export
TALLY_FILE = "tally.parquet"
META_FILE = "meta.json"


def default_dir() -> Path:
    """``$CUST_CACHE_DIR``, else ``$XDG_CACHE_HOME/cust``, else ``~/.cache/cust``."""
    explicit = os.environ.get("CUST_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cust"


@dataclass(frozen=True)
class Entry:
    """What a cache entry gives back: the per-order frame and the rows per reason."""

    per_order: pl.LazyFrame
    tally: pl.DataFrame
    sorted_by: tuple[str, ...] = ()  # the columns the per-order rows are sorted by


@dataclass(frozen=True)
class Cache:
    """The cache directory of one invocation."""

    root: Path

    def location(self, source: Source, options: LoadOptions) -> tuple[Path, str]:
        """The entry directory for ``source`` and the prefix shared by its older entries.

        Computed once per run (it hashes the files' edges and the validating code) and
        given to :meth:`read` and :meth:`write`.

        The prefix names the directory holding the export's files, so a weekly file added
        to an export directory, or this week's export saved over last week's, replaces the
        older entry.
        """
        place = os.path.commonpath([str(f.path.resolve().parent) for f in source.files])
        where = hashlib.sha256(place.encode()).hexdigest()[:16]
        prefix = f"{source.name}-{where}-"
        return self.root / f"{prefix}{_key(source, options)[:32]}", prefix

    def read(self, slot: tuple[Path, str], source: Source) -> Entry | None:
        """The entry at ``slot`` (from :meth:`location`), or None when there is none.

        An entry that cannot be read is removed (and None returned), so it is rebuilt.
        """
        path, _ = slot
        if not path.is_dir():
            return None
        try:
            meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
            tally = pl.read_parquet(path / TALLY_FILE)
            per_order = pl.scan_parquet(path / ORDERS_FILES)
            per_order.collect_schema()
        except (OSError, ValueError, pl.exceptions.PolarsError):
            shutil.rmtree(path, ignore_errors=True)
            return None
        if meta.get("columns") != list(source.columns):
            return None
        return Entry(per_order, tally, tuple(meta.get("sorted_by", ())))

    def write(
        self,
        slot: tuple[Path, str],
        source: Source,
        parts: Sequence[Path],
        tally: pl.DataFrame,
        sorted_by: Sequence[str] = (),
    ) -> Path | None:
        """Keep the per-order ``parts`` and ``tally`` of ``source`` at ``slot``; the entry.

        ``sorted_by`` names the columns the rows of the parts (taken in order) are sorted by.

        None when the disk refused: the command goes on without the cache.
        """
        path, prefix = slot
        staging = None
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            _sweep(self.root)
            staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.root))
            for part in parts:
                shutil.copyfile(part, staging / part.name)
            tally.write_parquet(staging / TALLY_FILE)
            meta = {"format": FORMAT, "source": source.name, "columns": list(source.columns),
                    "files": [str(f.path.resolve()) for f in source.files],
                    "sorted_by": list(sorted_by)}
            (staging / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
            try:
                staging.rename(path)
            except OSError:  # another process wrote the same entry first
                shutil.rmtree(staging, ignore_errors=True)
                return path if path.is_dir() else None
        except OSError:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            return None
        for older in self.root.glob(f"{prefix}*"):
            if older != path:
                shutil.rmtree(older, ignore_errors=True)
        return path


def _key(source: Source, options: LoadOptions) -> str:
    """SHA-256 over everything a cached frame depends on."""
    import cust

    digest = hashlib.sha256()

    def add(*parts: object) -> None:
        for part in parts:
            data = part if isinstance(part, bytes) else str(part).encode()
            digest.update(len(data).to_bytes(8, "little"))
            digest.update(data)

    add(FORMAT, cust.__version__, pl.__version__, source.name)
    here = Path(__file__).resolve().parent
    for name in CODE:
        add(name, (here / name).read_bytes())
    add(options.encoding or "", options.timezone or "")
    add(json.dumps(sorted(options.explicit_map(source.name).items()), ensure_ascii=False))
    for f in source.files:
        stat = f.path.stat()
        add(f.path.resolve(), stat.st_size, stat.st_mtime_ns, _edges(f.path, stat.st_size))
    return digest.hexdigest()


def _edges(path: Path, size: int) -> bytes:
    """SHA-256 of the first and last MiB of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        digest.update(fh.read(EDGE_BYTES))
        if size > EDGE_BYTES:
            fh.seek(max(EDGE_BYTES, size - EDGE_BYTES))
            digest.update(fh.read(EDGE_BYTES))
    return digest.digest()


def _sweep(root: Path, older_than: float = 3600.0) -> None:
    """Remove temporary directories left by an interrupted write."""
    now = time.time()
    for tmp in root.glob(".tmp-*"):
        try:
            if now - tmp.stat().st_mtime > older_than:
                shutil.rmtree(tmp, ignore_errors=True)
        except OSError:
            continue

