"""The weekly report: editions, hand-computed headline, agreement with the commands' JSON,
escaping, no external resources, determinism, and a real browser when one is installed."""

import json
import re
import shutil
import subprocess
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from typer.testing import CliRunner

from cust.cli.main import app
from cust.pipelines.inputs import Inputs
from cust.pipelines.loader import LoadOptions
from cust.pipelines.weekly import Edition, headline

runner = CliRunner()


def test_editions():
    assert Edition.containing(date(2026, 10, 28), "week").start == date(2026, 10, 26)
    assert Edition.last_complete(date(2026, 11, 1), "week").label == "2026-W44"  # a Sunday
    assert Edition.last_complete(date(2026, 10, 31), "week").label == "2026-W43"  # Saturday
    assert Edition.last_complete(date(2026, 10, 31), "month").label == "2026-10"
    assert Edition.last_complete(date(2026, 10, 30), "month").label == "2026-09"
    assert Edition("week", date(2026, 1, 5)).shift(-1).label == "2026-W01"
    assert Edition("month", date(2026, 1, 1)).shift(-1).end == date(2025, 12, 31)


# Week of 2024-03-04 (W10): A buys 100 (cost 60) and 50 (cost 30), B (new) buys 200
# (cost 150). Previous week (W09): A buys 80 (cost 40). A's first order: 2024-02-01 (W05).
ORDERS = """\
order_id,customer_id,order_time,amount,cost
o0,A,2024-02-01,10,5
o1,A,2024-02-27,80,40
o2,A,2024-03-04 09:00,100,60
o3,A,2024-03-10 23:00,50,30
o4,B,2024-03-06,200,150
"""


def test_headline_by_hand(tmp_path):
    (tmp_path / "o.csv").write_text(ORDERS, encoding="utf-8")
    rows, _ = headline(Inputs({"orders": tmp_path / "o.csv"}, LoadOptions()),
                       Edition("week", date(2024, 3, 4)))
    got = {r["metric"]: r for r in rows}
    assert got["orders"]["current"] == 3
    assert got["orders"]["previous"] == 1
    assert got["customers"]["current"] == 2
    assert got["new_customers"]["current"] == 1
    assert got["revenue"]["current"] == 350.0
    assert got["gross_profit"]["current"] == 110.0
    assert got["gross_margin"]["current"] == pytest.approx(110 / 350)
    assert got["aov"]["current"] == pytest.approx(350 / 3)
    assert got["revenue"]["change"] == pytest.approx((350 - 80) / 80)
    # The four weeks before W10: W09 (80), W08, W07 (none), W06 (none) -> average 20.
    assert got["revenue"]["average_4"] == 20.0


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "w.html"
    result = runner.invoke(app, ["report", "weekly", "--out", str(out), "-f", "json"])
    assert result.exit_code == 0, result.output
    return out, json.loads(result.stdout)


class Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.urls, self.scripts, self.headline = set(), [], 0, {}
        self._metric = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        for key in ("src", "href"):
            if a.get(key):
                self.urls.append(a[key])
        if tag == "script":
            self.scripts += 1
        if tag == "tr" and "data-metric" in a:
            self._metric = a["data-metric"]
        if tag == "td" and "data-value" in a and self._metric:
            self.headline[self._metric] = a["data-value"]


def test_sections_numbers_and_no_external_resources(sample_report):
    out, doc = sample_report
    html = out.read_text(encoding="utf-8")
    parsed = Collector()
    parsed.feed(html)
    assert {"headline", "bands", "funnel", "cohorts", "segments", "quality"} <= parsed.ids
    assert parsed.scripts == 0
    assert [u for u in parsed.urls if re.match(r"(https?:)?//", u)] == []
    assert "http://" not in html.replace("http://www.w3.org", "")
    assert html.count("<svg") >= 4
    for row in doc["headline"]:
        if row["current"] is not None:
            assert float(parsed.headline[row["metric"]]) == pytest.approx(row["current"])


def test_report_agrees_with_the_commands(sample_report):
    _, doc = sample_report
    start, end = doc["edition"]["start"], doc["edition"]["end"]
    bands = json.loads(runner.invoke(app, ["segment", "buckets", "--since", start, "--until",
                                           end, "-f", "json"]).stdout)
    assert bands["buckets"] == doc["buckets"]
    cohorts = json.loads(runner.invoke(app, ["cohort", "--as-of", end, "--max-periods", "12",
                                             "-f", "json"]).stdout)
    assert cohorts["cohorts"] == doc["cohorts"]
    funnel = json.loads(runner.invoke(app, ["funnel", "--until", end, "-f", "json"]).stdout)
    assert funnel["steps"] == doc["funnel"]["steps"]
    orders = next(r for r in doc["headline"] if r["metric"] == "orders")
    assert orders["current"] == sum(b["orders"] for b in doc["buckets"])
    assert {a["segment"]["category"] for a in doc["alerts"]} == {"mcu"}


