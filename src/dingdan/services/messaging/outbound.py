"""Customer messages written as rows to send: one per event that concerns the customer,
rendered when written (with the template in force then) in the order's language.

``on_event`` is an outbox consumer (the worker subscribes it to ``TOPICS``): it runs after
the commit that caused the event, at least once, and keys each row by the event's id, so a
second run adds nothing. Rendering here, not when sending, means a message says what was
true when it happened, and the sender only has to send bytes.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from jinja2.exceptions import TemplateError
from markupsafe import Markup
from sqlalchemy import Connection, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.config import get_settings
from dingdan.db.engine import Database
from dingdan.db.message_tables import Message, MessageAttachment, MessageTemplate
from dingdan.db.order_tables import CarrierRow, Order, OrderLine, Shipment
from dingdan.db.types import utcnow
from dingdan.domain.fulfilment import carriers as known
from dingdan.domain.shared.money import format_amount
from dingdan.services.fulfilment import pickup
from dingdan.services.messaging import channels, ratings, templating
from dingdan.services.messaging import shop as shop_settings
from dingdan.services.messaging.shapes import (
    BankContext,
    CancelContext,
    ComposedMessage,
    ContextChanges,
    MessageContext,
    MessageValues,
    OrderContext,
    PickupContext,
    ShipmentContext,
    ShopContext,
    TemplateFields,
)

log = logging.getLogger("dingdan.messaging")

# The events a customer hears about, and the message each becomes.
TOPICS: dict[str, str] = {
    "order.created": "order_confirmation",
    "order.paid": "payment_received",
    "order.shipped": "shipped",
    "order.out_for_delivery": "out_for_delivery",
    "order.delivery_exception": "delivery_exception",
    "order.delivered": "delivered",
    "order.ready_for_pickup": "ready_for_pickup",
    "order.store_closed": "choose_store",
    "order.cancelled": "order_cancelled",
    "return.approved": "return_approved",
    "return.received": "return_received",
    "refund.created": "refund_issued",
    "store_credit.issued": "store_credit_issued",
}
_HTML_LANG = {"zh-Hant": "zh-Hant", "zh-Hans": "zh-Hans", "en": "en"}


def locale_of(order: Any) -> str:
    """The order's language (orders.locale: the capture's "locale", or by default from
    the shipping country)."""
    return order.locale if order.locale in templating.LOCALES else "en"


def tracking_url(order: Any) -> str:
    return f"{get_settings().public_base_url()}/track/{order.tracking_token}"


def pay_url(order: Any) -> str:
    """The customer's pay page (``/pay/{token}``) while the order owes something it is to
    pay before it ships; empty otherwise."""
    owes = order.paid_minor < order.total_minor and order.status != "cancelled"
    if not owes or order.payment_method == "cod":
        return ""
    return f"{get_settings().public_base_url()}/pay/{order.tracking_token}"


def _when(dt: datetime | None) -> str:
    return dt.strftime("%Y-%m-%d %H:%M UTC") if dt else ""


def _order_context(conn: Connection, order: Any) -> OrderContext:
    cur = order.currency
    lines = conn.execute(
        select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.position)
    ).all()
    address = order.shipping_address or {}
    customer = order.customer or {}
    return {
        "number": order.number,
        "created_at": _when(order.created_at),
        "customer_name": customer.get("name") or address.get("name") or "",
        "currency": cur,
        "subtotal": format_amount(order.subtotal_minor, cur),
        "shipping": format_amount(order.shipping_minor, cur),
        "tax": format_amount(order.tax_minor, cur),
        "total": format_amount(order.total_minor, cur),
        "paid": format_amount(order.paid_minor, cur),
        "payment_method": order.payment_method,
        "is_bank_transfer": order.payment_method == "bank_transfer",
        "lines": [
            {
                "sku": ln.sku,
                "name": ln.name,
                "quantity": ln.quantity,
                "unit_price": format_amount(ln.unit_price_minor, cur),
                "amount": format_amount(ln.unit_price_minor * ln.quantity, cur),
            }
            for ln in lines
        ],
        "city": address.get("city") or "",
        "country": address.get("country") or "",
    }


_NO_SHIPMENT: ShipmentContext = {
    "carrier": "",
    "tracking_number": "",
    "carrier_tracking_url": "",
    "exception": "",
}


def _shipment_context(conn: Connection, shipment_id: object) -> ShipmentContext:
    """The event's shipment; all empty when it names none."""
    if shipment_id is None or not re.fullmatch(r"[0-9]{1,18}", str(shipment_id)):
        return {**_NO_SHIPMENT}
    s = conn.execute(select(Shipment).where(Shipment.id == int(str(shipment_id)))).first()
    if s is None:
        return {**_NO_SHIPMENT}
    row = conn.execute(select(CarrierRow).where(CarrierRow.code == s.carrier)).first()
    default = known.get_carrier(s.carrier)
    pattern = row.tracking_url if row is not None else (default.tracking_url if default else None)
    name = row.name if row is not None else (default.name_en if default else s.carrier)
    link = pattern.replace("{number}", s.tracking_number) if pattern and s.tracking_number else ""
    return {
        "carrier": name,
        "tracking_number": s.tracking_number or "",
        "carrier_tracking_url": link,
        "exception": s.exception or "",
    }


