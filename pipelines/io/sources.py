"""Finding export files and opening each one as a lazily scanned Polars frame.

A path may be a file, a directory (every supported file in it) or a glob. Text files
(``.csv``, ``.tsv``, ``.txt``, optionally ``.gz``) have their encoding detected
(UTF-8, UTF-8 with BOM, GB18030/GBK) with ``charset-normalizer`` and their delimiter
sniffed. GB18030 and gzip-compressed files are decompressed and transcoded to UTF-8 in a
streaming pass into a scratch file, the first time their rows are read, so no file is
ever held in memory whole; a ``.gz`` that expands past a bound is refused as a gzip bomb.
Parquet files are scanned as they are. The scratch directory is removed at exit and on
SIGTERM, SIGINT and SIGHUP, and that of an earlier run killed outright by the next run.
"""

from __future__ import annotations

import atexit
import codecs
import csv
import errno
import glob
import gzip
import io
import itertools
import os
import shutil
import signal
import stat
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import InputFileError

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
SUPPORTED = ".csv .tsv .txt .parquet, optionally gzip-compressed (.csv.gz)"
SNIFF_BYTES = 256 * 1024
# The longest header row read (100k columns of 100 characters); a longer first line is
# not a header.
HEADER_LIMIT = 16 * 1024 * 1024
TRANSCODE_CHUNK = 4 * 1024 * 1024
# A .gz may expand to GZIP_FREE_BYTES whatever its ratio, and beyond that to at most
# GZIP_MAX_RATIO times its compressed size: CSV exports compress 5-20x (the generated orders
# 7x), a gzip bomb about 1000x.
GZIP_FREE_BYTES = 512 * 1024 * 1024
GZIP_MAX_RATIO = 100
GB_FAMILY = frozenset({"gb2312", "gbk", "gb18030", "hz", "cp936"})
# Detector answers that are really GB18030 text read too short (a short GBK file with
# Chinese headers is often taken for Korean cp949).
GB_LOOKALIKES = frozenset(
    {
        "big5",
        "big5hkscs",
        "cp950",
        "euc_jis_2004",
        "euc_jp",
        "cp932",
        "shift_jis",
        "euc_kr",
        "cp949",
        "johab",
    }
)
# UTF-8 text with a few corrupt bytes has far more valid non-ASCII characters than
# undecodable bytes; GBK read as UTF-8 has at most about two per bad byte.
MOSTLY_UTF8 = 4

_TMPDIR: Path | None = None
SCRATCH_PREFIX = "cust-"
# Scratch folders of an older cust, named without their process id, are stale after a day.
STALE_UNNAMED = 24 * 3600.0
_SIGNALS = ("SIGTERM", "SIGINT", "SIGHUP")
_PREVIOUS: dict[int, object] = {}  # the handlers replaced by _on_signal, by signal number
_REMOVING = threading.Lock()
_COPIES = itertools.count()


def scratch_dir() -> Path:
    """The scratch directory of this process (removed at exit, on SIGTERM, SIGINT, SIGHUP).

    It is named after the process id, so a later run can tell that the process that made
    it is gone: stale scratch of runs killed outright (SIGKILL, an abort) is removed when
    the next run makes its own (:func:`clean_stale_scratch`).
    """
    global _TMPDIR
    if _TMPDIR is None:
        clean_stale_scratch()
        _TMPDIR = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-"))
        atexit.register(remove_scratch)
        _guard_signals()
    return _TMPDIR


def remove_scratch() -> None:
    """Remove this process's scratch directory (safe to call twice, from any thread)."""
    with _REMOVING:
        if _TMPDIR is not None:
            shutil.rmtree(_TMPDIR, ignore_errors=True)


