"""Replacement orders for exchanges and reshipments, and payments recorded inside the
caller's transaction (the value of returned goods, or the seller paying for a reshipment)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from dingdan.db.order_tables import Order, Payment
from dingdan.domain.orders import capture_input
from dingdan.domain.shared.errors import ValidationFailed
from dingdan.domain.shared.money import format_amount
from dingdan.services.after_sales.shapes import SkuQuantity
from dingdan.services.orders import capture
from dingdan.services.orders.allocation import refresh_order
from dingdan.services.orders.events import event
from dingdan.services.shared.common import Actor


def order_by_id(conn: Connection, order_id: int) -> Any:
    return conn.execute(select(Order).where(Order.id == order_id)).one()


def create_replacement(
    conn: Connection,
    actor: Actor,
    original: Any,
    lines: list[SkuQuantity],
    prefix: str,
    note: str,
) -> Any:
    """A new order on the original's channel, for its customer and address, with stock
    reserved as for any order (``insufficient_stock`` when it cannot be). Shipping is free
    and the payment method ``other``: the seller settles it."""
    customer = {
        k: v for k, v in (original.customer or {}).items() if k in ("email", "name", "phone") and v
    }
    body = {
        "channel": original.channel,
        "currency": original.currency,
        "customer": customer,
        "shipping_address": original.shipping_address,
        "lines": [{"sku": ln["sku"], "quantity": ln["quantity"]} for ln in lines],
        "shipping_price": "0",
        "payment_method": "other",
        "note": note,
    }
    data = capture_input.validate(body, capture.channel_codes(conn))
    order_id = capture.create_order_in(conn, actor, data, prefix)
    event(
        conn,
        order_id,
        "replacement",
        actor.name,
        f"Replacement for order {original.number}: {note}",
        {"original": original.number},
    )
    return order_by_id(conn, order_id)


def pay_in(conn: Connection, actor: Actor, order: Any, amount: int, reference: str) -> None:
    """A payment inside the caller's transaction, never beyond the balance due."""
    done = conn.execute(
        update(Order)
        .where(Order.id == order.id, Order.paid_minor + amount <= Order.total_minor)
        .values(paid_minor=Order.paid_minor + amount)
    ).rowcount
    if not done:
        due = format_amount(max(0, order.total_minor - order.paid_minor), order.currency)
        raise ValidationFailed.on("amount", "exceeds_balance", due=due)
    conn.execute(
        insert(Payment).values(
            order_id=order.id,
            kind="payment",
            amount_minor=amount,
            method=order.payment_method,
            reference=reference,
            actor=actor.name,
        )
    )
    refresh_order(conn, order.id)
    shown = format_amount(amount, order.currency)
    event(
        conn,
        order.id,
        "paid",
        actor.name,
        f"Payment of {shown} {order.currency} ({reference})",
        {"amount": shown, "reference": reference},
    )
