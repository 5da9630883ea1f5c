"""``--engine spark``: the orders export read, validated and grouped into orders on Spark.

One definition of the rules. Spark only reads the rows (CSV cells as text, Parquet as
typed), numbers them within their file and shuffles them by order id; every partition is
then validated and grouped into orders by cust's own Polars code (the loader's rules,
:func:`.orders.orders_frame`, :meth:`.loader.Source.tally`) through Arrow
(``mapInArrow``). All lines of an order meet in one partition, so the checks across rows
(an order naming two customers, an order a later file holds too) judge them as on one
machine. The driver receives the per-order rows (small), the reject counts and the
rejected rows, and the Polars pipelines take it from there unchanged.

PySpark is imported here only, and only when the engine is chosen.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import CustError, InputFileError
from ..settings import DEFAULT_SPARK_MASTER, EngineSettings
from .loader import (
    FILE,
    ROW,
    DateOrder,
    LoadOptions,
    Source,
    _build,
    load_source,
    merge_tallies,
)
from .orders import CUSTOMER_ORDER, orders_frame
from .parse import text
from .schema import match_headers
from .sources import OpenedFile

INSTALL_HINT = 'pip install "cust[spark]" (PySpark 4), or run with --engine polars'
# Columns that travel with every row through the shuffle.
FILE_INDEX_COL, KEY = "__spark_file", "__spark_key"
# What a row of the partitions' answer holds: a per-order row, or one Arrow IPC blob of
# the partition's tally or of its rejected rows.
KIND, BLOB = "__spark_kind", "__spark_blob"
ORDER, TALLY, REJECTS = "order", "tally", "rejects"


class EngineError(CustError):
    """The Spark engine cannot start: no PySpark, no Java, an unreachable master."""


@dataclass(frozen=True)
class FileSpec:
    """One export file as the executors need it (plain values: pickled to every task)."""

    path: str
    format: str
    text: bool
    columns: tuple[str, ...]  # canonical names of the cells it holds, in Spark's order


def spark_orders(spec: str | Path, options: LoadOptions, engine: EngineSettings) -> Source:
    """The orders export at ``spec``, validated and grouped into orders on Spark.

    The returned :class:`Source` carries the per-order frame, the row counts by reason
    and the rejected rows (for ``--rejects``); its lines stay on the cluster.
    """
    spark = session(engine)
    if is_uri(spec):  # s3a://, hdfs://, file://...: only Spark can list and open them
        # Their cells cannot be sniffed here: the date order is the one given, else year first.
        given = (DateOrder(options.date_format, "given") if options.date_format != "auto"
                 else DateOrder())
        local = _build("orders", _remote_files(spark, str(spec), options), options, given)
    else:
        # The driver opens each file's header only (nothing else is read here): the same
        # checks and messages as the Polars engine for a missing file or column.
        local = load_source("orders", spec, options)
    files, rows = _rows(spark, local, options, str(spec), "order_id")
    parts = int(spark.conf.get("spark.sql.shuffle.partitions") or 4)
    # The schema of the per-order rows, from the Polars plan over the files' headers.
    want = orders_frame(local).collect_schema()
    out = _transport_schema(want)
    # The date order is decided here, over the whole export, and the same in every partition.
    validate = partial(_validate, files=tuple(files), options=_partition_options(options),
                       names=tuple(want.names()), dates=local.dates)
    table = _collect(rows.repartition(parts, KEY).mapInArrow(validate, out), files)
    per_order = (
        table.filter(pl.col(KIND) == ORDER)
        .select([pl.col(c).cast(want[c]) for c in want.names()])
        .sort(CUSTOMER_ORDER)
    )
    blobs = table.filter(pl.col(KIND) != ORDER).select(KIND, BLOB)
    tallies = [_frame(b) for k, b in blobs.iter_rows() if k == TALLY]
    counts = merge_tallies(tallies) if tallies else local.tally().clear().collect()
    rejects = [_frame(b) for k, b in blobs.iter_rows() if k == REJECTS]
    located_schema = local.located.collect_schema()
    order = {f.path: i for i, f in enumerate(files)}
    rejected = (
        pl.concat(rejects, how="vertical_relaxed")
        .sort(pl.col(FILE).replace_strict(order, return_dtype=pl.Int64), ROW)
        if rejects else pl.DataFrame(schema=located_schema)
    )
    return replace(
        local,
        checked=local.checked.clear(),
        located=rejected.lazy(),
        marked=None,
        per_order=per_order.lazy(),
        per_order_sorted_by=CUSTOMER_ORDER,
        counts=counts,
        engine="spark",
    )


def spark_parts(
    local: Source, key: str, work: Callable[[Source], Sequence[pl.DataFrame]],
    engine: EngineSettings,
) -> list[pl.DataFrame]:
    """``work`` run by cust's Polars code on every partition of ``local``'s rows, on Spark.

    ``local`` is the export as the driver opened it (headers only). Spark reads its rows
    and shuffles them by ``key`` (``user_id``: all events of a user, so all of a session,
    meet in one partition); each partition becomes a :class:`Source` of its rows (the
    loader's rules, with the driver's date order) and ``work`` returns the same frames for
    it as for the whole export, frames that add up over parts of it (counts by group, value
    counts). The i-th frames of all partitions come back concatenated, in the i-th place.
    """
    spark = session(engine)
    options = local.options or LoadOptions()
    files, rows = _rows(spark, local, options, str(local.files[0].path), key)
    from pyspark.sql.types import BinaryType, StringType, StructField, StructType

    out = StructType([StructField(KIND, StringType()), StructField(BLOB, BinaryType())])
    parts = int(spark.conf.get("spark.sql.shuffle.partitions") or 4)
    run = partial(_work, files=tuple(files), options=_partition_options(options),
                  name=local.name, dates=local.dates, work=work)
    table = _collect(rows.repartition(parts, KEY).mapInArrow(run, out), files)
    got: dict[int, list[pl.DataFrame]] = {}
    for kind, blob in table.iter_rows():
        got.setdefault(int(kind), []).append(_frame(blob))
    if not got:  # an export of no rows: nothing to read, the driver's plan gives the frames
        return list(work(local))
    return [pl.concat(got[i], how="vertical_relaxed") for i in range(len(got))]


def _rows(spark: Any, local: Source, options: LoadOptions, spec: str,
          key: str) -> tuple[list[FileSpec], Any]:
    """The files of ``local`` as one Spark frame of their cells, file index, row and key."""
    if any(f.format != local.files[0].format for f in local.files):
        msg = (f"--engine spark reads an {local.name} export of one format; {spec} mixes CSV "
               "and Parquet")
        raise InputFileError(msg, hint="convert the files to one format, or use --engine polars")
    files, frames = [], []
    for i, f in enumerate(local.files):
        fspec, frame = _read(spark, f, i, options, local.name, key)
        files.append(fspec)
        frames.append(frame)
    rows = frames[0]
    for frame in frames[1:]:
        rows = rows.unionByName(frame, allowMissingColumns=True)
    return files, rows


def _collect(answer: Any, files: Sequence[FileSpec]) -> pl.DataFrame:
    """The partitions' answer on the driver; a malformed CSV row is exit 2, not a traceback."""
    try:
        table = pl.from_arrow(answer.toArrow())
    except Exception as exc:
        # FAILFAST: a row of more fields than headers, or of fewer (which Polars reads with
        # empty cells: the one case where the engines differ, see tests/spark).
        if not any(m in str(exc) for m in ("MALFORMED_RECORD_IN_PARSING",
                                            "MALFORMED_CSV_RECORD")):
            raise  # a bug: exit 1 with its traceback
        names = ", ".join(f.path for f in files)
        msg = (f"could not read {names}: a row has more or fewer fields than the header "
               "(Spark: malformed record)")
        hint = "check the rows near the problem (unbalanced quotes, more fields than headers)"
        raise InputFileError(msg, hint=hint) from None
    assert isinstance(table, pl.DataFrame)
    return table


