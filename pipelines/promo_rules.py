"""Promotion scenarios: a threshold and one reward, from options or a TOML table.

See :mod:`cust.pipelines.promo` for what each reward costs; this module holds the scenario
type, its reward expression, and the parsers of ``--tiers``, ``--sweep``, ``--segment``
and ``[scenarios.<name>]`` tables.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl

from .errors import ConfigError, InvalidOptionError


@dataclass(frozen=True)
class Scenario:
    """One threshold promotion."""

    threshold: float
    reward_amount: float | None = None
    per_multiple: bool = False
    reward_percent: float | None = None
    gift_cost: float | None = None
    tiers: tuple[tuple[float, float], ...] = ()
    lottery_prize_cost: float | None = None
    points_rate: float | None = None
    point_value: float = 0.01
    name: str = ""

    def __post_init__(self) -> None:
        """Exactly one reward, all amounts non-negative, a positive threshold."""
        kinds = [
            self.reward_amount is not None,
            self.reward_percent is not None,
            self.gift_cost is not None,
            bool(self.tiers),
            self.lottery_prize_cost is not None,
            self.points_rate is not None,
        ]
        if sum(kinds) != 1:
            msg = "a scenario needs exactly one reward"
            raise InvalidOptionError(
                msg,
                hint="give one of --reward-amount, --reward-percent, --gift-cost, --tiers, "
                "--lottery-prize-cost, --points-rate (e.g. --threshold 5000 --reward-amount 500)",
            )
        if not self.tiers and not (self.threshold > 0 and math.isfinite(self.threshold)):
            msg = f"threshold {self.threshold} is not a positive amount"
            raise InvalidOptionError(msg, hint="e.g. --threshold 5000")
        numbers = [
            self.reward_amount, self.reward_percent, self.gift_cost, self.lottery_prize_cost,
            self.points_rate, self.point_value, *(v for t in self.tiers for v in t),
        ]
        if any(n is not None and (n < 0 or not math.isfinite(n)) for n in numbers):
            msg = "rewards, costs and rates must be non-negative numbers"
            raise InvalidOptionError(msg, hint="e.g. --reward-amount 500")
        if self.reward_percent is not None and self.reward_percent > 100:
            msg = f"--reward-percent {self.reward_percent} is above 100"
            raise InvalidOptionError(msg, hint="give a percentage, e.g. --reward-percent 5")

    @property
    def kind(self) -> str:
        """满减, 每满减, percent, 满赠, tiers, lottery or points."""
        if self.tiers:
            return "tiers"
        if self.reward_amount is not None:
            return "per_multiple" if self.per_multiple else "amount"
        if self.reward_percent is not None:
            return "percent"
        if self.gift_cost is not None:
            return "gift"
        if self.lottery_prize_cost is not None:
            return "lottery"
        return "points"

    @property
    def lowers_revenue(self) -> bool:
        """Whether the reward is money off the order (else it costs gross profit only)."""
        return self.kind in ("amount", "per_multiple", "percent", "tiers")

    @property
    def cost_kind(self) -> str:
        """How the reward is paid for, as stated in the output.

        ``money_off`` lowers revenue; ``gift_at_purchase_cost`` (满赠),
        ``expected_lottery_prizes`` (probability x prize cost per draw) and
        ``points_liability`` (points x yuan value of a point) cost gross profit only.
        """
        return {
            "gift": "gift_at_purchase_cost",
            "lottery": "expected_lottery_prizes",
            "points": "points_liability",
        }.get(self.kind, "money_off")

    @property
    def entry(self) -> float:
        """The order value from which the scenario pays anything."""
        return min(t for t, _ in self.tiers) if self.tiers else self.threshold

    def label(self) -> str:
        """A short description, e.g. ``满5000减500``."""
        if self.name:
            return self.name
        x = _num(self.threshold)
        return {
            "amount": lambda: f"满{x}减{_num(self.reward_amount)}",
            "per_multiple": lambda: f"每满{x}减{_num(self.reward_amount)}",
            "percent": lambda: f"满{x}打{_num(100 - (self.reward_percent or 0))}%",
            "gift": lambda: f"满{x}赠(成本{_num(self.gift_cost)})",
            "tiers": lambda: "阶梯" + ",".join(f"{_num(t)}减{_num(r)}" for t, r in self.tiers),
            "lottery": lambda: f"满{x}抽奖(每次{_num(self.lottery_prize_cost)})",
            "points": lambda: f"满{x}积分x{_num(self.points_rate)}",
        }[self.kind]()

    def reward(self, value: pl.Expr) -> pl.Expr:
        """The reward an order of ``value`` gets (0 when it does not qualify)."""
        x = self.threshold
        if self.kind == "tiers":
            out = pl.lit(0.0)
            for t, r in sorted(self.tiers):
                out = pl.when(value >= t).then(pl.lit(r)).otherwise(out)
            return pl.min_horizontal(out, value)
        multiples = (value / x).floor()
        reward = {
            "amount": pl.min_horizontal(pl.lit(self.reward_amount), value),
            "per_multiple": pl.min_horizontal(multiples * (self.reward_amount or 0.0), value),
            "percent": value * (self.reward_percent or 0.0) / 100,
            "gift": pl.lit(self.gift_cost),
            "lottery": multiples * (self.lottery_prize_cost or 0.0),
            "points": value * (self.points_rate or 0.0) * self.point_value,
        }[self.kind]
        return pl.when(value >= x).then(reward).otherwise(0.0).cast(pl.Float64)

    def describe(self) -> dict[str, Any]:
        """The scenario's parameters for the JSON document."""
        doc: dict[str, Any] = {"name": self.label(), "kind": self.kind,
                               "cost_kind": self.cost_kind}
        doc["threshold"] = self.entry
        for key in ("reward_amount", "reward_percent", "gift_cost", "lottery_prize_cost",
                    "points_rate"):
            if getattr(self, key) is not None:
                doc[key] = getattr(self, key)
        if self.kind == "points":
            doc["point_value"] = self.point_value
        if self.tiers:
            doc["tiers"] = [{"threshold": t, "reward": r} for t, r in self.tiers]
        return doc


