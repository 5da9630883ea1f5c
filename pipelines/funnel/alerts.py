"""Drift alerts grouped into runs: the one place that says what a run is.

An alert (:func:`.drift.detect`) is one period of one series out of its band; a *run* is
the alerts of one step and breakdown value that share a change point (``since``). The
report shows a run once, ``--explain`` explains it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class AlertRun:
    """The alerts of one (step, segment, since), in period order."""

    alerts: tuple[dict[str, Any], ...]

    @property
    def first(self) -> dict[str, Any]:
        """The run's earliest alert."""
        return self.alerts[0]

    @property
    def latest(self) -> dict[str, Any]:
        """The run's most recent alert (what a weekly report shows)."""
        return self.alerts[-1]

    @property
    def strongest(self) -> dict[str, Any]:
        """The alert with the largest ``|z|`` (the first of equals)."""
        return max(self.alerts, key=lambda a: abs(a["z"]))

    @property
    def since(self) -> date:
        """The first period of the change (the alerts' common ``since``)."""
        return self.first["since"]

    @property
    def until(self) -> date:
        """The run's last alerted period."""
        return self.latest["period"]

    @property
    def shift(self) -> bool:
        """Whether a sustained-shift test raised any of its alerts."""
        return any(a.get("test") == "shift" for a in self.alerts)


def runs(alerts: list[dict[str, Any]]) -> list[AlertRun]:
    """``alerts`` grouped by (step, segment, since), in order of each run's first alert."""
    grouped: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for a in alerts:
        key = (a["step"], tuple(sorted(a["segment"].items())), a["since"])
        grouped.setdefault(key, []).append(a)
    return [AlertRun(tuple(sorted(group, key=lambda a: a["period"])))
            for group in grouped.values()]