def _pickup_context(conn: Connection, order: Any) -> PickupContext:
    """The store-pickup order's code and where to collect it (empty for other orders)."""
    found = pickup.pickup_of(conn, order.id)
    if found is None:
        return {"code": "", "location": "", "address": "", "phone": ""}
    loc = found["location"]
    parts = (loc["postal_code"], loc["region"], loc["city"], loc["line1"], loc["line2"])
    return {
        "code": found["code"],
        "location": loc["name"] or loc["code"],
        "address": " ".join(p for p in parts if p),
        "phone": loc["phone"] or "",
    }


def _shop_context(shop: dict[str, str]) -> ShopContext:
    """The shop as messages show it: its logo elsewhere, else the one Dingdan serves (by
    its public address: a message is read far from this server)."""
    logo = shop["logo_url"] or (
        get_settings().public_base_url() + shop["logo"] if shop.get("logo") else ""
    )
    return {
        "name": shop["name"],
        "email": shop["email"],
        "phone": shop["phone"],
        "line_id": shop["line_id"],
        "address": shop["address"],
        "return_policy": shop["return_policy"],
        "return_address": shop["return_address"],
        "logo_url": logo,
    }


def _text(value: object) -> str:
    """A payload's value as a template shows it; "" when it is missing or empty."""
    if not value:
        return ""
    return value if isinstance(value, str) else str(value)


def context(
    conn: Connection,
    order: Any,
    payload: Mapping[str, object],
    extra: ContextChanges | None = None,
) -> MessageContext:
    """Every documented variable for a message about ``order`` (templating.VARIABLES),
    from the order and the event's ``payload``; ``extra`` replaces some."""
    shop = shop_settings.load(conn)
    url = tracking_url(order)
    cur = order.currency
    bank: BankContext = {
        "bank_name": shop["bank_name"],
        "bank_code": shop["bank_code"],
        "account_name": shop["account_name"],
        "account_number": shop["account_number"],
    }
    found: MessageContext = {
        "shop": _shop_context(shop),
        "bank": bank,
        "order": _order_context(conn, order),
        "tracking_url": url,
        "pay_url": pay_url(order),
        "rating_url": ratings.rating_url(get_settings().public_base_url(), order.tracking_token),
        "shipment": _shipment_context(conn, payload.get("shipment_id")),
        "rma": {"id": str(payload.get("return_id") or ""), "status": ""},
        "refund": {
            "amount": str(payload.get("amount") or ""),
            "reason": _text(payload.get("reason")),
        },
        "credit": {"amount": str(payload.get("amount") or ""), "currency": cur},
        "cancel": {"reason": _text(payload.get("reason")), "deadline": ""},
        "pickup": _pickup_context(conn, order),
    }
    return {**found, **(extra or {})}


def template_in_force(conn: Connection, kind: str, locale: str) -> TemplateFields:
    row = conn.execute(
        select(MessageTemplate).where(
            MessageTemplate.kind == kind, MessageTemplate.locale == locale
        )
    ).first()
    if row is None:
        return templating.default(kind, locale)
    return {"subject": row.subject, "text": row.text, "html": row.html}


def compose(conn: Connection, kind: str, locale: str, ctx: MessageContext) -> ComposedMessage:
    """Subject, text and full HTML (inside the shop's layout) of one message. A saved
    template was checked when saved; should one still fail, the default is used (logged),
    so that the customer hears anyway."""
    try:
        out = templating.render(template_in_force(conn, kind, locale), ctx)
    except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError) as exc:
        log.error("template %s/%s failed, the default used: %s", kind, locale, exc)
        out = templating.render(templating.default(kind, locale), ctx)
    return compose_with(out, locale, ctx["shop"])


def compose_with(out: TemplateFields, locale: str, shop: ShopContext) -> ComposedMessage:
    """A rendered template completed: the shop's signature under the text, the HTML inside
    the shop's layout (logo, name, contact)."""
    footer = "\n-- \n" + "\n".join(
        v for v in (shop["name"], shop["address"], shop["email"], shop["phone"]) if v
    )
    html = (
        templating.environment(True)
        .from_string(templating.layout())
        .render(
            lang=_HTML_LANG[locale], subject=out["subject"], shop=shop, content=Markup(out["html"])
        )
    )
    return {
        "subject": out["subject"],
        "text": out["text"].strip() + "\n" + footer + "\n",
        "html": html,
    }


