"""Orders that channels send by webhook (issue 21): Shopify, WooCommerce and Standard
Webhooks deliveries, checked by their signature, logged, deduplicated by delivery id, and
captured as orders.

``receive`` stores the delivery in one short transaction (the unique (channel,
delivery_id) key answers a delivery seen before), then captures it in its own: an order
that cannot be made (an unknown SKU, a bad address, refused stock) leaves the delivery
``needs_attention`` with a coded reason, to be fixed (an alias, the address) and retried.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError
from typing_extensions import TypedDict

from dingdan.db.engine import Database
from dingdan.db.inbound_tables import ChannelSkuAlias, InboundDelivery
from dingdan.db.order_tables import Channel, Order, OrderLine
from dingdan.db.tables import Product
from dingdan.db.types import utcnow
from dingdan.domain.access.roles import Role
from dingdan.domain.shared import contact, standard_webhooks
from dingdan.domain.shared.errors import (
    Conflict,
    DomainError,
    FieldErrors,
    InsufficientStock,
    NotFound,
    Unauthorized,
    ValidationFailed,
)
from dingdan.services.catalog import listings
from dingdan.services.fulfilment.shipments import cancel_order
from dingdan.services.integrations import inbound_invoice
from dingdan.services.integrations.channel_json import each, get
from dingdan.services.integrations.shapes import (
    AddressCommand,
    AddressView,
    AliasView,
    HookAnswer,
    InboundDeliveryView,
    InboundList,
)
from dingdan.services.orders.capture import place_order
from dingdan.services.orders.edits import edit_order
from dingdan.services.orders.shapes import OrderEdit
from dingdan.services.payments.transactions import record_payment
from dingdan.services.shared.common import Actor, iso
from dingdan.services.shared.outbox_events import emit

STATUSES = ("accepted", "duplicate", "needs_attention", "rejected")
# Reason codes kept on a delivery (the page translates them).
REASONS = (
    "unknown_sku",
    "bad_address",
    "refused_stock",
    "shipped_already",
    "unknown_order",
    "invalid_order",
    "unknown_topic",
)
KEEP_RAW_DAYS = 30
_PING = re.compile(rb"^webhook_id=[0-9]+$")
CREATE, UPDATE, CANCEL = "create", "update", "cancel"
_TOPICS = {
    "shopify": {
        "orders/create": CREATE,
        "orders/updated": UPDATE,
        "orders/cancelled": CANCEL,
    },
    "woocommerce": {
        "order.created": CREATE,
        "order.updated": UPDATE,
        "order.deleted": CANCEL,
    },
    "standard": {
        "order.created": CREATE,
        "order.updated": UPDATE,
        "order.cancelled": CANCEL,
    },
}


class _Line(TypedDict):
    """A line of a channel's order as the capture reads it (it checks the quantity and
    the price)."""

    sku: str
    quantity: object
    unit_price: object


class NeedsAttention(Exception):
    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.code, self.detail = code, detail

    @property
    def reason(self) -> str:
        return f"{self.code}: {self.detail}"[:500] if self.detail else self.code


def _actor(channel: str) -> Actor:
    return Actor(f"channel:{channel}", Role.MANAGER)


def _b64_hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _signed(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


def _channel(db: Database, code: str) -> Any:
    row = db.read(
        lambda conn: conn.execute(
            select(Channel).where(Channel.code == code, Channel.active.is_(True))
        ).first()
    )
    if row is None or row.kind == "manual" or not row.webhook_secret:
        raise NotFound(detail=f"No webhook channel {code!r}.")
    return row


def _verify(channel: Any, headers: dict[str, str], body: bytes, now: float) -> tuple[str, str]:
    """The delivery id and topic of a genuine delivery; Unauthorized otherwise."""
    kind, secret = channel.kind, channel.webhook_secret
    if kind == "shopify":
        if not _signed(_b64_hmac(secret, body), headers.get("x-shopify-hmac-sha256")):
            raise Unauthorized(detail="Bad or missing X-Shopify-Hmac-Sha256.")
        topic = headers.get("x-shopify-topic", "")
        delivery = headers.get("x-shopify-webhook-id") or ""
    elif kind == "woocommerce":
        given = headers.get("x-wc-webhook-signature")
        if not (
            _signed(_b64_hmac(secret, body), given)
            or _signed(_b64_hmac(html.unescape(secret), body), given)
        ):
            raise Unauthorized(detail="Bad or missing X-WC-Webhook-Signature.")
        topic = headers.get("x-wc-webhook-topic", "")
        delivery = headers.get("x-wc-webhook-delivery-id") or ""
    else:
        why = standard_webhooks.check_delivery(
            secret,
            headers.get("webhook-id"),
            headers.get("webhook-timestamp"),
            headers.get("webhook-signature"),
            body,
            now,
        )
        if why is not None:
            raise Unauthorized(detail=f"Refused delivery: {why}.")
        delivery = headers.get("webhook-id") or ""
        try:
            topic = str(json.loads(body).get("type") or "")
        except (ValueError, AttributeError):
            topic = ""
    if not delivery:
        delivery = "sha256:" + hashlib.sha256(body).hexdigest()
    return delivery[:200], topic[:60]


def receive(
    db: Database, code: str, headers: dict[str, str], body: bytes, now: float
) -> HookAnswer:
    """One delivery: ``{"status": ...}`` for a 200; Unauthorized (401) when not genuine."""
    headers = {k.lower(): v for k, v in headers.items()}
    channel = _channel(db, code)
    if channel.kind == "woocommerce" and _PING.match(body.strip()):
        return {"status": "ping"}
    delivery, topic = _verify(channel, headers, body, now)

    def store(conn: Connection) -> int:
        return int(
            conn.execute(
                insert(InboundDelivery)
                .values(
                    channel=code,
                    delivery_id=delivery,
                    topic=topic,
                    external_id=_external_id(channel.kind, body),
                    status="needs_attention",
                    reason="received",
                    raw_body=body,
                    received_at=utcnow(),
                )
                .returning(InboundDelivery.id)
            ).scalar_one()
        )

    try:
        delivery_row = db.write(store)
    except (IntegrityError, Conflict):  # the unique (channel, delivery_id): seen before
        return {"status": "duplicate"}
    return process(db, delivery_row)


def _external_id(kind: str, body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    if kind == "standard":
        inner = data.get("data")
        value = inner.get("external_id") if isinstance(inner, dict) else None
    else:
        value = data.get("id")
    return str(value)[:100] if value is not None else None


def _set(db: Database, delivery_id: int, **values: Any) -> None:
    db.write(
        lambda conn: conn.execute(
            update(InboundDelivery).where(InboundDelivery.id == delivery_id).values(**values)
        )
    )


def _needs_attention(db: Database, delivery_id: int, channel: str, reason: str) -> None:
    """Mark the delivery for a person, and tell staff (``inbound.needs_attention``, which
    the staff notifications hear) in the same transaction."""

    def work(conn: Connection) -> None:
        external_id = conn.execute(
            update(InboundDelivery)
            .where(InboundDelivery.id == delivery_id)
            .values(status="needs_attention", reason=reason)
            .returning(InboundDelivery.external_id)
        ).scalar()
        emit(
            conn,
            "inbound.needs_attention",
            {
                "channel": channel,
                "delivery_id": str(delivery_id),
                "external_id": external_id or "",
                "reason": reason,
            },
        )

    db.write(work)


def process(db: Database, delivery_id: int) -> HookAnswer:
    """Capture (or apply) one stored delivery; never raises for a delivery's content."""
    row = db.read(
        lambda conn: conn.execute(
            select(
                InboundDelivery.channel,
                InboundDelivery.topic,
                InboundDelivery.raw_body,
                InboundDelivery.address_override,
                Channel.kind,
            )
            .join(Channel, Channel.code == InboundDelivery.channel)
            .where(InboundDelivery.id == delivery_id)
        ).first()
    )
    if row is None:
        raise NotFound(detail=f"No inbound delivery {delivery_id}.")
    try:
        status, number = _apply(
            db, row.kind, row.channel, row.topic, row.raw_body or b"", row.address_override
        )
    except NeedsAttention as exc:
        _needs_attention(db, delivery_id, row.channel, exc.reason)
        return {"status": "needs_attention", "reason": exc.reason}
    except Exception as exc:  # noqa: BLE001 - a delivery is kept, never a 500
        reason = _reason_of(exc)
        _needs_attention(db, delivery_id, row.channel, reason)
        return {"status": "needs_attention", "reason": reason}
    _set(db, delivery_id, status=status, reason=None, order_number=number)
    return {"status": status, "order": number}


