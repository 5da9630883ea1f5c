"""The loader on tiny hand-written exports: every format, encoding, header, time, number and
bad-row reason, with the typed frames and counts worked out by hand."""

import gzip
from datetime import datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cust.pipelines.errors import InputFileError, MissingColumnError
from cust.pipelines.io import sources
from cust.pipelines.io.inputs import collect
from cust.pipelines.io.loader import REASON, REASONS, LoadOptions, by_reason, load_source
from cust.pipelines.io.schema import SCHEMAS, match_headers

T = datetime

# What the loader must make of the conftest table (see its docstring).
EXPECTED = pl.DataFrame(
    {
        "order_id": ["A1", "A2", "A3", "A3", "A4", "A5", "A6"],
        "customer_id": ["C1", "C2", "C1", "C1", "C3", None, "C4"],
        "order_time": [
            T(2024, 2, 1, 9),
            T(2024, 2, 3, 14, 30),
            T(2024, 2, 5, 10),
            T(2024, 2, 5, 10),
            T(2024, 2, 10, 18, 45),
            T(2024, 2, 11, 8),
            T(2024, 2, 12, 8),
        ],
        "amount": [1200.0, 300.0, 50.0, 25.5, 99.9, 10.0, None],
        "cost": [800.0, 100.0, 20.0, 10.0, 60.0, 5.0, 5.0],
        "quantity": [2, 1, 1, 3, 1, 1, 1],
        "status": ["paid", "refunded", "paid", "paid", "cancelled", "paid", "paid"],
        REASON: [None, None, None, None, None, "missing_customer_id", "bad_amount"],
    },
    schema={
        "order_id": pl.String,
        "customer_id": pl.String,
        "order_time": pl.Datetime("us"),
        "amount": pl.Float64,
        "cost": pl.Float64,
        "quantity": pl.Int64,
        "status": pl.String,
        REASON: pl.String,
    },
)


def checked(spec, **options):
    return load_source("orders", spec, LoadOptions(**options)).checked.collect()


def report(source):
    _, rep = collect([], [source])
    return rep.sources[source.name]


def one_column(tmp_path, source, header, cells, *, name="x.csv", **options):
    """Load a file whose required columns hold valid values, plus ``header`` with ``cells``."""
    required = {
        "orders": {
            "order_id": "A1",
            "customer_id": "C1",
            "order_time": "2024-02-01",
            "amount": "10",
        },
        "customers": {"customer_id": "C1"},
        "events": {"user_id": "U1", "event": "view", "event_time": "2024-02-01 10:00:00"},
        "prices": {"sku": "R1", "changed_at": "2024-02-01", "old_price": "2", "new_price": "1"},
    }[source]
    headers = [h for h in required if h != header] + [header]
    lines = [",".join(headers)]
    for i, cell in enumerate(cells):
        values = [f"{required[h]}{i}" if h.endswith("_id") else required[h] for h in headers[:-1]]
        lines.append(",".join([*values, f'"{cell}"']))
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_source(source, path, LoadOptions(**options))


# -- formats --------------------------------------------------------------------------------


def test_a_utf8_csv_is_typed_and_checked(orders_csv):
    assert_frame_equal(checked(orders_csv), EXPECTED)


@pytest.mark.parametrize(
    ("name", "delimiter"),
    [("orders.tsv", "\t"), ("orders.txt", ";"), ("orders.txt", "|"), ("orders.csv", ";")],
)
def test_delimited_text_gives_the_same_frame(write_orders, name, delimiter):
    assert_frame_equal(checked(write_orders(name=name, delimiter=delimiter)), EXPECTED)


def test_gzip_csv_gives_the_same_frame(write_orders):
    path = write_orders(gz=True)
    assert path.name == "orders.csv.gz"
    assert_frame_equal(checked(path), EXPECTED)


def test_typed_parquet_gives_the_same_frame(orders_parquet):
    assert_frame_equal(checked(orders_parquet), EXPECTED)


def test_string_typed_parquet_gives_the_same_frame(tmp_path, orders_table):
    frame = pl.DataFrame(
        [list(r) for r in orders_table.rows], schema=list(orders_table.columns), orient="row"
    )
    path = tmp_path / "orders.parquet"
    frame.write_parquet(path)
    assert set(pl.read_parquet_schema(path).values()) == {pl.String}
    assert_frame_equal(checked(path), EXPECTED)


def test_parquet_with_dates_and_int_amounts(tmp_path):
    frame = pl.DataFrame(
        {
            "order_id": [1, 2],
            "customer_id": [10, 20],
            "order_time": [T(2024, 2, 1).date(), T(2024, 2, 2).date()],
            "amount": [5, 7],
            "quantity": pl.Series([1, -1], dtype=pl.Int32),
        }
    )
    path = tmp_path / "o.parquet"
    frame.write_parquet(path)
    out = checked(path)
    assert out["order_id"].to_list() == ["1", "2"]
    assert out["customer_id"].to_list() == ["10", "20"]
    assert out["order_time"].to_list() == [T(2024, 2, 1), T(2024, 2, 2)]
    assert out["amount"].to_list() == [5.0, 7.0]
    assert out[REASON].to_list() == [None, "negative_quantity"]


