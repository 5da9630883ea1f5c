"""Validated orders and events kept between runs, so a second command on an export is fast.

Reading an orders export means parsing and checking every line (22 reject reasons, the
cross-row mixed-customer check) and grouping the lines into orders. The team runs several
commands on one weekly export, so the first command that reads it keeps the result: the
per-order frame (:func:`.orders.orders_frame` over the whole export) and the rows read and
rejected by reason. Later commands read those instead of the lines. An events export (a
click-stream read by the funnel, its drift, paths, drivers and the report) keeps its valid
rows, every column as parsed, and the rows by reason the same way.

An entry is found by a key over everything the result depends on: each file's resolved
path, size and a hash of its whole content (XXH3-128, which reads at several GB/s: an edit
that keeps the size and the modification time, as ``cp -p``, ``rsync -t``, tar and unzip
do, still gives a new key; see ``benchmarks/RESULTS.md`` for its cost); the encoding
override, the column mapping and the time zone; the cache format, the versions of cust and
Polars, and the source of the modules that read and validate. Change any of them and the
export is read again. One entry is kept per source and directory (of the export's files):
writing a new one removes the older ones. Entries are written to a temporary directory and
renamed, so a reader never sees half an entry.

Entries hold customer ids, so the cache root is created private to the user (mode 0700,
whatever the umask), and an entry is trusted only when it and the root are owned by the
running user and writable by no one else: in a shared or world-writable folder another user
could plant one (:func:`_trusted`). Such an entry is ignored and left alone. An entry is
also checked before use: ``meta.json`` must be the object this module writes, every file
must match the hash recorded in it (a bit flip anywhere is found) and the per-order frame
and the tally must have the recorded schema. One that fails is removed and rebuilt, never
blamed on the export.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from .loader import LoadOptions, Source
from .sources import OpenedFile

# Bump when the meaning of a cached frame changes in a way the code hash would not catch.
FORMAT = 3  # 2: the per-order frame kept in customer order; 3: file hashes and schemas
# The modules whose code decides what a validated order is.
CODE = ("io/loader.py", "io/parse.py", "io/schema.py", "io/sources.py", "io/orders.py", "money.py",
        "io/cache.py", "io/by_file.py", "io/passes.py")
HASH_CHUNK = 8 << 20  # bytes read at a time when hashing a file
ORDERS_FILES = "per_order-*.parquet"  # one file per pass over the export
EVENTS_FILES = "valid-*.parquet"  # the events' valid rows
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
    """What a cache entry gives back: its frame and the rows per reason.

    The frame: the per-order frame of an orders export, the valid rows of an events one.
    """

    frame: pl.LazyFrame
    tally: pl.DataFrame
    sorted_by: tuple[str, ...] = ()  # the columns the per-order rows are sorted by
    # Tables an export of several files keeps beside (see :mod:`.by_file`), by file name.
    tables: dict[str, Path] = field(default_factory=dict)


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
        _HASHED.clear()  # a new load: files may have changed since the last one
        return self.root / f"{prefix}{_key(source, options)[:32]}", prefix

    def file_keys(self, source: Source, options: LoadOptions) -> list[str]:
        """A key for each of the export's files read alone (:meth:`.Source.subset`).

        Over the file's content (not its name: a renamed file is not read again), what
        the whole export's reading depends on (columns, date order, options) and the code.
        """
        base = _digest(source, options, (), names=False)
        return [base.file(f)[:32] for f in source.files]

    def older(self, slot: tuple[Path, str], source: Source) -> Entry | None:
        """The newest other entry of ``slot``'s prefix (the export before a file changed)."""
        path, prefix = slot
        others = [p for p in self.root.glob(f"{prefix}*") if p != path and p.is_dir()]
        for other in sorted(others, key=lambda p: p.stat().st_mtime, reverse=True):
            entry = self.read((other, prefix), source)
            if entry is not None:
                return entry
        return None

    def keep_only(self, prefix: str, kept: Sequence[Path]) -> None:
        """Remove the entries of ``prefix`` other than ``kept`` (files gone or changed)."""
        for older in self.root.glob(f"{prefix}*"):
            if older not in kept:
                shutil.rmtree(older, ignore_errors=True)

    def read(self, slot: tuple[Path, str], source: Source) -> Entry | None:
        """The entry at ``slot`` (from :meth:`location`), or None when there is none.

        An entry of another user, or in a folder others can write, is ignored (None). One
        of ours that cannot be read or fails its checks is removed (and None returned), so
        it is rebuilt.
        """
        path, _ = slot
        try:
            if not path.is_dir() or not (_trusted(self.root) and _trusted(path)):
                return None
        except OSError:
            return None
        try:
            entry = _checked(path, source)
        except (OSError, ValueError, TypeError, KeyError, pl.exceptions.PolarsError):
            entry = None
        if entry is None:
            shutil.rmtree(path, ignore_errors=True)
        return entry

    def write(
        self,
        slot: tuple[Path, str],
        source: Source,
        parts: Mapping[str, Path],
        tally: pl.DataFrame,
        sorted_by: Sequence[str] = (),
        *,
        tables: dict[str, pl.DataFrame] | None = None,
    ) -> Path | None:
        """Keep ``parts`` (entry name -> file) and ``tally`` of ``source`` at ``slot``; the entry.

        ``sorted_by`` names the columns the rows of the parts (taken in order) are sorted by.
        ``tables``: more tables to keep, by file name (see :class:`Entry`).
        Parts are hard-linked where the file system allows (parts of files' entries).

        None when the disk refused: the command goes on without the cache.
        """
        path, prefix = slot
        staging = None
        try:
            if not _private_root(self.root):
                return None
            _sweep(self.root)
            staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.root))
            for name, part in parts.items():
                try:
                    os.link(part, staging / name)
                except OSError:
                    shutil.copyfile(part, staging / name)
            tally.write_parquet(staging / TALLY_FILE)
            for name, table in (tables or {}).items():
                table.write_parquet(staging / name)
            names = sorted(p.name for p in staging.iterdir())
            for name in names:
                os.chmod(staging / name, 0o600)
            schema = pl.scan_parquet(staging / parts_of(source.name)).collect_schema()
            meta = {"format": FORMAT, "source": source.name, "columns": list(source.columns),
                    "files": [str(f.path.resolve()) for f in source.files],
                    "sorted_by": list(sorted_by),
                    "schema": {"per_order": _schema_text(schema),
                               "tally": _schema_text(tally.schema)},
                    "hashes": {name: _file_hash(staging / name).hex() for name in names}}
            (staging / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
            os.chmod(staging / META_FILE, 0o600)
            try:
                staging.rename(path)
            except OSError:  # another process wrote the same entry first
                shutil.rmtree(staging, ignore_errors=True)
                return path if self.read(slot, source) is not None else None
        except OSError:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            return None
        self.keep_only(prefix, [path])
        return path


def parts_of(source: str) -> str:
    """The file names of the frame an entry of ``source`` keeps (a glob)."""
    return EVENTS_FILES if source == "events" else ORDERS_FILES


def _key(source: Source, options: LoadOptions) -> str:
    """SHA-256 over everything a cached frame depends on."""
    return _digest(source, options, source.files, names=True).hexdigest()


@dataclass
class _Digest:
    """A SHA-256 being fed, each part with its length (so parts cannot run together)."""

    digest: Any

    def add(self, *parts: object) -> None:
        for part in parts:
            data = part if isinstance(part, bytes) else str(part).encode()
            self.digest.update(len(data).to_bytes(8, "little"))
            self.digest.update(data)

    def hexdigest(self) -> str:
        return str(self.digest.hexdigest())

    def file(self, f: OpenedFile) -> str:
        """The digest with one file's size and content added (a copy: this one stays)."""
        one = _Digest(self.digest.copy())
        info = f.path.stat()
        one.add("", info.st_size, _content_hash(f.path, info))
        return one.hexdigest()


def _digest(source: Source, options: LoadOptions, files: Sequence[OpenedFile], *,
            names: bool) -> _Digest:
    """What the frames of ``files`` of ``source`` depend on, fed to a SHA-256.

    ``names``: the files' paths too (the export's entry, whose files are its list); a
    file's own entry is found by its content alone (see :meth:`_Digest.file`).
    """
    import cust

    digest = _Digest(hashlib.sha256())
    add = digest.add
    add(FORMAT, cust.__version__, pl.__version__, source.name)
    here = Path(__file__).resolve().parent.parent  # pipelines/
    for name in CODE:
        add(name, (here / name).read_bytes())
    # --dedupe is about orders files share: not a file's own.
    add(options.encoding or "", options.timezone or "", options.dedupe if names else "")
    add(source.dates.parsing or "")  # the date order the cells were read in
    add(json.dumps(sorted(options.explicit_map(source.name).items()), ensure_ascii=False))
    if not names:  # a file read alone has the whole export's columns
        add(json.dumps(list(source.columns)))
    for f in files:
        info = f.path.stat()
        add(f.path.resolve(), info.st_size, _content_hash(f.path, info))
    return digest


_HASHED: dict[tuple[str, int, int, int], bytes] = {}


def _content_hash(path: Path, info: os.stat_result) -> bytes:
    """:func:`_file_hash` of an export file, once per load.

    The export's key and its files' keys hash each file; :meth:`Cache.location`, first
    of a load, forgets earlier hashes.
    """
    key = (str(path), info.st_size, info.st_mtime_ns, info.st_ino)
    if key not in _HASHED:
        _HASHED[key] = _file_hash(path)
    return _HASHED[key]


def _file_hash(path: Path) -> bytes:
    """XXH3-128 of a whole file, read in chunks (about 9 GB/s of hashing on this machine).

    xxhash is imported here, so ``cust --help`` does not load it.
    """
    import xxhash

    digest = xxhash.xxh3_128()
    buffer = bytearray(HASH_CHUNK)
    view = memoryview(buffer)
    with path.open("rb", buffering=0) as fh:
        while n := fh.readinto(buffer):
            digest.update(view[:n])
    return digest.digest()


def _me() -> int:
    return os.getuid()


def _trusted(path: Path) -> bool:
    """Whether ``path`` is a directory of the running user that no one else can write.

    Anyone who can write the cache root (or an entry) could plant figures in it.
    """
    info = path.lstat()
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == _me()
        and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


def _private_root(root: Path) -> bool:
    """Create the cache root private to the user (0700 whatever the umask); whether trusted.

    A root that exists already is used only when :func:`_trusted`; its mode is left as is.
    """
    root.parent.mkdir(parents=True, exist_ok=True)
    try:
        root.mkdir(mode=0o700)
    except FileExistsError:
        pass
    else:
        os.chmod(root, 0o700)
    return _trusted(root)


def _schema_text(schema: pl.Schema | dict[str, Any]) -> dict[str, str]:
    return {name: str(dtype) for name, dtype in schema.items()}


def _checked(path: Path, source: Source) -> Entry | None:
    """The entry at ``path`` when it is whole and what :meth:`Cache.write` wrote, else None.

    Every file is ours, is listed in ``meta.json`` and matches its recorded hash; the
    frames have the recorded schemas. A damaged entry thus never reaches a pipeline, where
    it would fail as if the export were bad.
    """
    meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        return None
    if meta.get("columns") != list(source.columns):
        return None
    hashes, schema, sorted_by = meta.get("hashes"), meta.get("schema"), meta.get("sorted_by")
    if not (isinstance(hashes, dict) and isinstance(schema, dict) and isinstance(sorted_by, list)):
        return None
    files = {p.name: p for p in path.iterdir() if p.name != META_FILE}
    if set(files) != set(hashes) or TALLY_FILE not in files:
        return None
    for name, file in files.items():
        info = file.lstat()
        if not stat.S_ISREG(info.st_mode) or info.st_uid != _me():
            return None
        if _file_hash(file).hex() != hashes[name]:
            return None
    tally = pl.read_parquet(path / TALLY_FILE)
    frame = pl.scan_parquet(path / parts_of(source.name))
    frame_schema = frame.collect_schema()
    if _schema_text(frame_schema) != schema.get("per_order"):
        return None
    if _schema_text(tally.schema) != schema.get("tally"):
        return None
    if not all(isinstance(c, str) and c in frame_schema for c in sorted_by):
        return None
    tables = {name: file for name, file in files.items()
              if name != TALLY_FILE and not file.match(parts_of(source.name))}
    return Entry(frame, tally, tuple(sorted_by), tables)


def _sweep(root: Path, older_than: float = 3600.0) -> None:
    """Remove temporary directories left by an interrupted write."""
    now = time.time()
    for tmp in root.glob(".tmp-*"):
        try:
            if now - tmp.stat().st_mtime > older_than:
                shutil.rmtree(tmp, ignore_errors=True)
        except OSError:
            continue