def _reason_of(exc: Exception) -> str:
    if isinstance(exc, InsufficientStock):
        return "refused_stock"
    if isinstance(exc, ValidationFailed):
        fields = [e.field for e in exc.errors]
        if any(f.startswith("shipping_address") for f in fields):
            return "bad_address: " + ", ".join(f for f in fields)[:400]
        if any(f.endswith(".sku") for f in fields):
            return "unknown_sku"
        return ("invalid_order: " + ", ".join(f"{e.field} {e.code}" for e in exc.errors))[:500]
    if isinstance(exc, NotFound) and "sku" in str(getattr(exc, "detail", "")).lower():
        return "unknown_sku"
    if isinstance(exc, DomainError):
        return ("invalid_order: " + str(getattr(exc, "detail", "") or type(exc).__name__))[:500]
    return "invalid_order: " + type(exc).__name__


# ---- mapping --------------------------------------------------------------------------------


def _money(value: object) -> str:
    try:
        return format(Decimal(str(value if value not in (None, "") else "0")), "f")
    except InvalidOperation as exc:
        raise NeedsAttention("invalid_order", f"not an amount: {value!r}") from exc


def _skus(db: Database, channel: str, wanted: list[str]) -> dict[str, str]:
    """Each channel SKU → a Dingdan SKU: its alias, else itself when a product has it."""

    def work(conn: Connection) -> dict[str, str]:
        aliases = dict(
            conn.execute(
                select(ChannelSkuAlias.channel_sku, ChannelSkuAlias.sku).where(
                    ChannelSkuAlias.channel == channel, ChannelSkuAlias.channel_sku.in_(wanted)
                )
            ).all()
        )
        mapped = {s: aliases.get(s, s) for s in wanted}
        known = set(
            conn.execute(select(Product.sku).where(Product.sku.in_(set(mapped.values()))))
            .scalars()
            .all()
        )
        missing = [s for s in wanted if mapped[s] not in known]
        if missing:
            raise NeedsAttention("unknown_sku", ", ".join(missing))
        return mapped

    return db.read(work)


