"""Finding export files and opening them: paths, formats, delimiters, encodings, bad files."""

import codecs
import gzip
from pathlib import Path

import polars as pl
import pytest

from cust.pipelines.errors import InputFileError
from cust.pipelines.io import sources
from cust.pipelines.io.sources import detect_encoding, open_file, resolve_paths


@pytest.fixture
def zh_text(orders_table):
    """The hand-built table with Chinese headers and values, as text."""
    return orders_table.text(orders_table.chinese_rows(), orders_table.zh_headers)


# -- resolve_paths ------------------------------------------------------------------------


def test_a_file_resolves_to_itself(orders_csv):
    assert resolve_paths(orders_csv, "orders") == [orders_csv]


def test_a_directory_resolves_to_its_supported_files_sorted(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    for name in ("b.csv", "a.parquet", "c.csv.gz", "d.tsv", "e.txt", "notes.md", "x.xlsx"):
        (folder / name).write_bytes(b"")
    (folder / "sub").mkdir()
    found = [p.name for p in resolve_paths(folder, "orders")]
    assert found == ["a.parquet", "b.csv", "c.csv.gz", "d.tsv", "e.txt"]


def test_a_glob_resolves_to_matching_files_sorted(tmp_path):
    for name in ("orders_2024-02.csv", "orders_2024-01.csv", "customers.csv"):
        (tmp_path / name).write_bytes(b"x")
    found = resolve_paths(str(tmp_path / "orders_*.csv"), "orders")
    assert [p.name for p in found] == ["orders_2024-01.csv", "orders_2024-02.csv"]


def test_a_missing_file_names_the_path_and_the_option(tmp_path):
    with pytest.raises(InputFileError, match=r"orders file not found: .*nope\.csv") as info:
        resolve_paths(tmp_path / "nope.csv", "orders")
    assert info.value.hint == "check the path given to --orders"


def test_a_glob_matching_nothing_is_an_error(tmp_path):
    with pytest.raises(InputFileError, match=r"no events files match"):
        resolve_paths(str(tmp_path / "*.csv"), "events")


def test_a_directory_without_exports_is_an_error(tmp_path):
    (tmp_path / "readme.md").write_text("x")
    with pytest.raises(InputFileError, match=r"holds no supported files") as info:
        resolve_paths(tmp_path, "customers")
    assert "Hint: supported files:" in str(info.value)


# -- formats and delimiters ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "delimiter"),
    [
        ("orders.csv", ","),
        ("orders.tsv", "\t"),
        ("orders.txt", ";"),
        ("orders.txt", "|"),
        ("orders.txt", "\t"),
        ("orders.csv", ";"),  # a .csv that is really ;-delimited (Excel in many locales)
    ],
)
def test_the_delimiter_is_sniffed(write_orders, orders_table, name, delimiter):
    rows = [("A1", "C1", "2024-02-01", "¥1,234.50", "1", "1", "paid")]
    path = write_orders(rows, name=name, delimiter=delimiter)
    opened = open_file(path, "orders")
    assert opened.format == "csv"
    assert opened.delimiter == delimiter
    assert opened.headers == list(orders_table.columns)
    frame = opened.frame.collect()
    assert frame.columns == list(orders_table.columns)
    assert frame.row(0) == rows[0]


def test_parquet_keeps_its_types(orders_parquet, orders_table):
    opened = open_file(orders_parquet, "orders")
    assert opened.format == "parquet"
    assert opened.encoding is None
    assert opened.delimiter is None
    assert opened.text is False
    assert opened.headers == list(orders_table.columns)
    schema = opened.frame.collect_schema()
    assert schema["amount"] == pl.Float64
    assert schema["quantity"] == pl.Int64
    assert schema["order_time"] == pl.Datetime("us")