def _num(x: float | None) -> str:
    return "" if x is None else (f"{x:g}")


def parse_tiers(text: str) -> tuple[tuple[float, float], ...]:
    """``100:10,500:60`` -> ((100, 10), (500, 60))."""
    try:
        tiers = tuple(
            (float(t), float(r))
            for t, r in (part.split(":") for part in text.split(",") if part.strip())
        )
    except ValueError:
        msg = f"--tiers {text!r} is not a list of threshold:reward"
        raise InvalidOptionError(msg, hint="e.g. --tiers 100:10,500:60,1000:150") from None
    if not tiers or any(t <= 0 for t, _ in tiers):
        msg = f"--tiers {text!r} needs positive thresholds"
        raise InvalidOptionError(msg, hint="e.g. --tiers 100:10,500:60,1000:150")
    return tiers


def parse_sweep(text: str) -> list[float]:
    """``500:10000:500`` -> [500, 1000, ..., 10000] (start:stop:step, stop included)."""
    try:
        start, stop, step = (float(p) for p in text.split(":"))
    except ValueError:
        msg = f"--sweep {text!r} is not start:stop:step"
        raise InvalidOptionError(msg, hint="e.g. --sweep 500:10000:500") from None
    if step <= 0 or start <= 0 or stop < start:
        msg = f"--sweep {text!r} needs 0 < start <= stop and a positive step"
        raise InvalidOptionError(msg, hint="e.g. --sweep 500:10000:500")
    count = int(math.floor((stop - start) / step + 1e-9)) + 1
    if count > 1000:
        msg = f"--sweep {text!r} gives {count} thresholds"
        raise InvalidOptionError(msg, hint="use at most 1000 thresholds (a larger step)")
    return [round(start + i * step, 6) for i in range(count)]


def parse_segment(text: str | None) -> dict[str, str]:
    """``customer_type=enterprise,industry=automotive`` -> {column: value}."""
    out: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            msg = f"--segment {text!r} is not column=value[,column=value]"
            raise InvalidOptionError(msg, hint="e.g. --segment customer_type=enterprise")
        out[key.strip()] = value.strip()
    return out


_TOML_KEYS = {
    "threshold", "reward_amount", "per_multiple", "reward_percent", "gift_cost", "tiers",
    "lottery_prize_cost", "points_rate", "point_value",
}


