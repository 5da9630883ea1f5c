"""Funnel and paths options that were refused by a traceback, ignored, or answered silently."""

from datetime import date, timedelta

import pytest
from test_funnel import events_inputs  # the funnel tests' writer of an events file

from cust.pipelines.errors import EmptySelectionError, InvalidOptionError
from cust.pipelines.funnel import (
    DEFAULT_WINDOW,
    FunnelSpec,
    funnel,
    next_steps,
    parse_window,
    window_for,
)
from cust.pipelines.funnel.drift import DriftSpec
from cust.pipelines.io.inputs import Inputs
from cust.pipelines.io.loader import LoadOptions
from cust.pipelines.io.orders import Period

# s1 views, adds to cart and buys; s2 views, then searches; s3 searches, then buys.
EVENTS = """\
user_id,session_id,event,event_time
u1,s1,product_view,2024-03-01 10:00:00
u1,s1,add_to_cart,2024-03-01 10:01:00
u1,s1,purchase,2024-03-01 10:02:00
u2,s2,product_view,2024-03-01 11:00:00
u2,s2,search,2024-03-02 11:05:00
u3,s3,search,2024-03-02 08:01:00
u3,s3,purchase,2024-03-02 08:04:00
"""



@pytest.mark.parametrize("text", ["nanh", "infh", "-infd", "NaNm", "1e9d", "366d", "53w",
                                  "0.5s", "0.001m", "0h", "-2d", "d", "24"])
def test_windows_that_are_not_durations_or_absurd_are_refused(text):
    # float() reads nan, inf and 1e9: they reached timedelta, which raised a traceback.
    with pytest.raises(InvalidOptionError) as info:
        parse_window(text)
    assert info.value.hint


def test_window_limits_and_units():
    assert parse_window("365d") == timedelta(days=365)
    assert parse_window("52w") == timedelta(weeks=52)
    assert parse_window("1m") == timedelta(minutes=1)
    assert parse_window("1.5h") == timedelta(minutes=90)
    assert parse_window(" 2 D") == timedelta(days=2)


def test_a_window_is_for_users_only():
    assert window_for(None, "session") == DEFAULT_WINDOW == timedelta(hours=24)
    assert window_for(None, "user") == timedelta(hours=24)
    assert window_for("2d", "user") == timedelta(days=2)
    with pytest.raises(InvalidOptionError, match="--unit user only") as info:
        window_for("2d", "session")
    assert "--unit user" in info.value.hint


@pytest.mark.parametrize(
    ("by", "words"),
    [
        (("category", "category"), "more than once"),
        (("platform", "category", "platform"), "more than once"),
        (("event_time",), "cannot be a breakdown"),
        (("event",), "cannot be a breakdown"),
        (("user_id",), "cannot be a breakdown"),
        (("session_id",), "cannot be a breakdown"),
        (("period",), "cannot be a breakdown"),
        (("t1",), "cannot be a breakdown"),
        (("entered_2",), "cannot be a breakdown"),
        (("__unit",), "cannot be a breakdown"),
    ],
)
def test_breakdowns_that_cannot_be_are_refused(by, words):
    # --by category,category and --by event_time raised a Polars DuplicateError.
    with pytest.raises(InvalidOptionError, match=words) as info:
        FunnelSpec(by=by)
    assert info.value.hint