def test_csv_columns_are_all_text(orders_csv, orders_table):
    opened = open_file(orders_csv, "orders")
    assert opened.text is True
    assert set(opened.frame.collect_schema().values()) == {pl.String}
    assert opened.frame.collect().height == len(orders_table.rows)


def test_an_unsupported_suffix_is_refused(tmp_path):
    path = tmp_path / "orders.xlsx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(InputFileError, match=r"unsupported file type for orders"):
        open_file(path, "orders")


# -- encodings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("gbk", "gb18030"),
        ("gb18030", "gb18030"),
    ],
)
@pytest.mark.parametrize("gz", [False, True])
def test_chinese_headers_are_read_in_every_supported_encoding(
    tmp_path, zh_text, orders_table, encoding, detected, gz
):
    data = zh_text.encode(encoding)
    path = tmp_path / ("订单.csv.gz" if gz else "订单.csv")
    path.write_bytes(gzip.compress(data) if gz else data)
    opened = open_file(path, "orders")
    assert opened.encoding == detected
    assert opened.headers == list(orders_table.zh_headers)  # no BOM left on the first header
    frame = opened.frame.collect()
    assert frame.columns == list(orders_table.zh_headers)
    assert frame["状态"].to_list()[:3] == ["已支付", "已退款", "已支付"]


def test_gb18030_four_byte_characters_survive(tmp_path):
    text = "订单号,客户编号,下单时间,实付金额\nA1,客户𠀀,2024/02/01,5\n"
    path = tmp_path / "o.csv"
    path.write_bytes(text.encode("gb18030"))
    frame = open_file(path, "orders").frame.collect()
    assert frame["客户编号"].to_list() == ["客户𠀀"]


@pytest.mark.parametrize(
    "text",
    [
        # Tiny GBK files with Chinese headers are guessed as Korean cp949 by the detector.
        "订单号,客户编号,下单时间,实付金额\nA1,客户甲,2024-02-01,1\n",
        "订单号,客户编号,下单时间,实付金额\n",
        "order_id,customer_id,order_time,amount\nA1,张三,2024-02-01,1\n",
        "订单编号,客户ID,订单时间,金额\nA1,深圳华强电子,2024/02/01,1\n",
        # Taken for UTF-16 (one column) and for Baltic cp775 (only a ￥ sign) by the detector.
        '客户编号\n"C9"\n',
        "order_id,customer_id,order_time,amount\nA1,C1,2024-02-01,￥1234.50\n",
    ],
)
def test_short_gbk_files_are_not_taken_for_other_encodings(tmp_path, text):
    assert detect_encoding(text.encode("gbk"), tmp_path / "o.csv") == "gb18030"


@pytest.mark.parametrize("text", ["A1,Müller GmbH\n", "A1,Señor Pérez\nA2,Café\n"])
def test_latin1_is_not_mistaken_for_gbk(tmp_path, text):
    # Latin-1 needs --encoding; it must at least not be read as Chinese.
    assert detect_encoding(text.encode("latin-1"), tmp_path) not in ("gb18030", "utf-8")


def test_detect_encoding_recognises_boms(tmp_path):
    assert detect_encoding(codecs.BOM_UTF8 + b"a,b\n", tmp_path) == "utf-8-sig"
    assert detect_encoding("a,b\n".encode("utf-16"), tmp_path) == "utf-16"


def test_utf8_with_a_few_corrupt_bytes_stays_utf8(tmp_path):
    head = (
        "订单号,客户编号,下单时间,实付金额\nA1,客户甲,2024-02-01,1\n".encode()
        + b"A2,\xff\xfe,2024-02-02,2\n"
        + "A3,客户乙,2024-02-03,3\n".encode()
    )
    assert detect_encoding(head, tmp_path / "o.csv") == "utf-8"


