"""Conversion funnels.

What a funnel counts (:mod:`.spec`), drift alerts grouped in runs (:mod:`.alerts`), the
drift test (:mod:`.drift`), the runs' explanations (:mod:`.explain`), the money at each
step (:mod:`.value`), the counting (:mod:`.count`), next-step paths (:mod:`.paths`) and the
drivers of conversion (:mod:`.drivers`): each module imports only those before it in that
list.
"""

from .alerts import AlertRun, runs
from .count import FunnelResult, funnel
from .drift import DriftSpec, level_alerts
from .drivers import DriversResult, drivers
from .paths import MultiPathsResult, PathsResult, multi_step_paths, next_steps
from .spec import (
    DEFAULT_WINDOW,
    FunnelSpec,
    judged_until,
    parse_window,
    segment_text,
    steps_from,
    window_for,
)

__all__ = [
    "AlertRun",
    "DEFAULT_WINDOW",
    "DriftSpec",
    "DriversResult",
    "FunnelResult",
    "FunnelSpec",
    "MultiPathsResult",
    "PathsResult",
    "drivers",
    "funnel",
    "judged_until",
    "level_alerts",
    "multi_step_paths",
    "next_steps",
    "parse_window",
    "runs",
    "segment_text",
    "steps_from",
    "window_for",
]
