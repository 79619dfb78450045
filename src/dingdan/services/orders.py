"""Order capture: check, price, allocate, reserve and record an order in one transaction."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection, insert, select, text, update

from dingdan.db import stock as stock_sql
from dingdan.db.engine import Database, RetryTransaction
from dingdan.db.order_tables import (
    Allocation,
    Channel,
    Customer,
    IdempotencyKey,
    Order,
    OrderLine,
    TaxRate,
)
from dingdan.db.tables import Location, OutboxMessage, Product, StockLevel, table_of
from dingdan.domain import order_input
from dingdan.domain import order_status as st
from dingdan.domain import orders as rules
from dingdan.domain.errors import (
    Conflict,
    FieldErrors,
    IdempotencyConflict,
    InsufficientStock,
)
from dingdan.domain.money import format_amount, parse_amount
from dingdan.domain.stock import MovementKind
from dingdan.services.common import Actor
from dingdan.services.order_views import event, view

# Statements of the capture path, built once (building them per order cost more CPU than
# running them); executed with a parameter dict or a list of them.
_INSERT_ORDER = insert(table_of(Order)).returning(table_of(Order).c.id)
_INSERT_LINES = insert(table_of(OrderLine)).returning(
    table_of(OrderLine).c.id, sort_by_parameter_order=True
)
_INSERT_ALLOCATION = insert(table_of(Allocation))
_INSERT_OUTBOX = insert(table_of(OutboxMessage))


def channel_codes(conn: Connection) -> set[str]:
    custom = conn.execute(select(Channel.code).where(Channel.active.is_(True))).scalars()
    return set(rules.BUILTIN_CHANNELS) | set(custom)


def request_hash(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def place_order(
    db: Database,
    actor: Actor,
    body: dict[str, Any],
    *,
    idempotency_key: str | None = None,
    prefix: str = "DD",
) -> tuple[dict[str, Any], bool]:
    """Returns the order and whether it was created now (False: an earlier one answered)."""
    channels = (
        set(rules.BUILTIN_CHANNELS)
        if body.get("channel") in rules.BUILTIN_CHANNELS
        else db.read(channel_codes)
    )
    data = order_input.validate(body, channels)
    digest = request_hash(body)

    def work(conn: Connection) -> tuple[dict[str, Any], bool]:
        earlier = _earlier(conn, actor, idempotency_key, digest, data)
        if earlier is not None:
            return view(conn, earlier), False
        order_id = _create(conn, actor, data, prefix)
        if idempotency_key:
            conn.execute(
                insert(IdempotencyKey).values(
                    scope=actor.name, key=idempotency_key, request_hash=digest, order_id=order_id
                )
            )
        return view(conn, conn.execute(select(Order).where(Order.id == order_id)).one()), True

    try:
        return db.write(work)
    except Conflict:
        # A concurrent request with the same key, external id or new customer won the race;
        # running again finds what it committed.
        return db.write(work)


def _earlier(
    conn: Connection, actor: Actor, key: str | None, digest: str, data: order_input.OrderInput
) -> Any:
    if key:
        row = conn.execute(
            select(IdempotencyKey.request_hash, IdempotencyKey.order_id).where(
                IdempotencyKey.scope == actor.name, IdempotencyKey.key == key
            )
        ).first()
        if row is not None:
            if row.request_hash != digest:
                raise IdempotencyConflict(
                    detail="This Idempotency-Key was used with a different request body."
                )
            return conn.execute(select(Order).where(Order.id == row.order_id)).one()
    if data.external_id:
        return conn.execute(
            select(Order).where(
                Order.channel == data.channel, Order.external_id == data.external_id
            )
        ).first()
    return None


def _products(conn: Connection, data: order_input.OrderInput) -> list[Any]:
    skus = [ln.sku for ln in data.lines]
    rows = {
        p.sku: p
        for p in conn.execute(
            select(
                Product.id,
                Product.sku,
                Product.name,
                Product.price_minor,
                Product.currency,
                Product.active,
                Product.allow_backorder,
                Product.tax_class,
            ).where(Product.sku.in_(set(skus)))
        )
    }
    errors = FieldErrors()
    for i, ln in enumerate(data.lines):
        p = rows.get(ln.sku)
        if p is None:
            errors.add(f"lines[{i}].sku", f"no product with SKU {ln.sku!r}")
        elif not p.active:
            errors.add(f"lines[{i}].sku", f"{ln.sku} is not active")
        elif ln.unit_price is None and p.currency != data.currency:
            errors.add(
                f"lines[{i}].unit_price",
                f"is required: the product is priced in {p.currency}, the order in {data.currency}",
            )
    errors.raise_if_any()
    return [rows[ln.sku] for ln in data.lines]


def _prices(data: order_input.OrderInput, products: list[Any]) -> list[int]:
    return [
        p.price_minor
        if ln.unit_price is None
        else parse_amount(ln.unit_price, data.currency, f"lines[{i}].unit_price")
        for i, (ln, p) in enumerate(zip(data.lines, products, strict=True))
    ]


def _plan(conn: Connection, data: order_input.OrderInput, products: list[Any]) -> rules.Plan:
    ids = {p.id for p in products}
    locations = list(
        conn.execute(
            select(Location.id)
            .where(Location.active.is_(True))
            .order_by(Location.priority, Location.id)
        ).scalars()
    )
    available = {
        (p, loc): oh - rs
        for p, loc, oh, rs in conn.execute(
            select(
                StockLevel.product_id,
                StockLevel.location_id,
                StockLevel.on_hand,
                StockLevel.reserved,
            ).where(StockLevel.product_id.in_(ids))
        )
    }
    wants = [
        rules.Want(i, p.id, ln.quantity, p.allow_backorder)
        for i, (ln, p) in enumerate(zip(data.lines, products, strict=True))
    ]
    plan = rules.plan_allocation(wants, available, locations)
    if plan.short:
        errors = FieldErrors()
        for i, missing in sorted(plan.short.items()):
            have = data.lines[i].quantity - missing
            errors.add(
                f"lines[{i}].quantity",
                f"only {have} of {data.lines[i].sku} available, {missing} short",
            )
        raise InsufficientStock(detail="Not enough stock for this order.", errors=errors.items)
    return plan


def _customer(conn: Connection, data: order_input.OrderInput) -> int:
    """Found by email; by phone only when the order gives no email (a phone shared by a
    household must not merge two people who gave different emails)."""
    email = data.email.lower() if data.email else None
    if email:
        row = conn.execute(select(Customer).where(Customer.email == email)).first()
    else:
        row = conn.execute(
            select(Customer).where(Customer.phone == data.phone).order_by(Customer.id)
        ).first()
    address = asdict(data.address)
    if row is None:
        return int(
            conn.execute(
                insert(Customer)
                .values(email=email, phone=data.phone, name=data.name, addresses=[address])
                .returning(Customer.id)
            ).scalar_one()
        )
    addresses = list(row.addresses or [])
    changes: dict[str, Any] = {}
    if address not in addresses:
        changes["addresses"] = ([address] + addresses)[:10]
    for col, value in (("email", email), ("phone", data.phone), ("name", data.name)):
        if value and not getattr(row, col):
            changes[col] = value
    if changes:
        conn.execute(update(Customer).where(Customer.id == row.id).values(**changes))
    return int(row.id)


def next_number(conn: Connection, prefix: str) -> str:
    if conn.dialect.name == "postgresql":
        n = conn.execute(text("SELECT nextval('order_number_seq')")).scalar_one()
    else:
        n = conn.execute(
            text(
                "UPDATE counters SET value = value + 1 WHERE name = 'order_number' RETURNING value"
            )
        ).scalar_one()
    return f"{prefix}{int(n):06d}"


def tax_overrides(conn: Connection) -> dict[tuple[str, str], rules.TaxRule]:
    """The seller's own rates, by (country, tax class); the defaults fill the rest."""
    return {
        (c, t): rules.TaxRule(int(r), bool(inc))
        for c, t, r, inc in conn.execute(
            select(TaxRate.country, TaxRate.tax_class, TaxRate.rate_ppm, TaxRate.prices_include_tax)
        )
    }


