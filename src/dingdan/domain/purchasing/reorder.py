"""Replenishment arithmetic, pure: when to reorder and how much.

Demand per day is a mean ``d`` and a standard deviation ``σ``; the supplier needs ``L`` days
to deliver. Over the lead time demand is ``d·L`` on average with a standard deviation of
``σ·√L`` (days taken as independent), so for a service level (the chance of not running
out before the goods arrive) with normal quantile ``z``:

    safety stock  = z · σ · √L
    reorder point = d · L + safety stock          (rounded up to whole units)

A SKU needs ordering when available + on order <= reorder point. The suggested quantity
brings the position up to the reorder point plus one review period of demand (the cycle
stock), rounded up to whole packs and at least the supplier's minimum (itself in packs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

DEFAULT_SERVICE_LEVEL = 0.95
DEFAULT_REVIEW_DAYS = 14  # the cycle: how many days of demand one order should cover


def z_for(service_level: float) -> float:
    """The standard normal quantile of ``service_level`` (0.95 → 1.6449)."""
    if not 0.5 <= service_level < 1:
        raise ValueError("a service level is from 0.5 to below 1")
    return NormalDist().inv_cdf(service_level)


def safety_stock(sigma_daily: float, lead_time_days: int, service_level: float) -> float:
    if sigma_daily <= 0 or lead_time_days <= 0:
        return 0.0
    return z_for(service_level) * sigma_daily * math.sqrt(lead_time_days)


def reorder_point(
    mean_daily: float,
    sigma_daily: float,
    lead_time_days: int,
    service_level: float = DEFAULT_SERVICE_LEVEL,
) -> int:
    """Demand over the lead time plus safety stock, in whole units (rounded up; a small
    epsilon first, so that 12.000000001 from floating point stays 12)."""
    exact = mean_daily * lead_time_days + safety_stock(sigma_daily, lead_time_days, service_level)
    return max(0, math.ceil(exact - 1e-9))


def round_to_pack(quantity: int, pack_size: int) -> int:
    pack = max(1, pack_size)
    return -(-quantity // pack) * pack


@dataclass(frozen=True)
class Position:
    available: int
    on_order: int

    @property
    def total(self) -> int:
        return self.available + self.on_order


def needs_order(position: Position, point: int) -> bool:
    return position.total <= point


def suggested_quantity(
    position: Position,
    point: int,
    mean_daily: float,
    *,
    pack_size: int = 1,
    minimum_quantity: int = 0,
    review_days: int = DEFAULT_REVIEW_DAYS,
) -> int:
    """Units to order: up to the reorder point plus ``review_days`` of demand, at least one
    unit, rounded up to packs and to at least the supplier's minimum (also in packs)."""
    target = point + math.ceil(mean_daily * review_days - 1e-9)
    wanted = max(1, target - position.total)
    wanted = max(wanted, minimum_quantity)
    return round_to_pack(wanted, pack_size)


def top_up_to_amount(
    quantities: list[int], unit_costs: list[int], pack_size: int, minimum_minor: int
) -> list[int]:
    """Quantities raised by whole packs until the order's value (Σ quantity × unit cost,
    minor units) reaches the supplier's minimum amount: whole rounds of one pack on every
    line that has a cost, then one pack a line in order until it is reached. Lines without
    a cost cannot help (an order of them is left as it is)."""
    out = list(quantities)
    pack = max(1, pack_size)
    payable = [i for i, c in enumerate(unit_costs) if c > 0]
    total = sum(q * c for q, c in zip(out, unit_costs, strict=True))
    if not payable or total >= minimum_minor:
        return out
    per_round = pack * sum(unit_costs[i] for i in payable)
    rounds = (minimum_minor - total) // per_round
    for i in payable:
        out[i] += rounds * pack
    total += rounds * per_round
    for i in payable:
        if total >= minimum_minor:
            break
        out[i] += pack
        total += pack * unit_costs[i]
    return out


# The one rule for "low" at a location (services/purchasing/positions.py): the level a SKU's
# position (available + on order) is compared with, first found.
POINT_SOURCES = ("location", "product", "computed", "threshold")


def governing_point(
    location_point: int | None,
    product_point: int | None,
    computed_point: int | None,
    threshold: int | None,
) -> tuple[int, str] | None:
    """(level, source): the location's own reorder point, else the product's (set by hand),
    else the one computed from demand, else the low-stock threshold (given only where the
    location holds the SKU); None when none applies."""
    values = (location_point, product_point, computed_point, threshold)
    for source, value in zip(POINT_SOURCES, values, strict=True):
        if value is not None:
            return int(value), source
    return None
