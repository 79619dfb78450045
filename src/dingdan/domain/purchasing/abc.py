"""ABC and XYZ classes of SKUs (shared/CONTRACT.md, "Reports": the ABC report).

ABC by revenue: SKUs by revenue, largest first, ties by SKU; a SKU is ``A`` when the SKUs
before it hold under ``a`` (80%) of the revenue, ``B`` under ``b`` (95%), else ``C``. The
first SKU is therefore always A (nothing before it), and a SKU whose predecessors hold
exactly 80% is B. Shares are exact fractions (revenue in minor units), so a boundary is
met exactly, never missed by a float's rounding.

XYZ by the variability of demand: the coefficient of variation (population standard
deviation over mean) of the weekly units; ``X`` under ``x`` (0.5), ``Y`` under ``y`` (1.0),
else ``Z``; a SKU with no demand in the weeks is ``Z``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

DEFAULT_A = Fraction(80, 100)
DEFAULT_B = Fraction(95, 100)
DEFAULT_X = 0.5
DEFAULT_Y = 1.0


@dataclass(frozen=True)
class AbcRow:
    sku: str
    revenue_minor: int
    share: Fraction
    cumulative_share: Fraction
    klass: str


def abc(revenues: dict[str, int], a: Fraction = DEFAULT_A, b: Fraction = DEFAULT_B) -> list[AbcRow]:
    """Rows for every SKU of ``revenues`` (minor units), largest first, ties by SKU."""
    if not 0 < a <= b <= 1:
        raise ValueError("thresholds must satisfy 0 < a <= b <= 1")
    ordered = sorted(revenues.items(), key=lambda item: (-item[1], item[0]))
    total = sum(max(0, v) for _, v in ordered)
    rows = []
    before = Fraction(0)
    for sku, revenue in ordered:
        share = Fraction(max(0, revenue), total) if total else Fraction(0)
        klass = "A" if before < a else "B" if before < b else "C"
        if total == 0:
            klass = "C"
        rows.append(AbcRow(sku, revenue, share, before + share, klass))
        before += share
    return rows


def coefficient_of_variation(weekly: Sequence[float]) -> float | None:
    """Population standard deviation over mean; None with no demand (or no weeks)."""
    if not weekly:
        return None
    mean = sum(weekly) / len(weekly)
    if mean <= 0:
        return None
    variance = sum((w - mean) ** 2 for w in weekly) / len(weekly)
    return math.sqrt(variance) / mean


def xyz(weekly: Sequence[float], x: float = DEFAULT_X, y: float = DEFAULT_Y) -> str:
    cv = coefficient_of_variation(weekly)
    if cv is None:
        return "Z"
    return "X" if cv < x else "Y" if cv < y else "Z"
