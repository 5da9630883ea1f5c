"""``cust paths --depth/--to/--matrix/--collapse-repeats`` (issue 24, multi-step paths).

A hand-built stream whose paths are worked out below, and a generated stream counted a
second way in plain Python (events grouped by session, in time then file order).
"""

import random
from collections import Counter, defaultdict
from datetime import datetime, timedelta

import pytest
from test_funnel import events_inputs  # the funnel tests' writer of an events file

from cust.pipelines.errors import EmptySelectionError, InvalidOptionError
from cust.pipelines.funnel import multi_step_paths, next_steps

# u1 reloads search; u1 has home twice; u3's session ends at home; u2 views, then leaves.
EVENTS = """\
user_id,session_id,event,event_time
u1,s1,home,2024-03-01 10:00:00
u1,s1,search,2024-03-01 10:01:00
u1,s1,search,2024-03-01 10:02:00
u1,s1,product_view,2024-03-01 10:03:00
u1,s1,home,2024-03-01 10:04:00
u1,s1,purchase,2024-03-01 10:05:00
u2,s2,home,2024-03-01 10:00:00
u2,s2,product_view,2024-03-01 10:01:00
u3,s3,search,2024-03-01 10:00:00
u3,s3,home,2024-03-01 10:01:00
"""


def _rows(result):
    return [(r["path"], r["count"], r["units"], r["share"]) for r in result.to_json()["paths"]]


def test_hand_built_paths_from_home(tmp_path):
    result = multi_step_paths(events_inputs(tmp_path, EVENTS), "home", depth=2, matrix=True)
    doc = result.to_json()
    assert (doc["from"], doc["depth"], doc["occurrences"], doc["units"]) == ("home", 2, 4, 3)
    # Four anchors, one path each: ordered by count, then the steps' names.
    assert _rows(result) == [
        (["(exit)"], 1, 1, 0.25),
        (["product_view", "(exit)"], 1, 1, 0.25),
        (["purchase", "(exit)"], 1, 1, 0.25),
        (["search", "search"], 1, 1, 0.25),
    ]
    # Step 1: search, product_view, purchase, ended; step 2: u1's reload, then 3 ended.
    assert doc["matrix"] == [
        {"event": "search", "step_1": 0.25, "step_2": 0.25},
        {"event": "product_view", "step_1": 0.25, "step_2": 0.0},
        {"event": "purchase", "step_1": 0.25, "step_2": 0.0},
        {"event": "(exit)", "step_1": 0.25, "step_2": 0.75},
    ]


def test_collapsing_the_reload_and_the_other_row(tmp_path):
    result = multi_step_paths(events_inputs(tmp_path, EVENTS), "home", depth=2, matrix=True,
                              collapse=True, top=1)
    doc = result.to_json()
    assert doc["collapse_repeats"] is True
    assert _rows(result) == [(["(exit)"], 1, 1, 0.25)]  # top 1 of four single paths
    # u1's first home now goes search -> product_view: product_view is at 2 anchors'
    # steps (u2's step 1, u1's step 2), search and purchase at one each: (other).
    assert doc["matrix"] == [
        {"event": "product_view", "step_1": 0.25, "step_2": 0.25},
        {"event": "(other)", "step_1": 0.5, "step_2": 0.0},
        {"event": "(exit)", "step_1": 0.25, "step_2": 0.75},
    ]
    full = multi_step_paths(events_inputs(tmp_path, EVENTS), "home", depth=2, collapse=True)
    assert ["search", "product_view"] in [p for p, *_ in _rows(full)]


def test_hand_built_paths_to(tmp_path):
    inputs = events_inputs(tmp_path, EVENTS)
    buy = multi_step_paths(inputs, "purchase", direction="to", depth=3)
    assert buy.to_json()["to"] == "purchase"
    assert _rows(buy) == [(["search", "product_view", "home"], 1, 1, 1.0)]
    # search: u3's first event (nothing before), u1's after home, u1's reload.
    found = multi_step_paths(inputs, "search", direction="to", depth=2, matrix=True)
    assert _rows(found) == [(["(start)"], 1, 1, pytest.approx(1 / 3)),
                            (["(start)", "home"], 1, 1, pytest.approx(1 / 3)),
                            (["home", "search"], 1, 1, pytest.approx(1 / 3))]
    assert found.to_json()["matrix"] == [
        {"event": "home", "step_1": pytest.approx(1 / 3), "step_2": pytest.approx(1 / 3)},
        {"event": "search", "step_1": pytest.approx(1 / 3), "step_2": 0.0},
        {"event": "(start)", "step_1": pytest.approx(1 / 3), "step_2": pytest.approx(2 / 3)},
    ]