def test_gbk_with_a_corrupt_row_stays_gbk(tmp_path):
    # Before: the two bad bytes made the file "not GBK" and it was read as cp1251, its
    # Chinese headers garbled. Now the row is read lossily and rejected by the loader.
    head = (
        "订单号,客户编号,下单时间,实付金额\nO1,C1,2024-01-01,10\n".encode("gbk")
        + b"O3,C\x80\xff,2024-01-01,20\n"
    )
    assert detect_encoding(head, tmp_path / "o.csv") == "gb18030"
    path = tmp_path / "o.csv"
    path.write_bytes(head)
    opened = open_file(path, "orders")
    assert opened.headers == ["订单号", "客户编号", "下单时间", "实付金额"]
    assert opened.frame.collect()["客户编号"].to_list() == ["C1", "C\ufffd\ufffd"]


def test_a_wrong_encoding_override_is_an_input_error(tmp_path):
    path = tmp_path / "o.csv"
    path.write_bytes("订单号,客户编号\nO1,C1\n".encode("gbk"))
    with pytest.raises(InputFileError, match="cannot be read as utf-16") as info:
        open_file(path, "orders", encoding="utf-16")
    assert "--encoding" in info.value.hint


def test_a_multibyte_character_cut_by_the_sniff_window_is_still_utf8(tmp_path):
    head = "订单号,客户编号".encode()[:-1]  # ends inside 号
    assert detect_encoding(head, tmp_path) == "utf-8"


def test_encoding_override_reads_latin1(tmp_path):
    path = tmp_path / "o.csv"
    path.write_bytes("order_id,customer_id\nA1,Müller\nA2,Señor\n".encode("latin-1"))
    opened = open_file(path, "orders", encoding="latin-1")
    assert opened.encoding == "iso8859-1"
    assert opened.frame.collect()["customer_id"].to_list() == ["Müller", "Señor"]


def test_an_unknown_encoding_is_refused(orders_csv):
    with pytest.raises(InputFileError, match=r"unknown encoding 'klingon'") as info:
        open_file(orders_csv, "orders", encoding="klingon")
    assert "--encoding" in info.value.hint


@pytest.mark.parametrize("codec", ["rot13", "base64", "zlib_codec", "hex", "bz2", "uu"])
@pytest.mark.parametrize("name", ["o.csv", "o.csv.gz", "o.tsv"])
def test_a_codec_that_is_not_a_text_encoding_is_refused(tmp_path, codec, name):
    """rot13, base64, zlib_codec... are codecs Python knows, but not of bytes to text: they
    raised TypeError or AssertionError from deep in the decoder (issue 20, item 12)."""
    data = b"order_id,customer_id,order_time,amount\no1,C1,2024-03-01,1\n"
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    with pytest.raises(InputFileError, match=rf"--encoding '{codec}' is not a text enc") as info:
        open_file(path, "orders", encoding=codec)
    assert "--encoding utf-8" in info.value.hint


def test_transcoding_streams_in_chunks(tmp_path, monkeypatch, zh_text, orders_table):
    # A chunk size far below the file size exercises the chunked pass (no whole-file read).
    monkeypatch.setattr(sources, "TRANSCODE_CHUNK", 7)
    path = tmp_path / "o.csv"
    path.write_bytes(zh_text.encode("gbk"))
    frame = open_file(path, "orders").frame.collect()
    assert frame.height == len(orders_table.rows)
    assert frame["状态"].to_list()[-1] == "已支付"


# -- unreadable files ---------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_an_empty_file_is_refused(tmp_path, content):
    path = tmp_path / "orders.csv"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=r"orders\.csv is empty"):
        open_file(path, "orders")


def test_a_gz_that_is_not_gzip_is_refused(tmp_path):
    path = tmp_path / "orders.csv.gz"
    path.write_text("order_id,customer_id\nA1,C1\n")
    with pytest.raises(InputFileError, match=r"not a readable gzip file") as info:
        open_file(path, "orders")
    assert "not gzip" in info.value.hint


