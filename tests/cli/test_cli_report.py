"""``cust report weekly`` on the command line: file naming, --quiet, summary, exit codes."""

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from cust.cli.main import app

runner = CliRunner()

# Orders from Wed 2024-02-28 to Wed 2024-03-13: the last complete ISO week is 2024-W10.
ORDERS = """\
order_id,customer_id,order_time,amount,cost
o1,A,2024-02-28 10:00,80,40
o2,A,2024-03-04 09:00,100,60
o3,B,2024-03-06 12:00,200,150
o4,A,2024-03-10 23:59,50,30
o5,C,2024-03-13 08:00,70,35
"""


@pytest.fixture
def orders(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS, encoding="utf-8")
    return path


def test_out_dir_names_the_file_by_the_last_complete_week(orders, tmp_path):
    result = runner.invoke(app, ["report", "weekly", "--orders", str(orders), "--out-dir",
                                 str(tmp_path / "r"), "-q"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert [p.name for p in (tmp_path / "r").iterdir()] == ["weekly-2024-W10.html"]


def test_as_of_chooses_the_week_that_contains_it(orders, tmp_path):
    result = runner.invoke(app, ["report", "weekly", "--orders", str(orders), "--as-of",
                                 "2024-03-13", "--out-dir", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "weekly-2024-W11.html").exists()


def test_summary_on_the_terminal_and_json(orders, tmp_path):
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["report", "weekly", "--orders", str(orders), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Weekly report 2024-W10" in result.stdout
    assert "Revenue" in result.stdout
    assert "350" in result.stdout
    assert f"report written to {out}" in result.stderr
    doc = json.loads(runner.invoke(app, ["report", "weekly", "--orders", str(orders), "--out",
                                         str(out), "-f", "json", "-q"]).stdout)
    assert doc["command"] == "report weekly"
    assert doc["edition"] == {"kind": "week", "label": "2024-W10", "start": "2024-03-04",
                              "end": "2024-03-10"}
    revenue = next(r for r in doc["headline"] if r["metric"] == "revenue")
    assert revenue["current"] == 350.0
    assert revenue["previous"] == 80.0
    assert doc["input"]["orders"]["rows_read"] == 5
    assert "funnel" not in doc  # no events given: the section is left out
    assert doc["alerts"] == []


def test_overwrites_atomically_and_leaves_no_temporary_file(orders, tmp_path):
    out = tmp_path / "weekly-2024-W10.html"
    out.write_text("old", encoding="utf-8")
    result = runner.invoke(app, ["report", "weekly", "--orders", str(orders), "--out-dir",
                                 str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.csv", out.name]


@pytest.mark.parametrize(("args", "message"), [
    (["--lang", "fr"], "fr"),
    (["--period", "day"], "day"),
    (["--since", "2024-01-01"], "--since/--until do not apply"),
    (["--out", "x.html", "--out-dir", "d"], "not both"),
])
def test_bad_options_exit_2(orders, tmp_path, args, message):
    result = runner.invoke(app, ["report", "weekly", "--orders", str(orders), *args])
    assert result.exit_code == 2
    assert message in result.output.replace("\n", " ") or message in result.stderr
    assert not list(tmp_path.glob("*.html"))


def test_an_export_without_paid_orders_exits_2(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("order_id,customer_id,order_time,amount,status\n"
                    "o1,A,2024-03-04,10,refunded\n", encoding="utf-8")
    result = runner.invoke(app, ["report", "weekly", "--orders", str(path), "--out-dir",
                                 str(tmp_path)])
    assert result.exit_code == 2
    assert "no paid order" in result.stderr
    assert not list(tmp_path.glob("*.html"))


def test_cron_line_in_a_real_process(orders, tmp_path):
    # What cron runs: quiet, nothing on stdout or stderr, exit 0, one file.
    env = {**os.environ, "COLUMNS": "80"}
    proc = subprocess.run(
        [sys.executable, "-m", "cust", "report", "weekly", "--orders", str(orders),
         "--out-dir", str(tmp_path / "reports"), "-q", "--fail-on-alert", "--lang", "zh"],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr == ""
    page = (tmp_path / "reports" / "weekly-2024-W10.html").read_text(encoding="utf-8")
    assert "周报 2024-W10" in page


def test_a_section_without_data_is_left_out_with_its_reason(orders, tmp_path):
    # Events of other names than the funnel's steps: the funnel has nothing to count. The
    # report still goes out, and says why the funnel is missing.
    events = tmp_path / "events.csv"
    events.write_text("user_id,event,event_time\nu1,login,2024-03-04 10:00\n",
                      encoding="utf-8")
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["report", "weekly", "--orders", str(orders), "--events",
                                 str(events), "--out", str(out), "-f", "json", "-q"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert "product_view" in doc["left_out"]["funnel"]
    assert "funnel" not in doc
    assert doc["input"]["events"]["rows_read"] == 1
    html = out.read_text(encoding="utf-8")
    section = html.split('id="funnel"')[1].split("</section>")[0]
    assert "Left out: no unit entered the first step (&#39;product_view&#39;)" in section


def test_unusable_targets_exit_2_before_any_work(orders, tmp_path):
    result = runner.invoke(app, ["report", "weekly", "--orders", str(orders), "--out",
                                 str(tmp_path)])
    assert result.exit_code == 2
    assert "is a directory" in result.stderr
    result = runner.invoke(app, ["report", "weekly", "--orders", str(orders), "--out-dir",
                                 str(orders)])
    assert result.exit_code == 2
    assert "not a directory" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.csv"]


def test_an_edition_before_the_orders_is_refused_and_a_quiet_one_after_them_reported(
    orders, tmp_path
):
    # The orders run from 2024-02-28 (W09) to 2024-03-13 (W11). W08 ends before them: no
    # figure and no history to report. W12 comes after them: a quiet week, 0 orders.
    out = tmp_path / "r.html"
    args = ["report", "weekly", "--orders", str(orders), "--out", str(out), "-f", "json"]
    result = runner.invoke(app, [*args, "--as-of", "2024-02-25"])
    assert result.exit_code == 2, result.output
    assert ("gives the edition 2024-W08, which ends before the export's first paid order "
            "(2024-02-28)") in result.output
    assert not out.exists()
    result = runner.invoke(app, [*args, "--as-of", "2024-03-18"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    orders_row = next(r for r in doc["headline"] if r["metric"] == "orders")
    assert (doc["edition"]["label"], orders_row["current"], orders_row["previous"]) == (
        "2024-W12", 0, 1)  # W11: o5 on 2024-03-13