def _lines(
    db: Database, channel: str, items: Sequence[tuple[object, object, object]]
) -> list[_Line]:
    wanted = []
    for sku, _, _ in items:
        if not isinstance(sku, str) or not sku.strip():
            raise NeedsAttention("unknown_sku", "(no SKU)")
        wanted.append(sku.strip())
    mapped = _skus(db, channel, wanted)
    return [
        {"sku": mapped[s], "quantity": q, "unit_price": p}
        for s, (_, q, p) in zip(wanted, items, strict=True)
    ]


def _phone(value: Any, country: Any) -> str | None:
    """A channel's phone when it is a number (free text the shop let through is left out,
    so that it does not hold the order)."""
    if not value:
        return None
    errors = FieldErrors()
    code = country if isinstance(country, str) else None
    checked = contact.normalize_phone(value, "phone", errors, code, required=False)
    return None if errors.items else checked


def _name(first: Any, last: Any, fallback: Any = None) -> str | None:
    name = " ".join(str(p).strip() for p in (first, last) if p and str(p).strip())
    return name or (str(fallback).strip() if fallback else None)


def shopify_order(
    db: Database, channel: str, o: Mapping[str, object]
) -> tuple[dict[str, object], bool]:
    """A Shopify order JSON → the body of POST /api/v1/orders, and whether it is paid."""
    addr = o.get("shipping_address") or o.get("billing_address") or {}
    customer = o.get("customer") or {}
    items = [
        (get(li, "sku"), get(li, "quantity"), _money(get(li, "price")))
        for li in each(o.get("line_items"))
    ]
    shipping = sum(
        (Decimal(_money(get(s, "price"))) for s in each(o.get("shipping_lines"))), Decimal(0)
    )
    email = o.get("email") or o.get("contact_email") or get(customer, "email")
    phone = _phone(o.get("phone") or get(customer, "phone"), get(addr, "country_code"))
    body: dict[str, object] = {
        "channel": channel,
        "external_id": str(o.get("id")),
        "currency": o.get("currency"),
        "customer": {
            "email": email,
            "phone": phone,
            "name": _name(
                get(customer, "first_name"), get(customer, "last_name"), get(addr, "name")
            ),
        },
        "shipping_address": {
            "name": get(addr, "name") or _name(get(addr, "first_name"), get(addr, "last_name")),
            "line1": get(addr, "address1"),
            "line2": get(addr, "address2") or None,
            "city": get(addr, "city"),
            "region": get(addr, "province_code") or get(addr, "province"),
            "postal_code": get(addr, "zip"),
            "country": get(addr, "country_code"),
            "phone": _phone(get(addr, "phone"), get(addr, "country_code")),
        },
        "lines": _lines(db, channel, items),
        "shipping_price": format(shipping, "f"),
        "payment_method": "card" if o.get("gateway") not in ("cash_on_delivery", "cod") else "cod",
    }
    if o.get("note"):
        body["note"] = str(o["note"])[:1000]
    inbound_invoice.apply(body, inbound_invoice.shopify(o, email))
    return body, o.get("financial_status") == "paid"