def test_a_truncated_gzip_is_refused(tmp_path):
    data = gzip.compress(("order_id,customer_id\n" + "A1,C1\n" * 1000).encode())
    path = tmp_path / "orders.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputFileError, match=r"orders\.csv\.gz"):
        open_file(path, "orders")


@pytest.mark.parametrize("content", [b"", b"not parquet at all, just text\n", bytes(range(256))])
def test_a_corrupt_parquet_is_refused(tmp_path, content):
    path = tmp_path / "orders.parquet"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=r"orders\.parquet is not a readable Parquet file"):
        open_file(path, "orders")


def test_the_transcoded_copy_lives_in_a_private_temp_dir(tmp_path, zh_text):
    path = tmp_path / "o.csv"
    path.write_bytes(zh_text.encode("gbk"))
    open_file(path, "orders")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.csv"]
    assert Path(sources.scratch_dir()).name.startswith("cust-")


# -- the header row, whole (issue 20, item 13) --------------------------------------------

WIDE = 100_000  # columns before the required ones: a header row of about 900 KB
REQUIRED = ["order_id", "customer_id", "order_time", "amount"]


def _wide_text():
    headers = [f"c{i}" for i in range(WIDE)] + REQUIRED
    row = [""] * WIDE + ["o1", "C1", "2024-03-01 10:00", "12.5"]
    return ",".join(headers) + "\n" + ",".join(row) + "\n"


def _long_name_text():
    long = "名" * (130 * 1024)  # one header name over the csv module's 128 KiB field limit
    return f"order_id,customer_id,{long},order_time,amount\no1,C1,x,2024-03-01 10:00,12.5\n"


@pytest.mark.parametrize(
    ("name", "encoding"),
    [("o.csv", "utf-8"), ("o.csv", "utf-8-sig"), ("o.csv", "gb18030"), ("o.csv.gz", "utf-8"),
     ("o.txt", "utf-8")],
)
@pytest.mark.parametrize("text", [_wide_text, _long_name_text])
def test_the_whole_header_row_is_read(tmp_path, name, encoding, text):
    """Headers past the first 256 KiB were said to be missing; a name over 128 KiB raised
    _csv.Error. Every text path (plain, BOM, transcoded GBK, gzip, sniffed .txt) reads all."""
    from cust.pipelines.io.loader import load_source

    data = text().encode(encoding)
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    opened = open_file(path, "orders")
    assert opened.headers == text().splitlines()[0].split(",")
    source = load_source("orders", path)
    valid = source.valid.collect()
    assert valid["order_id"].to_list() == ["o1"]
    assert valid["amount"].to_list() == [12.5]


def test_a_first_line_longer_than_any_header_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "HEADER_LIMIT", 1000)
    path = tmp_path / "o.csv"
    path.write_text("order_id,customer_id,order_time,amount," + "x" * 2000 + "\n", "utf-8")
    with pytest.raises(InputFileError, match="header row is longer than") as info:
        open_file(path, "orders")
    assert info.value.hint


def test_a_missing_column_message_lists_a_few_headers(tmp_path):
    """100k headers are not all printed in the message: 50, each cut at 80 characters."""
    from cust.pipelines.errors import MissingColumnError
    from cust.pipelines.io.loader import load_source

    path = tmp_path / "o.csv"
    path.write_text(",".join(["y" * 200] + [f"c{i}" for i in range(WIDE)]) + "\n", "utf-8")
    with pytest.raises(MissingColumnError) as info:
        load_source("orders", path)
    text = str(info.value)
    assert f"'{'y' * 80}…', 'c0', 'c1'," in text
    assert f"'c48' and {WIDE + 1 - 50:,} more" in text
    assert len(text) < 2000


# -- scratch copies on signals and aborts (issue 20, item 16) -----------------------------

