"""Customer levels (会员等级) from loyalty points (积分).

A ladder names each level and the minimum points it needs. A customer is on the highest
level whose minimum is at most their points: with the default ladder, exactly 1000 points
is ``silver`` and 999.5 points is ``regular``. Customers without points (no value in the
customers export) have no level. The lowest level must start at 0, so that every
customer with points has one; negative points (a debit balance) count as the lowest level.

The default ladder is :data:`DEFAULT_LADDER`. A shop with other levels writes its whole
ladder in ``cust.toml``; the table replaces the default one (it is not merged into it)::

    [tiers]
    regular = 0
    silver = 1000
    gold = 5000
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from ..errors import ConfigError

Ladder = tuple[tuple[str, float], ...]
"""Level name and minimum points, from the lowest level up."""

DEFAULT_LADDER: Ladder = (
    ("regular", 0.0),
    ("silver", 1000.0),
    ("gold", 5000.0),
    ("platinum", 20000.0),
    ("diamond", 50000.0),
)

_EXAMPLE = "[tiers]\nregular = 0\nsilver = 1000\ngold = 5000"


def parse_ladder(section: Mapping[str, Any], *, where: str = "cust.toml") -> Ladder:
    """Validate a ``[tiers]`` table (name -> minimum points) into a ladder.

    An empty table gives :data:`DEFAULT_LADDER`.

    Raises
    ------
    ConfigError
        A minimum is not a non-negative number, two levels share a minimum, a name is
        blank, or no level starts at 0.

    Examples
    --------
    >>> parse_ladder({"vip": 500, "regular": 0})
    (('regular', 0.0), ('vip', 500.0))
    """
    if not section:
        return DEFAULT_LADDER
    ladder: list[tuple[str, float]] = []
    for name, minimum in section.items():
        if not str(name).strip():
            msg = f"{where}: [tiers] has a level with a blank name"
            raise ConfigError(msg, hint=_EXAMPLE)
        if isinstance(minimum, bool) or not isinstance(minimum, int | float):
            msg = f"{where}: [tiers] {name} = {minimum!r} is not a number of points"
            raise ConfigError(msg, hint=f"write the minimum points of each level:\n{_EXAMPLE}")
        if not minimum >= 0 or minimum == float("inf"):
            msg = f"{where}: [tiers] {name} = {minimum!r}: the minimum points must be >= 0"
            raise ConfigError(msg, hint=_EXAMPLE)
        ladder.append((str(name), float(minimum)))
    ladder.sort(key=lambda level: level[1])
    for (a, lo), (b, hi) in zip(ladder, ladder[1:], strict=False):
        if lo == hi:
            msg = f"{where}: [tiers] {a} and {b} both start at {lo:g} points"
            raise ConfigError(msg, hint="give every level its own minimum")
    if ladder[0][1] != 0:
        msg = (
            f"{where}: [tiers] the lowest level {ladder[0][0]} starts at {ladder[0][1]:g} points; "
            "the table replaces the whole default ladder, so it needs a level at 0"
        )
        raise ConfigError(msg, hint=_EXAMPLE)
    return tuple(ladder)


def tier_expr(points: pl.Expr, ladder: Ladder = DEFAULT_LADDER) -> pl.Expr:
    """The level of ``points`` on ``ladder`` (null when points are null).

    Examples
    --------
    >>> df = pl.DataFrame({"points": [0.0, 999.0, 1000.0, 60000.0, None]})
    >>> df.select(tier_expr(pl.col("points")).alias("tier"))["tier"].to_list()
    ['regular', 'regular', 'silver', 'diamond', None]
    """
    level: pl.Expr = pl.when(points.is_not_null()).then(pl.lit(ladder[0][0], dtype=pl.String))
    for name, minimum in ladder[1:]:
        level = pl.when(points >= minimum).then(pl.lit(name, dtype=pl.String)).otherwise(level)
    return level


def ladder_frame(ladder: Ladder = DEFAULT_LADDER) -> pl.DataFrame:
    """One row per level, lowest first: ``tier`` and ``min_points``."""
    return pl.DataFrame(
        {"tier": [name for name, _ in ladder], "min_points": [m for _, m in ladder]},
        schema={"tier": pl.String, "min_points": pl.Float64},
    )