def clean_stale_scratch(folder: Path | None = None) -> list[Path]:
    """Remove the scratch directories of earlier runs whose process is gone; those removed.

    Only the running user's are touched. A directory named with a live process id is left
    alone (it may be a run going on now, or a process that reused the id).
    """
    if os.name != "posix":
        return []
    folder = Path(folder or tempfile.gettempdir())
    removed = []
    try:
        candidates = list(folder.glob(f"{SCRATCH_PREFIX}*"))
    except OSError:
        return []
    for path in candidates:
        try:
            info = path.lstat()
            if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
                continue
            pid_text, sep, _ = path.name.removeprefix(SCRATCH_PREFIX).partition("-")
            if sep and pid_text.isdigit():
                if _alive(int(pid_text)):
                    continue
            elif time.time() - info.st_mtime < STALE_UNNAMED:
                continue
        except OSError:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _guard_signals() -> None:
    """Remove the scratch directory when the process is stopped by a signal.

    ``atexit`` does not run when SIGTERM (cron's timeout) or SIGHUP kills the process. A
    Python handler alone would run only when Polars hands back control, which may be many
    seconds later, so the signal is also written to a wakeup file descriptor that a
    watcher thread reads at once: it removes the scratch and ends the process (exit status
    128 + the signal's number). SIGINT is left to end as usual (``KeyboardInterrupt``)
    once the scratch is gone. Signals that were ignored (``nohup``) stay ignored. Only
    the main thread can install handlers; elsewhere the scratch goes at exit only.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    previous = {}
    for name in _SIGNALS:
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        old = signal.getsignal(sig)
        if old in (signal.SIG_IGN, None):
            continue
        previous[sig] = old
        signal.signal(sig, _on_signal)
    _PREVIOUS.update(previous)
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    try:
        old_fd = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    except (ValueError, OSError):
        os.close(read_end)
        os.close(write_end)
        return
    if old_fd != -1:  # someone else (an event loop) watches signals: give it back
        signal.set_wakeup_fd(old_fd)
        os.close(read_end)
        os.close(write_end)
        return
    threading.Thread(target=_watch, args=(read_end,), name="cust-scratch", daemon=True).start()


def _watch(read_end: int) -> None:
    while True:
        try:
            data = os.read(read_end, 64)
        except OSError:
            return
        if not data:
            return
        for signum in data:
            if signum not in _PREVIOUS:
                continue
            remove_scratch()
            if _PREVIOUS[signum] is signal.SIG_DFL and signum != signal.SIGINT:
                os._exit(128 + signum)


def _on_signal(signum: int, frame: object) -> None:
    remove_scratch()
    old = _PREVIOUS.get(signum, signal.SIG_DFL)
    if callable(old):
        old(signum, frame)
        return
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


@dataclass(frozen=True)
class OpenedFile:
    """One export file, opened lazily with its headers as found."""

    path: Path
    format: str  # "csv" or "parquet"
    encoding: str | None  # as detected or given; None for parquet
    delimiter: str | None
    headers: list[str]
    frame: pl.LazyFrame  # columns exactly as in the file
    text: bool  # True when every column is text (CSV), False for typed parquet
    scratch: bool = False  # read from a scratch copy (gzip, GBK): see _scan_scratch_copy
    # The frame carries each row's 1-based number in its file as a ``source_row`` column
    # (rows read elsewhere and shuffled: --engine spark); otherwise rows are numbered here.
    numbered: bool = False


def head_rows(f: OpenedFile, n: int, columns: list[str] | None = None) -> pl.DataFrame:
    """About the first ``n`` rows of ``f`` (all text for CSV), for sniffing their cells.

    ``columns`` limits what is read from a Parquet or plain CSV file.

    A file read from a scratch copy is not copied for this: its first
    :data:`SNIFF_BYTES` are decoded here, so a command answered from the cache still makes
    no copy. Rows that cannot be read give an empty frame (the file's error comes later).
    """
    try:
        if not f.scratch:
            frame = f.frame if columns is None else f.frame.select(columns)
            return frame.head(n).collect()
        gz = f.path.name.lower().endswith(".gz")
        text = _read_head(f.path, gz).decode(f.encoding or "utf-8", errors="replace")
        text = text[: text.rfind("\n") + 1].lstrip("\ufeff")
        return pl.read_csv(
            io.StringIO(text), separator=f.delimiter or ",", infer_schema=False,
            quote_char='"', raise_if_empty=False, truncate_ragged_lines=True, n_rows=n,
        )
    except (pl.exceptions.PolarsError, InputFileError, OSError, UnicodeError):
        return pl.DataFrame()


def resolve_paths(spec: str | Path, source: str) -> list[Path]:
    """Expand a file, directory or glob into the export files it names."""
    text = str(spec)
    if any(ch in text for ch in "*?["):
        found = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
        if not found:
            msg = f"no {source} files match {text!r}"
            raise InputFileError(msg, hint=f"check the pattern; supported files: {SUPPORTED}")
        return found
    path = Path(text).expanduser()
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.is_file() and _is_supported(p))
        if not found:
            msg = f"the {source} directory {path} holds no supported files"
            raise InputFileError(msg, hint=f"supported files: {SUPPORTED}")
        return found
    if not path.exists():
        msg = f"{source} file not found: {path}"
        raise InputFileError(msg, hint=f"check the path given to --{source}")
    return [path]


def _is_supported(path: Path) -> bool:
    name = path.name.lower().removesuffix(".gz")
    return name.endswith((*TEXT_SUFFIXES, ".parquet"))


def open_file(path: Path, source: str, *, encoding: str | None = None) -> OpenedFile:
    """Open one export lazily, checking it is what its name says."""
    name = path.name.lower()
    if name.endswith(".parquet"):
        return _open_parquet(path, source)
    if not _is_supported(path):
        msg = f"{path}: unsupported file type for {source}"
        raise InputFileError(msg, hint=f"supported files: {SUPPORTED}")
    return _open_text(path, source, encoding)


def _open_parquet(path: Path, source: str) -> OpenedFile:
    try:
        schema = pl.read_parquet_schema(path)
    except Exception as exc:
        msg = f"{path} is not a readable Parquet file ({type(exc).__name__}: {_first_line(exc)})"
        raise InputFileError(msg, hint="re-export the file, or save it as CSV") from None
    frame = pl.scan_parquet(path)
    return OpenedFile(path, "parquet", None, None, list(schema), frame, text=False)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else ""


def _read_head(path: Path, gz: bool) -> bytes:
    try:
        if gz:
            with gzip.open(path, "rb") as fh:
                return fh.read(SNIFF_BYTES)
        with path.open("rb") as fh:
            return fh.read(SNIFF_BYTES)
    except (gzip.BadGzipFile, zlib.error, EOFError, OSError) as exc:
        kind = "gzip file" if gz else "file"
        msg = f"{path} is not a readable {kind} ({_first_line(exc)})"
        hint = "the name ends in .gz but the content is not gzip: rename or re-compress it"
        raise InputFileError(msg, hint=hint if gz else "check the file's permissions") from None


def detect_encoding(head: bytes, path: Path) -> str:
    """Name the encoding of a text file from its first bytes.

    UTF-8 (with or without BOM) is recognised exactly; anything else is asked of
    ``charset-normalizer``. Chinese back-office exports are GBK/GB2312, which are read
    as their superset GB18030.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    if _mostly_utf8(head):
        return "utf-8"  # read lossily: the loader rejects the rows with bad bytes
    if _looks_gbk(head):
        return "gb18030"
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    guess = (best.encoding if best is not None else "").lower()
    if guess in GB_FAMILY or guess in GB_LOOKALIKES or not guess:
        try:
            codecs.getincrementaldecoder("gb18030")().decode(head, final=False)
            return "gb18030"
        except UnicodeDecodeError:
            if not guess:
                msg = f"{path}: cannot tell the text encoding (not UTF-8, not GBK)"
                raise InputFileError(
                    msg, hint="name it with --encoding, e.g. --encoding latin-1"
                ) from None
    return guess


def _mostly_utf8(head: bytes) -> bool:
    """Whether ``head`` is UTF-8 with a few corrupt bytes rather than another encoding."""
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(head, final=False)
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ch > "\x7f") - bad
    return good >= MOSTLY_UTF8 * bad


