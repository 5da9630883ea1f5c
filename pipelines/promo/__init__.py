"""Threshold promotions simulated on the order history.

The rules (:mod:`.rules`: scenarios and their parsers), the simulation (:mod:`.simulation`)
and bunching just above a threshold (:mod:`.bunching`).
"""

from .rules import (
    DEFAULT_COMPARISON,
    Scenario,
    named_scenario,
    parse_campaign,
    parse_segment,
    parse_sweep,
    parse_tiers,
    scenarios_from_mapping,
    scenarios_from_toml,
    sweep_scenarios,
)
from .simulation import PromoResult, Response, parse_share, simulate

__all__ = [
    "DEFAULT_COMPARISON",
    "PromoResult",
    "Response",
    "Scenario",
    "named_scenario",
    "parse_campaign",
    "parse_segment",
    "parse_share",
    "parse_sweep",
    "parse_tiers",
    "scenarios_from_mapping",
    "scenarios_from_toml",
    "simulate",
    "sweep_scenarios",
]