@pytest.mark.parametrize(
    ("timezone", "expected"),
    [
        (None, [T(2024, 2, 1, 2), T(2024, 2, 1, 23, 30)]),  # UTC wall clock kept
        ("Asia/Shanghai", [T(2024, 2, 1, 10), T(2024, 2, 2, 7, 30)]),  # +8h
    ],
)
def test_tz_aware_parquet_times(tmp_path, timezone, expected):
    frame = pl.DataFrame(
        {
            "order_id": ["A1", "A2"],
            "customer_id": ["C1", "C2"],
            "order_time": [T(2024, 2, 1, 2), T(2024, 2, 1, 23, 30)],
            "amount": [1.0, float("nan")],
        }
    ).with_columns(pl.col("order_time").dt.replace_time_zone("UTC"))
    path = tmp_path / "tz.parquet"
    frame.write_parquet(path)
    source = load_source("orders", path, LoadOptions(timezone=timezone))
    out = source.checked.collect()
    assert out["order_time"].dtype == pl.Datetime("us")
    assert out["order_time"].dtype.time_zone is None
    assert out["order_time"].to_list() == expected
    assert out[REASON].to_list() == [None, "bad_amount"]
    # Regression: the rejects of a tz-aware Parquet file used to fail to collect.
    rejected = source.rejected().collect()
    assert rejected["source_row"].to_list() == [2]
    assert rejected["amount"].to_list() == ["NaN"]
    assert rejected[REASON].to_list() == ["bad_amount"]


def test_a_directory_of_several_files_is_their_union(write_orders, orders_table, tmp_path):
    rows = orders_table.rows
    write_orders(rows[:3], name="exports/2024-02a.csv")
    write_orders(rows[3:5], name="exports/2024-02b.csv.gz", gz=True)
    write_orders(rows[5:], name="exports/2024-02c.tsv", delimiter="\t")
    (tmp_path / "exports" / "README.md").write_text("not an export")
    source = load_source("orders", tmp_path / "exports")
    assert [f.path.name for f in source.files] == [
        "2024-02a.csv",
        "2024-02b.csv.gz",
        "2024-02c.tsv",
    ]
    assert_frame_equal(source.checked.collect(), EXPECTED)
    rejected = source.rejected().collect()
    assert rejected.select("source_file", "source_row", REASON).rows() == [
        (str(tmp_path / "exports" / "2024-02c.tsv"), 1, "missing_customer_id"),
        (str(tmp_path / "exports" / "2024-02c.tsv"), 2, "bad_amount"),
    ]


def test_a_glob_reads_only_the_matching_files(write_orders, orders_table, tmp_path):
    write_orders(orders_table.rows[:2], name="orders_1.csv")
    write_orders(orders_table.rows[2:], name="orders_2.csv")
    write_orders([("Z1", "Z", "2024-01-01", "1", "1", "1", "paid")], name="other.csv")
    assert_frame_equal(checked(str(tmp_path / "orders_*.csv")), EXPECTED)


def test_a_directory_mixing_csv_and_parquet_is_typed_union(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a.csv").write_text(
        "订单号,客户编号,下单时间,实付金额,成本,状态\n"
        "A1,C1,2024/02/01,10,4,已支付\n"
        "A2,C2,2024/02/02,20,5,已退款\n",
        encoding="utf-8",
    )
    pl.DataFrame(
        {
            "order_id": ["P1", "P2"],
            "customer_id": ["C1", "C3"],
            "order_time": [T(2024, 2, 3, 10), T(2024, 2, 4, 11)],
            "amount": [30.0, float("inf")],
            "quantity": [3, 1],
        }
    ).write_parquet(folder / "b.parquet")
    source = load_source("orders", folder)
    assert [f.format for f in source.files] == ["csv", "parquet"]
    expected = pl.DataFrame(
        {
            "order_id": ["A1", "A2", "P1", "P2"],
            "customer_id": ["C1", "C2", "C1", "C3"],
            "order_time": [T(2024, 2, 1), T(2024, 2, 2), T(2024, 2, 3, 10), T(2024, 2, 4, 11)],
            "amount": [10.0, 20.0, 30.0, None],
            "cost": [4.0, 5.0, None, None],
            "quantity": [None, None, 3, 1],
            # Regression: the Parquet file has no status, so its lines are paid (they used
            # to be null, and null is not "paid": they dropped out of every figure).
            "status": ["paid", "refunded", "paid", "paid"],
            REASON: [None, None, None, "bad_amount"],
        },
        schema={
            "order_id": pl.String,
            "customer_id": pl.String,
            "order_time": pl.Datetime("us"),
            "amount": pl.Float64,
            "cost": pl.Float64,  # regression: was String when one file lacked the column
            "quantity": pl.Int64,
            "status": pl.String,
            REASON: pl.String,
        },
    )
    assert_frame_equal(source.checked.collect(), expected)
    rep = report(source)
    assert (rep.rows_read, rep.rows_rejected, rep.reasons) == (4, 1, {"bad_amount": 1})
    rejected = source.rejected().collect()
    assert rejected.select("source_file", "source_row", "amount").rows() == [
        (str(folder / "b.parquet"), 2, "inf")
    ]


def test_mixed_customers_are_found_across_files(tmp_path):
    (tmp_path / "a.csv").write_text("order_id,customer_id,order_time,amount\nA1,C1,2024-02-01,1\n")
    (tmp_path / "b.csv").write_text("order_id,customer_id,order_time,amount\nA1,C2,2024-02-01,2\n")
    out = checked(tmp_path)
    assert out[REASON].to_list() == ["mixed_customers", "mixed_customers"]