def is_uri(spec: str | Path) -> bool:
    """Whether ``spec`` names files by a Hadoop file system URI (``s3a://bucket/orders/``)."""
    scheme, sep, _ = str(spec).partition("://")
    return bool(sep) and scheme.isidentifier()


SUFFIXES = (".csv", ".tsv", ".txt", ".parquet")


def _remote_files(spark: Any, spec: str, options: LoadOptions) -> list[OpenedFile]:
    """The export files a URI, a folder URI or a glob names, with their headers.

    Listed by Spark's Hadoop file system (the credentials are Spark's configuration);
    a text file's delimiter is the comma (a tab for ``.tsv``) and its encoding
    ``--encoding`` or UTF-8: nothing is sniffed from a file the driver cannot open.
    """
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    pattern = jvm.org.apache.hadoop.fs.Path(spec)
    fs = pattern.getFileSystem(conf)
    found: list[str] = []
    for status in fs.globStatus(pattern) or []:
        inner = fs.listStatus(status.getPath()) if status.isDirectory() else [status]
        for entry in inner:
            path = entry.getPath()
            name = path.getName().lower().removesuffix(".gz")
            if entry.isFile() and not path.getName().startswith(("_", ".")) and (
                name.endswith(SUFFIXES)
            ):
                found.append(path.toString())
    if not found:
        msg = f"no orders files found at {spec}"
        raise InputFileError(msg, hint=f"supported files: {', '.join(SUFFIXES)}, or .gz")
    opened = []
    for uri in sorted(found):
        if uri.lower().endswith(".parquet"):
            headers = spark.read.parquet(uri).columns
            fmt, delimiter, codec = "parquet", None, None
        else:
            delimiter = "\t" if uri.lower().removesuffix(".gz").endswith(".tsv") else ","
            codec = options.encoding or "utf-8"
            headers = (spark.read.option("header", True).option("sep", delimiter)
                       .option("encoding", _java_charset(codec)).csv(uri).columns)
            fmt = "csv"
        empty = pl.LazyFrame(schema=dict.fromkeys(headers, pl.String))
        opened.append(OpenedFile(uri, fmt, codec, delimiter, list(headers), empty,  # type: ignore[arg-type]
                                 fmt == "csv"))
    return opened