def test_depth_one_is_next_steps_and_refusals(tmp_path):
    inputs = events_inputs(tmp_path, EVENTS)
    one = multi_step_paths(inputs, "home", depth=1)
    nxt = next_steps(inputs, "home")
    assert [(r["path"][0], r["count"]) for r in one.to_json()["paths"]] == [
        (r["step"], r["count"]) for r in nxt.to_json()["next"]]
    for bad in (0, -1, 21):
        with pytest.raises(InvalidOptionError):
            multi_step_paths(inputs, "home", depth=bad)
    with pytest.raises(EmptySelectionError, match="no event 'nowhere'"):
        multi_step_paths(inputs, "nowhere", depth=2)
    with pytest.raises(EmptySelectionError):
        multi_step_paths(inputs, "nowhere", direction="to", depth=2)


EVENT_NAMES = ["home", "search", "product_view", "add_to_cart", "purchase"]


def _generated(tmp_path, seed=7, sessions=300):
    """A stream with reloads and equal times, written in shuffled row order."""
    rng = random.Random(seed)
    rows = []
    start = datetime(2024, 3, 1, 8)
    for s in range(sessions):
        t = start + timedelta(minutes=rng.randrange(0, 5000))
        for _ in range(rng.randint(1, 9)):
            t += timedelta(seconds=rng.choice([0, 0, 30, 60, 300]))  # 0: a tie
            rows.append((f"u{s % 120}", f"s{s}", rng.choice(EVENT_NAMES), t))
    rng.shuffle(rows)
    text = "user_id,session_id,event,event_time\n" + "".join(
        f"{u},{s},{e},{t:%Y-%m-%d %H:%M:%S}\n" for u, s, e, t in rows)
    return events_inputs(tmp_path, text), rows


def _plain(rows, anchor, depth, direction, collapse):
    """Paths (tuple of steps in time order) -> [count, set of units], by plain Python."""
    by_session = defaultdict(list)
    for i, (u, s, e, t) in enumerate(rows):
        by_session[(u, s)].append((t, i, e))
    paths, matrix = defaultdict(lambda: [0, set()]), Counter()
    end = "(exit)" if direction == "from" else "(start)"
    for key, evs in by_session.items():
        seq = [e for _, _, e in sorted(evs)]
        if collapse:
            seq = [e for i, e in enumerate(seq) if i == 0 or seq[i - 1] != e]
        for i, e in enumerate(seq):
            if e != anchor:
                continue
            steps = []
            for k in range(1, depth + 1):
                j = i + k if direction == "from" else i - k
                steps.append(seq[j] if 0 <= j < len(seq) else end)
                matrix[(k, steps[-1])] += 1
            shown = steps[: steps.index(end) + 1] if end in steps else steps
            path = tuple(shown if direction == "from" else shown[::-1])
            paths[path][0] += 1
            paths[path][1].add(key)
    return paths, matrix


@pytest.mark.parametrize(("anchor", "direction", "collapse"), [
    ("home", "from", False), ("search", "from", True), ("purchase", "to", False),
    ("add_to_cart", "to", True)])
def test_generated_stream_against_plain_python(tmp_path, anchor, direction, collapse):
    inputs, rows = _generated(tmp_path)
    depth = 3
    result = multi_step_paths(inputs, anchor, direction=direction, depth=depth, top=1000,
                              matrix=True, collapse=collapse)
    paths, matrix = _plain(rows, anchor, depth, direction, collapse)
    total = sum(c for c, _ in paths.values())
    got = {tuple(r["path"]): (r["count"], r["units"]) for r in result.to_json()["paths"]}
    assert got == {p: (c, len(u)) for p, (c, u) in paths.items()}
    assert result.occurrences == total
    assert result.units == len(set().union(*(u for _, u in paths.values())))
    grid = {r["event"]: r for r in result.to_json()["matrix"]}
    for (k, event), n in matrix.items():
        assert grid[event][f"step_{k}"] == pytest.approx(n / total)
    for k in range(1, depth + 1):
        assert sum(r[f"step_{k}"] for r in grid.values()) == pytest.approx(1.0)
    # The top 5: the five largest counts, ties by the steps' names in step order.
    top = multi_step_paths(inputs, anchor, direction=direction, depth=depth, top=5,
                           collapse=collapse)
    counts = sorted((c for c, _ in paths.values()), reverse=True)[:5]
    assert [r["count"] for r in top.to_json()["paths"]] == counts