def create_order_in(
    conn: Connection, actor: Actor, data: order_input.OrderInput, prefix: str
) -> int:
    """Create a checked order inside the caller's transaction (exchanges, reshipments)."""
    return _create(conn, actor, data, prefix)


def _create(conn: Connection, actor: Actor, data: order_input.OrderInput, prefix: str) -> int:
    products = _products(conn, data)
    prices = _prices(data, products)
    country = data.address.country
    overrides = tax_overrides(conn)
    amounts = [
        (price * ln.quantity, rules.tax_rule(country, p.tax_class, overrides))
        for price, ln, p in zip(prices, data.lines, products, strict=True)
    ]
    ship_rule = rules.tax_rule(country, "standard", overrides)
    totals = rules.totals(amounts, data.shipping_minor, ship_rule)
    plan = _plan(conn, data, products)
    customer_id = _customer(conn, data)
    number = next_number(conn, prefix)
    fin = st.financial(totals.total, 0, 0)
    customer = {"email": data.email, "name": data.name, "phone": data.phone}
    search = " ".join(x for x in (number, data.email, data.name, data.phone) if x).lower()
    order_id = int(
        conn.execute(
            _INSERT_ORDER,
            dict(
                number=number,
                channel=data.channel,
                external_id=data.external_id,
                status="open",
                financial_status=fin.value,
                fulfillment_status="unfulfilled",
                currency=data.currency,
                customer_id=customer_id,
                customer=customer,
                shipping_address=asdict(data.address),
                payment_method=data.payment_method,
                prices_include_tax=ship_rule.prices_include_tax,
                subtotal_minor=totals.subtotal,
                shipping_minor=totals.shipping,
                tax_minor=totals.tax,
                total_minor=totals.total,
                search_text=search[:800],
                tracking_token=secrets.token_urlsafe(24),
            ),
        ).scalar_one()
    )
    line_ids = _insert_lines(conn, order_id, data, products, prices, totals, plan)
    _reserve(conn, actor, order_id, number, products, line_ids, plan)
    _record_created(conn, actor, order_id, number, data, totals, plan)
    return order_id