def _partition_options(options: LoadOptions) -> LoadOptions:
    """The options the executors read with: the headers are canonical names already."""
    return LoadOptions(timezone=options.timezone, dedupe=options.dedupe)


def _read(spark: Any, f: OpenedFile, index: int, options: LoadOptions, name: str = "orders",
          key: str = "order_id") -> tuple[FileSpec, Any]:
    """File ``f`` as a Spark frame of its mapped cells, file index, row number and key."""
    from pyspark.sql import functions as F

    mapping, _ = match_headers(name, list(f.headers), options.explicit_map(name))
    path = str(f.path)
    if f.format == "parquet":
        raw = spark.read.parquet(path)
        picked = [F.col(f"`{h}`").alias(c) for h, c in mapping.items()]
        # 1-based like the Polars engine's row numbers (Parquet files split between tasks).
        number = (F.col("_metadata.row_index") + 1).alias(ROW)
        frame = raw.select(*picked, number)
    else:
        # multiLine: quoted line breaks stay inside their cell (and a file is not split
        # between tasks, so its rows are numbered in one pass below).
        if _java_charset(f.encoding).lower() not in SPARK_CHARSETS:  # GBK exports
            spark.conf.set("spark.sql.legacy.javaCharsets", "true")
        raw = (
            spark.read.option("header", True)
            .option("sep", f.delimiter or ",")
            .option("encoding", _java_charset(f.encoding))
            .option("multiLine", True)
            .option("quote", '"')
            .option("escape", '"')
            # A row of more fields than headers stops the run, as the Polars reader does.
            .option("mode", "FAILFAST")
            .option("inferSchema", False)
            .csv(path)
        )
        if len(raw.columns) != len(f.headers):
            msg = (f"{path}: Spark found {len(raw.columns)} columns in the header row, "
                   f"cust {len(f.headers)}")
            raise InputFileError(msg, hint="check the header row's quotes and delimiter")
        positions = {h: j for j, h in enumerate(f.headers)}
        names = raw.columns
        picked = [F.col(f"`{names[positions[h]]}`").alias(c) for h, c in mapping.items()]
        frame = raw.select(*picked).coalesce(1)
    columns = tuple(mapping.values())
    keyed = frame.mapInArrow(
        partial(_number, index=index, numbered=f.format == "parquet", key=key),
        _keyed_schema(frame.schema),
    )
    return FileSpec(path, f.format, f.text, columns), keyed


def _java_charset(codec: str | None) -> str:
    """Java's name of a Python codec found by cust's detection."""
    if codec in (None, "utf-8", "utf-8-sig", "ascii"):
        return "UTF-8"
    return {"gb18030": "GB18030", "gbk": "GBK", "gb2312": "GB2312"}.get(codec, codec)


# Spark 4 reads CSV in these character sets only, unless its legacy option allows Java's.
SPARK_CHARSETS = ("iso-8859-1", "us-ascii", "utf-16", "utf-16be", "utf-16le", "utf-32", "utf-8")


