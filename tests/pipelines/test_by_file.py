"""The per-file cache of an export folder (pipelines/io/by_file.py): only new or changed
files are read, and every figure equals a reading of the whole folder without a cache.

Hand-built folder: a.csv, b.csv and c.csv; order S is split between b.csv (10.00) and
c.csv (5.00) for customer C2; order M names C3 in a.csv and C4 in c.csv (mixed across
files); b.csv has a line with a bad amount.
"""

from pathlib import Path

import polars as pl
import pytest

from cust.pipelines.io import Cache, Inputs, LoadOptions, collect, orders_frame
from cust.pipelines.io.loader import Source

HEAD = "order_id,customer_id,order_time,amount,cost,status\n"
FILES = {
    "a.csv": "A1,C1,2024-03-01 10:00:00,20,5,paid\nM,C3,2024-03-01 11:00:00,7,1,paid\n",
    "b.csv": "B1,C1,2024-03-02 10:00:00,30,10,paid\nS,C2,2024-03-02 23:59:00,10,4,paid\n"
             "B2,C5,2024-03-02 12:00:00,oops,1,paid\n",
    "c.csv": "S,C2,2024-03-03 00:01:00,5,1,paid\nM,C4,2024-03-03 09:00:00,3,1,paid\n"
             "C1,C6,2024-03-03 10:00:00,40,30,refunded\n",
}


def _write(folder: Path, name: str, body: str) -> None:
    (folder / name).write_text(HEAD + body, encoding="utf-8")


@pytest.fixture
def folder(tmp_path):
    where = tmp_path / "exports"
    where.mkdir()
    for name, body in FILES.items():
        _write(where, name, body)
    return where


@pytest.fixture
def reads(monkeypatch):
    """The names of the files each run reads (Source.subset is how they are read)."""
    seen: list[list[str]] = []
    real = Source.subset

    def spy(self, indices):
        seen.append([self.files[i].path.name for i in indices])
        return real(self, indices)

    monkeypatch.setattr(Source, "subset", spy)
    return seen


def _figures(folder, cache, dedupe=False):
    inputs = Inputs({"orders": str(folder)}, LoadOptions(dedupe=dedupe), cache)
    source = inputs.get("orders")
    (orders,), report = collect([orders_frame(source).sort("order_id")], [source])
    return orders, report.sources["orders"].to_json()


def _same_as_uncached(folder, cache, dedupe=False):
    cached = _figures(folder, cache, dedupe)
    plain = _figures(folder, None, dedupe)
    assert cached[0].equals(plain[0])
    assert cached[1] == plain[1]
    return cached


def test_the_folder_by_hand_and_each_file_read_once(folder, tmp_path, reads):
    cache = Cache(tmp_path / "cache")
    orders, rep = _same_as_uncached(folder, cache)
    # S = 10 + 5 across b and c; M mixed across a and c; B2 a bad amount; C1 refunded.
    assert orders["order_id"].to_list() == ["A1", "B1", "S"]
    assert orders["value"].to_list() == [20.0, 30.0, 15.0]
    assert orders["gross_profit"].to_list() == [15.0, 20.0, 10.0]
    assert (rep["rows_read"], rep["rows_rejected"]) == (8, 3)
    assert rep["rejected_by_reason"] == {"mixed_customers": 2, "bad_amount": 1}
    assert rep["lines_in_later_file"] == 2  # S's and M's lines in a and b
    # The cached run read every file once, then the three sharing S or M together.
    assert reads[0] == ["a.csv", "b.csv", "c.csv"]
    assert reads[1] == ["a.csv", "b.csv", "c.csv"]
    reads.clear()
    _figures(folder, cache)  # the export's own entry: nothing read
    assert reads == []


def test_a_new_file_is_read_alone(folder, tmp_path, reads):
    cache = Cache(tmp_path / "cache")
    _write(folder, "c.csv", "S,C2,2024-03-03 00:01:00,5,1,paid\n")  # M no longer mixed
    _figures(folder, cache)
    reads.clear()
    _write(folder, "d.csv", "D1,C7,2024-03-04 10:00:00,99.99,50,paid\n")
    orders, rep = _same_as_uncached(folder, cache)
    assert reads[0] == ["d.csv"]  # then b and c again, for S (not a cache read)
    assert reads[1] == ["b.csv", "c.csv"]
    assert orders["order_id"].to_list() == ["A1", "B1", "D1", "M", "S"]
    assert rep["rows_read"] == 7