def woocommerce_order(
    db: Database, channel: str, o: Mapping[str, object]
) -> tuple[dict[str, object], bool]:
    """A WooCommerce REST v3 order → the body of POST /api/v1/orders, and whether paid."""
    billing = o.get("billing") or {}
    addr = o.get("shipping") or {}
    if not get(addr, "address_1"):
        addr = billing
    items: list[tuple[object, object, object]] = []
    for li in each(o.get("line_items")):
        qty = get(li, "quantity")
        # "price" is a float in WooCommerce; the subtotal over the quantity is exact.
        price = (
            Decimal(_money(get(li, "subtotal"))) / qty
            if isinstance(qty, int) and qty > 0 and get(li, "subtotal") is not None
            else Decimal(_money(get(li, "price")))
        )
        items.append((get(li, "sku"), qty, format(price.quantize(Decimal("0.01")), "f")))
    methods = {"cod": "cod", "bacs": "bank_transfer", "cheque": "other"}
    email = get(billing, "email") or None
    body: dict[str, object] = {
        "channel": channel,
        "external_id": str(o.get("id")),
        "currency": o.get("currency"),
        "customer": {
            "email": email,
            "phone": _phone(get(billing, "phone"), get(billing, "country")),
            "name": _name(get(billing, "first_name"), get(billing, "last_name")),
        },
        "shipping_address": {
            "name": _name(get(addr, "first_name"), get(addr, "last_name"), get(addr, "company")),
            "line1": get(addr, "address_1"),
            "line2": get(addr, "address_2") or None,
            "city": get(addr, "city"),
            "region": get(addr, "state") or None,
            "postal_code": get(addr, "postcode"),
            "country": get(addr, "country"),
            "phone": _phone(get(addr, "phone"), get(addr, "country")),
        },
        "lines": _lines(db, channel, items),
        "shipping_price": _money(o.get("shipping_total")),
        "payment_method": methods.get(str(o.get("payment_method")), "card"),
    }
    if o.get("customer_note"):
        body["note"] = str(o["customer_note"])[:1000]
    inbound_invoice.apply(body, inbound_invoice.woocommerce(o, get(billing, "email") or None))
    paid = bool(o.get("date_paid")) or o.get("status") in ("processing", "completed")
    return body, paid


def standard_order(
    db: Database, channel: str, data: Mapping[str, object]
) -> tuple[dict[str, object], bool]:
    body = dict(data)
    body["channel"] = channel
    given = body.get("lines")
    raw: list[Any] = given if isinstance(given, list) else []
    items = [
        (ln.get("sku"), ln.get("quantity"), ln.get("unit_price"))
        for ln in raw
        if isinstance(ln, dict)
    ]
    body["lines"] = _lines(db, channel, items)
    paid = bool(body.pop("paid", False))
    return body, paid


def _payload(kind: str, raw: bytes) -> dict[str, object]:
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise NeedsAttention("invalid_order", "not JSON") from exc
    if kind == "standard":
        data = data.get("data") if isinstance(data, dict) else None
    if not isinstance(data, dict):
        raise NeedsAttention("invalid_order", "not an object")
    return data