_LONG_RUN = """
import sys, polars as pl
from cust.pipelines.io.sources import scratch_dir
d = scratch_dir()
(d / "copy.csv").write_text("x" * 1000)
plan = pl.LazyFrame({"a": range(40_000_000)}).with_columns(b=pl.col("a") * 7 % 1000003)
print(d, flush=True)
plan.sort("b").group_by("b").agg(pl.col("a").sum()).collect(engine="streaming")
print("finished", flush=True)
"""


@pytest.mark.parametrize(("name", "codes"), [("SIGTERM", (143, -15)), ("SIGHUP", (129, -1)),
                                             ("SIGINT", (130, -2, 1))])
def test_a_signal_during_polars_work_removes_the_scratch_at_once(tmp_path, name, codes):
    """The process is inside a Polars collect (no Python handler can run there for seconds):
    the watcher thread removes the scratch within a second and the process ends."""
    import os
    import signal
    import subprocess
    import sys
    import time

    env = {**os.environ, "TMPDIR": str(tmp_path)}
    sig = getattr(signal, name)
    # The child starts with the signal's default action, as under cron or a terminal; run
    # under nohup (which ignores SIGHUP), cust rightly leaves an ignored signal ignored.
    proc = subprocess.Popen([sys.executable, "-c", _LONG_RUN], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(sig, signal.SIG_DFL))
    scratch = Path(proc.stdout.readline().strip())
    assert scratch.parent == tmp_path
    assert (scratch / "copy.csv").exists()
    time.sleep(0.3)
    sent = time.monotonic()
    proc.send_signal(sig)
    while scratch.exists() and time.monotonic() - sent < 10:
        time.sleep(0.01)
    assert time.monotonic() - sent < 2  # removed at once, not when Polars is done
    out, err = proc.communicate(timeout=60)
    assert "finished" not in out  # it was stopped mid-run
    assert proc.returncode in codes, err
    if name != "SIGINT":  # ended by the watcher; SIGINT ends as KeyboardInterrupt does
        assert time.monotonic() - sent < 5
    assert not scratch.exists()
    assert list(tmp_path.iterdir()) == []


def _gbk_export(path, lines=400_000):
    from tests.conftest import ZH_HEADERS

    body = "".join(f"O{i},C{i % 5000},2024-02-01 10:00:00,10.00,5,1,已支付\n"
                   for i in range(lines))
    path.write_bytes((",".join(ZH_HEADERS) + "\n" + body).encode("gbk"))


def _cust(*args, env, **kw):
    import subprocess
    import sys

    code = "from cust.cli.main import main; main()"
    return subprocess.Popen([sys.executable, "-c", code, *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


@pytest.mark.parametrize(("kind", "flags"), [("gbk", []), ("gbk", ["--no-cache"]),
                                            ("gz", ["--no-cache"])])
def test_sigterm_during_a_gbk_run_leaves_no_utf8_copy(tmp_path, kind, flags):
    """As cron's timeout does: SIGTERM once the UTF-8 copy of a GBK or .gz export is being
    read (with the cache, or without it, when the copy is made in a Polars thread)."""
    import os
    import signal
    import time

    export = tmp_path / "orders.csv"
    _gbk_export(export)
    if kind == "gz":
        text = export.read_bytes().decode("gbk").encode("utf-8")
        export = tmp_path / "orders.csv.gz"
        export.write_bytes(gzip.compress(text, compresslevel=1))
    scratch_root = tmp_path / "tmp"
    scratch_root.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch_root), "CUST_CACHE_DIR": str(tmp_path / "c")}
    proc = _cust(*flags, "segment", "buckets", "-f", "json", "--orders", export, env=env)
    deadline = time.monotonic() + 60
    copies: list[Path] = []
    while not copies and time.monotonic() < deadline and proc.poll() is None:
        copies = [p for p in scratch_root.glob("cust-*/*orders.csv") if p.stat().st_size]
        time.sleep(0.02)
    assert copies, "the run never made its UTF-8 copy"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode in (143, -15), err
    assert "Traceback" not in err
    assert list(scratch_root.iterdir()) == []


