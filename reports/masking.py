"""``--mask-ids``: customer and user ids replaced by salted hashes in every output.

An id becomes ``"m_" + the first 16 hex digits of SHA-256(salt + id)``: the same id gives
the same token within one salt (so joins across files still work), and without the salt
the ids cannot be recovered by hashing guesses. The salt comes from ``--mask-salt`` or
``[privacy] salt`` in cust.toml; without one the command refuses to run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any

ID_COLUMNS = ("customer_id", "user_id")


def token(value: Any, salt: str) -> Any:
    """The masked form of one id (None stays None)."""
    if value is None:
        return None
    digest = hashlib.sha256(f"{salt}\x1f{value}".encode()).hexdigest()
    return f"m_{digest[:16]}"


def mask_frame(frame: Any, salt: str) -> Any:
    """``frame`` with every id column masked (vectorised: one hash per distinct id)."""
    import polars as pl

    for name in ID_COLUMNS:
        if name in frame.columns:
            ids = frame.get_column(name).cast(pl.String).unique().drop_nulls()
            mapping = {v: token(v, salt) for v in ids.to_list()}
            frame = frame.with_columns(
                pl.col(name).cast(pl.String).replace_strict(mapping, default=None)
            )
    return frame


def mask_json(value: Any, salt: str) -> Any:
    """A JSON document with every value under an id key masked."""
    if isinstance(value, dict):
        return {
            k: (token(v, salt) if k in ID_COLUMNS and not isinstance(v, dict | list)
                else mask_json(v, salt))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_json(v, salt) for v in value]
    return value


def masked(result: Any, salt: str) -> Masked:
    """``result`` seen through the mask.

    A result whose values are ids under keys of their own (``paths --field user_id``: the
    origin and the steps) says so by its ``field`` and is relabelled first.
    """
    relabel = getattr(result, "relabelled", None)
    if relabel is not None and getattr(result, "field", None) in ID_COLUMNS:
        result = relabel(lambda v: token(v, salt))
    return Masked(result, salt)


@dataclass(frozen=True)
class Masked:
    """A result seen through the mask: same tables, notes and input, ids hashed."""

    result: Any
    salt: str

    @property
    def command(self) -> str:
        """The wrapped command name."""
        return self.result.command

    @property
    def input(self) -> Any:
        """The input report (no ids in it)."""
        return self.result.input

    def to_json(self) -> dict[str, Any]:
        """The JSON document, ids masked."""
        return mask_json(self.result.to_json(), self.salt)

    def tables(self) -> list[Any]:
        """Every table, ids masked."""
        return [replace(t, frame=mask_frame(t.frame, self.salt)) for t in self.result.tables()]

    def notes(self) -> list[str]:
        """The result's notes, and that ids are masked."""
        return [*self.result.notes(), "Customer and user ids are masked (--mask-ids)."]

    def export_table(self) -> Any:
        """The export table, ids masked."""
        exporter = getattr(self.result, "export_table", None)
        frame = exporter() if exporter is not None else self.result.tables()[0].frame
        return mask_frame(frame, self.salt)