def scenarios_from_toml(path: Path) -> list[Scenario]:
    """Scenarios from ``[scenarios.<name>]`` tables (or ``[promo.scenarios.<name>]``)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = f"scenario file {path} does not exist"
        hint = "give the path of a TOML file with [scenarios.<name>] tables"
        raise ConfigError(msg, hint=hint) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = f"{path} is not valid TOML: {exc}"
        raise ConfigError(msg, hint="see the README for an example scenarios file") from None
    return scenarios_from_mapping(data.get("promo", data).get("scenarios", {}), str(path))


def scenarios_from_mapping(tables: Any, where: str) -> list[Scenario]:
    """Scenarios from a mapping name -> options (``tiers`` as "100:10,500:60" or pairs)."""
    example = '[scenarios.spend_5000]\nthreshold = 5000\nreward_amount = 500'
    if not isinstance(tables, dict) or not tables:
        msg = f"{where} defines no scenarios"
        raise ConfigError(msg, hint=example)
    out = []
    for name, spec in tables.items():
        if not isinstance(spec, dict) or set(spec) - _TOML_KEYS:
            unknown = sorted(set(spec) - _TOML_KEYS) if isinstance(spec, dict) else spec
            msg = f"scenario {name!r} in {where}: unknown keys {unknown}"
            raise ConfigError(msg, hint=f"known keys: {', '.join(sorted(_TOML_KEYS))}")
        args = dict(spec)
        tiers = args.pop("tiers", ())
        if isinstance(tiers, str):
            tiers = parse_tiers(tiers)
        else:
            tiers = tuple((float(t), float(r)) for t, r in tiers)
        threshold = float(args.pop("threshold", min((t for t, _ in tiers), default=0.0)))
        try:
            out.append(Scenario(threshold=threshold, tiers=tiers, name=str(name), **args))
        except InvalidOptionError as exc:
            msg = f"scenario {name!r} in {where}: {exc}"
            raise ConfigError(msg, hint=example) from None
    return out


def named_scenario(tables: Any, name: str, where: str) -> Scenario:
    """The scenario ``name`` of a ``[promo.scenarios]`` mapping (``--scenario NAME``)."""
    if not isinstance(tables, dict) or name not in tables:
        known = ", ".join(sorted(tables)) if isinstance(tables, dict) and tables else "none"
        msg = f"--scenario {name!r}: {where} has no such scenario (found: {known})"
        hint = (f"add it to cust.toml:\n[promo.scenarios.{name}]\nthreshold = 5000\n"
                "reward_amount = 500")
        raise ConfigError(msg, hint=hint)
    return scenarios_from_mapping({name: tables[name]}, where)[0]


# What ``cust promo compare`` ranks when neither a file nor cust.toml names scenarios.
DEFAULT_COMPARISON = (
    Scenario(threshold=500, reward_amount=50),
    Scenario(threshold=1000, reward_amount=100),
    Scenario(threshold=5000, reward_amount=500),
    Scenario(threshold=1000, reward_amount=80, per_multiple=True),
    Scenario(threshold=1000, gift_cost=60),
    Scenario(threshold=100, tiers=((100, 10), (500, 60), (1000, 150))),
)


def sweep_scenarios(template: Scenario, thresholds: Sequence[float]) -> list[Scenario]:
    """The same reward at every threshold of a sweep."""
    if template.tiers:
        msg = "--sweep does not apply to --tiers"
        raise InvalidOptionError(msg, hint="sweep a single threshold reward instead")
    return [
        replace(template, threshold=x, name=f"{template.name} @ {x:g}" if template.name else "")
        for x in thresholds
    ]


def parse_campaign(text: str | None) -> tuple[str | None, float | None]:
    """``MJ500`` -> ("MJ500", None); ``MJ500:500`` -> ("MJ500", 500.0) (code and threshold)."""
    if not text or not text.strip():
        return None, None
    code, sep, threshold = text.strip().rpartition(":")
    if not sep:
        return text.strip(), None
    try:
        value = float(threshold)
    except ValueError:
        value = float("nan")
    if not code.strip() or not (value > 0 and math.isfinite(value)):
        msg = f"--campaign {text!r} is not CODE or CODE:THRESHOLD"
        raise InvalidOptionError(msg, hint="e.g. --campaign MJ500 or --campaign MJ500:500")
    return code.strip(), value
