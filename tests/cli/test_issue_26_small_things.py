"""Issue 26, "the small things": each with its own test."""

import json
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from cust.cli.main import app
from tests.test_hostile_corpus import _leaf_commands

runner = CliRunner()


@pytest.mark.parametrize("args", [["check"], ["segment", "abc"]])
def test_a_closed_pipe_is_a_quiet_exit_0(args):
    # `cust check | head -1`: the reader is gone before the table is written (the read
    # end is closed at once, while the program is still starting).
    proc = subprocess.Popen([sys.executable, "-m", "cust", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    with proc.stderr:
        stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 0, stderr
    assert "Traceback" not in stderr
    assert "Error" not in stderr


def test_head_1_in_a_shell_exits_0():
    out = subprocess.run(
        ["bash", "-c", f"set -o pipefail; '{sys.executable}' -m cust segment abc | head -1"],
        capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ABC classes by contribution"


@pytest.mark.parametrize("group", ["segment", "promo", "report"])
def test_group_help_shows_an_example(group):
    result = runner.invoke(app, [group, "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0
    assert f"Example: cust {group} " in result.stdout


def test_the_example_of_a_group_is_not_in_the_command_list():
    text = runner.invoke(app, ["--help"], env={"COLUMNS": "100"}).stdout
    assert "Example: cust segment" not in text


def _all_helps():
    yield []
    for command in sorted(_leaf_commands(typer.main.get_command(app))):
        yield command.split()
    yield from (["segment"], ["promo"], ["report"], ["funnel"])


@pytest.mark.parametrize("args", list(_all_helps()), ids=" ".join)
def test_no_bool_placeholder_in_help(args):
    result = runner.invoke(app, [*args, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    assert "<bool>" not in result.stdout
    if args == ["check"]:  # the flags are still listed, with their help
        assert "--strict" in result.stdout
        assert "--wide" in result.stdout


def test_qualifies_is_yes_or_no_and_histogram_bars_are_drawn():
    table = runner.invoke(app, ["promo", "simulate", "--threshold", "500",
                                "--reward-amount", "50"], env={"COLUMNS": "100"})
    assert table.exit_code == 0, table.output
    doc = json.loads(runner.invoke(app, ["promo", "simulate", "--threshold", "500",
                                         "--reward-amount", "50", "-f", "json"]).stdout)
    assert "True" not in table.stdout
    assert "False" not in table.stdout
    lines = table.stdout.splitlines()
    bins = doc["histogram"]
    top = max(b["orders"] for b in bins)
    for b in bins:
        line = next(ln for ln in lines if ln.split()[:2] == [f"{b['lower']:,.2f}",
                                                          f"{b['upper']:,.2f}"])
        assert line.split()[-1] == ("yes" if b["lower"] >= 500 else "no")
        assert line.split()[-1] == ("yes" if b["qualifies"] else "no")
        # Bars are scaled to the largest bin: it is full, and a bin with half of its
        # orders has half a bar (8 cells, rounded).
        bar = next(w for w in line.split() if set(w) <= {"█", "·"})
        assert bar.count("█") == round(8 * b["orders"] / top)
    assert any("████████" in ln for ln in lines)


def test_no_scenario_is_best_at_a_loss_and_roi_is_not_a_figure_without_a_response():
    result = runner.invoke(app, ["promo", "compare"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    doc = json.loads(runner.invoke(app, ["promo", "compare", "-f", "json"]).stdout)
    assert all(s["net_gross_profit_effect"] < 0 for s in doc["scenarios"])  # no response
    rows = [ln for ln in result.stdout.splitlines() if ln.strip()[:1].isdigit()]
    assert rows
    assert not any("best" in ln.split() for ln in rows)
    assert "-1.00" not in result.stdout
    flat = " ".join(result.stdout.split())
    assert "none pays back" in flat
    assert "ROI is not shown" in flat


def test_a_scenario_that_pays_back_is_marked_best(tmp_path):
    # 10 orders at 95 (no cost) and a 满100减1 that all of them reach (uptake 1, reach 10):
    # each tops up 5 and gets 1 off, +4 of gross profit; 满100减90 loses 85 on each.
    rows = ["order_id,customer_id,order_time,amount,cost"]
    rows += [f"O{i},C{i},2026-03-0{1 + i % 9},95,0" for i in range(10)]
    orders = tmp_path / "orders.csv"
    orders.write_text("\n".join(rows) + "\n", encoding="utf-8")
    scenarios = tmp_path / "scenarios.toml"
    scenarios.write_text("[scenarios.small]\nthreshold = 100\nreward_amount = 1\n\n"
                         "[scenarios.big]\nthreshold = 100\nreward_amount = 90\n",
                         encoding="utf-8")
    args = ["promo", "compare", str(scenarios), "--orders", str(orders),
            "--response", "fixed", "--uptake", "1", "--reach", "10"]
    doc = json.loads(runner.invoke(app, [*args, "-f", "json"]).stdout)
    effects = {s["scenario"]["name"]: s["net_gross_profit_effect"] for s in doc["scenarios"]}
    assert effects["small"] == pytest.approx(10 * (5 - 1))
    table = runner.invoke(app, args, env={"COLUMNS": "100"})
    best = [ln for ln in table.stdout.splitlines() if "best" in ln.split()[2:6]]
    assert len(best) == 1
    assert "small" in best[0]
    assert "none pays back" not in " ".join(table.stdout.split())


def test_a_drift_row_shows_the_tested_rate_outside_its_band():
    result = runner.invoke(app, ["funnel", "--drift", "--columns",
                                 "window_rate,lower,upper,rate"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    doc = json.loads(runner.invoke(app, ["funnel", "--drift", "-f", "json"]).stdout)
    alerts = doc["alerts"]
    assert alerts
    lines = result.stdout.splitlines()
    head = " ".join(result.stdout.split("Drift alerts", 1)[1].split("─", 1)[0].split())
    assert "Tested rate (window)" in head
    assert "Period's own rate" in head
    for a in alerts:
        assert not a["lower"] <= a["window_rate"] <= a["upper"]  # the tested rate is out
        shown = f"{a['window_rate']:.1%} {a['lower']:.1%} {a['upper']:.1%}"
        assert any(shown in " ".join(ln.split()) for ln in lines), shown


def test_csv_and_json_keep_the_figures_as_computed():
    # The table says "none pays back" and leaves ROI out; CSV and JSON do not change.
    csv = runner.invoke(app, ["promo", "compare", "-f", "csv"]).stdout.splitlines()
    head = csv[0].split(",")
    first = dict(zip(head, csv[1].split(","), strict=True))
    assert float(first["roi"]) == -1.0
    assert first["best"] == "best"
    doc = json.loads(runner.invoke(app, ["promo", "compare", "-f", "json"]).stdout)
    assert doc["best"] == doc["scenarios"][0]["scenario"]["name"]
    assert doc["scenarios"][0]["roi"] == -1.0


def test_the_weekly_summary_has_separators_and_right_aligned_figures(tmp_path):
    # The issue: "the weekly summary has no thousands separators". Money to the cent with
    # separators, counts with separators, rates as percents; figures right-aligned.
    out = tmp_path / "r.html"
    doc = json.loads(runner.invoke(app, ["report", "weekly", "--out", str(out), "-f", "json",
                                         "-q"]).stdout)
    figures = {r["metric"]: r["current"] for r in doc["headline"]}
    result = runner.invoke(app, ["report", "weekly", "--out", str(out)], terminal_width=100,
                           env={"COLUMNS": "100"})
    assert result.exit_code in (0, 3), result.output
    lines = {ln.split("  ")[0].strip(): ln for ln in result.output.splitlines()
             if ln.strip().startswith(("Revenue", "Orders", "Gross margin"))}
    revenue, orders, margin = (f"{figures['revenue']:,.2f}", f"{figures['orders']:,}",
                               f"{figures['gross_margin']:.1%}")
    assert "," in revenue
    assert revenue in lines["Revenue"]
    # right-aligned: the "this period" cells end in the same column
    ends = {lines[k].index(v) + len(v) for k, v in (("Revenue", revenue), ("Orders", orders),
                                                     ("Gross margin", margin))}
    assert len(ends) == 1
