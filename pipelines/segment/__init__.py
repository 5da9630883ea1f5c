"""Customer and order segments.

Order-value bands, ABC classes, RFM segments, profiles by category, and loyalty tiers.
"""

from .abc import AbcResult, classify_customers, parse_pair, parse_weights
from .buckets import BucketsResult, bucket_orders, parse_edges
from .profile import ProfileResult, parse_by, profile_customers
from .rfm import DEFAULT_RULES, RfmResult, rfm_segments, rules_from_config
from .tiers import DEFAULT_LADDER, Ladder, parse_ladder, tier_expr

__all__ = [
    "AbcResult",
    "BucketsResult",
    "DEFAULT_LADDER",
    "DEFAULT_RULES",
    "Ladder",
    "ProfileResult",
    "RfmResult",
    "bucket_orders",
    "classify_customers",
    "parse_by",
    "parse_edges",
    "parse_ladder",
    "parse_pair",
    "parse_weights",
    "profile_customers",
    "rfm_segments",
    "rules_from_config",
    "tier_expr",
]
