"""Promotion scenarios: a threshold and one reward, from options or a TOML table.

See :mod:`.simulation` for what each reward costs; this module holds the scenario
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

from ..errors import ConfigError, InvalidOptionError


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
        if self.per_multiple and self.reward_amount is None:
            msg = "--per-multiple (per_multiple) applies only to an amount reward"
            raise InvalidOptionError(
                msg, hint="每满X减Y needs --reward-amount Y, e.g. --threshold 1000 "
                "--reward-amount 80 --per-multiple",
            )
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
        if self.tiers:
            self._check_tiers()
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

    def _check_tiers(self) -> None:
        """Positive, distinct tier thresholds; the threshold, if stated, is the lowest tier."""
        given = ",".join(f"{_num(t)}:{_num(r)}" for t, r in self.tiers)
        hint = "one reward per threshold, e.g. --tiers 100:10,500:60,1000:150"
        if any(not t > 0 for t, _ in self.tiers):
            msg = f"tiers {given} need positive thresholds"
            raise InvalidOptionError(msg, hint=hint)
        seen = [t for t, _ in self.tiers]
        twice = sorted({t for t in seen if seen.count(t) > 1})
        if twice:
            msg = f"tiers {given} give the threshold {', '.join(map(_num, twice))} twice"
            raise InvalidOptionError(msg, hint=hint)
        lowest = min(seen)
        if self.threshold != lowest:
            msg = (f"threshold {_num(self.threshold)} contradicts the tiers {given}, whose "
                   f"lowest threshold is {_num(lowest)}")
            raise InvalidOptionError(
                msg, hint=f"with tiers the lowest tier is the threshold: leave the threshold "
                f"out, or give {_num(lowest)}",
            )

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


def parse_tiers(text: str, *, option: str = "--tiers") -> tuple[tuple[float, float], ...]:
    """``100:10,500:60`` -> ((100, 10), (500, 60)); the :class:`Scenario` checks them."""
    try:
        tiers = tuple(
            (float(t), float(r))
            for t, r in (part.split(":") for part in text.split(",") if part.strip())
        )
    except ValueError:
        msg = f"{option} {text!r} is not a list of threshold:reward"
        raise InvalidOptionError(msg, hint="e.g. --tiers 100:10,500:60,1000:150") from None
    if not tiers:
        msg = f"{option} {text!r} names no tier"
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


_TOML_NUMBERS = (
    "threshold", "reward_amount", "reward_percent", "gift_cost", "lottery_prize_cost",
    "points_rate", "point_value",
)
_TOML_KEYS = {*_TOML_NUMBERS, "per_multiple", "tiers"}
_EXAMPLE = "[scenarios.spend_5000]\nthreshold = 5000\nreward_amount = 500"
_TIERS_HINT = 'tiers = "100:10,500:60" or tiers = [[100, 10], [500, 60]]'


def scenarios_from_toml(path: Path) -> list[Scenario]:
    """Scenarios from ``[scenarios.<name>]`` tables (or ``[promo.scenarios.<name>]``).

    A file with a ``[promo]`` table is read as a ``cust.toml``: its other top-level keys
    must be those of ``cust.toml``. Any other file holds ``[scenarios.<name>]`` tables only,
    so a misspelt table (``[scenario.b]``) is refused instead of silently left out.
    """
    from ..settings import KNOWN_KEYS, check_keys

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        msg = f"scenario file {path} does not exist"
        hint = "give the path of a TOML file with [scenarios.<name>] tables"
        raise ConfigError(msg, hint=hint) from None
    except (IsADirectoryError, PermissionError) as exc:
        msg = f"scenario file {path} cannot be read: {exc.strerror}"
        hint = "give the path of a TOML file with [scenarios.<name>] tables"
        raise ConfigError(msg, hint=hint) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = f"{path} is not valid TOML: {exc}"
        raise ConfigError(msg, hint="see the README for an example scenarios file") from None
    if "promo" in data:
        allowed: tuple[str, ...] = KNOWN_KEYS
        what = "a cust.toml (it has a [promo] table)"
    else:
        allowed = ("scenarios",)
        what = "a scenarios file"
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        msg = f"{path}: unknown top-level key {', '.join(unknown)} in {what}"
        hint = (f"allowed: {', '.join(allowed)}; a scenarios file holds [scenarios.<name>] "
                "tables (or [promo.scenarios.<name>] as in cust.toml)")
        raise ConfigError(msg, hint=hint)
    if "promo" not in data:
        return scenarios_from_mapping(data.get("scenarios", {}), str(path))
    promo = data["promo"]
    if not isinstance(promo, dict):
        msg = f"{path}: [promo] must be a table, found {type(promo).__name__}"
        raise ConfigError(msg, hint="[promo.scenarios.spend_5000]\nthreshold = 5000\n"
                          "reward_amount = 500")
    check_keys(data, path)  # as a cust.toml: the keys of [promo] and the other tables
    return scenarios_from_mapping(promo.get("scenarios", {}), f"{path} [promo.scenarios]")


def scenarios_from_mapping(tables: Any, where: str) -> list[Scenario]:
    """Scenarios from a mapping name -> options (``tiers`` as "100:10,500:60" or pairs).

    Values keep their TOML types: amounts are numbers (not strings, not booleans),
    ``per_multiple`` is ``true`` or ``false``. A value of another type is refused with the
    scenario and the key named, never converted (``per_multiple = "false"`` is not true).
    """
    if not isinstance(tables, dict) or not tables:
        msg = f"{where} defines no scenarios"
        if isinstance(tables, dict) or tables is None:
            raise ConfigError(msg, hint=_EXAMPLE)
        msg = f"{where}: scenarios must be tables like [scenarios.<name>], found {tables!r}"
        raise ConfigError(msg, hint=_EXAMPLE)
    return [_scenario_from_table(str(name), spec, where) for name, spec in tables.items()]


def _scenario_from_table(name: str, spec: Any, where: str) -> Scenario:
    """One ``[scenarios.<name>]`` table, every value checked for its type."""
    at = f"scenario {name!r} in {where}"
    if not isinstance(spec, dict):
        msg = f"{at} must be a table of options, found {spec!r}"
        raise ConfigError(msg, hint=_EXAMPLE)
    unknown = sorted(set(spec) - _TOML_KEYS)
    if unknown:
        msg = f"{at}: unknown keys {unknown}"
        raise ConfigError(msg, hint=f"known keys: {', '.join(sorted(_TOML_KEYS))}")
    args: dict[str, Any] = {}
    for key in _TOML_NUMBERS:
        if key in spec:
            args[key] = _toml_number(spec[key], at, key)
    if "per_multiple" in spec:
        flag = spec["per_multiple"]
        if not isinstance(flag, bool):
            msg = f"{at}: per_multiple must be true or false, found {flag!r}"
            raise ConfigError(msg, hint="per_multiple = true  (a TOML boolean, without quotes)")
        args["per_multiple"] = flag
    tiers = _toml_tiers(spec["tiers"], at) if "tiers" in spec else ()
    args.setdefault("threshold", min((t for t, _ in tiers), default=0.0))
    try:
        return Scenario(tiers=tiers, name=name, **args)
    except InvalidOptionError as exc:
        msg = f"{at}: {exc.message}"
        hint = f"{exc.hint}; for example:\n{_EXAMPLE}" if exc.hint else _EXAMPLE
        raise ConfigError(msg, hint=hint) from None


def _toml_number(value: Any, at: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"{at}: {key} must be a number, found {value!r}"
        raise ConfigError(msg, hint=f"{key} = 500  (a number, without quotes)")
    return float(value)


def _toml_tiers(value: Any, at: str) -> tuple[tuple[float, float], ...]:
    """``"100:10,500:60"`` or ``[[100, 10], [500, 60]]``."""
    if isinstance(value, str):
        try:
            return parse_tiers(value, option="tiers")
        except InvalidOptionError as exc:
            msg = f"{at}: {exc.message}"
            raise ConfigError(msg, hint=_TIERS_HINT) from None
    pairs = value if isinstance(value, list) and value else None
    if pairs is None or any(
        not isinstance(p, list) or len(p) != 2
        or any(isinstance(v, bool) or not isinstance(v, int | float) for v in p)
        for p in pairs
    ):
        msg = f"{at}: tiers must be pairs of threshold and reward, found {value!r}"
        raise ConfigError(msg, hint=_TIERS_HINT)
    return tuple((float(t), float(r)) for t, r in pairs)


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
