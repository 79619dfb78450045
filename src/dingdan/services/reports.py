"""Read-only reports. The return rate: units received back on returns divided by units
shipped, by reason code, by SKU and by the carrier of the shipment that carried them.

A returned unit counts once it is received (resellable or damaged): requested units that
never came back, and rejected returns, are not returns of goods. A returned unit is charged
to the carrier of the order's first shipment that carried its SKU.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Connection, func, select

from dingdan.db.engine import Database
from dingdan.db.order_tables import OrderLine, Shipment
from dingdan.db.return_tables import Return, ReturnLine


def rate(returned: int, shipped: int) -> str | None:
    """A percentage with one decimal, as text; None when nothing was shipped."""
    if shipped <= 0:
        return None
    pct = Decimal(returned * 100) / Decimal(shipped)
    return str(pct.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _row(key: str, returned: int, shipped: int) -> dict[str, Any]:
    return {"key": key, "returned": returned, "shipped": shipped, "rate": rate(returned, shipped)}


def _returned_lines(conn: Connection) -> list[Any]:
    units = ReturnLine.resellable + ReturnLine.damaged
    return list(
        conn.execute(
            select(Return.order_id, ReturnLine.sku, ReturnLine.reason, units.label("units"))
            .join(Return, Return.id == ReturnLine.return_id)
            .where(units > 0)
        )
    )


def _shipped_by_sku(conn: Connection) -> dict[str, int]:
    rows = conn.execute(
        select(OrderLine.sku, func.sum(OrderLine.shipped)).group_by(OrderLine.sku)
    ).all()
    return {sku: int(n or 0) for sku, n in rows}


def _by_carrier(conn: Connection, returned: list[Any]) -> list[dict[str, Any]]:
    shipped: dict[str, int] = defaultdict(int)
    first: dict[tuple[int, str], str] = {}
    rows = conn.execute(
        select(Shipment.order_id, Shipment.carrier, Shipment.lines).order_by(Shipment.id)
    )
    for order_id, carrier, lines in rows:
        for ln in lines or []:
            shipped[carrier] += int(ln.get("quantity") or 0)
            first.setdefault((order_id, str(ln.get("sku"))), carrier)
    back: dict[str, int] = defaultdict(int)
    for r in returned:
        back[first.get((r.order_id, r.sku), "")] += int(r.units)
    keys = sorted(set(shipped) | {k for k in back if k}, key=lambda k: (-back[k], k))
    return [_row(k, back[k], shipped[k]) for k in keys]


def return_rates(db: Database) -> dict[str, Any]:
    """``{"shipped", "returned", "rate", "by_reason", "by_sku", "by_carrier"}``, each list
    of ``{"key", "returned", "shipped", "rate"}`` with the most returned first."""

    def work(conn: Connection) -> dict[str, Any]:
        returned = _returned_lines(conn)
        shipped_sku = _shipped_by_sku(conn)
        total_shipped = sum(shipped_sku.values())
        by_reason: dict[str, int] = defaultdict(int)
        by_sku: dict[str, int] = defaultdict(int)
        for r in returned:
            by_reason[r.reason] += int(r.units)
            by_sku[r.sku] += int(r.units)
        total = sum(by_sku.values())
        skus = sorted(
            {s for s, n in shipped_sku.items() if n} | set(by_sku), key=lambda s: (-by_sku[s], s)
        )
        reasons = sorted(by_reason, key=lambda k: (-by_reason[k], k))
        return {
            "shipped": total_shipped,
            "returned": total,
            "rate": rate(total, total_shipped),
            "by_reason": [_row(k, by_reason[k], total_shipped) for k in reasons],
            "by_sku": [_row(s, by_sku[s], shipped_sku.get(s, 0)) for s in skus],
            "by_carrier": _by_carrier(conn, returned),
        }

    return db.read(work)
