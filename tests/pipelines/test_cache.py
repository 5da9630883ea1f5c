"""The validated-orders cache: hits, misses, invalidation, broken entries, the CLI switches.

The fixture (the bands test's orders): 12 lines, 2 rejected (order O9 names two customers),
O6 refunded, one cancelled line of O7; paid orders O1 30, O2 60, O3 50, O4 99.99,
O5 5000, O7 800, O8 0 (revenue 6039.99).
"""

import json

import pytest
from test_segment_buckets import HEADER, ROWS  # the bands test's hand-built orders

import cust.pipelines.io.orders as orders_module
from cust.cli.main import app
from cust.pipelines.io.cache import Cache
from cust.pipelines.io.inputs import Inputs, sample_path
from cust.pipelines.io.loader import LoadOptions
from cust.pipelines.io.orders import orders_frame
from cust.pipelines.segment.buckets import bucket_orders

EXPECTED_ORDERS = [2, 3, 0, 1, 0, 1]  # bands 0-50, 50-100, 100-500, 500-1000, 1000-5000, 5000+


@pytest.fixture
def export(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + ROWS, encoding="utf-8")
    return path


def _bands(path, cache, options=None):
    inputs = Inputs({"orders": str(path)}, options or LoadOptions(), cache)
    result = bucket_orders(inputs)
    return result, inputs.get("orders")


def _entries(root):
    # Entries are directories: the report's script bundle (a file) shares the root.
    return sorted(p.name for p in root.iterdir() if not p.name.startswith(".") and p.is_dir())


def _forbid_line_grouping(monkeypatch):
    def refuse(source):
        raise AssertionError("the export's lines were grouped although the cache holds them")

    monkeypatch.setattr(orders_module, "_per_order", refuse)


def test_second_run_reads_the_cache_not_the_export(export, tmp_path, monkeypatch):
    cache = Cache(tmp_path / "cache")
    first, _ = _bands(export, cache)
    assert len(_entries(cache.root)) == 1
    _forbid_line_grouping(monkeypatch)
    second, source = _bands(export, cache)
    assert source.counts is not None
    # The plans read the cache's file, never the export.
    orders_plan = orders_frame(source).explain()
    assert "per_order-000.parquet" in orders_plan or "per_order-*.parquet" in orders_plan
    for plan in (orders_plan, source.tally().explain()):
        assert str(export) not in plan
    for result in (first, second):
        assert result.buckets["orders"].to_list() == EXPECTED_ORDERS
        assert round(result.buckets["revenue"].sum(), 2) == 6039.99
        orders = result.input.sources["orders"]
        assert (orders.rows_read, orders.rows_rejected) == (12, 2)
        assert orders.reasons == {"mixed_customers": 2}
    assert first.buckets.equals(second.buckets)


def test_changed_export_is_read_again_and_replaces_the_old_entry(export, tmp_path):
    cache = Cache(tmp_path / "cache")
    _bands(export, cache)
    old = _entries(cache.root)
    export.write_text(HEADER + ROWS + "O10,C8,2024-03-05 08:00:00,S1,1,200,50,paid\n",
                      encoding="utf-8")
    result, _ = _bands(export, cache)
    assert result.buckets["orders"].to_list() == [2, 3, 1, 1, 0, 1]
    assert result.input.sources["orders"].rows_read == 13
    new = _entries(cache.root)
    assert len(new) == 1
    assert new != old


