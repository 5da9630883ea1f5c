"""Conversion funnels.

What a funnel counts (:mod:`.spec`), the counting (:mod:`.count`), next-step paths
(:mod:`.paths`), drift alerts (:mod:`.drift`) and their explanations (:mod:`.explain`).
A module imports only those before it in that list.
"""

from .count import FunnelResult, funnel
from .drift import DriftSpec, level_alerts
from .paths import PathsResult, next_steps
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
    "DEFAULT_WINDOW",
    "DriftSpec",
    "FunnelResult",
    "FunnelSpec",
    "PathsResult",
    "funnel",
    "judged_until",
    "level_alerts",
    "next_steps",
    "parse_window",
    "segment_text",
    "steps_from",
    "window_for",
]