def test_an_aborted_run_leaves_no_scratch_and_a_killed_one_is_cleaned_by_the_next(tmp_path):
    """An error (exit 2) removes the scratch at exit; SIGKILL (like an abort, exit 134) gives
    no chance to, so the next run removes the copies of runs whose process is gone."""
    import os
    import signal
    import time

    export = tmp_path / "orders.csv"
    _gbk_export(export)
    broken = tmp_path / "broken.csv"
    broken.write_bytes("订单号,客户编号\nO1,C1\n".encode("gbk") * 2000)  # columns missing
    scratch_root = tmp_path / "tmp"
    scratch_root.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch_root), "CUST_CACHE_DIR": str(tmp_path / "c")}
    failed = _cust("segment", "buckets", "--orders", broken, env=env)
    _, err = failed.communicate(timeout=60)
    assert failed.returncode == 2, err
    assert "Hint:" in err
    assert list(scratch_root.iterdir()) == []
    proc = _cust("segment", "buckets", "-f", "json", "--orders", export, env=env)
    deadline = time.monotonic() + 60
    while not list(scratch_root.glob("cust-*/*orders.csv")) and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    (left,) = scratch_root.iterdir()  # killed outright: the copy is left behind
    assert left.name.startswith(f"cust-{proc.pid}-")
    small = tmp_path / "small.csv"
    text = "订单号,客户编号,下单时间,实付金额\nO1,C1,2024-02-01 10:00:00,10\n"
    small.write_bytes(text.encode("gbk"))
    after = _cust("--no-cache", "segment", "buckets", "-f", "json", "--orders", small, env=env)
    out, err = after.communicate(timeout=60)
    assert after.returncode == 0, err
    assert list(scratch_root.iterdir()) == []


def test_stale_scratch_is_cleaned_only_where_the_process_is_gone(tmp_path):
    import os
    import subprocess
    import sys
    import time

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_pid = int(gone.stdout)
    folders = {
        "dead": tmp_path / f"cust-{dead_pid}-abcd1234",
        "alive": tmp_path / f"cust-{os.getppid()}-abcd1234",
        "self": tmp_path / f"cust-{os.getpid()}-abcd1234",
        "old unnamed": tmp_path / "cust-x1y2z3w4",
        "new unnamed": tmp_path / "cust-q1w2e3r4",
        "not ours": tmp_path / "other-123-abc",
    }
    for folder in folders.values():
        folder.mkdir()
        (folder / "copy.csv").write_text("x", encoding="utf-8")
    two_days = time.time() - 2 * 24 * 3600
    os.utime(folders["old unnamed"], (two_days, two_days))
    removed = sources.clean_stale_scratch(tmp_path)
    assert sorted(removed) == sorted([folders["dead"], folders["old unnamed"]])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        folders[k].name for k in ("alive", "self", "new unnamed", "not ours"))


def test_stale_scratch_of_another_user_is_left_alone(tmp_path):
    import os

    if os.getuid() != 0:
        pytest.skip("giving a folder to another user needs root")
    folder = tmp_path / "cust-999999999-abcd1234"
    folder.mkdir()
    os.chown(folder, 4242, 4242)
    assert sources.clean_stale_scratch(tmp_path) == []
    assert folder.exists()


# -- gzip bombs and the streamed copy (issue 20, item 8) ----------------------------------

BOMB_LINE = "O1,C1,2024-03-01 10:00:00,10.00\n"


