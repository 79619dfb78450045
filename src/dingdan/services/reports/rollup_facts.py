"""What one order adds to the daily rollups (db/report_tables.py): pure, from the order as
it is now, so that recomputing it after any change and swapping it for what it added before
keeps the rollups exact.

Every row is ``(dimension, key, orders, units, revenue_minor)`` on the order's day (its
placement, in the seller's time zone) and in its currency. Refunds count on the order's
day. A cancelled order adds only to ``placed`` and ``cancelled``.

Dimensions:

- sales (not cancelled): ``total`` (key ""), ``channel``, ``country``, ``region`` (ISO
  3166-2, "" unknown), ``customer`` (id), ``weekday_hour`` (``"7|23"``: Sunday, 23:00
  local): 1 order, its units (ordered less cancelled) and revenue (total with shipping
  and tax, less refunds); ``product`` (SKU): 1 order, units, line amount (units × unit price).
- KPIs: ``placed`` (every order; units ordered), ``cancelled``, ``backorder`` (an order with
  units backordered at capture; those units), ``shipped`` (an order with a shipment; units
  shipped), ``returned`` (units received back), ``ship_hours`` (key: whole hours from
  placement to the first shipment), ``perfect_hours`` (the same, for orders shipped
  complete, without a delivery exception, and not returned as damaged or wrong), ``rating``
  (key: the customer's stars, 1 to 5; 1 order).
- stock-outs: ``stockout`` (SKU: units backordered at capture and their amount),
  ``stockout_lost`` (SKU: of those, units later cancelled, and their amount).
- carriers (per shipment): ``carrier`` (shipments, units), ``carrier_exception``,
  ``carrier_lost``, ``carrier_returned`` (units returned, charged to the first shipment
  that carried the SKU), ``carrier_transit`` (key ``carrier|region|days``: delivered
  shipments by whole local days in transit).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from dingdan.domain.shared import tw_postal
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE

Fact = tuple[str, str, int, int, int]
BAD_RETURN_REASONS = frozenset({"damaged", "wrong_item", "defective"})


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: int
    cancelled: int
    unit_price_minor: int
    shipped: int
    returned: int


@dataclass(frozen=True)
class Parcel:
    carrier: str
    shipped_at: datetime
    delivered_at: datetime | None
    exception: str | None
    skus: dict[str, int]


@dataclass
class OrderState:
    """An order as the rollups see it."""

    id: int
    created_at: datetime
    status: str
    currency: str
    channel: str
    customer_id: int
    address: dict[str, Any]
    total_minor: int
    refunded_minor: int
    lines: list[Line] = field(default_factory=list)
    backordered: dict[str, int] = field(default_factory=dict)  # at capture, by SKU
    parcels: list[Parcel] = field(default_factory=list)
    returned: list[tuple[str, str, int]] = field(default_factory=list)  # sku, reason, units
    rating: int | None = None  # the customer's, 1 to 5


def local_day(instant: datetime) -> date:
    return instant.astimezone(SELLER_TIMEZONE).date()


def region_of(address: Mapping[str, object]) -> str:
    """The ISO 3166-2 code of the 縣市 (Taiwan) from the address's city, else from its postal
    code; elsewhere the address's region when it is already such a code; else ""."""
    return _region(
        str(address.get("country") or "").upper(),
        str(address.get("city") or ""),
        str(address.get("postal_code") or "").strip()[:3],
        str(address.get("region") or "").strip().upper(),
    )


@lru_cache(maxsize=4096)
def _region(country: str, city: str, code: str, region: str) -> str:
    if country == "TW":
        found = tw_postal.city(city)
        if found is None:
            found = next(
                (c for c in tw_postal.cities() if any(dc == code for _n, dc in c["districts"])),
                None,
            )
        return str(found["iso"]) if found else ""
    return region if region.startswith(f"{country}-") and len(region) <= 10 else ""