def _order_body(
    db: Database, kind: str, channel: str, data: Mapping[str, object]
) -> tuple[dict[str, object], bool]:
    if kind == "shopify":
        return shopify_order(db, channel, data)
    if kind == "woocommerce":
        return woocommerce_order(db, channel, data)
    return standard_order(db, channel, data)


def _captured(db: Database, channel: str, external_id: str) -> Any:
    return db.read(
        lambda conn: conn.execute(
            select(Order.number, Order.status, Order.id).where(
                Order.channel == channel, Order.external_id == external_id
            )
        ).first()
    )


def _external(kind: str, data: Mapping[str, object]) -> str:
    value = data.get("external_id") if kind == "standard" else data.get("id")
    if value is None:
        raise NeedsAttention("invalid_order", "no order id")
    return str(value)


def _apply(
    db: Database,
    kind: str,
    channel: str,
    topic: str,
    raw: bytes,
    address: Mapping[str, object] | None = None,
) -> tuple[str, str | None]:
    action = _TOPICS[kind].get(topic)
    if action is None:
        return "rejected", None
    data = _payload(kind, raw)
    actor = _actor(channel)
    if kind == "woocommerce" and action == UPDATE and data.get("status") == "cancelled":
        action = CANCEL
    if action == CANCEL:
        order = _captured(db, channel, _external(kind, data))
        if order is None:
            raise NeedsAttention("unknown_order", _external(kind, data))
        if order.status != "cancelled":
            cancel_order(db, actor, order.number, f"cancelled by channel {channel}")
        return "accepted", str(order.number)
    body, paid = _order_body(db, kind, channel, data)
    if address:
        body["shipping_address"] = address
    order = _captured(db, channel, str(body.get("external_id")))
    if action == UPDATE and order is not None:
        _update(db, actor, order, body)
        number = str(order.number)
        created = True
    else:
        view, created = place_order(db, actor, body)
        number = str(view["number"])
    if paid:
        _pay_in_full(db, actor, number)
    return ("accepted" if created else "duplicate"), number


def _update(db: Database, actor: Actor, order: Any, body: Mapping[str, object]) -> None:
    """As an edit would: quantities of the SKUs named, the lines no longer named removed,
    the address and shipping; an order already shipped is left for attention."""

    def shipped(conn: Connection) -> bool:
        return (
            conn.execute(
                select(OrderLine.id).where(OrderLine.order_id == order.id, OrderLine.shipped > 0)
            ).first()
            is not None
        )

    if order.status != "open" or db.read(shipped):
        raise NeedsAttention("shipped_already", str(order.number))
    old = db.read(
        lambda conn: (
            conn.execute(select(OrderLine.sku).where(OrderLine.order_id == order.id))
            .scalars()
            .all()
        )
    )
    given = cast(list[_Line], body["lines"])  # every order body's lines are made by _lines
    named = {ln["sku"] for ln in given}
    lines = list(given) + [{"sku": s, "quantity": 0} for s in old if s not in named]
    # The channel's values go to the edit as they came: edit_order checks every one (the
    # quantities, prices, address and shipping price) as it checks a page's.
    change = cast(
        OrderEdit,
        {
            "lines": lines,
            "shipping_address": body.get("shipping_address"),
            "shipping_price": body.get("shipping_price"),
        },
    )
    edit_order(db, actor, str(order.number), change)


def _pay_in_full(db: Database, actor: Actor, number: str) -> None:
    def due(conn: Connection) -> tuple[int, str]:
        o = conn.execute(
            select(Order.total_minor, Order.paid_minor, Order.currency).where(
                Order.number == number
            )
        ).one()
        return o.total_minor - o.paid_minor, o.currency

    left, currency = db.read(due)
    if left <= 0:
        return
    from dingdan.domain.shared.money import format_amount

    record_payment(
        db,
        actor,
        number,
        {"amount": format_amount(left, currency), "reference": f"channel {number}"},
    )


# ---- the log, aliases, retry, purge ----------------------------------------------------------


def _view(row: Any) -> InboundDeliveryView:
    return {
        "id": row.id,
        "channel": row.channel,
        "topic": row.topic,
        "external_id": row.external_id,
        "status": row.status,
        "order": row.order_number,
        "reason": row.reason,
        "received_at": iso(row.received_at),
    }