def _looks_gbk(head: bytes) -> bool:
    """Whether ``head`` reads as GB18030 text made of common Chinese characters.

    Text from a Chinese back-office is almost all GB2312's common characters (and ``￥``);
    a Latin-1 or cp1252 file read as GB18030 gives rare characters instead, and is left to
    the detector. The detector alone takes short GBK files for Korean or Baltic code pages.
    A few undecodable bytes (a corrupt row) among many good characters still make GBK, read
    lossily: the loader rejects the rows holding them, as for UTF-8 (:data:`MOSTLY_UTF8`).
    """
    text = codecs.getincrementaldecoder("gb18030")(errors="replace").decode(head, final=False)
    bad = text.count("\ufffd")
    wide = "".join(ch for ch in text if ch > "\x7f" and ch != "\ufffd")
    rare = wide.encode("gb2312", errors="replace").count(b"?")
    return bool(wide) and rare <= 0.1 * len(wide) and len(wide) >= MOSTLY_UTF8 * bad


def _sniff_delimiter(sample: str, suffix: str) -> str:
    first = sample.split("\n", 1)[0]
    default = "\t" if suffix == ".tsv" else ","
    if suffix in (".csv", ".tsv") and default in first:
        return default
    try:
        return csv.Sniffer().sniff(sample[:65536], delimiters=",\t;|").delimiter
    except csv.Error:
        counts = {d: first.count(d) for d in ",\t;|"}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else default


