"""``cust funnel`` and ``cust paths`` from the command line."""

import hashlib
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cust.cli.main import app

runner = CliRunner()
SAMPLE_EVENTS = Path(__file__).resolve().parents[2] / "sample_data" / "events.parquet"


def test_funnel_json_keys_on_the_sample():
    result = runner.invoke(app, ["funnel", "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [s["step"] for s in doc["steps"]] == ["product_view", "add_to_cart", "purchase"]
    assert set(doc["steps"][0]) >= {"step", "entered", "conversion_from_previous",
                                    "conversion_from_first"}
    entered = [s["entered"] for s in doc["steps"]]
    assert entered == sorted(entered, reverse=True)
    assert sum(p["entered"][0] for p in doc["periods"]) == entered[0]
    assert "alerts" not in doc


def test_fail_on_drift_exits_3_and_alerts_have_contract_keys():
    result = runner.invoke(app, ["funnel", "--period", "week", "--by", "category",
                                 "--drift", "--explain", "--fail-on-drift", "-f", "json"])
    assert result.exit_code == 3, result.output
    doc = json.loads(result.stdout)
    for alert in doc["alerts"]:
        assert set(alert) >= {"period", "step", "segment", "rate", "expected", "lower", "upper",
                              "direction"}
    # The funnel's own series (by category) and, with --explain, the explain columns' values
    # within them, marked with the column they add.
    mine = [a for a in doc["alerts"] if "breakdown" not in a]
    assert {(a["segment"]["category"], a["step"]) for a in mine} == {("mcu", "add_to_cart")}
    assert all(set(a["segment"]) == {"category", a["breakdown"]}
               for a in doc["alerts"] if "breakdown" in a)


def test_paths_and_refusals():
    result = runner.invoke(app, ["paths", "--from", "home", "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    # The next event of each 'home' within its session (time order; the sample has no two
    # events of a session at one time), computed apart by DuckDB.
    rows = duckdb.sql(f"""
        with n as (select event, coalesce(lead(event) over (partition by user_id, session_id
                   order by event_time), '(exit)') as nxt from read_parquet('{SAMPLE_EVENTS}'))
        select nxt, count(*) as c, count(*) / sum(count(*)) over () from n
        where event = 'home' group by nxt order by c desc, nxt limit 10
    """).fetchall()
    assert doc["occurrences"] == duckdb.sql(
        f"select count(*) from read_parquet('{SAMPLE_EVENTS}') where event = 'home'"
    ).fetchall()[0][0]
    assert [(r["step"], r["count"]) for r in doc["next"]] == [(n, c) for n, c, _ in rows]
    assert [r["share"] for r in doc["next"]] == pytest.approx([s for _, _, s in rows], rel=1e-11)
    bad = runner.invoke(app, ["funnel", "--steps", "home"])
    assert bad.exit_code == 2
    assert "Hint:" in bad.output
    for args in (["--baseline", "0"], ["--baseline", "1"], ["--steps", ","], ["--steps", ""]):
        bad = runner.invoke(app, ["funnel", "--drift", *args])
        assert bad.exit_code == 2, args
        assert "Hint:" in bad.output


def test_funnel_paths_is_paths_and_takes_the_options_given_before_it(tmp_path):
    """``cust funnel paths`` (the issue's spelling) is ``cust paths``; options before the
    subcommand's name reach it, as after it."""
    direct = runner.invoke(app, ["paths", "--from", "home", "--top", "3", "-f", "json"])
    nested = runner.invoke(app, ["funnel", "paths", "--from", "home", "--top", "3",
                                 "-f", "json"])
    assert direct.exit_code == nested.exit_code == 0, nested.output
    assert json.loads(direct.stdout) == json.loads(nested.stdout)
    events = tmp_path / "e.csv"
    events.write_text("user_id,session_id,event,event_time\n"
                      "u1,s1,home,2024-03-01 10:00:00\nu1,s1,search,2024-03-01 10:01:00\n"
                      "u2,s2,home,2024-03-01 11:00:00\nu2,s2,search,2024-03-01 11:02:00\n"
                      "u3,s3,home,2024-03-01 12:00:00\nu3,s3,product_view,2024-03-01 12:01:00\n",
                      encoding="utf-8")
    before = runner.invoke(app, ["funnel", "--events", str(events), "-f", "json", "paths"])
    assert before.exit_code == 0, before.output
    doc = json.loads(before.stdout)
    assert [(r["step"], r["count"]) for r in doc["next"]] == [("search", 2), ("product_view", 1)]
    assert doc["input"]["events"]["rows_read"] == 6


def test_explain_tells_the_price_story_on_the_sample():
    result = runner.invoke(app, ["funnel", "--period", "week", "--by", "category",
                                 "--drift", "--explain"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "product_view -> add_to_cart (category=mcu) went down" in text
    assert "prices rose on" in text
    assert "2026-07-29" in text
    doc = json.loads(runner.invoke(app, ["funnel", "--period", "week", "--by", "category",
                                         "--drift", "--explain", "-f", "json"]).stdout)
    [story] = [e for e in doc["explanations"] if e["segment"] == {"category": "mcu"}]
    assert {c["column"] for c in story["contributors"]} == {"platform", "channel"}
    assert story["price_rise_summary"][0]["category"] == "mcu"


def _write(tmp_path, text, name="e.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _refused(result):
    text = result.output + result.stderr
    assert result.exit_code == 2, text
    assert "Hint:" in text
    assert "Traceback" not in text
    assert result.stdout == ""
    return text


TWO_DAYS = """\
user_id,session_id,event,event_time,category
u1,s1,product_view,2024-03-01 10:00:00,mcu
u1,s1,add_to_cart,2024-03-01 10:01:00,mcu
u2,s2,product_view,2024-03-02 10:00:00,ic
"""


@pytest.mark.parametrize(("args", "words"), [
    (["--unit", "user", "--window", "nanh"], "is not a duration"),
    (["--unit", "user", "--window", "infh"], "is not a duration"),
    (["--unit", "user", "--window", "1e9d"], "outside 1 second to 365 days"),
    (["--by", "category,category"], "names category more than once"),
    (["--by", "event_time"], "event_time cannot be a breakdown"),
    (["--by", "user_id"], "user_id cannot be a breakdown"),
    # A session has no window: --window was read and ignored.
    (["--window", "2d"], "applies to --unit user only"),
    (["--unit", "session", "--window", "2d"], "applies to --unit user only"),
])
def test_bad_funnel_options_exit_2_with_a_hint(tmp_path, args, words):
    text = _refused(runner.invoke(app, ["funnel", "--events", _write(tmp_path, TWO_DAYS),
                                        *args]))
    assert words in " ".join(text.split())


def test_explain_implies_drift():
    # --explain alone is --drift --explain (help: "implies --drift"), not ignored.
    alone = runner.invoke(app, ["funnel", "--period", "week", "--by", "category", "--explain",
                                "-f", "json"])
    both = runner.invoke(app, ["funnel", "--period", "week", "--by", "category", "--drift",
                               "--explain", "-f", "json"])
    assert alone.exit_code == both.exit_code == 0, alone.output
    doc = json.loads(alone.stdout)
    assert doc["alerts"]
    assert doc["explanations"]
    assert doc == json.loads(both.stdout)


def test_a_step_never_seen_is_named_in_the_notes(tmp_path):
    result = runner.invoke(app, ["funnel", "--events", _write(tmp_path, TWO_DAYS), "--steps",
                                 "product_view,nosuch", "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [p["entered"] for p in doc["periods"]] == [[1, 0], [1, 0]]
    assert doc["unseen_steps"] == ["nosuch"]
    assert any("No event named 'nosuch'" in n for n in doc["notes"])


BAD_PRICES = """\
sku,changed_at,old_price,new_price
A,2024-03-01,abc,5
B,bad,1,2
,2024-03-01,1,2
C,2024-03-01,1,2
"""


def test_bad_price_rows_are_reported_warned_and_fail_strict(tmp_path):
    events, prices = _write(tmp_path, TWO_DAYS), _write(tmp_path, BAD_PRICES, "p.csv")
    args = ["funnel", "--events", events, "--prices", prices, "--drift", "--explain"]
    result = runner.invoke(app, [*args, "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert {k: (v["rows_read"], v["rows_rejected"]) for k, v in doc["input"].items()} == {
        "events": (3, 0), "prices": (4, 3)}
    assert "3 of 4 prices rows rejected" in result.stderr
    strict = runner.invoke(app, ["--strict", *args])
    assert "3 of 4 prices rows rejected" in _refused(strict)


# u1 views and is back a second before, at, or a second after one day (--window 1d).
BOUNDARY = """\
user_id,session_id,event,event_time
u1,a,product_view,2024-03-01 10:00:00
u1,b,add_to_cart,{cart}
"""


@pytest.mark.parametrize(("cart", "entered"), [
    ("2024-03-02 09:59:59", [1, 1]),
    ("2024-03-02 10:00:00", [1, 1]),  # within the window: "within" includes its end
    ("2024-03-02 10:00:01", [1, 0]),
])
def test_the_user_window_includes_its_last_second(tmp_path, cart, entered):
    events = _write(tmp_path, BOUNDARY.format(cart=cart))
    result = runner.invoke(app, ["funnel", "--events", events, "--unit", "user", "--window",
                                 "1d", "--steps", "product_view,add_to_cart", "-f", "json"])
    assert result.exit_code == 0, result.output
    assert [s["entered"] for s in json.loads(result.stdout)["steps"]] == entered


def _stable_days(days=40, sessions=100, carts=30):
    """``days`` days from 2024-01-01 with the same view -> cart rate every day."""
    rows = ["user_id,session_id,event,event_time"]
    for d in range(days):
        day = datetime(2024, 1, 1) + timedelta(days=d)
        for j in range(sessions):
            t = day + timedelta(hours=8, minutes=5 * j)
            rows.append(f"u{j},d{d}s{j},product_view,{t:%Y-%m-%d %H:%M:%S}")
            if j < carts:
                cart = t + timedelta(minutes=1)
                rows.append(f"u{j},d{d}s{j},add_to_cart,{cart:%Y-%m-%d %H:%M:%S}")
    return "\n".join(rows) + "\n"


def test_fail_on_drift_without_alerts_exits_0(tmp_path):
    events = _write(tmp_path, _stable_days())
    result = runner.invoke(app, ["funnel", "--events", events, "--steps",
                                 "product_view,add_to_cart", "--drift", "--fail-on-drift",
                                 "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    # Days 28..37 are judged (the last event is on 2024-02-09 at 16:15: judged until 02-07):
    # 10 p-charts, and a shift test on days 29..37 (a window needs its own 28-day baseline,
    # so the first, of 2 days, starts on day 28): 19 tests.
    assert doc["alerts"] == []
    assert doc["drift_method"]["tests"] == 19
    assert doc["drift_method"]["last_judged"] == str(date(2024, 2, 7))


def test_an_internal_error_exits_1_with_nothing_on_stdout(monkeypatch):
    import cust.pipelines.funnel as funnel_module

    def broken(*_args, **_kwargs):
        msg = "a bug"
        raise RuntimeError(msg)

    monkeypatch.setattr(funnel_module, "funnel", broken)
    result = runner.invoke(app, ["funnel", "-f", "json"])
    assert result.exit_code == 1
    assert isinstance(result.exception, RuntimeError)
    assert result.stdout == ""


PATH_EVENTS = """\
user_id,session_id,event,event_time
U1,S1,home,2025-01-01 10:00
U1,S1,search,2025-01-01 10:01
U1,S2,home,2025-01-02 10:00
U2,S3,home,2025-01-02 11:00
U2,S3,add_to_cart,2025-01-02 11:05
"""


def test_paths_as_of_and_an_empty_period(tmp_path):
    events = _write(tmp_path, PATH_EVENTS)
    result = runner.invoke(app, ["paths", "--events", events, "--as-of", "2025-01-01",
                                 "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["occurrences"], doc["next"]) == (1, [{"step": "search", "count": 1,
                                                      "share": 1.0}])
    empty = runner.invoke(app, ["paths", "--events", events, "--since", "2026-01-01"])
    assert "no valid event in the selected period" in _refused(empty)


def test_paths_by_user_id_mask_the_ids(tmp_path):
    events = _write(tmp_path, PATH_EVENTS)
    args = ["paths", "--events", events, "--field", "user_id", "--from", "U1", "--mask-ids",
            "--mask-salt", "s"]
    # The mask of reports/masking.py: "m_" + 16 hex digits of SHA-256(salt, 0x1f, id).
    u1 = "m_" + hashlib.sha256(b"s\x1fU1").hexdigest()[:16]
    result = runner.invoke(app, [*args, "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    # U1's three events: in S1 home then search (U1 -> U1, then an exit), in S2 home alone.
    assert doc["from"] == u1
    assert {(r["step"], r["count"]) for r in doc["next"]} == {(u1, 1), ("(exit)", 2)}
    for fmt in ("json", "table", "csv"):
        shown = runner.invoke(app, [*args, "-f", fmt])
        assert shown.exit_code == 0, shown.output
        assert "U1" not in shown.stdout, fmt


def test_paths_depth_to_matrix_from_the_command_line(tmp_path):
    """Issue 24: --depth 1 (the default) is today's document; --depth, --to, --matrix and
    --collapse-repeats on PATH_EVENTS worked out by hand; bad options exit 2."""
    events = _write(tmp_path, PATH_EVENTS)
    plain = runner.invoke(app, ["paths", "--events", events, "-f", "json"])
    one = runner.invoke(app, ["paths", "--events", events, "--depth", "1", "-f", "json"])
    assert plain.exit_code == one.exit_code == 0, one.output
    assert json.loads(plain.stdout) == json.loads(one.stdout)
    assert "depth" not in json.loads(one.stdout)
    deep = runner.invoke(app, ["paths", "--events", events, "--depth", "2", "--matrix",
                               "-f", "json"])
    assert deep.exit_code == 0, deep.output
    doc = json.loads(deep.stdout)
    # S1: home -> search -> (exit); S2: home -> (exit); S3: home -> add_to_cart -> (exit).
    assert [(r["path"], r["count"], r["units"]) for r in doc["paths"]] == [
        (["(exit)"], 1, 1), (["add_to_cart", "(exit)"], 1, 1), (["search", "(exit)"], 1, 1)]
    assert doc["matrix"][-1] == {"event": "(exit)", "step_1": pytest.approx(1 / 3),
                                 "step_2": 1.0}
    back = runner.invoke(app, ["paths", "--events", events, "--to", "add_to_cart",
                               "--depth", "3", "-f", "json"])
    assert back.exit_code == 0, back.output
    doc = json.loads(back.stdout)
    assert (doc["to"], doc["paths"][0]["path"]) == ("add_to_cart", ["(start)", "home"])
    table = runner.invoke(app, ["paths", "--events", events, "--depth", "2", "--matrix",
                                "--collapse-repeats"])
    assert table.exit_code == 0, table.output
    assert "search → (exit)" in table.stdout
    assert "consecutive repeats" in " ".join(table.stdout.split()).lower()
    for bad, says in ((["--depth", "0"], "--depth 0 is below 1"),
                      (["--depth", "2", "--from", "nowhere"], "no event 'nowhere'"),
                      (["--to", "nowhere"], "no event 'nowhere'"),
                      (["--from", "home", "--to", "search"], "--from and --to together")):
        assert says in _refused(runner.invoke(app, ["paths", "--events", events, *bad]))


def test_deep_paths_by_user_id_mask_the_ids(tmp_path):
    events = _write(tmp_path, PATH_EVENTS)
    args = ["paths", "--events", events, "--field", "user_id", "--from", "U1", "--depth",
            "2", "--matrix", "--mask-ids", "--mask-salt", "s"]
    u1 = "m_" + hashlib.sha256(b"s\x1fU1").hexdigest()[:16]
    result = runner.invoke(app, [*args, "-f", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["from"] == u1
    assert {tuple(r["path"]) for r in doc["paths"]} == {(u1, "(exit)"), ("(exit)",)}
    for fmt in ("json", "table", "csv"):
        shown = runner.invoke(app, [*args, "-f", fmt])
        assert shown.exit_code == 0, shown.output
        assert "U1" not in shown.stdout, fmt