def test_unseen_steps_are_named_and_seen_zeros_are_not(tmp_path):
    inputs = events_inputs(tmp_path, EVENTS)
    result = funnel(inputs, FunnelSpec(steps=("product_view", "nosuch", "add_to_cart")))
    assert result.steps["entered"].to_list() == [2, 0, 0]
    assert result.unseen_steps == ("nosuch",)
    assert result.to_json()["unseen_steps"] == ["nosuch"]
    assert any("No event named 'nosuch'" in n for n in result.notes())
    # 'search' occurs, but only before a purchase (s3) or in a session without one (s2):
    # a real zero, so nothing is named.
    seen = funnel(events_inputs(tmp_path, EVENTS, "s.csv"),
                  FunnelSpec(steps=("purchase", "search")))
    assert seen.steps["entered"].to_list() == [2, 0]
    assert seen.unseen_steps == ()
    assert "unseen_steps" not in seen.to_json()
    assert not any("No event named" in n for n in seen.notes())
    # Seen only outside the period: the searches are on 2024-03-02, the period ends 03-01.
    early = funnel(events_inputs(tmp_path, EVENTS, "p.csv"),
                   FunnelSpec(steps=("product_view", "search")),
                   period=Period(until=date(2024, 3, 1)))
    assert early.steps["entered"].to_list() == [2, 0]
    assert early.unseen_steps == ("search",)


# Four price rows, three of them bad (a price, a time, a missing sku).
BAD_PRICES = """\
sku,changed_at,old_price,new_price
A,2024-03-01,abc,5
B,bad,1,2
,2024-03-01,1,2
C,2024-03-01,1,2
"""


def test_prices_read_by_explain_are_in_the_input_report(tmp_path):
    (tmp_path / "e.csv").write_text(EVENTS, encoding="utf-8")
    (tmp_path / "p.csv").write_text(BAD_PRICES, encoding="utf-8")
    inputs = Inputs({"events": tmp_path / "e.csv", "prices": tmp_path / "p.csv"}, LoadOptions())
    result = funnel(inputs, FunnelSpec(), drift=DriftSpec(), explain=True)
    prices = result.input.sources["prices"]
    assert (prices.rows_read, prices.rows_rejected) == (4, 3)
    assert prices.reasons == {"bad_changed_at": 1, "bad_old_price": 1, "missing_sku": 1}
    assert result.input.sources["events"].rows_read == 7
    # Without --explain the prices are not read, and not reported.
    plain = funnel(Inputs({"events": tmp_path / "e.csv", "prices": tmp_path / "p.csv"},
                          LoadOptions()), FunnelSpec(), drift=DriftSpec())
    assert list(plain.input.sources) == ["events"]


# Paths: u1 on 2025-01-01 (home -> search), u2 on 01-02 (home -> cart), u3 on 01-03.
PATH_EVENTS = """\
user_id,session_id,event,event_time
U1,S1,home,2025-01-01 10:00
U1,S1,search,2025-01-01 10:01
U2,S2,home,2025-01-02 10:00
U2,S2,add_to_cart,2025-01-02 10:05
U3,S3,home,2025-01-03 09:00
"""


def test_paths_end_at_the_analysis_date(tmp_path):
    def counts(period, name):
        result = next_steps(events_inputs(tmp_path, PATH_EVENTS, name), "home", period=period)
        return {r["step"]: r["count"] for r in result.to_json()["next"]}

    assert counts(Period(), "a.csv") == {"search": 1, "add_to_cart": 1, "(exit)": 1}
    # --as-of 2025-01-01: the events of the 2nd and 3rd are not yet known.
    assert counts(Period(as_of=date(2025, 1, 1)), "b.csv") == {"search": 1}
    assert counts(Period(since=date(2025, 1, 2), as_of=date(2025, 1, 2)), "c.csv") == {
        "add_to_cart": 1}
    # --until before --as-of keeps the earlier end.
    assert counts(Period(until=date(2025, 1, 1), as_of=date(2025, 1, 3)), "d.csv") == {
        "search": 1}
    with pytest.raises(InvalidOptionError, match="--as-of 2025-01-01 is before --since"):
        counts(Period(since=date(2025, 1, 2), as_of=date(2025, 1, 1)), "e.csv")