def _keyed_schema(schema: Any) -> Any:
    from pyspark.sql.types import IntegerType, LongType, StringType, StructField, StructType

    fields = [f for f in schema.fields if f.name != ROW]
    return StructType([
        *fields,
        StructField(ROW, LongType()),
        StructField(FILE_INDEX_COL, IntegerType()),
        StructField(KEY, StringType()),
    ])


def _number(batches: Iterator[Any], *, index: int, numbered: bool,
            key: str = "order_id") -> Iterator[Any]:
    """Each row with its file's index, its row number and its ``key`` as cust parses it.

    Runs on the executors. The key (an order id, a user id) is the id after the loader's
    own text rule (stripped, the empty string as null), so `` A1`` and ``A1`` meet in one
    partition.
    """
    seen = 0
    for batch in batches:
        frame = pl.from_arrow(batch)
        assert isinstance(frame, pl.DataFrame)
        if not numbered:
            frame = frame.with_columns(
                pl.int_range(seen + 1, seen + 1 + frame.height, dtype=pl.Int64).alias(ROW)
            )
        seen += frame.height
        frame = frame.with_columns(
            pl.col(ROW).cast(pl.Int64),
            pl.lit(index, dtype=pl.Int32).alias(FILE_INDEX_COL),
            text(pl.col(key)).alias(KEY),
        )
        yield from frame.to_arrow(compat_level=pl.CompatLevel.oldest()).to_batches()


def _validate(
    batches: Iterator[Any], *, files: Sequence[FileSpec], options: LoadOptions,
    names: Sequence[str], dates: DateOrder,
) -> Iterator[Any]:
    """Validate one partition's lines and group them into orders, with cust's loader.

    Runs on the executors (the partition's rows: :func:`_partition`).
    """
    source = _partition(batches, "orders", files, options, dates)
    if source is None:
        return
    per_order, tally, rejected = pl.collect_all(
        [orders_frame(source), source.tally(), source.rejected()]
    )
    blobs = pl.DataFrame(
        {KIND: [TALLY, REJECTS], BLOB: [_blob(tally), _blob(rejected)]},
        schema={KIND: pl.String, BLOB: pl.Binary},
    )
    out = pl.concat(
        [
            _physical(per_order.select(names)).with_columns(
                pl.lit(ORDER).alias(KIND), pl.lit(None, dtype=pl.Binary).alias(BLOB)
            ),
            blobs,
        ],
        how="diagonal_relaxed",
    )
    yield from out.to_arrow(compat_level=pl.CompatLevel.oldest()).to_batches()


def _partition(batches: Iterator[Any], name: str, files: Sequence[FileSpec],
               options: LoadOptions, dates: DateOrder) -> Source | None:
    """One partition's rows as a :class:`Source` checked by the loader (None: no rows).

    Every file of the export is passed (empty where the partition holds none of its rows),
    so a file's index is the one the Polars engine gives it.
    """
    import pyarrow as pa

    got = list(batches)
    if not got:
        return None
    rows = pl.from_arrow(pa.Table.from_batches(got))
    assert isinstance(rows, pl.DataFrame)
    opened = []
    for i, f in enumerate(files):
        # In the file's order: a tie (two events of one time) is read as on one machine.
        cells = rows.filter(pl.col(FILE_INDEX_COL) == i).select(*f.columns, ROW).sort(ROW)
        # The path as text: a URI would lose a slash of its scheme as a Path.
        opened.append(OpenedFile(f.path, "csv" if f.text else "parquet", None, None,  # type: ignore[arg-type]
                                 list(f.columns), cells.lazy(), f.text, numbered=True))
    return _build(name, opened, options, dates)


def _work(
    batches: Iterator[Any], *, files: Sequence[FileSpec], options: LoadOptions, name: str,
    dates: DateOrder, work: Callable[[Source], Sequence[pl.DataFrame]],
) -> Iterator[Any]:
    """Run on the executors: ``work``'s frames over one partition, as Arrow IPC blobs."""
    source = _partition(batches, name, files, options, dates)
    if source is None:
        return
    blobs = [_blob(frame) for frame in work(source)]
    out = pl.DataFrame({KIND: [str(i) for i in range(len(blobs))], BLOB: blobs},
                       schema={KIND: pl.String, BLOB: pl.Binary})
    yield from out.to_arrow(compat_level=pl.CompatLevel.oldest()).to_batches()


