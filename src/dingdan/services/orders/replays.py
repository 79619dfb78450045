"""An order sent again with the same channel and external id is answered with the order as
it is (the core contract); when the body sent differs from the order, that is recorded in
the order's events with what differed, so that staff see the change was not applied
(shared/CONTRACT.md, "Replays say so"). Channel integrations change orders through their
own endpoint."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from dingdan.db.engine import Database
from dingdan.db.order_tables import OrderEvent, OrderLine
from dingdan.domain.orders import capture_input
from dingdan.domain.shared.money import format_amount, parse_amount
from dingdan.services.orders.events import event
from dingdan.services.orders.queries import fetch
from dingdan.services.orders.shapes import ReplayDifferences, ReplayField, ReplayLine, ReplayPrice
from dingdan.services.shared.common import Actor

KIND = "replay_differs"  # the order event's kind


def differences(conn: Connection, order: Any, data: capture_input.OrderInput) -> ReplayDifferences:
    """What the body sent differs in from the order as it is now; empty when nothing does.
    ``lines``: SKUs whose quantity (units not cancelled) differs, 0 for a SKU only one side
    has; ``prices``: unit prices the body gave that differ; ``fields``: other fields."""
    stored = conn.execute(
        select(OrderLine.sku, OrderLine.quantity, OrderLine.cancelled, OrderLine.unit_price_minor)
        .where(OrderLine.order_id == order.id)
        .order_by(OrderLine.position)
    ).all()
    have = {r.sku: r.quantity - r.cancelled for r in stored}
    price = {r.sku: r.unit_price_minor for r in stored}
    sent: dict[str, int] = {}
    for ln in data.lines:
        sent[ln.sku] = sent.get(ln.sku, 0) + ln.quantity
    lines: list[ReplayLine] = [
        {"sku": sku, "order": have.get(sku, 0), "sent": sent.get(sku, 0)}
        for sku in list(have) + [s for s in sent if s not in have]
        if have.get(sku, 0) != sent.get(sku, 0)
    ]
    currency = order.currency
    prices: list[ReplayPrice] = []
    if data.currency == currency:
        for ln in data.lines:
            if ln.unit_price is None or ln.sku not in price:
                continue
            minor = parse_amount(ln.unit_price, currency, "unit_price")
            if minor != price[ln.sku]:
                prices.append(
                    {
                        "sku": ln.sku,
                        "order": format_amount(price[ln.sku], currency),
                        "sent": format_amount(minor, currency),
                    }
                )
    fields: list[ReplayField] = []
    if data.currency != currency:
        fields.append({"field": "currency", "order": currency, "sent": data.currency})
    elif data.shipping_minor != order.shipping_minor:
        fields.append(
            {
                "field": "shipping_price",
                "order": format_amount(order.shipping_minor, currency),
                "sent": format_amount(data.shipping_minor, currency),
            }
        )
    if data.payment_method != order.payment_method:
        fields.append(
            {"field": "payment_method", "order": order.payment_method, "sent": data.payment_method}
        )
    # Personal data is named, not copied into the event.
    customer = {"email": data.email, "name": data.name, "phone": data.phone}
    if any((order.customer or {}).get(k) != v for k, v in customer.items()):
        fields.append({"field": "customer"})
    if data.address.as_dict() != order.shipping_address:
        fields.append({"field": "shipping_address"})
    if not (lines or prices or fields):
        return {}
    return {"lines": lines, "prices": prices, "fields": fields}


def record_if_different(
    db: Database, actor: Actor, number: str, data: capture_input.OrderInput
) -> None:
    """Records a replay's differences in the order's events, once for each new set of them
    (a channel retrying the same body does not fill the timeline)."""

    def work(conn: Connection) -> None:
        order = fetch(conn, number)
        found = differences(conn, order, data)
        if not found:
            return
        recorded = {"channel": data.channel, "external_id": data.external_id, **found}
        last = conn.execute(
            select(OrderEvent.data)
            .where(OrderEvent.order_id == order.id, OrderEvent.kind == KIND)
            .order_by(OrderEvent.id.desc())
            .limit(1)
        ).scalar()
        if last == recorded:
            return
        what = [f"{ln['sku']} {ln['order']} → {ln['sent']}" for ln in found["lines"]]
        what += [f"{p['sku']} price {p['order']} → {p['sent']}" for p in found["prices"]]
        what += [f["field"] for f in found["fields"]]
        message = (
            f"Sent again by {data.channel} as {data.external_id} with changes that were not"
            f" applied: {', '.join(what)}"
        )
        event(conn, order.id, KIND, actor.name, message, recorded)

    db.write(work)