def test_paths_say_when_the_period_is_empty(tmp_path):
    with pytest.raises(EmptySelectionError, match="no valid event in the selected period"):
        next_steps(events_inputs(tmp_path, PATH_EVENTS), "home",
                   period=Period(since=date(2026, 1, 1)))
    with pytest.raises(EmptySelectionError, match="no event 'nowhere' in the events of"):
        next_steps(events_inputs(tmp_path, PATH_EVENTS, "b.csv"), "nowhere")


def test_paths_relabelled_keeps_exit_and_counts(tmp_path):
    result = next_steps(events_inputs(tmp_path, PATH_EVENTS), "U1", field="user_id")
    masked = result.relabelled(lambda v: f"m_{v.lower()}")
    assert masked.origin == "m_u1"
    assert masked.to_json()["next"] == [
        {"step": "(exit)", "count": 1, "share": 0.5}, {"step": "m_u1", "count": 1, "share": 0.5}
    ]
    assert result.origin == "U1"  # the result itself is unchanged


def test_the_funnel_ends_at_the_analysis_date(tmp_path):
    # s2 views on 2024-03-01 and searches on 03-02: known by then, not on 03-01.
    steps = FunnelSpec(steps=("product_view", "search"))

    def entered(period, name):
        result = funnel(events_inputs(tmp_path, EVENTS, name), steps, period=period)
        assert result.input.sources["events"].rows_read == 7  # rows read: the whole export
        return result.steps["entered"].to_list()

    assert entered(Period(), "a.csv") == [2, 1]
    assert entered(Period(as_of=date(2024, 3, 1)), "b.csv") == [2, 0]
    assert entered(Period(as_of=date(2024, 3, 2)), "c.csv") == [2, 1]
    # --until before --as-of keeps the earlier end.
    assert entered(Period(until=date(2024, 3, 1), as_of=date(2024, 3, 2)), "d.csv") == [2, 0]
    with pytest.raises(InvalidOptionError, match="--as-of 2024-03-01 is before --since"):
        entered(Period(since=date(2024, 3, 2), as_of=date(2024, 3, 1)), "e.csv")


# Every column of the events can be --field: the ids and the time the unit is built from
# (session_id was selected twice: DuplicateError), kept extras, and extras named like the
# plan's own columns (next, __row).
FIELD_EVENTS = """\
user_id,session_id,event,event_time,page,next,__row
U1,S1,home,2025-01-01 10:00,p1,n1,r1
U1,S1,search,2025-01-01 10:01,p2,n2,r2
U1,S2,home,2025-01-01 12:00,p1,n1,r1
U2,S3,home,2025-01-02 10:00,p1,n1,r1
U2,S3,add_to_cart,2025-01-02 10:05,p3,n3,r3
"""


@pytest.mark.parametrize(
    ("field", "origin", "unit", "expected"),
    [
        ("event", "home", "session", {"search": 1, "add_to_cart": 1, "(exit)": 1}),
        ("page", "p1", "session", {"p2": 1, "p3": 1, "(exit)": 1}),
        ("next", "n1", "session", {"n2": 1, "n3": 1, "(exit)": 1}),
        ("__row", "r1", "session", {"r2": 1, "r3": 1, "(exit)": 1}),
        # Within a session every next event has the same session id (or there is none).
        ("session_id", "S1", "session", {"S1": 1, "(exit)": 1}),
        ("session_id", "S1", "user", {"S1": 1, "S2": 1}),
        ("user_id", "U1", "session", {"U1": 1, "(exit)": 2}),
        ("user_id", "U2", "user", {"U2": 1, "(exit)": 1}),
        ("event_time", "2025-01-01 10:00:00.000000", "session",
         {"2025-01-01 10:01:00.000000": 1}),
    ],
)
def test_paths_take_every_field(tmp_path, field, origin, unit, expected):
    result = next_steps(events_inputs(tmp_path, FIELD_EVENTS), origin, field=field, unit=unit)
    assert {r["step"]: r["count"] for r in result.to_json()["next"]} == expected
    assert result.occurrences == sum(expected.values())
