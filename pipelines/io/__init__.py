"""Loading and validating the exports.

Files, headers, parsing, rejects, the cache, and lines to orders. Every analysis reads its
data through :class:`Inputs`.
"""

from .cache import Cache, default_dir
from .check import check_inputs
from .inputs import (
    InputReport,
    Inputs,
    collect,
    refusal,
    report_of,
    sample_path,
    tally_loaded,
)
from .loader import LoadOptions, Source, load_source, rejected_rows
from .orders import Period, customer_orders, has_cost, orders_frame, paid_lines
from .sources import resolve_paths

__all__ = [
    "Cache",
    "InputReport",
    "Inputs",
    "LoadOptions",
    "Period",
    "Source",
    "check_inputs",
    "collect",
    "customer_orders",
    "default_dir",
    "has_cost",
    "load_source",
    "orders_frame",
    "refusal",
    "paid_lines",
    "report_of",
    "resolve_paths",
    "rejected_rows",
    "sample_path",
    "tally_loaded",
]
