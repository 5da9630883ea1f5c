"""Issue 20, item 7: a control character in any chart label (a category, a step, a band, a
cohort, a promotion scenario, a title) never aborts the SVG renderer; it is shown escaped.

vl-convert aborts the whole process (exit 134, no report) on a character XML forbids, so
the charts are drawn in a child process: a regression fails the test instead of killing
the test run.
"""

import inspect
import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from cust.reports import charts

# The characters the hostile run found, and the rest of the class XML forbids.
CONTROLS = ["\x01", "\x0b", "\x1b", "\x1f", "\x00", "\x08", "\x7f", "\x9b", "\ufffe",
            "\uffff"]
ESCAPED = {c: f"\\x{ord(c):02x}" if ord(c) <= 0xFF else f"\\u{ord(c):04x}" for c in CONTROLS}

# One call of every chart, each string it draws holding {bad}.
DRAW_ALL = r'''
import json, sys
from datetime import date
import polars as pl
from cust.reports import charts
from cust.reports.labels import LABELS

bad = json.loads(sys.argv[1])  # NUL cannot be an argument
labels = {k: (v if k == "locale" else v + bad) for k, v in LABELS["en"].items()}
out = {}
out["bands"] = charts.bands(pl.DataFrame({
    "label": [f"0-50{bad}", f"50+{bad}"] * 2, "edition": [f"2026-W01{bad}"] * 2 + ["W00"] * 2,
    "order_share": [0.6, 0.4, 0.5, 0.5], "order": [0, 1, 0, 1]}), labels)
out["funnel"] = charts.funnel(pl.DataFrame({
    "step": [f"view{bad}", f"cart{bad}"], "entered": [100, 40],
    "conversion_from_first": [1.0, 0.4]}), labels)
out["drift"] = charts.drift(pl.DataFrame({
    "period": [date(2026, 1, 5), date(2026, 1, 12)], "rate": [0.5, 0.1],
    "expected": [0.5, 0.5], "lower": [0.4, 0.4], "upper": [0.6, 0.6],
    "alert": [False, True]}), f"category=mcu{bad}", labels)
out["cohort_heatmap"] = charts.cohort_heatmap(pl.DataFrame({
    "cohort": [f"2026-01{bad}"] * 2, "k": [0, 1], "retention": [1.0, 0.3],
    "text": [f"100%{bad}", f"30%{bad}"]}), labels)
out["promo"] = charts.promo(pl.DataFrame({
    "name": [f"spend_500{bad}", f"every{bad}"], "net": [10.0, -5.0], "rank": [1, 2]}), labels)
out["trend"] = charts.trend(pl.DataFrame({
    "label": [f"2026-W01{bad}", f"2026-W02{bad}"], "revenue": [100.0, 120.0],
    "orders": [3, 4], "current": [False, True]}), labels)
out["times_to_convert"] = charts.times_to_convert(pl.DataFrame({
    "transition": [f"view{bad} → cart"] * 2, "band": [f"<10s{bad}", f"10s-1m{bad}"],
    "order": [0, 1], "units": [3, 1], "share": [0.75, 0.25], "median": [f"5 s{bad}"] * 2,
    "p90": [f"9 s{bad}"] * 2, "about": [f"a{bad}"] * 2}), labels)
out["sankey"] = charts.sankey([([f"search{bad}", "(exit)"], 3), ([f"cart{bad}"], 1)],
                              f"home{bad}", f"Paths{bad}", labels)
print(json.dumps(out))
'''
DRAWN = {"bands", "funnel", "drift", "cohort_heatmap", "promo", "trend", "times_to_convert",
         "sankey"}


def test_every_chart_is_drawn_with_hostile_labels():
    """A new chart fails here until DRAW_ALL draws it with hostile labels."""
    public = {name for name, f in inspect.getmembers(charts, inspect.isfunction)
              if f.__module__ == charts.__name__ and not name.startswith("_")}
    assert public - {"svg"} == DRAWN


