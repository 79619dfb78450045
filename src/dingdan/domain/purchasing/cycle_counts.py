"""Which SKUs a cycle count is due for: A monthly, B quarterly, C yearly by default.

A SKU is due when it was never counted at the location, or when its class's interval (in
days) has passed since it was last counted. The sheet lists A before B before C, and within
a class the never counted first, then the longest uncounted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

DEFAULT_INTERVALS: dict[str, int] = {"A": 30, "B": 91, "C": 365}
CLASSES = ("A", "B", "C")
MAX_INTERVAL_DAYS = 3660


@dataclass(frozen=True)
class Candidate:
    sku: str
    klass: str  # A, B or C (a SKU without sales in the report's year is C)
    last_counted: date | None


def intervals(stored: Any) -> dict[str, int]:
    """The intervals from the setting (``{"A": 30, "B": 91, "C": 365}``, any of them; a
    value that is not 1 to 3660 days is ignored)."""
    out = dict(DEFAULT_INTERVALS)
    if isinstance(stored, dict):
        for key in CLASSES:
            value = stored.get(key, stored.get(key.lower()))
            if not isinstance(value, int) or isinstance(value, bool):
                continue
            if 1 <= value <= MAX_INTERVAL_DAYS:
                out[key] = value
    return out


def is_due(klass: str, last_counted: date | None, today: date, every: dict[str, int]) -> bool:
    if last_counted is None:
        return True
    return (today - last_counted).days >= every.get(klass, every["C"])


def due(candidates: list[Candidate], today: date, every: dict[str, int]) -> list[Candidate]:
    """The candidates due for counting, in the sheet's order."""
    found = [c for c in candidates if is_due(c.klass, c.last_counted, today, every)]
    return sorted(
        found,
        key=lambda c: (
            CLASSES.index(c.klass) if c.klass in CLASSES else len(CLASSES),
            c.last_counted is not None,
            c.last_counted or date.min,
            c.sku,
        ),
    )


def difference(counted: int, on_hand_at_count: int) -> int:
    """What posting a counted line changes on hand by: the count minus the on-hand recorded
    when it was counted. Stock that moved after the count (a shipment, a receipt) is already
    in the level, so it is neither undone nor counted twice."""
    return counted - on_hand_at_count