# -- encodings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "gz"),
    [("utf-8", False), ("utf-8-sig", False), ("gbk", False), ("gb18030", False), ("gbk", True)],
)
def test_chinese_exports_give_the_same_frame(write_orders, orders_table, encoding, gz):
    path = write_orders(
        orders_table.chinese_rows(),
        name="订单导出.csv",
        encoding=encoding,
        headers=orders_table.zh_headers,
        gz=gz,
    )
    assert_frame_equal(checked(path), EXPECTED)


def test_chinese_values_survive_gbk(tmp_path):
    path = tmp_path / "o.csv"
    path.write_bytes(
        "订单号,客户编号,下单时间,实付金额,型号,活动\n"
        "单1,深圳华强电子,2024/02/01,￥88.00,贴片电阻,首单立减\n".encode("gbk")
    )
    source = load_source("orders", path)
    row = source.valid.collect().row(0, named=True)
    assert row == {
        "order_id": "单1",
        "customer_id": "深圳华强电子",
        "order_time": T(2024, 2, 1),
        "amount": 88.0,
        "sku": "贴片电阻",
        "promo": "首单立减",
    }
    assert source.files[0].encoding == "gb18030"


def test_the_encoding_option_reads_a_latin1_file(tmp_path):
    path = tmp_path / "o.csv"
    path.write_bytes(
        "order_id,customer_id,order_time,amount\nA1,Müller GmbH,2024-02-01,1\n".encode("latin-1")
    )
    out = checked(path, encoding="latin-1")
    assert out["customer_id"].to_list() == ["Müller GmbH"]
    assert out[REASON].to_list() == [None]


def test_invalid_utf8_bytes_reject_only_their_rows(tmp_path):
    path = tmp_path / "o.csv"
    path.write_bytes(
        "订单号,客户编号,下单时间,实付金额\nA1,客户甲,2024-02-01,1\n".encode()
        + b"A2,\xff\xfe\xfd,2024-02-02,2\n"
        + "A3,客户乙,2024-02-03,3\n".encode()
    )
    source = load_source("orders", path)
    assert source.files[0].encoding == "utf-8"
    out = source.checked.collect()
    assert out["customer_id"].to_list()[::2] == ["客户甲", "客户乙"]
    assert out[REASON].to_list() == [None, "invalid_encoding", None]
    rep = report(source)
    assert (rep.rows_read, rep.rows_rejected, rep.reasons) == (3, 1, {"invalid_encoding": 1})
    rejected = source.rejected().collect()
    assert rejected.select("source_row", "order_id", REASON).rows() == [
        (2, "A2", "invalid_encoding")
    ]


def test_invalid_utf8_bytes_after_the_sniffed_head_reject_their_rows(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "SNIFF_BYTES", 64)
    path = tmp_path / "o.csv"
    path.write_bytes(
        b"order_id,customer_id,order_time,amount\n"
        b"A1,C1,2024-02-01,1\nA2,C2,2024-02-02,2\nA3,C3,2024-02-03,3\n"
        b"A4,C\xc0\xaf4,2024-02-04,4\nA5,C5,2024-02-05,5\n"
    )
    out = checked(path)
    assert out[REASON].to_list() == [None, None, None, "invalid_encoding", None]


def test_gbk_read_with_a_wrong_utf8_override_is_rejected_not_garbled(tmp_path):
    path = tmp_path / "o.csv"
    path.write_bytes("order_id,customer_id,order_time,amount\nA1,张三,2024-02-01,1\n".encode("gbk"))
    out = checked(path, encoding="utf-8")
    assert out[REASON].to_list() == ["invalid_encoding"]


# -- headers --------------------------------------------------------------------------------