@pytest.mark.parametrize("bad", CONTROLS, ids=[f"U+{ord(c):04X}" for c in CONTROLS])
def test_every_chart_shows_control_characters_escaped(bad):
    done = subprocess.run([sys.executable, "-c", DRAW_ALL, json.dumps(bad)], capture_output=True,
                          text=True, encoding="utf-8", check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    svgs = json.loads(done.stdout)
    assert set(svgs) == DRAWN
    for name, svg in svgs.items():
        assert svg.startswith("<svg"), name
        assert bad not in svg, name
        assert ESCAPED[bad] in svg, name  # the label is there, its control shown escaped


def _report_inputs(tmp_path: Path, category: str, scenarios: list[str]) -> list[str]:
    """A category whose conversion falls from 50 % to 10 % (a drift alert, so a drift chart
    titled with it) and promotion scenarios named ``scenarios`` in cust.toml."""
    def quoted(text: str) -> str:
        return '"' + text.replace('"', '""') + '"'

    (tmp_path / "o.csv").write_text(
        "order_id,customer_id,order_time,amount,cost\n"
        "o1,c1,2024-05-20,100,50\no2,c2,2024-05-21,2000,1000\n", encoding="utf-8")
    lines = ["user_id,session_id,event,event_time,category"]
    for week in range(20):
        for i in range(100):
            start = date(2024, 1, 1) + timedelta(weeks=week, days=i % 7)
            lines.append(f"u{i},s{week}-{i},product_view,{start} 10:00,{quoted(category)}")
            if i % 10 < (5 if week < 12 else 1):
                lines.append(f"u{i},s{week}-{i},add_to_cart,{start} 10:01,{quoted(category)}")
    (tmp_path / "e.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    toml = ['[funnel]\nsteps = ["product_view", "add_to_cart"]\n']
    for name in scenarios:  # TOML writes a control character in a key as \uXXXX
        key = "".join(f"\\u{ord(c):04x}" if ord(c) < 0x20 else c for c in name)
        toml.append(f'[promo.scenarios."{key}"]\nthreshold = 500\nreward_amount = 30\n')
    (tmp_path / "cust.toml").write_text("\n".join(toml), encoding="utf-8")
    return ["--orders", str(tmp_path / "o.csv"), "--events", str(tmp_path / "e.csv"),
            "--config", str(tmp_path / "cust.toml")]


def test_report_weekly_with_control_characters_in_every_label(tmp_path):
    """U+0001, U+000B, U+001B and U+001F in an alerting category and in scenario names."""
    found = ["\x01", "\x0b", "\x1b", "\x1f"]
    category = "mcu" + "".join(found)
    scenarios = [f"spend{c}{i}" for i, c in enumerate(found)]
    out = tmp_path / "r.html"
    args = ["report", "weekly", *_report_inputs(tmp_path, category, scenarios),
            "--out", str(out), "-q", "--as-of", "2024-05-20", "--fail-on-alert", "--static"]
    done = subprocess.run([sys.executable, "-m", "cust", *args], capture_output=True,
                          text=True, encoding="utf-8", check=False)
    assert done.returncode == 3, done.stderr[-2000:]  # written, with the category's alert
    html = out.read_text(encoding="utf-8")
    svgs = [part.split("</svg>")[0] for part in html.split("<svg")[1:]]
    drift = next(s for s in svgs if "category=mcu" in s)
    assert "category=mcu\\x01\\x0b\\x1b\\x1f" in drift  # the drift chart's title
    promo = html.split('id="promo"')[1]
    promo_svg = promo.split("<svg")[1].split("</svg>")[0]
    for i, c in enumerate(found):
        assert f"spend{ESCAPED[c]}{i}" in promo_svg  # a bar's label
    assert not any(c in html for c in found)  # nor in the page's own text and tables
    banner = html.split('id="attention"')[1].split("</p>")[0]
    assert "category=mcu\\x01\\x0b\\x1b\\x1f" in banner
    assert "<script" not in html


def test_html_of_any_command_shows_control_characters_escaped(tmp_path):
    """``--format html``: a channel holding ESC, CR, a bidi override and markup."""
    evil = "\x1b[2J\x01\x0b\x1f\r\u202e<b>[red]x"
    (tmp_path / "o.csv").write_text(
        "order_id,customer_id,order_time,amount,cost,channel\n"
        f'o1,c1,2024-05-20,100,50,"{evil}"\no2,c2,2024-05-21,20,10,web\n', encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "cust", "segment", "profile", "--by",
                           "channel", "--orders", str(tmp_path / "o.csv"), "-f", "html"],
                          capture_output=True, text=True, encoding="utf-8", check=False)
    assert done.returncode == 0, done.stderr
    assert "\\x1b[2J\\x01\\x0b\\x1f\\r\\u202e&lt;b&gt;[red]x" in done.stdout
    assert not any(c in done.stdout for c in "\x1b\x01\x0b\x1f\r\u202e")
