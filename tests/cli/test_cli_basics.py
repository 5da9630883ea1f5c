"""CLI plumbing through ``cust check``: exit codes, global options, output formats, files,
rejected rows, and the same answer from every shape of the same export."""

import gzip
import json
import subprocess
import sys

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.main import get_command

from cust.cli.main import app
from cust.cli.output import write_atomic
from cust.reports.export import neutralise

WARNING = (
    "warning: 2 of 7 orders rows rejected (bad_amount 1, missing_customer_id 1); "
    "see them with --rejects PATH"
)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    # No ./cust.toml from the developer's directory, and relative paths land in tmp_path.
    monkeypatch.chdir(tmp_path)


def cust(*args, cwd=None):
    """Run the real program in a subprocess (the venv's python, as CI has it)."""
    return subprocess.run(
        [sys.executable, "-m", "cust", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        timeout=60,
        check=False,
    )


def invoke(runner, *args):
    return runner.invoke(app, [str(a) for a in args])


# -- cust check -----------------------------------------------------------------------------


def test_check_reports_rows_read_and_rejected(runner, orders_csv, orders_table):
    result = invoke(runner, "check", "--orders", orders_csv, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["command"] == "check"
    assert doc["input"] == {
        "orders": {
            "rows_read": 7,
            "rows_rejected": 2,
            "files": [str(orders_csv)],
            "rejected_by_reason": {"bad_amount": 1, "missing_customer_id": 1},
            "suspicious_times": {"rows": 0, "first": None, "last": None},
            "lines_in_later_file": 0,
            "date_format": {"order": "ymd", "how": "default", "evidence": None,
                            "ambiguous": []},  # issue 26: how the dates were read
        }
    }
    assert doc["sources"] == [
        {
            "source": "orders",
            "files": 1,
            "rows_read": 7,
            "rows_rejected": 2,
            "rejected_share": pytest.approx(2 / 7),
            "suspicious_times": 0,
            "dates": "ymd (default)",  # issue 26
            "first": "2024-02-01T09:00:00",
            "last": "2024-02-10T18:45:00",
            "columns": "order_id, customer_id, order_time, amount, cost, quantity, status",
        }
    ]
    assert doc["files"] == [
        {
            "source": "orders",
            "path": str(orders_csv),
            "format": "csv",
            "encoding": "utf-8",
            "delimiter": ",",
            "headers": 7,
        }
    ]
    assert doc["columns"] == {"orders": {c: c for c in orders_table.columns}}
    # Where the rejected rows are is said once, on stderr (see WARNING): no note repeats it.
    assert "notes" not in doc


def test_check_table_shows_every_reason_and_the_warning_names_the_rest(runner, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "order_id,customer_id,order_time,amount,quantity,status\n"
        "O1,C1,2024-01-01,10,1,paid\nO2,,2024-01-01,10,1,paid\nO3,C1,bad,10,1,paid\n"
        "O4,C1,2024-01-01,x,1,paid\nO5,C1,2024-01-01,1,-1,paid\nO6,C1,2024-01-01,1,1,weird\n"
        "O7,C1,2024-01-01,1,1.5,paid\n,C1,2024-01-01,1,1,paid\n",
        encoding="utf-8",
    )
    result = invoke(runner, "check", "--orders", path, "--rejects", tmp_path / "r.csv")
    assert result.exit_code == 0, result.output
    reasons = ["bad_amount", "bad_order_time", "bad_quantity", "bad_status",
               "missing_customer_id", "missing_order_id", "negative_quantity"]
    lines = result.stdout.splitlines()
    start = lines.index(next(x for x in lines if "Rows rejected, by reason" in x))
    table = [x.split() for x in lines[start:start + 12] if x.strip().startswith("orders")]
    assert table == [["orders", r, "1"] for r in reasons]
    assert result.stderr == (
        "warning: 7 of 8 orders rows rejected (bad_amount 1, bad_order_time 1, bad_quantity 1, "
        f"bad_status 1 and 3 more reasons); written to {tmp_path / 'r.csv'}\n"
    )


def test_json_goes_to_stdout_and_the_warning_to_stderr(runner, orders_csv):
    result = invoke(runner, "check", "--orders", orders_csv, "--format", "json")
    assert result.exit_code == 0
    assert result.stdout.startswith("{")
    assert result.stdout.endswith("}\n")
    json.loads(result.stdout)  # exactly one document, nothing else
    assert "warning" not in result.stdout
    assert result.stderr == WARNING + "\n"  # one line


def test_quiet_drops_the_warning_but_not_the_counts(runner, orders_csv):
    result = invoke(runner, "check", "--orders", orders_csv, "-f", "json", "-q")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert json.loads(result.stdout)["input"]["orders"]["rows_rejected"] == 2


def test_a_clean_export_gives_no_warning(runner, write_orders, orders_table):
    path = write_orders(orders_table.rows[:5])
    result = invoke(runner, "check", "--orders", path, "-f", "json", "--strict")
    assert result.exit_code == 0
    assert result.stderr == ""
    doc = json.loads(result.stdout)
    assert doc["input"]["orders"]["rejected_by_reason"] == {}
    assert "notes" not in doc


def test_the_table_format_is_the_default(runner, orders_csv):
    result = invoke(runner, "check", "--orders", orders_csv)
    assert result.exit_code == 0
    assert "Exports checked" in result.stdout
    assert "Input — orders: 7 rows read, 2 rejected" in result.stdout
    assert result.stderr == WARNING + "\n"


def test_check_with_every_source(runner, tmp_path):
    (tmp_path / "o.csv").write_text("order_id,customer_id,order_time,amount\nA1,C1,2024-02-01,5\n")
    (tmp_path / "c.csv").write_text(
        "客户编号,注册时间,客户类型\nC1,2023-05-01,企业\nC1,2023-06-01,个人\n"
    )
    (tmp_path / "e.csv").write_text("user_id,event,event_time\nU1,view,2024-02-01 10:00:00\n")
    (tmp_path / "p.csv").write_text("sku,changed_at,old_price,new_price\nR1,2024-01-15,2,1.5\n")
    result = invoke(
        runner,
        "check",
        "--orders", "o.csv",
        "--customers", "c.csv",
        "--events", "e.csv",
        "--prices", "p.csv",
        "-f", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert {k: (v["rows_read"], v["rows_rejected"]) for k, v in doc["input"].items()} == {
        "orders": (1, 0),
        "customers": (2, 1),
        "events": (1, 0),
        "prices": (1, 0),
    }
    spans = {s["source"]: (s["first"], s["last"]) for s in doc["sources"]}
    assert spans == {
        "orders": ("2024-02-01T00:00:00", "2024-02-01T00:00:00"),
        "customers": ("2023-05-01T00:00:00", "2023-05-01T00:00:00"),
        "events": ("2024-02-01T10:00:00", "2024-02-01T10:00:00"),
        "prices": ("2024-01-15T00:00:00", "2024-01-15T00:00:00"),
    }
    assert "1 of 2 customers rows rejected (duplicate_customer 1)" in result.stderr


def test_the_same_file_as_two_sources_is_refused(runner, orders_csv):
    result = invoke(runner, "check", "--orders", orders_csv, "--customers", orders_csv)
    assert result.exit_code == 2
    assert "is given both as orders and as customers" in result.stderr


# -- global options -------------------------------------------------------------------------


def test_global_options_before_and_after_the_command_agree(runner, orders_csv):
    docs = []
    for args in (
        ["--format", "json", "check", "--orders", orders_csv],
        ["check", "--format", "json", "--orders", orders_csv],
        ["--orders", orders_csv, "check", "-f", "json"],
        ["--orders", orders_csv, "-f", "csv", "check", "--format", "json"],  # after wins
    ):
        result = invoke(runner, *args)
        assert result.exit_code == 0, (args, result.output)
        docs.append(json.loads(result.stdout))
    assert all(doc == docs[0] for doc in docs)


def test_maps_given_before_and_after_the_command_add_up(runner, tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("单号,买家,时间,付款\nA1,C1,2024-02-01,5\n", encoding="utf-8")
    result = invoke(
        runner,
        "--map", "order_id=单号", "--map", "orders.customer_id=买家",
        "check", "--orders", path, "-f", "json",
        "--map", "order_time=时间", "--map", "amount=付款",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["columns"]["orders"] == {
        "order_id": "单号",
        "customer_id": "买家",
        "order_time": "时间",
        "amount": "付款",
    }
    assert doc["input"]["orders"]["rows_read"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "--format", "xml"], "'xml' is not one of"),
        (["check", "--since", "yesterday"], "'yesterday' is not a date"),
        (["check", "--no-such-option"], "No such option"),
        (["no-such-command"], "No such command"),
    ],
)
def test_bad_invocations_exit_2(runner, orders_csv, args, message):
    result = invoke(runner, *args, "--orders", orders_csv)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_help(runner):
    for args in (["-h"], ["--help"], ["check", "-h"]):
        result = invoke(runner, *args)
        assert result.exit_code == 0
        assert "Usage: cust" in result.stdout
    assert "--orders" in invoke(runner, "check", "-h").stdout


def _leaf_commands(group, prefix=()):
    for name, command in sorted(group.commands.items()):
        if hasattr(command, "commands"):
            yield from _leaf_commands(command, (*prefix, name))
        else:
            yield (*prefix, name)


def test_every_command_help_has_an_example(runner):
    commands = list(_leaf_commands(get_command(app)))
    assert ("check",) in commands
    for path in commands:
        result = invoke(runner, *path, "-h")
        assert result.exit_code == 0, path
        examples = [line for line in result.stdout.splitlines() if "Example: cust " in line]
        assert examples, f"`cust {' '.join(path)} -h` shows no Example: line"
        assert " ".join(path) in examples[0]


# -- rejected rows --------------------------------------------------------------------------


def test_rejects_are_written_with_reason_file_and_row(runner, orders_csv):
    result = invoke(runner, "check", "--orders", orders_csv, "--rejects", "bad.csv", "-f", "json")
    assert result.exit_code == 0
    assert "written to bad.csv" in result.stderr
    rejects = pl.read_csv("bad.csv", infer_schema=False)
    expected = pl.DataFrame(
        {
            "source": ["orders", "orders"],
            "source_file": [str(orders_csv)] * 2,
            "source_row": ["6", "7"],
            "order_id": ["A5", "A6"],
            "customer_id": [None, "C4"],
            "order_time": ["2024-02-11 08:00:00", "2024-02-12 08:00:00"],
            "amount": ["10", "n/a"],
            "cost": ["5", "5"],
            "quantity": ["1", "1"],
            "status": ["paid", "paid"],
            "reason": ["missing_customer_id", "bad_amount"],
        }
    )
    assert_frame_equal(rejects, expected)


def test_rejects_can_be_parquet(runner, orders_parquet):
    result = invoke(runner, "check", "--orders", orders_parquet, "--rejects", "bad.parquet", "-q")
    assert result.exit_code == 0
    rejects = pl.read_parquet("bad.parquet")
    assert rejects.select("source_row", "order_id", "reason").rows() == [
        ("6", "A5", "missing_customer_id"),
        ("7", "A6", "bad_amount"),
    ]


def test_rejects_neutralise_formula_cells(runner, tmp_path):
    path = tmp_path / "o.csv"
    path.write_text(
        "order_id,customer_id,order_time,amount,quantity\n"
        '"=HYPERLINK(""http://evil"")",+1,never,5,1\n'
        "@x,C1,2024-02-01,-2,-3\n"
    )
    result = invoke(runner, "check", "--orders", path, "--rejects", "bad.csv", "-q")
    # Issue 26: every row rejected is exit 2 (it was 0); the rejects are written first.
    assert result.exit_code == 2
    assert "all 2 orders rows were rejected" in result.output
    rejects = pl.read_csv("bad.csv", infer_schema=False)
    assert rejects.select("order_id", "customer_id", "amount", "quantity", "reason").rows() == [
        ('\'=HYPERLINK("http://evil")', "'+1", "5", "1", "bad_order_time"),
        ("'@x", "C1", "-2", "-3", "negative_quantity"),
    ]


def test_strict_fails_with_exit_2_after_writing_rejects(runner, orders_csv):
    result = invoke(
        runner, "check", "--orders", orders_csv, "--strict", "--rejects", "bad.csv", "-f", "json"
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(
        "error: --strict: 2 of 7 orders rows rejected (bad_amount 1, missing_customer_id 1)"
    )
    assert "Hint: fix the rows" in result.stderr
    assert pl.read_csv("bad.csv").height == 2


# -- output ---------------------------------------------------------------------------------


def test_neutralise_prefixes_formula_cells_only():
    frame = pl.DataFrame(
        {
            "text": [
                '=HYPERLINK("http://x")',
                "+1",
                "@x",
                "-2",
                "-1,234.50",
                "1,000",
                "-",
                "=1+2",
                "-1+2",
                "\tx",
                "plain",
                None,
            ],
            "n": list(range(-6, 6)),
        }
    )
    expected = frame.with_columns(
        pl.Series(
            "text",
            [
                '\'=HYPERLINK("http://x")',
                "'+1",
                "'@x",
                "-2",
                "-1,234.50",
                "1,000",
                "'-",
                "'=1+2",
                "'-1+2",
                "'\tx",
                "plain",
                None,
            ],
        )
    )
    assert_frame_equal(neutralise(frame), expected)


def test_neutralise_leaves_frames_without_text_alone():
    frame = pl.DataFrame({"n": [-1, 2], "x": [-1.5, 2.0]})
    assert_frame_equal(neutralise(frame), frame)


def test_csv_format_writes_the_main_table(runner, orders_csv):
    result = invoke(runner, "check", "--orders", orders_csv, "--format", "csv", "-q")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "source,files,rows_read,rows_rejected,rejected_share,suspicious_times,dates,first,last")
    assert lines[1].startswith("orders,1,7,2,0.2857")
    assert len(lines) == 2


def test_out_json_is_written_atomically(runner, orders_csv, tmp_path):
    folder = tmp_path / "reports"
    result = invoke(runner, "check", "--orders", orders_csv, "--out", folder / "check.json")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert [p.name for p in folder.iterdir()] == ["check.json"]  # no temp file left
    doc = json.loads((folder / "check.json").read_text(encoding="utf-8"))
    assert doc["input"]["orders"]["rows_read"] == 7


def test_out_parquet_writes_the_main_table(runner, orders_csv, tmp_path):
    result = invoke(runner, "check", "--orders", orders_csv, "--out", "check.parquet")
    assert result.exit_code == 0
    table = pl.read_parquet(tmp_path / "check.parquet")
    assert table.select("source", "rows_read", "rows_rejected").rows() == [("orders", 7, 2)]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize(
    ("name", "starts"),
    [("check.csv", "source,files,rows_read"), ("check.txt", "Exports checked")],
)
def test_out_suffix_chooses_the_format(runner, orders_csv, tmp_path, name, starts):
    result = invoke(runner, "check", "--orders", orders_csv, "--out", name, "-q")
    assert result.exit_code == 0
    assert (tmp_path / name).read_text(encoding="utf-8").lstrip().startswith(starts)


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old")

    def explode(fh):
        fh.write("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_atomic(target, explode)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


@pytest.mark.parametrize("option", ["--out", "--rejects"])
def test_writing_over_an_input_is_refused(runner, orders_csv, option):
    before = orders_csv.read_bytes()
    result = invoke(runner, "check", "--orders", orders_csv, option, orders_csv)
    assert result.exit_code == 2
    assert f"{option} {orders_csv} would overwrite the orders input" in result.stderr
    assert orders_csv.read_bytes() == before


def test_writing_over_a_file_of_an_input_directory_is_refused(runner, write_orders, tmp_path):
    path = write_orders(name="exports/a.csv")
    result = invoke(runner, "check", "--orders", tmp_path / "exports", "--out", "exports/a.csv")
    assert result.exit_code == 2
    assert "would overwrite the orders input" in result.stderr
    assert path.read_text(encoding="utf-8").startswith("order_id,")


# -- unreadable input -----------------------------------------------------------------------


def _bad_file(tmp_path, kind):
    if kind == "missing":
        return tmp_path / "nope.csv", "orders file not found"
    if kind == "empty":
        (tmp_path / "empty.csv").write_bytes(b"")
        return tmp_path / "empty.csv", "empty.csv is empty"
    if kind == "not gzip":
        (tmp_path / "o.csv.gz").write_text("order_id,customer_id\nA1,C1\n")
        return tmp_path / "o.csv.gz", "o.csv.gz is not a readable gzip file"
    if kind == "corrupt parquet":
        (tmp_path / "o.parquet").write_bytes(bytes(range(256)) * 4)
        return tmp_path / "o.parquet", "o.parquet is not a readable Parquet file"
    if kind == "more fields":
        (tmp_path / "o.csv").write_text(
            "order_id,customer_id,order_time,amount\nA1,C1,2024-02-01,1\nA2,C2,2024-02-02,2,3\n"
        )
        return tmp_path / "o.csv", "could not read"
    if kind == "unbalanced quote":
        (tmp_path / "o.csv").write_text(
            'order_id,customer_id,order_time,amount\nA1,"C1,2024-02-01,1\nA2,C2,2024-02-02,2\n'
        )
        return tmp_path / "o.csv", "could not read"
    if kind == "missing column":
        (tmp_path / "o.csv").write_text("订单号,客户编号,金额\nA1,C1,5\n", encoding="utf-8")
        return tmp_path / "o.csv", "required orders column order_time not found"
    if kind == "empty directory":
        (tmp_path / "exports").mkdir()
        return tmp_path / "exports", "holds no supported files"
    raise AssertionError(kind)


BAD_FILES = [
    "missing",
    "empty",
    "not gzip",
    "corrupt parquet",
    "more fields",
    "unbalanced quote",
    "missing column",
    "empty directory",
]


@pytest.mark.parametrize("kind", BAD_FILES)
def test_unreadable_input_exits_2_with_a_clear_message(runner, tmp_path, kind):
    path, message = _bad_file(tmp_path, kind)
    result = invoke(runner, "check", "--orders", path, "-f", "json")
    assert result.exit_code == 2, (kind, result.exception)
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert "\nHint: " in result.stderr
    assert "Traceback" not in result.output


def test_a_missing_column_message_names_file_column_and_headers(runner, tmp_path):
    path, _ = _bad_file(tmp_path, "missing column")
    result = invoke(runner, "check", "--orders", path)
    assert result.exit_code == 2
    assert str(path) in result.stderr
    assert "order_time" in result.stderr
    assert "headers found: '订单号', '客户编号', '金额'" in result.stderr
    assert "Hint: name the header holding order_time with --map order_time=<header>" in (
        result.stderr
    )


def test_a_header_only_file_is_fine(runner, tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("order_id,customer_id,order_time,amount\n")
    result = invoke(runner, "check", "--orders", path, "-f", "json", "--strict")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["input"]["orders"]["rows_read"] == 0
    assert doc["sources"][0]["first"] is None


def test_unknown_encoding_exits_2(runner, orders_csv):
    result = invoke(runner, "check", "--orders", orders_csv, "--encoding", "klingon")
    assert result.exit_code == 2
    assert "unknown encoding 'klingon'" in result.stderr


def test_encoding_option_reads_latin1(runner, tmp_path):
    path = tmp_path / "o.csv"
    path.write_bytes(
        "order_id,customer_id,order_time,amount\nA1,Müller,2024-02-01,1\nA2,Señor,2024-02-02,2\n".encode(
            "latin-1"
        )
    )
    result = invoke(runner, "check", "--orders", path, "--encoding", "latin-1", "-f", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["files"][0]["encoding"] == "iso8859-1"
    assert doc["input"]["orders"]["rows_rejected"] == 0


# -- a real process -------------------------------------------------------------------------


def test_subprocess_json_and_stderr_are_separate(orders_csv, tmp_path):
    proc = cust("--format", "json", "check", "--orders", orders_csv, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["input"]["orders"]["rows_rejected"] == 2
    assert proc.stderr.strip() == WARNING
    assert "Traceback" not in proc.stderr


def test_subprocess_errors_exit_2_without_a_traceback(tmp_path):
    (tmp_path / "o.parquet").write_bytes(b"garbage, not parquet")
    (tmp_path / "o.csv.gz").write_text("order_id\n")
    for args in (
        ["check", "--orders", "o.parquet"],
        ["check", "--orders", "o.csv.gz"],
        ["check", "--orders", "missing.csv", "-f", "json"],
    ):
        proc = cust(*args, cwd=tmp_path)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stdout == ""
        assert "Traceback" not in proc.stderr
        assert proc.stderr.startswith("error: ")
        assert "Hint:" in proc.stderr


# -- every shape of the same export gives the same answer -----------------------------------


def test_every_export_shape_gives_the_same_check(runner, tmp_path, write_orders, orders_table):
    zh_rows = orders_table.chinese_rows()
    zh = orders_table.zh_headers
    paths = {
        "utf-8": write_orders(name="a/orders.csv"),
        "gbk-chinese": write_orders(zh_rows, name="b/订单.csv", encoding="gbk", headers=zh),
        "gb18030-bom-less": write_orders(zh_rows, name="c/订单.txt", encoding="gb18030",
                                         headers=zh, delimiter=";"),
        "utf-8-bom-tsv": write_orders(name="d/orders.tsv", encoding="utf-8-sig", delimiter="\t"),
        "gzip": write_orders(name="e/orders.csv", gz=True),
        "gzip-gbk": write_orders(zh_rows, name="f/订单.csv", encoding="gbk", headers=zh, gz=True),
    }  # fmt: skip
    parquet = tmp_path / "g" / "orders.parquet"
    parquet.parent.mkdir()
    orders_table.frame().write_parquet(parquet)
    paths["parquet"] = parquet

    def summary(path):
        result = invoke(runner, "--format", "json", "check", "--orders", path)
        assert result.exit_code == 0, (path, result.output)
        doc = json.loads(result.stdout)
        assert doc["input"]["orders"].pop("files") == [str(path)]
        return {"input": doc["input"], "sources": doc["sources"], "notes": doc.get("notes")}

    docs = {kind: summary(path) for kind, path in paths.items()}
    expected = docs["utf-8"]
    assert expected["input"]["orders"] == {
        "rows_read": orders_table.rows_read,
        "rows_rejected": orders_table.rows_rejected,
        "rejected_by_reason": orders_table.rejected_by_reason,
        "suspicious_times": {"rows": 0, "first": None, "last": None},
        "lines_in_later_file": 0,
        "date_format": {"order": "ymd", "how": "default", "evidence": None,
                        "ambiguous": []},  # issue 26
    }
    assert (expected["sources"][0]["first"], expected["sources"][0]["last"]) == (
        orders_table.first,
        orders_table.last,
    )
    for kind, doc in docs.items():
        assert doc == expected, kind


def test_a_directory_mixing_csv_and_parquet_is_checked_as_one(runner, tmp_path, orders_table):
    folder = tmp_path / "exports"
    folder.mkdir()
    rows = orders_table.rows
    (folder / "part1.csv").write_bytes(
        orders_table.text(orders_table.chinese_rows()[:4], orders_table.zh_headers).encode("gbk")
    )
    orders_table.frame()[4:].write_parquet(folder / "part2.parquet")
    with gzip.open(folder / "notes.txt.gz", "wt", encoding="utf-8") as fh:
        fh.write(orders_table.text([], orders_table.columns))  # header only
    result = invoke(runner, "check", "--orders", folder, "-f", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["input"]["orders"]["rows_read"] == len(rows)
    assert doc["input"]["orders"]["rejected_by_reason"] == orders_table.rejected_by_reason
    assert [(f["format"], f["encoding"]) for f in doc["files"]] == [
        ("csv", "utf-8"),
        ("csv", "gb18030"),
        ("parquet", None),
    ]
    assert (doc["sources"][0]["first"], doc["sources"][0]["last"]) == (
        orders_table.first,
        orders_table.last,
    )