# The contract's built-in Chinese names (section 1), plus the schema's for the sources the
# contract leaves open; each must find its column on its own.
CHINESE_ALIASES = [
    ("orders", "order_id", "订单号"),
    ("orders", "order_id", "订单编号"),
    ("orders", "customer_id", "客户编号"),
    ("orders", "customer_id", "客户ID"),
    ("orders", "customer_id", "用户ID"),
    ("orders", "customer_id", "会员ID"),
    ("orders", "order_time", "下单时间"),
    ("orders", "order_time", "订单时间"),
    ("orders", "order_time", "创建时间"),
    ("orders", "amount", "实付金额"),
    ("orders", "amount", "金额"),
    ("orders", "amount", "订单金额"),
    ("orders", "cost", "成本"),
    ("orders", "cost", "成本金额"),
    ("orders", "sku", "型号"),
    ("orders", "sku", "商品编号"),
    ("orders", "sku", "SKU"),
    ("orders", "quantity", "数量"),
    ("orders", "discount", "优惠金额"),
    ("orders", "discount", "折扣金额"),
    ("orders", "promo", "活动"),
    ("orders", "promo", "优惠券"),
    ("orders", "status", "状态"),
    ("orders", "status", "订单状态"),
    ("orders", "channel", "渠道"),
    ("orders", "channel", "来源"),
    ("customers", "customer_id", "客户编号"),
    ("customers", "customer_id", "客户ID"),
    ("customers", "registered_at", "注册时间"),
    ("customers", "customer_type", "客户类型"),
    ("customers", "role", "角色"),
    ("customers", "industry", "行业"),
    ("customers", "points", "积分"),
    ("customers", "region", "地区"),
    ("customers", "channel", "渠道"),
    ("events", "user_id", "用户ID"),
    ("events", "user_id", "访客ID"),
    ("events", "event", "事件"),
    ("events", "event_time", "事件时间"),
    ("events", "session_id", "会话ID"),
    ("prices", "sku", "型号"),
    ("prices", "sku", "商品编号"),
    ("prices", "changed_at", "调价时间"),
    ("prices", "old_price", "原价"),
    ("prices", "new_price", "新价"),
    ("prices", "category", "类目"),
]
CELL = {
    "order_id": ("A9", "A9"),
    "customer_id": ("C9", "C9"),
    "order_time": ("2024/02/01 09:05", T(2024, 2, 1, 9, 5)),
    "amount": ("￥1,234.50", 1234.5),
    "cost": ("800", 800.0),
    "sku": ("0603-10K", "0603-10K"),
    "quantity": ("3", 3),
    "discount": ("20", 20.0),
    "promo": ("first_order", "first_order"),
    "status": ("已退款", "refunded"),
    "channel": ("搜索", "搜索"),
    "registered_at": ("2023-05-06", T(2023, 5, 6)),
    "customer_type": ("企业", "enterprise"),
    "role": ("工程师", "engineer"),
    "industry": ("汽车电子", "汽车电子"),
    "points": ("1,200", 1200.0),
    "region": ("广东", "广东"),
    "user_id": ("U9", "U9"),
    "event": ("加购", "加购"),
    "event_time": ("2024-02-01T10:00:00", T(2024, 2, 1, 10)),
    "session_id": ("S9", "S9"),
    "changed_at": ("20240201", T(2024, 2, 1)),
    "old_price": ("1.50", 1.5),
    "new_price": ("￥1.20", 1.2),
    "category": ("电阻", "电阻"),
}


@pytest.mark.parametrize(("source", "column", "alias"), CHINESE_ALIASES)
def test_every_chinese_header_finds_its_column(tmp_path, source, column, alias):
    others = [c.name for c in SCHEMAS[source] if c.required and c.name != column]
    headers = [*others, alias]
    values = [CELL[c][0] for c in headers[:-1]] + [CELL[column][0]]
    path = tmp_path / "x.csv"
    path.write_bytes(
        (",".join(headers) + "\n" + ",".join(f'"{v}"' for v in values) + "\n").encode("gbk")
    )
    loaded = load_source(source, path)
    assert column in loaded.columns
    valid = loaded.valid.collect()
    assert valid.height == 1
    assert valid[column].to_list() == [CELL[column][1]]


@pytest.mark.parametrize(
    ("source", "column", "alias"),
    [(s, c.name, a) for s, cols in SCHEMAS.items() for c in cols for a in c.aliases],
)
def test_every_alias_matches_case_and_space_insensitively(source, column, alias):
    others = [c.name for c in SCHEMAS[source] if c.required and c.name != column]
    header = f"  {alias.upper()} "
    mapping, missing = match_headers(source, [*others, header], {})
    assert missing == []
    assert mapping[header] == column


def test_headers_match_ignoring_case_spaces_and_bom(tmp_path):
    path = tmp_path / "o.csv"
    header = "\ufeff ORDER_ID ,Customer_Id,  Order_Time,AMOUNT  ,Status\n"
    path.write_bytes((header + "A1,C1,2024-02-01,5,PAID\n").encode())
    source = load_source("orders", path)
    assert source.columns == ("order_id", "customer_id", "order_time", "amount", "status")
    assert source.valid.collect().row(0) == ("A1", "C1", T(2024, 2, 1), 5.0, "paid")


