"""The Sankey layout of ``cust report weekly``'s paths, and the durations of its readings
(issue 24), worked out by hand."""

import pytest

from cust.reports.charts import CURVE_POINTS, NODE_WIDTH, _sankey_layout
from cust.reports.weekly import duration


def test_sankey_layout_by_hand():
    # From h: 3 paths go a -> b, 1 goes to c. Total 4, gap 5 % of it (0.2). Column 1 holds
    # a (0..3) then c (3.2..4.2); column 2 holds b (0..3).
    nodes, links = _sankey_layout([(["a", "b"], 3), (["c"], 1)], "h")
    got = {(r["x"], r["event"]): (r["y"], r["y2"], r["units"], r["label"])
           for r in nodes.iter_rows(named=True)}
    assert got == {(0.0, "h"): (0.0, 4.0, 4, "h (4)"), (1.0, "a"): (0.0, 3.0, 3, "a (3)"),
                   (1.0, "c"): (pytest.approx(3.2), pytest.approx(4.2), 1, "c (1)"),
                   (2.0, "b"): (0.0, 3.0, 3, "b (3)")}
    assert links.height == 3 * CURVE_POINTS
    ends = {}
    for number in range(3):
        band = links.filter(links["link"] == number)
        first, last = band.row(0, named=True), band.row(-1, named=True)
        ends[(first["source"], first["target"])] = (
            first["x"], first["y"], last["x"], last["y"], first["y2"] - first["y"])
    # h -> a leaves h at its top and enters a at its top; h -> c leaves h below it (3)
    # and enters c at c's top (3.2); each band is as thick as its paths.
    assert ends[("h", "a")] == (NODE_WIDTH, 0.0, 1.0, 0.0, 3)
    assert ends[("h", "c")] == (NODE_WIDTH, 3.0, 1.0, pytest.approx(3.2), 1)
    assert ends[("a", "b")] == (1 + NODE_WIDTH, 0.0, 2.0, 0.0, 3)
    assert set(zip(links["source"], links["target"], links["units"], strict=True)) == {
        ("h", "a", 3), ("h", "c", 1), ("a", "b", 3)}


def test_an_exit_sits_below_the_events_of_its_column():
    nodes, _ = _sankey_layout([(["(exit)"], 5), (["a"], 2)], "h")
    col = nodes.filter(nodes["x"] == 1.0).sort("y")
    assert col["event"].to_list() == ["a", "(exit)"]  # the larger, but an end: last


@pytest.mark.parametrize(("seconds", "text"), [
    (None, "—"), (0, "0 s"), (45.4, "45 s"), (60, "1.0 min"), (150, "2.5 min"),
    (5400, "1.5 h"), (86400 * 3, "3.0 d")])
def test_durations(seconds, text):
    assert duration(seconds) == text