def test_changed_removed_and_renamed_files(folder, tmp_path, reads):
    cache = Cache(tmp_path / "cache")
    _figures(folder, cache)
    reads.clear()
    _write(folder, "a.csv", "A1,C1,2024-03-01 10:00:00,21,5,paid\n")  # changed
    orders, rep = _same_as_uncached(folder, cache)
    assert reads[0] == ["a.csv"]
    assert orders.filter(pl.col("order_id") == "A1")["value"].item() == 21.0
    # M is now in c alone: no longer mixed; S still spans b and c.
    assert rep["rejected_by_reason"] == {"bad_amount": 1}
    reads.clear()
    (folder / "a.csv").unlink()  # removed
    orders, rep = _same_as_uncached(folder, cache)
    assert reads == [["b.csv", "c.csv"]]  # no file read alone: S's two files together
    assert orders["order_id"].to_list() == ["B1", "M", "S"]
    reads.clear()
    (folder / "c.csv").rename(folder / "z.csv")  # renamed: its content is known
    orders, _ = _same_as_uncached(folder, cache)
    assert reads == [["b.csv", "z.csv"]]  # z.csv's entry is c.csv's
    assert orders["value"].to_list() == [30.0, 3.0, 15.0]
    # One entry: the export's, which keeps each file's orders (the older ones removed).
    assert len([p for p in (tmp_path / "cache").iterdir() if p.is_dir()]) == 1


def test_dedupe_counts_a_shared_order_from_its_last_file(folder, tmp_path):
    cache = Cache(tmp_path / "cache")
    orders, rep = _same_as_uncached(folder, cache, dedupe=True)
    # S counts from c.csv alone (5.00); M's a.csv line is dropped, so M is C4's alone.
    assert orders["order_id"].to_list() == ["A1", "B1", "M", "S"]
    assert orders["value"].to_list() == [20.0, 30.0, 3.0, 5.0]
    assert rep["rejected_by_reason"] == {"order_in_later_file": 2, "bad_amount": 1}


def test_a_run_of_parquet_files_is_read_as_its_csv_twins(tmp_path):
    """Five Parquet files alike are one scan (loader._runs): the same orders, rows and
    rejected rows (file and row number) as the same files in CSV, read one by one."""
    from cust.pipelines.io.loader import rejected_rows

    csv_dir, pq_dir = tmp_path / "csv", tmp_path / "pq"
    csv_dir.mkdir()
    pq_dir.mkdir()
    bodies = [
        "A1,C1,2024-03-01 10:00:00,20,5,paid\nA1,C1,2024-03-01 10:00:00,oops,1,paid\n",
        "S,C2,2024-03-02 23:59:00,10,4,paid\n",
        "S,C9,2024-03-03 00:01:00,5,1,paid\nB1,C3,2024-03-03 10:00:00,1,1,paid\n",
        "D1,C4,2024-03-04 10:00:00,7,1,refunded\n",
        "E1,C5,2024-03-05 10:00:00,9,,paid\nE2,,2024-03-05 11:00:00,9,1,paid\n",
    ]
    for n, body in enumerate(bodies):
        _write(csv_dir, f"day{n}.csv", body)
        frame = pl.read_csv(csv_dir / f"day{n}.csv", infer_schema=False)
        frame.write_parquet(pq_dir / f"day{n}.parquet")
    got = {}
    for name, where in (("csv", csv_dir), ("parquet", pq_dir)):
        source = Inputs({"orders": str(where)}, LoadOptions(), None).get("orders")
        (orders,), report = collect([orders_frame(source).sort("order_id")], [source])
        rejected = rejected_rows([source]).with_columns(
            pl.col("source_file").str.extract(r"(day\d)")
        ).sort("source_file", "source_row")
        got[name] = orders, report.sources["orders"].to_json(), rejected
    assert got["csv"][0].equals(got["parquet"][0])
    rep = got["parquet"][1]
    assert {k: v for k, v in rep.items() if k != "files"} == {
        k: v for k, v in got["csv"][1].items() if k != "files"}
    # S names C2 in day1 and C9 in day2: mixed across the files.
    assert rep["rejected_by_reason"] == {"mixed_customers": 2, "bad_amount": 1,
                                         "missing_customer_id": 1}
    assert got["parquet"][0]["order_id"].to_list() == ["A1", "B1", "E1"]
    rows = got["parquet"][2].select("source_file", "source_row", "reason").rows()
    assert rows == [("day0", "2", "bad_amount"), ("day1", "1", "mixed_customers"),
                    ("day2", "1", "mixed_customers"), ("day4", "2", "missing_customer_id")]
    assert rows == got["csv"][2].select("source_file", "source_row", "reason").rows()


def test_a_cache_that_refuses_the_entry_counts_shared_orders_once(folder, tmp_path, monkeypatch):
    """Cache.write refusing (a full disk): the run goes on from its scratch parts, where the
    files sharing S and M keep their own orders too (alone-*, for a next run): only the
    orders read together count."""
    monkeypatch.setattr(Cache, "write", lambda *args, **kwargs: None)
    orders, rep = _same_as_uncached(folder, Cache(tmp_path / "cache"))
    assert orders["order_id"].to_list() == ["A1", "B1", "S"]
    assert orders["value"].to_list() == [20.0, 30.0, 15.0]
    assert (rep["rows_read"], rep["rows_rejected"]) == (8, 3)