def _insert_lines(
    conn: Connection,
    order_id: int,
    data: order_input.OrderInput,
    products: list[Any],
    prices: list[int],
    totals: rules.Totals,
    plan: rules.Plan,
) -> list[int]:
    rows = []
    for i, (ln, p, price) in enumerate(zip(data.lines, products, prices, strict=True)):
        back = plan.backordered.get(i, 0)
        rows.append(
            {
                "order_id": order_id,
                "position": i,
                "product_id": p.id,
                "sku": p.sku,
                "name": p.name,
                "quantity": ln.quantity,
                "unit_price_minor": price,
                "tax_minor": totals.line_taxes[i],
                "allocated": ln.quantity - back,
                "backordered": back,
                "shipped": 0,
                "returned": 0,
                "cancelled": 0,
            }
        )
    result = conn.execute(_INSERT_LINES, rows)
    return [int(r[0]) for r in result]


def _reserve(
    conn: Connection,
    actor: Actor,
    order_id: int,
    number: str,
    products: list[Any],
    line_ids: list[int],
    plan: rules.Plan,
) -> None:
    if not plan.allocations:
        return
    conn.execute(
        _INSERT_ALLOCATION,
        [
            {
                "order_id": order_id,
                "line_id": line_ids[i],
                "product_id": products[i].id,
                "location_id": loc,
                "quantity": q,
            }
            for i, loc, q in plan.allocations
        ],
    )
    moves = [
        stock_sql.Move(products[i].id, loc, MovementKind.RESERVATION, 0, q)
        for i, loc, q in plan.allocations
    ]
    if (
        stock_sql.try_apply(conn, moves, actor=actor.name, reason="order", reference=number)
        is not None
    ):
        # Another order took the stock between our read and our reservation: plan again.
        raise RetryTransaction(InsufficientStock(detail="Not enough stock for this order."))


def _record_created(
    conn: Connection,
    actor: Actor,
    order_id: int,
    number: str,
    data: order_input.OrderInput,
    totals: rules.Totals,
    plan: rules.Plan,
) -> None:
    total = format_amount(totals.total, data.currency)
    event(
        conn,
        order_id,
        "created",
        actor.name,
        f"Order {number} placed on {data.channel}",
        {"total": total, "currency": data.currency},
    )
    if plan.allocations:
        event(
            conn,
            order_id,
            "allocated",
            actor.name,
            None,
            {
                "allocations": [
                    {"line": i, "location_id": loc, "quantity": q} for i, loc, q in plan.allocations
                ]
            },
        )
    if plan.backordered:
        event(
            conn,
            order_id,
            "backordered",
            actor.name,
            None,
            {
                "lines": [
                    {"sku": data.lines[i].sku, "quantity": q} for i, q in plan.backordered.items()
                ]
            },
        )
    conn.execute(
        _INSERT_OUTBOX,
        dict(
            topic="order.created",
            payload={
                "number": number,
                "total": total,
                "currency": data.currency,
                "channel": data.channel,
            },
        ),
    )