def _bomb(path, megabytes=24, encoding="utf-8"):
    """A .gz of about 60 KB that expands to ``megabytes`` MB (about 400x): a small bomb."""
    header = "order_id,customer_id,order_time,amount\n"
    if encoding != "utf-8":
        header = "订单号,客户编号,下单时间,实付金额\n"
    line = BOMB_LINE.encode(encoding)
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(header.encode(encoding))
        chunk = line * (1 << 15)
        for _ in range(megabytes * (1 << 20) // len(chunk)):
            out.write(chunk)
    return path


@pytest.fixture
def small_bound(monkeypatch):
    """The guard's free allowance cut to 1 MiB, so a 24 MB bomb trips it quickly."""
    monkeypatch.setattr(sources, "GZIP_FREE_BYTES", 1 << 20)


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_a_gzip_bomb_is_refused_while_streaming(tmp_path, small_bound, encoding):
    path = _bomb(tmp_path / "orders.csv.gz", encoding=encoding)
    compressed = path.stat().st_size
    assert compressed * 300 < 24 << 20  # over 300x: no export compresses like that
    opened = open_file(path, "orders")  # opening reads the head and the header only
    before = set(sources.scratch_dir().iterdir())
    with pytest.raises(InputFileError, match=r"orders\.csv\.gz expands to more than .* "
                                             r"refused as a possible gzip bomb") as info:
        opened.frame.select(pl.len()).collect(engine="streaming")
    assert "gunzip -k orders.csv.gz" in info.value.hint
    assert f"{sources.GZIP_MAX_RATIO}x" in info.value.hint
    assert set(sources.scratch_dir().iterdir()) == before  # the half-made copy is removed


def test_the_bound_is_the_larger_of_the_allowance_and_the_ratio():
    assert sources.gzip_limit(1 << 20) == 512 << 20  # 1 MiB may expand to 512 MiB (512x)
    assert sources.gzip_limit(1 << 30) == 100 << 30  # 1 GiB to 100 GiB
    assert sources.GZIP_MAX_RATIO == 100


def test_a_highly_compressed_gz_under_the_allowance_is_read(tmp_path):
    """400x, but only 24 MB: under the 512 MiB allowance, read in full."""
    path = _bomb(tmp_path / "orders.csv.gz")
    frame = open_file(path, "orders").frame
    lines = (24 << 20) // (len(BOMB_LINE) << 15) * (1 << 15)
    assert frame.select(pl.len()).collect(engine="streaming").item() == lines


@pytest.mark.parametrize("command", [("segment", "buckets"), ("check",), ("cohort",)])
def test_cli_refuses_a_gzip_bomb_with_exit_2_and_a_hint(runner, tmp_path, monkeypatch,
                                                         small_bound, command):
    from cust.cli.main import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CUST_CACHE_DIR", str(tmp_path / "c"))
    path = _bomb(tmp_path / "orders.csv.gz")
    result = runner.invoke(app, [*command, "--orders", str(path)])
    assert result.exit_code == 2, result.output
    assert "possible gzip bomb" in result.stderr
    assert "Hint:" in result.stderr
    assert "Traceback" not in result.output


def test_gz_and_gbk_copies_are_made_only_when_read(tmp_path, zh_text, orders_csv):
    """A command answered from the orders cache never decompresses or transcodes."""
    from cust.pipelines.io.cache import Cache
    from cust.pipelines.io.inputs import Inputs
    from cust.pipelines.io.loader import LoadOptions
    from cust.pipelines.segment.buckets import bucket_orders

    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(zh_text.encode("gbk"))
    gz = tmp_path / "orders.csv.gz"
    gz.write_bytes(gzip.compress(orders_csv.read_bytes()))
    for export in (gbk, gz):
        cache = Cache(tmp_path / f"cache-{export.name}")
        copies = lambda: sorted(sources.scratch_dir().glob(f"*-{export.name.removesuffix('.gz')}"))  # noqa: E731, B023
        before = copies()
        first = bucket_orders(Inputs({"orders": str(export)}, LoadOptions(), cache))
        made = copies()
        assert len(made) == len(before) + 1
        second = bucket_orders(Inputs({"orders": str(export)}, LoadOptions(), cache))
        assert copies() == made  # warm: no new copy
        assert first.buckets.equals(second.buckets)
        assert first.input.to_json() == second.input.to_json()