def _read_headers(path: Path, gz: bool, encoding: str, delimiter: str) -> list[str]:
    """The header row, read whole (however many columns, however long a name).

    The first :data:`SNIFF_BYTES` are not enough: a header of 100k columns is longer, and
    the columns after the cut were said to be missing. The csv module's field limit
    (128 KiB) is raised to :data:`HEADER_LIMIT` while the row is read.
    """
    raw = gzip.open(path, "rb") if gz else path.open("rb")
    read = 0

    def lines() -> Iterator[str]:
        nonlocal read
        while read < HEADER_LIMIT:
            line = fh.readline(HEADER_LIMIT - read + 1)
            if not line:
                return
            read += len(line)
            yield line

    old = csv.field_size_limit()
    csv.field_size_limit(HEADER_LIMIT)
    try:
        with raw, io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="") as fh:
            row = next(csv.reader(lines(), delimiter=delimiter), [])
    except csv.Error as exc:
        if read <= HEADER_LIMIT:
            msg = f"{path}: the header row cannot be read ({_first_line(exc)})"
            raise InputFileError(msg, hint="check the quotes in the first line") from None
        row = []
    except (gzip.BadGzipFile, zlib.error, EOFError, OSError) as exc:
        msg = f"{path}: the header row could not be read ({_first_line(exc)})"
        raise InputFileError(msg, hint="the file may be truncated: export it again") from None
    finally:
        csv.field_size_limit(old)
    if read > HEADER_LIMIT:
        msg = f"{path}: the header row is longer than {HEADER_LIMIT // 2**20} MiB"
        hint = "is this a CSV export? Its first line should name the columns"
        raise InputFileError(msg, hint=hint)
    if row:
        row[0] = row[0].removeprefix("\ufeff")
    return row


def _open_text(path: Path, source: str, encoding: str | None) -> OpenedFile:
    gz = path.name.lower().endswith(".gz")
    head = _read_head(path, gz)
    if not head.strip():
        msg = f"{path} is empty: no header, no rows"
        raise InputFileError(msg, hint=f"export the {source} again; the file has 0 bytes of data")
    if encoding is None:
        encoding = detect_encoding(head, path)
    else:
        try:
            codecs.lookup(encoding)
        except LookupError:
            msg = f"unknown encoding {encoding!r}"
            raise InputFileError(msg, hint="use e.g. --encoding utf-8 or --encoding gbk") from None
        try:  # rot13, base64, zlib_codec, hex...: codecs, but not of bytes to text
            b"a".decode(encoding, "replace")
        except LookupError:
            msg = f"--encoding {encoding!r} is not a text encoding (it does not give text)"
            raise InputFileError(
                msg, hint="name the export's character set, e.g. --encoding utf-8 or gbk"
            ) from None
    codec = codecs.lookup(encoding).name
    try:
        sample = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head)
    except UnicodeError as exc:  # e.g. UTF-16 without its byte-order mark
        raise _undecodable(path, encoding, exc) from None
    suffix = Path(path.name.lower().removesuffix(".gz")).suffix
    delimiter = _sniff_delimiter(sample.lstrip("\ufeff"), suffix)
    headers = _read_headers(path, gz, encoding, delimiter)
    options: dict[str, Any] = {"separator": delimiter, "infer_schema": False,
                               "encoding": "utf8-lossy", "quote_char": '"',
                               "raise_if_empty": False}
    if gz or codec not in ("utf-8", "utf-8-sig", "ascii"):
        frame = _scan_scratch_copy(path, gz, encoding, headers, options)
        return OpenedFile(path, "csv", codec, delimiter, headers, frame, text=True, scratch=True)
    frame = pl.scan_csv(path, **options)
    return OpenedFile(path, "csv", codec, delimiter, headers, frame, text=True)