def _physical(frame: pl.DataFrame) -> pl.DataFrame:
    """Times and dates as their numbers, counts as Int64: what Spark carries unchanged.

    A time travels as microseconds (its physical value), not as a Spark timestamp, so no
    session time zone can shift it; the driver casts every column back to Polars' type.
    """
    return frame.with_columns(
        pl.col(c).to_physical().cast(pl.Int64) if (
            frame.schema[c].is_temporal() or frame.schema[c].is_integer()
        ) else pl.col(c)
        for c in frame.columns
    )


def _transport_schema(schema: pl.Schema) -> Any:
    from pyspark.sql.types import (
        BinaryType,
        BooleanType,
        DoubleType,
        LongType,
        StringType,
        StructField,
        StructType,
    )

    def kind(dtype: pl.DataType) -> Any:
        if dtype.is_temporal() or dtype.is_integer():
            return LongType()
        if dtype.is_float():
            return DoubleType()
        if dtype == pl.Boolean:
            return BooleanType()
        return StringType()

    return StructType([
        *(StructField(c, kind(t)) for c, t in schema.items()),
        StructField(KIND, StringType()),
        StructField(BLOB, BinaryType()),
    ])


def _blob(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_ipc(buffer)
    return buffer.getvalue()


def _frame(blob: bytes) -> pl.DataFrame:
    return pl.read_ipc(io.BytesIO(blob))


# A new session's settings unless spark-submit or spark-defaults.conf give their own: the
# shuffle partitions are the partitions cust validates; each must fit an executor's memory
# (set spark.sql.shuffle.partitions to about the export's lines / 5 million).
SPARK_DEFAULTS = {"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "4"}


def session(engine: EngineSettings) -> Any:
    """The Spark session: the active one (spark-submit, a test's), else a new one.

    Raises
    ------
    EngineError
        PySpark is not installed, Java is missing, or the master cannot be reached.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        msg = "--engine spark needs PySpark, which is not installed"
        raise EngineError(msg, hint=INSTALL_HINT) from None
    try:  # mapInArrow needs pandas and pyarrow next to PySpark
        from pyspark.sql.pandas.utils import (
            require_minimum_pandas_version,
            require_minimum_pyarrow_version,
        )

        require_minimum_pandas_version()
        require_minimum_pyarrow_version()
    except ImportError as exc:
        msg = f"--engine spark needs PySpark's SQL extras: {str(exc).strip().splitlines()[0]}"
        raise EngineError(msg, hint=INSTALL_HINT) from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    master = engine.spark_master or os.environ.get("MASTER") or DEFAULT_SPARK_MASTER
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        msg = "--engine spark needs Java (17 or later), and none was found"
        raise EngineError(msg, hint="install a Java 17 runtime, or set JAVA_HOME to one")
    _reachable(master)
    # The executors run cust's code with this interpreter (where cust is installed).
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    try:
        from pyspark import SparkConf

        given = SparkConf()  # spark-submit's --conf and spark-defaults.conf win
        builder = SparkSession.builder.appName("cust").config("spark.ui.showConsoleProgress",
                                                              "false")
        if not given.contains("spark.master") or engine.spark_master:
            builder = builder.master(master)
        for key, value in SPARK_DEFAULTS.items():
            if not given.contains(key):
                builder = builder.config(key, value)
        spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel("ERROR")
    except Exception as exc:  # the JVM did not start or the master refused it
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        msg = f"Spark could not start with master {master!r}: {detail}"
        hint = ("check [engine] spark_master in cust.toml and that Java 17 runs "
                "(java -version)")
        raise EngineError(msg, hint=hint) from None
    return spark


def _reachable(master: str, timeout: float = 5.0) -> None:
    """Refuse a ``spark://host:port`` master that does not answer (Spark would retry a minute)."""
    if not master.startswith("spark://"):
        return
    for hostport in master.removeprefix("spark://").split(","):
        host, _, port = hostport.rpartition(":")
        try:
            with socket.create_connection((host, int(port)), timeout=timeout):
                return
        except (OSError, ValueError):
            continue
    msg = f"the Spark master {master} cannot be reached"
    raise EngineError(msg, hint='check spark_master in the [engine] table of cust.toml '
                                '(e.g. spark_master = "spark://host:7077", or "local[2]")')