def list_deliveries(
    db: Database, *, channel: str | None = None, status: str | None = None, limit: int = 200
) -> InboundList:
    if status is not None and status not in STATUSES:
        raise ValidationFailed.on("status", "not_one_of", choices=", ".join(STATUSES))

    def work(conn: Connection) -> InboundList:
        q = select(InboundDelivery).order_by(InboundDelivery.id.desc()).limit(limit)
        if channel:
            q = q.where(InboundDelivery.channel == channel)
        if status:
            q = q.where(InboundDelivery.status == status)
        return {"items": [_view(r) for r in conn.execute(q)], "next_cursor": None}

    return db.read(work)


def retry(db: Database, actor: Actor, delivery_id: int) -> InboundDeliveryView:
    row = db.read(
        lambda conn: conn.execute(
            select(InboundDelivery.status).where(InboundDelivery.id == delivery_id)
        ).first()
    )
    if row is None:
        raise NotFound(detail=f"No inbound delivery {delivery_id}.")
    if row.status != "needs_attention":
        from dingdan.domain.shared.errors import InvalidTransition

        raise InvalidTransition(detail=f"Delivery {delivery_id} is {row.status}; nothing to retry.")
    process(db, delivery_id)
    return db.read(
        lambda conn: _view(
            conn.execute(select(InboundDelivery).where(InboundDelivery.id == delivery_id)).one()
        )
    )


def set_address(
    db: Database, actor: Actor, delivery_id: int, address: AddressCommand
) -> AddressView:
    """The shipping address to use instead of the delivery's own (then retry it)."""
    errors = FieldErrors()
    checked = contact.validate_address(address if isinstance(address, dict) else {}, "", errors)
    errors.raise_if_any()
    assert checked is not None
    value: AddressView = {
        "name": checked.name,
        "line1": checked.line1,
        "line2": checked.line2,
        "city": checked.city,
        "region": checked.region,
        "postal_code": checked.postal_code,
        "country": checked.country,
        "phone": checked.phone,
    }

    def work(conn: Connection) -> None:
        done = conn.execute(
            update(InboundDelivery)
            .where(InboundDelivery.id == delivery_id)
            .values(address_override=value)
        ).rowcount
        if not done:
            raise NotFound(detail=f"No inbound delivery {delivery_id}.")

    db.write(work)
    return value


def set_alias(db: Database, actor: Actor, channel: str, channel_sku: Any, sku: Any) -> AliasView:
    errors = FieldErrors()
    if not isinstance(channel_sku, str) or not 0 < len(channel_sku.strip()) <= 100:
        errors.add("channel_sku", "required_text", max=100)
    if not isinstance(sku, str) or not sku.strip():
        errors.add("sku", "required_text", max=64)
    errors.raise_if_any()
    channel_sku, sku = str(channel_sku).strip(), str(sku).strip()

    def work(conn: Connection) -> AliasView:
        if conn.execute(select(Product.id).where(Product.sku == sku)).first() is None:
            raise ValidationFailed.on("sku", "unknown_sku", sku=sku)
        listings.save_alias(conn, channel, channel_sku, sku)
        return {"channel": channel, "channel_sku": channel_sku, "sku": sku}

    return db.write(work)


def alias_of(conn: Connection, channel: str, channel_sku: str) -> str | None:
    """The Dingdan SKU a channel's SKU stands for (imports use it too)."""
    return conn.execute(
        select(ChannelSkuAlias.sku).where(
            ChannelSkuAlias.channel == channel, ChannelSkuAlias.channel_sku == channel_sku
        )
    ).scalar_one_or_none()


def purge_raw_bodies(db: Database, days: int = KEEP_RAW_DAYS) -> int:
    """Drops the raw bodies of deliveries older than ``days`` (the log rows stay)."""
    cutoff = utcnow() - timedelta(days=days)
    return db.write(
        lambda conn: (
            conn.execute(
                update(InboundDelivery)
                .where(InboundDelivery.received_at < cutoff, InboundDelivery.raw_body.is_not(None))
                .values(raw_body=None)
            ).rowcount
        )
    )