def test_hostile_strings_are_escaped(tmp_path):
    # A category and a part number from the data reach the page through a drift alert:
    # conversion in that category falls from 50 % to 10 % after 12 weeks, and the part's
    # price rose. Neither may become markup.
    evil, sku = "<script>alert('x')</script>", "<img src=x onerror=alert(1)>"
    (tmp_path / "o.csv").write_text(
        "order_id,customer_id,order_time,amount,cost\n"
        f'o1,"{evil}",2024-05-20,100,50\no2,"C""2",2024-05-21,20,10\n', encoding="utf-8")
    lines = ["user_id,session_id,event,event_time,category"]
    for week in range(20):
        for i in range(100):
            start = date(2024, 1, 1) + timedelta(weeks=week, days=i % 7)
            sid = f"s{week}-{i}"
            lines.append(f'u{i},{sid},product_view,{start} 10:00,"{evil}"')
            if i % 10 < (5 if week < 12 else 1):
                lines.append(f'u{i},{sid},add_to_cart,{start} 10:01,"{evil}"')
    (tmp_path / "e.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "p.csv").write_text(
        f'sku,changed_at,old_price,new_price,category\n"{sku}",2024-03-01,10,13,"{evil}"\n',
        encoding="utf-8")
    (tmp_path / "cust.toml").write_text('[funnel]\nsteps = ["product_view", "add_to_cart"]\n',
                                        encoding="utf-8")
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["report", "weekly", "--orders", str(tmp_path / "o.csv"),
                                 "--events", str(tmp_path / "e.csv"), "--prices",
                                 str(tmp_path / "p.csv"), "--config", str(tmp_path / "cust.toml"),
                                 "--out", str(out), "-q", "--as-of", "2024-05-20",
                                 "--fail-on-alert"])
    assert result.exit_code == 3, result.output
    html = out.read_text(encoding="utf-8")
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html  # the alert text
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # the price rise
    assert "&lt;script&gt;" in html.split('id="funnel"')[1]


def test_deterministic_and_named_by_week(tmp_path):
    first = runner.invoke(app, ["report", "weekly", "--out-dir", str(tmp_path / "a"), "-q"])
    second = runner.invoke(app, ["report", "weekly", "--out-dir", str(tmp_path / "b"), "-q"])
    assert first.exit_code == second.exit_code == 0
    (a,), (b,) = list((tmp_path / "a").iterdir()), list((tmp_path / "b").iterdir())
    assert a.name == b.name == "weekly-2026-W43.html"
    assert a.read_bytes() == b.read_bytes()
    monthly = runner.invoke(app, ["report", "weekly", "--period", "month", "--lang", "zh",
                                  "--out-dir", str(tmp_path / "m"), "-q"])
    assert monthly.exit_code == 0, monthly.output
    page = (tmp_path / "m" / "monthly-2026-10.html").read_text(encoding="utf-8")
    assert "月报" in page
    assert "毛利率" in page


def test_fail_on_alert_exits_3(tmp_path):
    result = runner.invoke(app, ["report", "weekly", "--out", str(tmp_path / "r.html"), "-q",
                                 "--fail-on-alert"])
    assert result.exit_code == 3


def _browser():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_a_real_browser_draws_every_chart(sample_report, tmp_path):
    browser = _browser()
    if browser is None:
        pytest.skip("no Chromium on this machine (.ci/run installs it where it can): the "
                    "report was not opened in a browser")
    out, _ = sample_report
    probe = tmp_path / "probe.html"
    measure = (
        "<script>window.addEventListener('load',()=>{const s=[...document.querySelectorAll("
        "'figure.chart svg')].map(e=>{const r=e.getBoundingClientRect();return r.width+'x'+"
        "r.height});document.body.setAttribute('data-sizes',s.join(';'))});</script>"
    )
    probe.write_text(out.read_text(encoding="utf-8").replace("</body>", measure + "</body>"),
                     encoding="utf-8")
    args = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
            "--v=0", "--window-size=1000,3000"]
    dom = subprocess.run([*args, "--dump-dom", probe.as_uri()], capture_output=True,
                         text=True, timeout=120, check=False)
    sizes = re.search(r'data-sizes="([^"]*)"', dom.stdout)
    assert sizes, dom.stderr[-2000:]
    charts = sizes.group(1).split(";")
    assert len(charts) >= 4
    for size in charts:
        width, height = (float(v) for v in size.split("x"))
        assert width > 0
        assert height > 0
    assert "Uncaught" not in dom.stderr
    shot = tmp_path / "report.png"
    subprocess.run([*args, f"--screenshot={shot}", out.as_uri()], capture_output=True,
                   timeout=120, check=False)
    assert shot.exists()
    assert shot.stat().st_size > 10_000