def insert_message(conn: Connection, values: MessageValues) -> bool:
    """Insert-if-absent by (source, kind, channel, recipient); whether it was new."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(Message)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["source", "kind", "channel", "recipient"])
        .returning(Message.id)
    )
    return conn.execute(stmt).first() is not None


def insert_with_attachments(
    conn: Connection, values: MessageValues, document_ids: list[int]
) -> bool:
    """``insert_message``, and the stored documents it carries as attachments (references,
    not bytes: the sender reads each file when it sends, and waits while one is still being
    rendered); whether the message was new."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    made = conn.execute(
        dialect.insert(Message)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["source", "kind", "channel", "recipient"])
        .returning(Message.id)
    ).scalar()
    if made is None:
        return False
    if document_ids:
        conn.execute(
            insert(MessageAttachment),
            [
                {"message_id": made, "document_id": doc, "position": i}
                for i, doc in enumerate(document_ids)
            ],
        )
    return True


def message_id(domain_hint: str = "dingdan") -> str:
    return f"<{uuid.uuid4().hex}@{domain_hint}>"


def queue(
    conn: Connection,
    source: str,
    kind: str,
    order: Any,
    payload: Mapping[str, object],
    extra: ContextChanges | None = None,
) -> bool:
    """Write the message of ``kind`` about ``order`` to its customer, once per source, by
    the channel the customer agreed to (email unless they chose LINE or SMS)."""
    customer = order.customer or {}
    channel, line_user = channels.channel_of(conn, order.customer_id)
    recipient = {"email": customer.get("email"), "line": line_user, "sms": customer.get("phone")}
    if not recipient.get(channel):
        channel = "email"  # the agreed channel has no address on this order
    if not recipient[channel]:
        return False
    locale = locale_of(order)
    ctx = context(conn, order, payload, extra)
    body = compose(conn, kind, locale, ctx)
    if channel == "sms":  # a text message: the subject and the tracking page
        body = {**body, "text": f"{body['subject']}\n{ctx['tracking_url']}", "html": ""}
    elif channel == "line":  # the text, under its subject
        body = {**body, "text": f"{body['subject']}\n\n{body['text']}", "html": ""}
    values = message_values(source, kind, locale, str(recipient[channel]), order.number, body)
    return insert_message(conn, {**values, "channel": channel})


def message_values(
    source: str, kind: str, locale: str, recipient: str, number: str | None, body: ComposedMessage
) -> MessageValues:
    return {
        "source": source,
        "order_number": number,
        "kind": kind,
        "channel": "email",
        "locale": locale,
        "recipient": recipient,
        "subject": body["subject"][:500],
        "text_body": body["text"],
        "html_body": body["html"],
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": utcnow(),
        "message_id": message_id(),
        "created_at": utcnow(),
    }


def _handed_over_at_store(conn: Connection, kind: str, payload: dict[str, Any]) -> bool:
    """A store pickup's hand-over ships and delivers at once: its "shipped" says nothing."""
    sid = str((payload or {}).get("shipment_id") or "")
    if kind != "shipped" or not re.fullmatch(r"[0-9]{1,18}", sid):
        return False
    carrier = conn.execute(select(Shipment.carrier).where(Shipment.id == int(sid))).scalar()
    return carrier == pickup.CARRIER


def on_event(db: Database, event: Any) -> None:
    """The outbox consumer: ``event`` has ``id``, ``topic`` and ``payload``."""
    kind = TOPICS.get(event.topic)
    number = (event.payload or {}).get("number")
    if kind is None or not number:
        return

    def work(conn: Connection) -> None:
        order = conn.execute(select(Order).where(Order.number == number)).first()
        if order is not None and not _handed_over_at_store(conn, kind, event.payload):
            queue(conn, f"event:{event.id}", kind, order, event.payload)

    db.write(work)


def queue_payment_reminders(db: Database, hours: float, batch: int = 500) -> list[str]:
    """One reminder per open, unpaid bank-transfer order that the worker will cancel within
    a day (``hours`` after it was placed: worker.cancel_unpaid_bank_transfers). Returns the
    numbers reminded now (an order reminded before is not again)."""
    now = utcnow()
    cancel_after = timedelta(hours=hours)
    early = now - cancel_after
    late = now - max(cancel_after - timedelta(hours=24), timedelta(0))

    def work(conn: Connection) -> list[str]:
        orders = conn.execute(
            select(Order)
            .where(
                Order.status == "open",
                Order.payment_method == "bank_transfer",
                Order.paid_minor == 0,
                Order.fulfillment_status == "unfulfilled",
                Order.created_at < late,
                Order.created_at >= early,
            )
            .order_by(Order.id)
            .limit(batch)
        ).all()
        done = []
        for order in orders:
            deadline: CancelContext = {
                "reason": "",
                "deadline": _when(order.created_at + cancel_after),
            }
            if queue(
                conn,
                f"reminder:{order.number}",
                "payment_reminder",
                order,
                {},
                {"cancel": deadline},
            ):
                done.append(order.number)
        return done

    return db.write(work)