def test_same_size_edit_is_read_again(export, tmp_path):
    """An edit that keeps the size (5000 -> 4000) still changes the key (content hash)."""
    cache = Cache(tmp_path / "cache")
    _bands(export, cache)
    stat = export.stat()
    export.write_text(HEADER + ROWS.replace(",5000,", ",4000,"), encoding="utf-8")
    assert export.stat().st_size == stat.st_size
    import os

    os.utime(export, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # even with the old mtime
    result, _ = _bands(export, cache)
    assert result.buckets["orders"].to_list() == [2, 3, 0, 1, 1, 0]


def test_load_options_are_part_of_the_key(export, tmp_path):
    cache = Cache(tmp_path / "cache")
    _, source = _bands(export, cache)
    plain = cache.location(source, LoadOptions())[0]
    zoned = cache.location(source, LoadOptions(timezone="Asia/Shanghai"))[0]
    mapped = cache.location(source, LoadOptions(columns={"orders": {"amount": "amount"}}))[0]
    assert len({plain, zoned, mapped}) == 3
    assert plain.parent == zoned.parent == cache.root


def test_unreadable_entry_is_rebuilt(export, tmp_path):
    cache = Cache(tmp_path / "cache")
    _bands(export, cache)
    (entry,) = _entries(cache.root)
    (cache.root / entry / "per_order-000.parquet").write_bytes(b"not parquet")
    result, _ = _bands(export, cache)
    assert result.buckets["orders"].to_list() == EXPECTED_ORDERS
    result, source = _bands(export, cache)  # the rebuilt entry is readable
    assert source.counts is not None
    assert result.buckets["orders"].to_list() == EXPECTED_ORDERS


def test_unwritable_cache_still_answers(export, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be", encoding="utf-8")
    result, _ = _bands(export, Cache(blocker / "cust"))
    assert result.buckets["orders"].to_list() == EXPECTED_ORDERS
    assert result.input.sources["orders"].rows_rejected == 2


def _cli(runner, *args):
    result = runner.invoke(app, [*map(str, args)])
    return result


def test_cli_uses_the_cache_dir_and_no_cache_turns_it_off(
    runner, export, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "cli-cache"
    monkeypatch.setenv("CUST_CACHE_DIR", str(root))
    off = _cli(runner, "--no-cache", "-f", "json", "segment", "buckets", "--orders", export)
    assert off.exit_code == 0, off.output
    assert not root.exists()
    on = _cli(runner, "segment", "buckets", "-f", "json", "--orders", export)
    assert on.exit_code == 0, on.output
    assert len(_entries(root)) == 1
    warm = _cli(runner, "segment", "buckets", "-f", "json", "--orders", export)
    for result in (off, on, warm):
        doc = json.loads(result.stdout)
        assert [b["orders"] for b in doc["buckets"]] == EXPECTED_ORDERS
        assert doc["input"]["orders"]["rows_rejected"] == 2
    assert json.loads(off.stdout) == json.loads(warm.stdout)


def test_config_turns_the_cache_off_or_moves_it(runner, export, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CUST_CACHE_DIR", str(tmp_path / "env-cache"))
    (tmp_path / "cust.toml").write_text("[cache]\nenabled = false\n", encoding="utf-8")
    assert _cli(runner, "segment", "buckets", "--orders", export).exit_code == 0
    assert not (tmp_path / "env-cache").exists()
    (tmp_path / "cust.toml").write_text('[cache]\ndir = "here"\n', encoding="utf-8")
    assert _cli(runner, "segment", "buckets", "--orders", export).exit_code == 0
    assert len(_entries(tmp_path / "here")) == 1
    (tmp_path / "cust.toml").write_text('[cache]\nenabled = "no"\n', encoding="utf-8")
    bad = _cli(runner, "segment", "buckets", "--orders", export)
    assert bad.exit_code == 2
    assert "[cache] enabled must be true or false" in bad.stderr
    assert "Hint:" in bad.stderr


def test_rejects_are_written_from_the_export_on_a_warm_cache(runner, export, tmp_path,
                                                             monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CUST_CACHE_DIR", str(tmp_path / "c"))
    assert _cli(runner, "segment", "buckets", "--orders", export).exit_code == 0
    rejects = tmp_path / "rejects.csv"
    result = _cli(runner, "segment", "buckets", "--orders", export, "--rejects", rejects)
    assert result.exit_code == 0, result.output
    lines = rejects.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3  # header + the two lines of O9
    assert all("mixed_customers" in line for line in lines[1:])
    strict = _cli(runner, "segment", "buckets", "--orders", export, "--strict")
    assert strict.exit_code == 2


COMMANDS = (
    ("segment", "buckets"),
    ("segment", "abc"),
    ("segment", "rfm"),
    ("segment", "profile"),
    ("cohort",),
    ("promo", "simulate"),
    ("report", "weekly"),
)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_cached_figures_equal_uncached_on_the_sample(runner, tmp_path, monkeypatch, command):
    """Every orders command gives the same JSON cold, while filling the cache, and warm."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CUST_CACHE_DIR", str(tmp_path / "c"))
    docs = []
    for flags in (["--no-cache"], [], []):
        result = _cli(runner, *command, "-f", "json", *flags)
        assert result.exit_code == 0, result.output
        docs.append(json.loads(result.stdout))
    # One entry per export read: the report reads the sample's events too.
    kept = ["events", "orders"] if command == ("report", "weekly") else ["orders"]
    assert [e.split("-")[0] for e in _entries(tmp_path / "c")] == kept
    assert docs[0] == docs[1] == docs[2]
    lines = sample_path("orders").read_text(encoding="utf-8").count("\n")
    assert docs[0]["input"]["orders"]["rows_read"] == lines - 1  # the header is not a row


@pytest.mark.parametrize("cached", [False, True])
def test_passes_over_parts_of_the_orders_give_the_same_figures(
    export, tmp_path, monkeypatch, cached
):
    """A large export is grouped in passes by order id: the same bands, cohorts and counts.

    At 4 lines per pass the 12 lines take 3 passes; O9's two lines (two customers) must land
    in the same pass to be rejected, as they are in one pass.
    """
    import polars as pl

    import cust.pipelines.io.inputs as inputs_module
    from cust.pipelines.cohort.cohorts import cohort_retention

    parquet = tmp_path / "orders.parquet"
    pl.read_csv(export, infer_schema=False).write_parquet(parquet)

    def figures():
        cache = Cache(tmp_path / f"cache-{inputs_module.ORDER_PASS_ROWS}") if cached else None
        inputs = Inputs({"orders": str(parquet)}, LoadOptions(), cache)
        bands = bucket_orders(inputs)
        cohorts = cohort_retention(inputs)
        return bands.buckets, cohorts.cohorts, bands.input.sources["orders"]

    one = figures()
    monkeypatch.setattr(inputs_module, "ORDER_PASS_ROWS", 4)
    three = figures()
    if cached:
        assert len(list((tmp_path / "cache-4").glob("*/per_order-*.parquet"))) == 3
    assert one[0].equals(three[0])
    assert one[0]["orders"].to_list() == EXPECTED_ORDERS
    assert one[1] == three[1]
    assert [c["size"] for c in three[1]] == [1, 2, 2]  # C1 in Jan; C2, C3 in Feb; C4, C5 in Mar
    assert (three[2].rows_read, three[2].rows_rejected) == (12, 2)
    assert three[2].reasons == {"mixed_customers": 2}


def test_a_one_part_entry_is_kept_in_customer_order_and_parts_are_not(
    export, tmp_path, monkeypatch
):
    """Pipelines skip their sort only when the entry says its rows are in customer order."""
    import polars as pl

    import cust.pipelines.io.inputs as inputs_module
    from cust.pipelines.io.orders import CUSTOMER_ORDER

    parquet = tmp_path / "orders.parquet"
    pl.read_csv(export, infer_schema=False).reverse().write_parquet(parquet)  # latest first
    for rows, root, expected in ((None, "one", CUSTOMER_ORDER), (4, "three", ())):
        if rows:
            monkeypatch.setattr(inputs_module, "ORDER_PASS_ROWS", rows)
        for _ in range(2):  # filled, then read back
            source = Inputs({"orders": str(parquet)}, LoadOptions(),
                            Cache(tmp_path / root)).get("orders")
            assert source.per_order_sorted_by == expected
        (entry,) = (tmp_path / root).iterdir()
        assert json.loads((entry / "meta.json").read_text())["sorted_by"] == list(expected)
    frame = pl.scan_parquet(tmp_path / "one" / "*" / "per_order-*.parquet").collect()
    assert frame.equals(frame.sort(CUSTOMER_ORDER))
    # The 7 paid orders (O6 refunded, O9 names two customers), each customer's together.
    assert frame["order_id"].to_list() == ["O1", "O2", "O3", "O4", "O5", "O7", "O8"]


def test_a_file_added_to_an_export_directory_replaces_the_entry(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "week1.csv").write_text(HEADER + ROWS, encoding="utf-8")
    cache = Cache(tmp_path / "cache")
    first, _ = _bands(folder, cache)
    (folder / "week2.csv").write_text(
        HEADER + "W1,C8,2024-03-09 08:00:00,S1,1,200,50,paid\n", encoding="utf-8"
    )
    second, _ = _bands(folder, cache)
    assert first.buckets["orders"].to_list() == EXPECTED_ORDERS
    assert second.buckets["orders"].to_list() == [2, 3, 1, 1, 0, 1]
    # One entry for the export, the older one replaced (it kept week1's orders, which the
    # second run took from it: see test_by_file.py).
    (entry,) = _entries(cache.root)
    assert (cache.root / entry).stat().st_mode & 0o077 == 0  # private to the user


def _big_export(path, lines=60_000):
    """About 3 MB of one-line orders of 10.00 each: more than the first and last MiB."""
    body = "".join(
        f"B{i:06d},C{i % 5000:05d},2024-02-{1 + i % 28:02d} 10:00:00,S1,1,10.00,5,paid\n"
        for i in range(lines)
    )
    path.write_text(HEADER + body, encoding="utf-8")


def _edit_middle_keeping_size_and_mtime(path):
    """10.00 -> 90.00 on the middle line, then the old mtime back (as cp -p, rsync -t do)."""
    import os

    before = path.stat()
    data = path.read_bytes()
    at = data.index(b",10.00,", len(data) // 2)
    path.write_bytes(data[:at] + b",90.00," + data[at + 7 :])
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert 1 << 20 < at < before.st_size - (1 << 20)  # outside the first and last MiB


@pytest.mark.parametrize("kind", ["csv", "parquet", "directory"])
def test_an_edit_keeping_size_and_mtime_is_never_served_stale(tmp_path, kind):
    """Issue 20, item 1: the key hashes each whole file, so the figures follow the edit.

    60,000 orders of 10.00 are 600,000.00; one changed to 90.00 makes 600,080.00, from the
    cache just as without it. For a directory export the edited file is one of two.
    """
    import polars as pl

    csv = tmp_path / "orders.csv"
    _big_export(csv)
    if kind == "parquet":
        export = tmp_path / "orders.parquet"
        import pyarrow.parquet as pq

        table = pl.read_csv(csv, infer_schema=False).to_arrow()
        # Plain values, so one amount's bytes can be edited in place.
        pq.write_table(table, export, compression="none", use_dictionary=False,
                       write_statistics=False)
        edited = export
    elif kind == "directory":
        export = tmp_path / "exports"
        export.mkdir()
        csv.rename(export / "week2.csv")
        (export / "week1.csv").write_text(HEADER + ROWS, encoding="utf-8")
        edited = export / "week2.csv"
    else:
        export = edited = csv
    extra = 6039.99 if kind == "directory" else 0.0
    cache = Cache(tmp_path / "cache")
    first, _ = _bands(export, cache)
    assert round(first.buckets["revenue"].sum(), 2) == round(600_000.00 + extra, 2)
    if kind == "parquet":  # the same size: rewrite the same-width value in the file's bytes
        data = edited.read_bytes()
        at = data.index(b"10.00", len(data) // 2)
        before = edited.stat()
        edited.write_bytes(data[:at] + b"90.00" + data[at + 5 :])
        import os

        os.utime(edited, ns=(before.st_atime_ns, before.st_mtime_ns))
    else:
        _edit_middle_keeping_size_and_mtime(edited)
    cached, source = _bands(export, cache)
    uncached, _ = _bands(export, None)
    assert source.counts is not None  # read through the (rebuilt) cache
    assert round(uncached.buckets["revenue"].sum(), 2) == round(600_080.00 + extra, 2)
    # To the cent: float sums of two files' orders may differ in the last bit by order.
    assert cached.buckets["orders"].to_list() == uncached.buckets["orders"].to_list()
    assert cached.buckets["revenue"].round(2).to_list() == uncached.buckets["revenue"].round(
        2).to_list()
    assert len(_entries(cache.root)) == 1  # the stale entry was replaced


def test_cli_figures_after_a_same_size_same_mtime_edit_equal_no_cache(
    runner, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CUST_CACHE_DIR", str(tmp_path / "c"))
    export = tmp_path / "orders.csv"
    _big_export(export)
    for command in (("segment", "buckets"), ("promo", "simulate")):
        assert _cli(runner, *command, "-f", "json", "--orders", export).exit_code == 0
    _edit_middle_keeping_size_and_mtime(export)
    for command in (("segment", "buckets"), ("promo", "simulate")):
        warm = _cli(runner, *command, "-f", "json", "--orders", export)
        cold = _cli(runner, "--no-cache", *command, "-f", "json", "--orders", export)
        assert warm.exit_code == cold.exit_code == 0, warm.output + cold.output
        assert json.loads(warm.stdout) == json.loads(cold.stdout)
    doc = json.loads(_cli(runner, "segment", "buckets", "-f", "json", "--orders", export).stdout)
    assert round(sum(b["revenue"] for b in doc["buckets"]), 2) == 600_080.00


def _forge(entry, factor=10):
    """Rewrite an entry as a forger would: every value times ``factor``, hashes recomputed."""
    import polars as pl

    from cust.pipelines.io import cache as cache_module

    part = entry / "per_order-000.parquet"
    frame = pl.read_parquet(part)
    frame.with_columns(pl.col("value") * factor).write_parquet(part)
    meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
    meta["hashes"]["per_order-000.parquet"] = cache_module._file_hash(part).hex()
    (entry / "meta.json").write_text(json.dumps(meta), encoding="utf-8")


def _revenue(result):
    return round(result.buckets["revenue"].sum(), 2)


def test_a_forged_entry_of_the_same_user_is_what_the_checks_cannot_see(export, tmp_path):
    """The control for the forgery tests below: a forged entry of our own is read (10x)."""
    cache = Cache(tmp_path / "cache")
    _bands(export, cache)
    (entry,) = _entries(cache.root)
    _forge(cache.root / entry)
    assert _revenue(_bands(export, cache)[0]) == 60399.9


@pytest.mark.parametrize("where", ["root 0777", "root 0770", "entry 0777", "entry 0757"])
def test_an_entry_in_a_folder_others_can_write_is_ignored(export, tmp_path, where):
    """Issue 20, item 5: anyone who can write the root or the entry could have planted it."""
    cache = Cache(tmp_path / "cache")
    _bands(export, cache)
    (entry,) = _entries(cache.root)
    _forge(cache.root / entry)
    folder, mode = where.split()
    (cache.root if folder == "root" else cache.root / entry).chmod(int(mode, 8))
    for _ in range(2):  # ignored, and not replaced by a write into that folder either
        result, _ = _bands(export, cache)
        assert _revenue(result) == 6039.99
        assert result.buckets["orders"].to_list() == EXPECTED_ORDERS
    assert _entries(cache.root) == [entry]  # left alone, not removed


def test_an_entry_of_another_user_is_ignored(export, tmp_path, monkeypatch):
    """Issue 20, item 5: an entry (or a file in it) owned by another uid is not read.

    As root (CI) the entry is really given to uid 4242; otherwise the running user is made
    to look like another one to the cache module, which the same check sees.
    """
    import os

    from cust.pipelines.io import cache as cache_module

    cache = Cache(tmp_path / "cache")
    _bands(export, cache)
    (entry,) = _entries(cache.root)
    _forge(cache.root / entry)
    if os.getuid() == 0:
        for path in (cache.root / entry, *(cache.root / entry).iterdir()):
            os.chown(path, 4242, 4242)
    else:
        real = cache_module._me()
        monkeypatch.setattr(cache_module, "_me", lambda: real + 1)
    for _ in range(2):
        result, _ = _bands(export, cache)
        assert _revenue(result) == 6039.99


def test_a_file_of_another_user_inside_our_entry_is_ignored(export, tmp_path):
    import os

    if os.getuid() != 0:
        pytest.skip("giving a file to another user needs root")
    cache = Cache(tmp_path / "cache")
    _bands(export, cache)
    (entry,) = _entries(cache.root)
    _forge(cache.root / entry)
    os.chown(cache.root / entry / "per_order-000.parquet", 4242, 4242)
    assert _revenue(_bands(export, cache)[0]) == 6039.99


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_the_cache_root_is_created_private_whatever_the_umask(export, tmp_path, umask):
    import os
    import stat

    old = os.umask(umask)
    try:
        cache = Cache(tmp_path / "parent" / "cache")
        _bands(export, cache)
    finally:
        os.umask(old)
    assert stat.S_IMODE(cache.root.stat().st_mode) == 0o700
    (entry,) = _entries(cache.root)
    assert stat.S_IMODE((cache.root / entry).stat().st_mode) == 0o700
    for file in (cache.root / entry).iterdir():
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
    _, source = _bands(export, cache)  # and it is read back
    assert source.counts is not None


def _flip_bits(path):
    data = bytearray(path.read_bytes())
    for at in range(len(data) // 3, len(data) // 3 + 8):
        data[at] ^= 0xFF
    path.write_bytes(bytes(data))


def _wrong_schema(path, *, rehash):
    import polars as pl

    from cust.pipelines.io import cache as cache_module

    pl.DataFrame({"order_id": ["O1"], "value": ["not a number"]}).write_parquet(path)
    if rehash:  # a consistent entry of the wrong schema: only the schema check finds it
        meta_path = path.parent / "meta.json"
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        meta["hashes"][path.name] = cache_module._file_hash(path).hex()
        meta_path.write_text(json.dumps(meta), encoding="utf-8")


def _edit_meta(entry, change):
    meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
    change(meta)
    (entry / "meta.json").write_text(json.dumps(meta), encoding="utf-8")


DAMAGE = {
    "bit flips in per_order": lambda e: _flip_bits(e / "per_order-000.parquet"),
    "bit flips in tally": lambda e: _flip_bits(e / "tally.parquet"),
    "per_order of the wrong schema": lambda e: _wrong_schema(e / "per_order-000.parquet",
                                                             rehash=False),
    "per_order of the wrong schema, rehashed": lambda e: _wrong_schema(
        e / "per_order-000.parquet", rehash=True),
    "tally of the wrong schema, rehashed": lambda e: _wrong_schema(e / "tally.parquet",
                                                                  rehash=True),
    "per_order missing": lambda e: (e / "per_order-000.parquet").unlink(),
    "an extra part": lambda e: (e / "per_order-001.parquet").write_bytes(
        (e / "per_order-000.parquet").read_bytes()),
    "meta.json a list": lambda e: (e / "meta.json").write_text("[1, 2]", encoding="utf-8"),
    "meta.json garbage": lambda e: (e / "meta.json").write_bytes(b"\x00\xff{\"format\": 3"),
    "meta.json empty": lambda e: (e / "meta.json").write_bytes(b""),
    "meta.json missing": lambda e: (e / "meta.json").unlink(),
    "hashes a list": lambda e: _edit_meta(e, lambda m: m.update(hashes=[])),
    "sorted_by a string": lambda e: _edit_meta(e, lambda m: m.update(sorted_by="order_id")),
    "sorted_by an unknown column": lambda e: _edit_meta(e, lambda m: m.update(
        sorted_by=["nope"])),
    "schema of a number": lambda e: _edit_meta(e, lambda m: m.update(schema=3)),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_entry_is_discarded_and_rebuilt(export, tmp_path, monkeypatch, damage):
    """Issue 20, item 6: never exit 2 blaming the export, never a traceback; rebuilt."""
    cache = Cache(tmp_path / "cache")
    _bands(export, cache)
    (entry,) = _entries(cache.root)
    DAMAGE[damage](cache.root / entry)
    result, _ = _bands(export, cache)
    assert result.buckets["orders"].to_list() == EXPECTED_ORDERS
    assert _revenue(result) == 6039.99
    assert (result.input.sources["orders"].rows_read,
            result.input.sources["orders"].rows_rejected) == (12, 2)
    assert _entries(cache.root) == [entry]  # rebuilt in place
    _forbid_line_grouping(monkeypatch)  # and the next run reads it
    again, source = _bands(export, cache)
    assert source.counts is not None
    assert again.buckets.equals(result.buckets)


@pytest.mark.parametrize("damage", ["bit flips in per_order", "per_order of the wrong schema",
                                    "meta.json a list", "meta.json garbage"])
def test_cli_on_a_damaged_entry_answers_as_without_the_cache(
    runner, export, tmp_path, monkeypatch, damage
):
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "c"
    monkeypatch.setenv("CUST_CACHE_DIR", str(root))
    cold = _cli(runner, "--no-cache", "segment", "buckets", "-f", "json", "--orders", export)
    assert _cli(runner, "segment", "buckets", "--orders", export).exit_code == 0
    (entry,) = _entries(root)
    DAMAGE[damage](root / entry)
    for command in (("segment", "buckets"), ("segment", "buckets")):  # rebuilt, then read
        warm = _cli(runner, *command, "-f", "json", "--orders", export)
        assert warm.exit_code == 0, warm.output
        assert "Traceback" not in warm.output
        assert json.loads(warm.stdout) == json.loads(cold.stdout)