def _scan_scratch_copy(
    path: Path, gz: bool, encoding: str, headers: list[str], options: dict[str, Any]
) -> pl.LazyFrame:
    """A lazy frame over a plain UTF-8 copy of a compressed or non-UTF-8 export.

    Polars reads a ``.gz`` by decompressing it whole into memory (a gzip bomb of 9.4 MB
    grew to 7.1 GB and aborted) and reads only UTF-8, so such a file is scanned from a
    copy in the scratch directory, decompressed and transcoded in a streaming pass with a
    bound on the expansion (:func:`_copy_plain`). The copy is made the first time the frame
    is collected, not when it is opened: a command answered from the orders cache never
    makes it. The schema is what Polars gives the header row (duplicate names and all).
    """
    from polars.io.plugins import register_io_source

    scratch_dir()  # made now, in the main thread, where the signal handlers can be installed
    line = io.StringIO()
    csv.writer(line, delimiter=options["separator"], lineterminator="\n").writerow(headers)
    schema = pl.read_csv(io.BytesIO(line.getvalue().encode()), **options).schema
    lock = threading.Lock()
    made: list[Path] = []

    def scan(
        with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None,
        batch_size: int | None,
    ) -> Iterator[pl.DataFrame]:
        with lock:
            if not made:
                made.append(_copy_plain(path, gz, encoding))
        frame = pl.scan_csv(made[0], **options)
        if with_columns is not None:
            frame = frame.select(with_columns)
        if predicate is not None:
            frame = frame.filter(predicate)
        if n_rows is not None:
            frame = frame.head(n_rows)
        yield from frame.collect_batches()

    return register_io_source(scan, schema=schema)


def gzip_limit(compressed: int) -> int:
    """The most bytes a ``.gz`` of ``compressed`` bytes may expand to (see GZIP_MAX_RATIO)."""
    return max(GZIP_FREE_BYTES, GZIP_MAX_RATIO * compressed)


class _Bounded(io.RawIOBase):
    """A gzip stream that stops with an error past :func:`gzip_limit` bytes."""

    def __init__(self, raw: gzip.GzipFile, path: Path) -> None:
        super().__init__()
        self.raw, self.path, self.read_bytes = raw, path, 0
        self.compressed = path.stat().st_size
        self.limit = gzip_limit(self.compressed)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self.raw.readinto(buffer)
        self.read_bytes += n
        if self.read_bytes > self.limit:
            msg = (f"{self.path} expands to more than {_size(self.limit)} "
                   f"({self.limit // max(self.compressed, 1)}x its {_size(self.compressed)}): "
                   "refused as a possible gzip bomb")
            hint = (f"a genuine export compresses far less than {GZIP_MAX_RATIO}x: if it is "
                    f"one, decompress it yourself (gunzip -k {self.path.name}) and pass the "
                    "plain file")
            raise InputFileError(msg, hint=hint)
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()


def _size(n: int) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"


def _copy_plain(path: Path, gz: bool, encoding: str) -> Path:
    """Stream a compressed or non-UTF-8 text file into a UTF-8 copy, chunk by chunk.

    Undecodable bytes become U+FFFD, which the loader then rejects row by row. A ``.gz``
    is decompressed as it is read, never whole, and refused once it expands past
    :func:`gzip_limit`. A copy left half-made by an error is removed.
    """
    name = path.name.removesuffix(".gz").removesuffix(".GZ")
    handle, where = tempfile.mkstemp(prefix=f"{next(_COPIES)}-", suffix=f"-{name}",
                                     dir=scratch_dir())
    target = Path(where)
    raw: Any = _Bounded(gzip.open(path, "rb"), path) if gz else path.open("rb")
    plain = codecs.lookup(encoding).name in ("utf-8", "utf-8-sig", "ascii")
    try:
        with raw, open(handle, "wb") as out:
            if plain:  # only decompressed
                while chunk := raw.read(TRANSCODE_CHUNK):
                    out.write(chunk)
            else:
                src = io.TextIOWrapper(io.BufferedReader(raw) if gz else raw, encoding=encoding,
                                       errors="replace", newline="")
                while chunk := src.read(TRANSCODE_CHUNK):
                    out.write(chunk.encode("utf-8"))
    except BaseException as exc:
        target.unlink(missing_ok=True)
        if isinstance(exc, UnicodeError):
            raise _undecodable(path, encoding, exc) from None
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            msg = f"no room for a plain copy of {path} in {scratch_dir().parent}"
            hint = "set TMPDIR to a folder with room, or decompress the export yourself"
            raise InputFileError(msg, hint=hint) from None
        if isinstance(exc, (gzip.BadGzipFile, zlib.error, EOFError, OSError)):
            msg = f"{path} could not be read to the end ({_first_line(exc)})"
            raise InputFileError(msg, hint="the file may be truncated: export it again") from None
        raise
    return target


def _undecodable(path: Path, encoding: str, exc: UnicodeError) -> InputFileError:
    msg = f"{path} cannot be read as {encoding} ({_first_line(exc)})"
    return InputFileError(msg, hint="leave --encoding out to detect it, or name the right one")
