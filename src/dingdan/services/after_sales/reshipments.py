"""What a dispute may reship: the units shipped on the order and not already sent again
(by an earlier reshipment or an exchange) or refunded (a refunded return). More than that
is a new order, not a reshipment."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from dingdan.db.order_tables import Order, OrderLine
from dingdan.db.return_tables import Dispute, Return, ReturnLine
from dingdan.domain.after_sales.returns import Resolution, ReturnStatus
from dingdan.domain.shared.errors import FieldErrors, ValidationFailed
from dingdan.services.after_sales.shapes import SkuQuantity


def reshippable(conn: Connection, order: Any) -> dict[str, int]:
    """Units of each SKU of the order that a reshipment may still send, in line order. The
    caller holds the order's row, so two resolutions of the same order are counted one
    after the other."""
    left: dict[str, int] = {}
    for sku, shipped in conn.execute(
        select(OrderLine.sku, OrderLine.shipped)
        .where(OrderLine.order_id == order.id)
        .order_by(OrderLine.position)
    ):
        left[sku] = left.get(sku, 0) + int(shipped)
    if order.paid_minor > 0 and order.refunded_minor >= order.paid_minor:
        return dict.fromkeys(left, 0)  # the customer has every payment back
    for sku, units in _resent(conn, order.id) + _refunded(conn, order.id):
        if sku in left:
            left[sku] = max(0, left[sku] - int(units))
    return left


def _resent(conn: Connection, order_id: int) -> list[Any]:
    """Units on the replacement orders of this order's reshipments (less their cancelled
    units)."""
    replaced = select(Dispute.replacement_order_id).where(
        Dispute.order_id == order_id,
        Dispute.resolution == Resolution.RESHIPMENT.value,
        Dispute.replacement_order_id.is_not(None),
    )
    return list(
        conn.execute(
            select(OrderLine.sku, func.sum(OrderLine.quantity - OrderLine.cancelled))
            .where(OrderLine.order_id.in_(replaced))
            .group_by(OrderLine.sku)
        )
    )


def _refunded(conn: Connection, order_id: int) -> list[Any]:
    """Units received back on returns settled by a refund or an exchange."""
    settled = (ReturnStatus.REFUNDED.value, ReturnStatus.EXCHANGED.value)
    return list(
        conn.execute(
            select(ReturnLine.sku, func.sum(ReturnLine.resellable + ReturnLine.damaged))
            .join(Return, Return.id == ReturnLine.return_id)
            .where(Return.order_id == order_id, Return.status.in_(settled))
            .group_by(ReturnLine.sku)
        )
    )


def reship_lines(conn: Connection, order: Any, named: Any) -> list[SkuQuantity]:
    """The lines a reshipment sends: those ``named`` (each within what may be reshipped), or
    else everything that may still be reshipped. Locks the order's row."""
    conn.execute(select(Order.id).where(Order.id == order.id).with_for_update())
    left = reshippable(conn, order)
    if not named:
        lines: list[SkuQuantity] = [{"sku": s, "quantity": q} for s, q in left.items() if q > 0]
        if not lines:
            code = "nothing_to_reship" if any(_shipped(conn, order.id)) else "nothing_shipped"
            raise ValidationFailed.on("lines", code)
        return lines
    errors = FieldErrors()
    asked: dict[str, int] = {}
    for i, ln in enumerate(named):
        sku = ln["sku"]
        if sku not in left:
            errors.add(f"lines[{i}].sku", "not_on_order", sku=sku, number=order.number)
            continue
        asked[sku] = asked.get(sku, 0) + int(ln["quantity"])
        if asked[sku] > left[sku]:
            errors.add(f"lines[{i}].quantity", "exceeds_reshippable", sku=sku, left=left[sku])
    errors.raise_if_any("A reshipment sends again only what was shipped; more needs a new order.")
    return [{"sku": ln["sku"], "quantity": ln["quantity"]} for ln in named]


def _shipped(conn: Connection, order_id: int) -> list[int]:
    return list(
        conn.execute(select(OrderLine.shipped).where(OrderLine.order_id == order_id)).scalars()
    )