def facts(order: OrderState) -> list[Fact]:
    """The rows ``order`` adds, summed per (dimension, key), sorted."""
    out: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])

    def put(dim: str, key: str, orders: int = 0, units: int = 0, revenue: int = 0) -> None:
        row = out[(dim, key[:120])]
        row[0] += orders
        row[1] += units
        row[2] += revenue

    put("placed", "", 1, sum(ln.quantity for ln in order.lines))
    if order.status == "cancelled":
        put("cancelled", "", 1)
        _stockouts(order, put)
        return _sorted(out)
    _sales(order, put)
    if order.rating is not None:
        put("rating", str(order.rating), 1)
    _stockouts(order, put)
    _fulfilment(order, put)
    _carriers(order, put)
    return _sorted(out)


def _sorted(out: dict[tuple[str, str], list[int]]) -> list[Fact]:
    return [(d, k, o, u, r) for (d, k), (o, u, r) in sorted(out.items()) if o or u or r]


def _sales(order: OrderState, put: Any) -> None:
    units = sum(ln.quantity - ln.cancelled for ln in order.lines)
    revenue = order.total_minor - order.refunded_minor
    local = order.created_at.astimezone(SELLER_TIMEZONE)
    put("total", "", 1, units, revenue)
    put("channel", order.channel, 1, units, revenue)
    put("country", str(order.address.get("country") or "").upper(), 1, units, revenue)
    put("region", region_of(order.address), 1, units, revenue)
    put("customer", str(order.customer_id), 1, units, revenue)
    put("weekday_hour", f"{local.isoweekday()}|{local.hour}", 1, units, revenue)
    by_sku: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for ln in order.lines:
        kept = ln.quantity - ln.cancelled
        if kept > 0:
            by_sku[ln.sku][0] += kept
            by_sku[ln.sku][1] += kept * ln.unit_price_minor
    for sku, (u, amount) in by_sku.items():
        put("product", sku, 1, u, amount)


def _stockouts(order: OrderState, put: Any) -> None:
    if not order.backordered:
        return
    put("backorder", "", 1, sum(order.backordered.values()))
    for sku, back in order.backordered.items():
        lines = [ln for ln in order.lines if ln.sku == sku]
        price = lines[0].unit_price_minor if lines else 0
        put("stockout", sku, 1, back, back * price)
        lost = min(back, sum(ln.cancelled for ln in lines))
        if lost > 0:
            put("stockout_lost", sku, 1, lost, lost * price)


def _fulfilment(order: OrderState, put: Any) -> None:
    shipped = sum(ln.shipped for ln in order.lines)
    put("returned", "", 0, sum(ln.returned for ln in order.lines))
    if not order.parcels:
        return
    put("shipped", "", 1, shipped)
    first = min(p.shipped_at for p in order.parcels)
    hours = max(0, int((first - order.created_at).total_seconds() // 3600))
    put("ship_hours", str(hours), 1)
    complete = all(ln.shipped == ln.quantity - ln.cancelled for ln in order.lines)
    clean = not any(p.exception for p in order.parcels)
    bad = any(reason in BAD_RETURN_REASONS and n > 0 for _s, reason, n in order.returned)
    if complete and clean and not bad:
        put("perfect_hours", str(hours), 1)


def _carriers(order: OrderState, put: Any) -> None:
    region = region_of(order.address)
    first_carrier: dict[str, str] = {}
    for p in sorted(order.parcels, key=lambda p: p.shipped_at):
        put("carrier", p.carrier, 1, sum(p.skus.values()))
        for sku in p.skus:
            first_carrier.setdefault(sku, p.carrier)
        if p.exception:
            put("carrier_exception", p.carrier, 1)
        if p.exception == "lost":
            put("carrier_lost", p.carrier, 1)
        if p.delivered_at is not None:
            days = max(0, (local_day(p.delivered_at) - local_day(p.shipped_at)).days)
            put("carrier_transit", f"{p.carrier}|{region}|{days}", 1)
    for sku, _reason, n in order.returned:
        if sku in first_carrier and n > 0:
            put("carrier_returned", first_carrier[sku], 0, n)