def test_an_explicit_mapping_beats_the_aliases(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text(
        "订单号,买家账号,客户编号,下单时间,实付金额,订单金额\nA1,B1,X1,2024-02-01,90,100\n",
        encoding="utf-8",
    )
    plain = checked(path)
    assert plain.select("customer_id", "amount").row(0) == ("X1", 90.0)
    mapped = checked(path, columns={"orders": {"amount": "订单金额", "customer_id": "买家账号"}})
    assert mapped.select("customer_id", "amount").row(0) == ("B1", 100.0)


def test_a_map_for_every_source_applies_only_where_the_column_exists(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("订单号,客户编号,下单时间,付款金额\nA1,C1,2024-02-01,7\n", encoding="utf-8")
    options = LoadOptions(columns={"*": {"amount": "付款金额", "user_id": "访客"}})
    assert options.explicit_map("orders") == {"amount": "付款金额"}
    assert options.explicit_map("events") == {"user_id": "访客"}
    assert load_source("orders", path, options).valid.collect()["amount"].to_list() == [7.0]


def test_a_command_line_map_wins_over_the_config_file():
    options = LoadOptions(columns={"orders": {"amount": "实付金额"}, "*": {"amount": "金额"}})
    assert options.explicit_map("orders") == {"amount": "金额"}


def test_a_missing_required_column_names_file_column_headers_and_hint(tmp_path):
    path = tmp_path / "订单.csv"
    path.write_text("订单号,客户编号,下单时间,成本\nA1,C1,2024-02-01,5\n", encoding="utf-8")
    with pytest.raises(
        MissingColumnError, match=r"required orders column amount not found"
    ) as info:
        load_source("orders", path)
    text = str(info.value)
    assert str(path) in text
    assert "headers found: '订单号', '客户编号', '下单时间', '成本'" in text
    assert "\nHint: " in text
    assert "--map amount=<header>" in text
    assert "实付金额" in text  # the recognised names are listed


def test_a_mapped_header_that_is_absent_is_named(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("order_id,customer_id,order_time,paid\nA1,C1,2024-02-01,5\n")
    with pytest.raises(MissingColumnError, match=r"amount \(mapped to 'Paid Amount'\)"):
        load_source("orders", path, LoadOptions(columns={"orders": {"amount": "Paid Amount"}}))


def test_a_one_column_file_hints_at_the_delimiter(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("order_id customer_id order_time amount\nA1 C1 2024-02-01 5\n")
    with pytest.raises(MissingColumnError, match=r"only one column was found"):
        load_source("orders", path)


def test_every_file_of_a_directory_needs_the_required_columns(tmp_path):
    (tmp_path / "a.csv").write_text("order_id,customer_id,order_time,amount\nA1,C1,2024-02-01,1\n")
    (tmp_path / "b.csv").write_text("order_id,customer_id,order_time\nA2,C2,2024-02-01\n")
    with pytest.raises(MissingColumnError, match=r"b\.csv: required orders column amount"):
        load_source("orders", tmp_path)


def test_extra_columns_are_kept_for_events_and_customers_only(tmp_path):
    events = tmp_path / "events.csv"
    events.write_text(
        "用户ID,事件,时间,Platform,banner_id\nU1,view,2024-02-01 10:00:00,app,B7\n",
        encoding="utf-8",
    )
    loaded = load_source("events", events)
    assert loaded.columns == ("user_id", "event", "event_time", "banner_id", "platform")
    assert loaded.valid.collect().select("platform", "banner_id").row(0) == ("app", "B7")
    orders = tmp_path / "orders.csv"
    orders.write_text("order_id,customer_id,order_time,amount,备注\nA1,C1,2024-02-01,1,x\n")
    assert load_source("orders", orders).columns == (
        "order_id",
        "customer_id",
        "order_time",
        "amount",
    )


# -- times ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "timezone", "expected"),
    [
        ("2024-02-01T10:00:00+08:00", None, T(2024, 2, 1, 10)),
        ("2024-02-01T10:00:00Z", None, T(2024, 2, 1, 10)),  # no zone configured: as written
        ("2024/02/01", None, T(2024, 2, 1)),
        ("2024/2/1 9:05", None, T(2024, 2, 1, 9, 5)),
        ("2024-02-01 10:00:00", None, T(2024, 2, 1, 10)),
        ("2024-02-01 10:00", None, T(2024, 2, 1, 10)),
        ("2024-02-01 10:00:00.250", None, T(2024, 2, 1, 10, 0, 0, 250000)),
        ("20240201", None, T(2024, 2, 1)),
        ("2024-02-01", None, T(2024, 2, 1)),
        ("  2024-02-01  ", None, T(2024, 2, 1)),
        ("2024-02-01T10:00:00+08:00", "Asia/Shanghai", T(2024, 2, 1, 10)),
        ("2024-02-01T10:00:00Z", "Asia/Shanghai", T(2024, 2, 1, 18)),
        ("2024-02-01T20:00:00Z", "Asia/Shanghai", T(2024, 2, 2, 4)),  # crosses midnight
        ("2024-02-01T23:30:00-05:00", "Asia/Shanghai", T(2024, 2, 2, 12, 30)),
        ("2024-02-01T10:00:00+0900", "Asia/Shanghai", T(2024, 2, 1, 9)),
        ("2024-02-01 10:00:00", "Asia/Shanghai", T(2024, 2, 1, 10)),  # no zone: shop time
        ("2024-02-01", "Asia/Shanghai", T(2024, 2, 1)),
        ("20240201", "Asia/Shanghai", T(2024, 2, 1)),
        ("2024-07-01T12:00:00Z", "Europe/Berlin", T(2024, 7, 1, 14)),  # summer time
    ],
)
def test_time_forms(tmp_path, cell, timezone, expected):
    loaded = one_column(tmp_path, "orders", "order_time", [cell], timezone=timezone)
    out = loaded.checked.collect()
    assert out[REASON].to_list() == [None]
    assert out["order_time"].to_list() == [expected]


@pytest.mark.parametrize("cell", ["2024-13-01", "2024/02/30", "yesterday", "10:00", "2024"])
def test_unparseable_times_are_bad_rows(tmp_path, cell):
    out = one_column(tmp_path, "orders", "order_time", [cell]).checked.collect()
    assert out[REASON].to_list() == ["bad_order_time"]


# -- numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("¥1,234.50", 1234.5),
        ("￥1,234.50", 1234.5),
        (" 12.5 ", 12.5),
        ("1,000", 1000.0),
        ("1,234,567.89", 1234567.89),
        ("99元", 99.0),
        ("RMB 99", 99.0),
        ("0", 0.0),
        ("-5", -5.0),  # a negative amount (a correction) is a number, not a bad row
        ("999999999999.99", 999999999999.99),
    ],
)
def test_money_forms(tmp_path, cell, expected):
    out = one_column(tmp_path, "orders", "amount", [cell]).checked.collect()
    assert out[REASON].to_list() == [None]
    assert out["amount"].to_list() == [pytest.approx(expected)]


@pytest.mark.parametrize(
    "cell",
    [
        "abc",
        "NaN",
        "nan",
        "inf",
        "-inf",
        "Infinity",
        "1e12",
        "2e15",
        "1000000000000",
        "",
        # A decimal comma is not a thousands separator: 1,5 must not become 15.
        "1,5",
        "12,34",
        "1,000,00",
    ],
)
def test_bad_or_missing_amounts_are_bad_rows(tmp_path, cell):
    out = one_column(tmp_path, "orders", "amount", [cell]).checked.collect()
    assert out[REASON].to_list() == ["bad_amount"]
    assert out["amount"].to_list() == [None]


@pytest.mark.parametrize(
    ("cell", "value", "reason"),
    [
        ("3", 3, None),
        (" 2 ", 2, None),
        ("2.0", 2, None),
        ("1,000", 1000, None),
        ("0", 0, None),
        ("", None, None),  # quantity is optional
        ("1.5", None, "bad_quantity"),
        ("x", None, "bad_quantity"),
        ("-1.5", None, "bad_quantity"),
        ("inf", None, "bad_quantity"),
        ("-1", -1, "negative_quantity"),
    ],
)
def test_quantities(tmp_path, cell, value, reason):
    out = one_column(tmp_path, "orders", "quantity", [cell]).checked.collect()
    assert out["quantity"].dtype == pl.Int64
    assert out["quantity"].to_list() == [value]
    assert out[REASON].to_list() == [reason]


@pytest.mark.parametrize(
    ("cell", "status"),
    [
        ("paid", "paid"),
        ("PAID", "paid"),
        (" Refunded ", "refunded"),
        ("canceled", "cancelled"),
        ("已支付", "paid"),
        ("已付款", "paid"),
        ("交易成功", "paid"),
        ("已退款", "refunded"),
        ("退款", "refunded"),
        ("已取消", "cancelled"),
        ("已关闭", "cancelled"),
        ("", "paid"),  # blank means paid
    ],
)
def test_status_aliases(tmp_path, cell, status):
    out = one_column(tmp_path, "orders", "status", [cell]).checked.collect()
    assert out.select("status", REASON).row(0) == (status, None)


@pytest.mark.parametrize(
    ("column", "cell", "value"),
    [
        ("customer_type", "企业", "enterprise"),
        ("customer_type", "个人", "individual"),
        ("customer_type", "学生", "student"),
        ("customer_type", "Enterprise", "enterprise"),
        ("customer_type", "外贸公司", "外贸公司"),  # unknown types are kept, not rejected
        ("role", "采购", "purchaser"),
        ("role", "工程师", "engineer"),
        ("role", "其他", "other"),
    ],
)
def test_customer_value_aliases(tmp_path, column, cell, value):
    out = one_column(tmp_path, "customers", column, [cell]).checked.collect()
    assert out.select(column, REASON).row(0) == (value, None)


# -- bad rows -------------------------------------------------------------------------------

# One file per source, one bad row per reason; the first row of each file is good.
BAD_ROWS = {
    "orders": (
        "order_id,customer_id,order_time,amount,cost,discount,quantity,status\n"
        "G1,C1,2024-02-01,10,5,0,1,paid\n"
        ",C1,2024-02-01,10,5,0,1,paid\n"
        "B2,  ,2024-02-01,10,5,0,1,paid\n"
        "B3,C1,2024-02-31,10,5,0,1,paid\n"
        "B4,C1,2024-02-01,ten,5,0,1,paid\n"
        "B5,C1,2024-02-01,10,NaN,0,1,paid\n"
        "B6,C1,2024-02-01,10,5,5%,1,paid\n"
        "B7,C1,2024-02-01,10,5,0,0.5,paid\n"
        "B8,C1,2024-02-01,10,5,0,-2,paid\n"
        "B9,C1,2024-02-01,10,5,0,1,shipped\n"
        "M1,C1,2024-02-01,10,5,0,1,paid\n"
        "M1,C2,2024-02-01,10,5,0,1,refunded\n",
        [
            None,
            "missing_order_id",
            "missing_customer_id",
            "bad_order_time",
            "bad_amount",
            "bad_cost",
            "bad_discount",
            "bad_quantity",
            "negative_quantity",
            "bad_status",
            "mixed_customers",
            "mixed_customers",
        ],
    ),
    "customers": (
        "customer_id,registered_at,points,service_cost\n"
        "C1,2023-01-01,10,1\n"
        ",2023-01-01,10,1\n"
        "C2,someday,10,1\n"
        "C3,2023-01-01,lots,1\n"
        "C4,2023-01-01,10,inf\n"
        "C1,2023-02-01,20,2\n",
        [
            None,
            "missing_customer_id",
            "bad_registered_at",
            "bad_points",
            "bad_service_cost",
            "duplicate_customer",
        ],
    ),
    "events": (
        "user_id,event,event_time\n"
        "U1,view,2024-02-01 10:00:00\n"
        ",view,2024-02-01 10:00:00\n"
        "U2,,2024-02-01 10:00:00\n"
        "U3,cart,\n",
        [None, "missing_user_id", "missing_event", "bad_event_time"],
    ),
    "prices": (
        "sku,changed_at,old_price,new_price\n"
        "R1,2024-02-01,2,1\n"
        ",2024-02-01,2,1\n"
        "R2,2024/02/01 25:00,2,1\n"
        "R3,2024-02-01,,1\n"
        "R4,2024-02-01,2,1e15\n",
        [None, "missing_sku", "bad_changed_at", "bad_old_price", "bad_new_price"],
    ),
}


@pytest.mark.parametrize("source", list(BAD_ROWS))
def test_bad_rows_are_counted_located_and_kept_raw(tmp_path, source):
    text, reasons = BAD_ROWS[source]
    path = tmp_path / f"{source}.csv"
    path.write_text(text, encoding="utf-8")
    loaded = load_source(source, path)
    out = loaded.checked.collect()
    assert out[REASON].to_list() == reasons
    assert loaded.valid.collect().height == 1
    rep = report(loaded)
    bad = [r for r in reasons if r]
    assert rep.rows_read == len(reasons)
    assert rep.rows_rejected == len(bad)
    assert rep.reasons == {r: bad.count(r) for r in bad}
    rejected = loaded.rejected().collect()
    assert rejected.columns[:2] == ["source_file", "source_row"]
    assert rejected.columns[-1] == REASON
    assert rejected["source_file"].unique().to_list() == [str(path)]
    assert rejected["source_row"].to_list() == [i + 1 for i, r in enumerate(reasons) if r]
    assert rejected[REASON].to_list() == bad
    # The raw cell text is kept, exactly as in the file.
    raw_lines = text.splitlines()[1:]
    header = text.splitlines()[0].split(",")
    for row in rejected.iter_rows(named=True):
        cells = raw_lines[row["source_row"] - 1].split(",")
        for name, cell in zip(header, cells, strict=True):
            assert row[name] == (cell or None), (name, row)


def test_every_reason_has_a_bad_row_case():
    covered = {r for _, reasons in BAD_ROWS.values() for r in reasons if r}
    covered.add("invalid_encoding")  # test_invalid_utf8_bytes_reject_only_their_rows
    covered.add("order_in_later_file")  # test_overlap.py (orders of several files, --dedupe)
    assert covered == set(REASONS)


def test_a_row_reports_its_first_reason(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text(
        "order_id,customer_id,order_time,amount,quantity\n"
        ",,never,ten,-1\n"
        "A1,,never,ten,-1\n"
        "A2,C1,never,ten,-1\n"
        "A3,C1,2024-02-01,ten,-1\n"
        "A4,C1,2024-02-01,10,-1\n"
    )
    assert checked(path)[REASON].to_list() == [
        "missing_order_id",
        "missing_customer_id",
        "bad_order_time",
        "bad_amount",
        "negative_quantity",
    ]


def test_a_rejected_line_does_not_make_its_order_mixed(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text(
        "order_id,customer_id,order_time,amount\n"
        "A1,C1,2024-02-01,10\n"
        "A1,C2,2024-02-01,oops\n"
        "A1,C1,2024-02-01,5\n"
    )
    assert checked(path)[REASON].to_list() == [None, "bad_amount", None]


def test_reason_counts_are_sorted_by_count(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text(
        "order_id,customer_id,order_time,amount\n"
        "A1,C1,bad,1\nA2,C1,2024-02-01,x\nA3,C1,2024-02-01,y\nA4,,2024-02-01,1\n"
    )
    counts = by_reason(load_source("orders", path).tally()).select("reason", "rows").collect()
    assert counts.rows() == [("bad_amount", 2), ("bad_order_time", 1), ("missing_customer_id", 1)]


def test_a_header_only_file_loads_with_zero_rows(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("订单号,客户编号,下单时间,实付金额\n", encoding="utf-8")
    loaded = load_source("orders", path)
    rep = report(loaded)
    assert (rep.rows_read, rep.rows_rejected, rep.reasons) == (0, 0, {})
    assert loaded.checked.collect().height == 0


def test_a_row_with_more_fields_than_headers_is_a_clear_error(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text(
        "order_id,customer_id,order_time,amount\nA1,C1,2024-02-01,1\nA2,C2,2024-02-02,2,9\n"
    )
    loaded = load_source("orders", path)
    with pytest.raises(InputFileError, match=r"could not read .*o\.csv") as info:
        collect([], [loaded])
    assert "more fields than headers" in info.value.hint


def test_a_row_with_fewer_fields_is_a_bad_row(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("order_id,customer_id,order_time,amount\nA1,C1,2024-02-01,1\nA2,C2\n")
    assert checked(path)[REASON].to_list() == [None, "bad_order_time"]


def test_gzip_with_gbk_bad_rows_are_located(tmp_path):
    path = tmp_path / "订单.csv.gz"
    path.write_bytes(
        gzip.compress(
            "订单号,客户编号,下单时间,实付金额\n单1,客户甲,2024/02/01,￥10\n单2,客户乙,昨天,￥20\n".encode(
                "gbk"
            )
        )
    )
    rejected = load_source("orders", path).rejected().collect()
    assert rejected.select(
        "source_file", "source_row", "customer_id", "order_time", REASON
    ).rows() == [(str(path), 2, "客户乙", "昨天", "bad_order_time")]


def test_where_keeps_the_named_events_parsed_as_the_whole_source_would(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(
        "user_id,event,event_time,page\n"
        "u1, product_view ,2024-03-01 10:00:00,p\n"  # padded: the same event once stripped
        "u1,home,2024-03-01 10:01:00,h\n"
        "u2,product_view,not a time,p\n"  # rejected, and kept with its reason
        ",purchase,2024-03-01 10:03:00,c\n"  # no user: rejected
        "u3,Purchase,2024-03-01 10:04:00,c\n",  # names are exact: not a purchase
        encoding="utf-8",
    )
    source = load_source("events", path)
    picked = source.where("event", ["product_view", "purchase"])
    expected = source.checked.filter(pl.col("event").is_in(["product_view", "purchase"]))
    assert_frame_equal(picked.checked.collect(), expected.collect())
    assert picked.checked.collect()[REASON].to_list() == [None, "bad_event_time",
                                                          "missing_user_id"]
    assert picked.valid.collect()["user_id"].to_list() == ["u1"]


def test_where_refuses_sources_checked_across_rows(orders_csv):
    with pytest.raises(ValueError, match="cannot select orders rows"):
        load_source("orders", orders_csv).where("order_id", ["O1"])


def test_where_keeps_the_rejects_frame_to_the_same_rows(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("user_id,event,event_time\nu1,home,2024-03-01 10:00:00\n"
                    "u2, purchase ,not a time\nu3,home,bad\n", encoding="utf-8")
    picked = load_source("events", path).where("event", ["purchase"])
    rejected = picked.rejected().collect()
    assert rejected.select("source_row", REASON).rows() == [(2, "bad_event_time")]


@pytest.mark.parametrize("second", ["amount", " Amount "])
def test_a_used_header_given_twice_is_refused(tmp_path, second):
    path = tmp_path / "o.csv"
    path.write_text(f"order_id,customer_id,order_time,amount,{second}\nO1,C1,2024-01-01,10,20\n",
                    encoding="utf-8")
    with pytest.raises(InputFileError, match="'amount' \\(amount\\) appears 2 times"):
        load_source("orders", path)


def test_an_unused_header_given_twice_is_kept_out(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("order_id,customer_id,order_time,amount,note,note\nO1,C1,2024-01-01,10,a,b\n",
                    encoding="utf-8")
    source = load_source("orders", path)
    assert source.columns == ("order_id", "customer_id", "order_time", "amount")


def test_a_negative_price_or_a_rise_from_zero_is_rejected(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("sku,changed_at,old_price,new_price\nS1,2024-01-01,-1,2\nS2,2024-01-01,0,2\n"
                    "S3,2024-01-01,1,0\nS4,2024-01-01,1,-2\nS5,2024-01-01,1,2\n", encoding="utf-8")
    source = load_source("prices", path)
    (reasons,) = collect([source.checked.select("sku", REASON).sort("sku")], [])[0]
    assert reasons[REASON].to_list() == ["bad_old_price", "bad_old_price", None, "bad_new_price",
                                         None]  # a new price of 0 (made free) is a price


# -- Parquet columns of types no parser reads (issue 20, item 12) ---------------------------

_GOOD_COLUMNS = {
    "orders": {"order_id": ["o1"], "customer_id": ["C1"], "order_time": ["2024-03-01"],
               "amount": [10.0]},
    "customers": {"customer_id": ["C1"], "registered_at": ["2024-03-01"]},
    "events": {"user_id": ["u1"], "event": ["home"], "event_time": ["2024-03-01"]},
    "prices": {"sku": ["S1"], "changed_at": ["2024-03-01"], "old_price": [1.0],
               "new_price": [2.0]},
}
_BAD_VALUES = {
    "list": pl.Series([[1.0]]),
    "struct": pl.Series([{"a": 1}]),
    "duration": pl.Series([timedelta(days=1)]),
    "map": pl.Series([[{"key": "a", "value": 1}]]).cast(pl.Map(pl.String, pl.Int64)),
}


@pytest.mark.parametrize("kind", list(_BAD_VALUES))
@pytest.mark.parametrize(
    ("source", "column"),
    [(s, c.name) for s, cols in SCHEMAS.items() for c in cols],
)
def test_a_used_parquet_column_of_a_nested_or_duration_type_is_refused(
    tmp_path, source, column, kind
):
    """Every canonical column of every source: a list, struct, map or duration in it was a
    Polars traceback (a strict cast to text); it is an input error naming the column."""
    frame = pl.DataFrame(_GOOD_COLUMNS[source]).with_columns(_BAD_VALUES[kind].alias(column))
    path = tmp_path / "x.parquet"
    frame.write_parquet(path)
    with pytest.raises(InputFileError, match=rf"the {source} column {column} .* Parquet type"):
        load_source(source, path)


@pytest.mark.parametrize("source", ["events", "customers"])
def test_a_kept_extra_parquet_column_of_a_nested_type_is_left_out(tmp_path, source):
    frame = pl.DataFrame(_GOOD_COLUMNS[source]).with_columns(
        _BAD_VALUES["list"].alias("tags"), pl.lit("web").alias("platform"))
    path = tmp_path / "x.parquet"
    frame.write_parquet(path)
    loaded = load_source(source, path)
    assert "tags" not in loaded.columns
    assert loaded.valid.collect()["platform"].to_list() == ["web"]
