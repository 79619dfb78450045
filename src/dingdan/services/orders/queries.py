"""Read side of orders: the contract's order view, the list with search, the timeline."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, text
from sqlalchemy.sql.elements import ColumnElement

from dingdan.db.engine import Database
from dingdan.db.order_tables import (
    REFUND_DUE_SQL,
    Allocation,
    Customer,
    Order,
    OrderEvent,
    OrderLine,
    Shipment,
)
from dingdan.db.tables import Location
from dingdan.domain.orders.status import FinancialStatus, FulfillmentStatus, Status
from dingdan.domain.shared.contact import phone_as_stored
from dingdan.domain.shared.errors import NotFound, ValidationFailed
from dingdan.domain.shared.money import format_amount
from dingdan.domain.shared.text import folded
from dingdan.services.orders import search_index
from dingdan.services.orders.shapes import OrderEventView
from dingdan.services.shared.common import (
    Page,
    PageView,
    check_limit,
    decode_cursor,
    iso,
    like_pattern,
    page_of,
)
from dingdan.services.shared.view_types import OrderView, ShipmentView


def fetch(conn: Connection, number: str, *, lock: bool = False) -> Any:
    """The order row; ``lock`` holds it (FOR UPDATE on PostgreSQL; SQLite's single writer
    already does) so that a use case's checks still hold when it writes. Lock order: the
    order row first, then stock rows."""
    stmt = select(Order).where(Order.number == number)
    row = conn.execute(stmt.with_for_update() if lock else stmt).first()
    if row is None:
        raise NotFound(detail=f"No order numbered {number!r}.")
    return row


def refund_due_minor(order: Any) -> int:
    """What the order owes back: paid less refunded beyond what it is owed (its total, or
    nothing once cancelled), at least 0."""
    owed = 0 if order.status == Status.CANCELLED else order.total_minor
    return max(0, order.paid_minor - order.refunded_minor - owed)


def refund_due_clause() -> ColumnElement[bool]:
    """Orders that owe money back (``refund_due_minor`` > 0), for lists and the dashboard:
    the text of the partial index ``ix_orders_refund_due``, so both databases use it."""
    return text(REFUND_DUE_SQL)  # type: ignore[return-value]


def view(conn: Connection, order: Any) -> OrderView:
    return views(conn, [order])[0]


def views(conn: Connection, orders: list[Any]) -> list[OrderView]:
    """The contract's view of each order, with two queries for the whole batch."""
    ids = [o.id for o in orders]
    lines: dict[int, list[Any]] = {i: [] for i in ids}
    for ln in conn.execute(
        select(OrderLine)
        .where(OrderLine.order_id.in_(ids))
        .order_by(OrderLine.order_id, OrderLine.position)
    ):
        lines[ln.order_id].append(ln)
    allocs: dict[int, list[Any]] = {i: [] for i in ids}
    for row in conn.execute(
        select(Allocation.order_id, Location.code, OrderLine.sku, Allocation.quantity)
        .join(Location, Location.id == Allocation.location_id)
        .join(OrderLine, OrderLine.id == Allocation.line_id)
        .where(Allocation.order_id.in_(ids))
        .order_by(Allocation.order_id, OrderLine.position, Location.priority, Location.code)
    ):
        allocs[row.order_id].append(row[1:])
    notes = dict(
        conn.execute(
            select(OrderEvent.order_id, OrderEvent.message).where(
                OrderEvent.order_id.in_(ids), OrderEvent.kind == "customer_note"
            )
        ).all()
    )
    return [view_of(o, lines[o.id], allocs[o.id], notes.get(o.id)) for o in orders]


def view_of(order: Any, lines: list[Any], allocs: list[Any], note: str | None = None) -> OrderView:
    """The view from rows already in hand (attribute access): ``lines`` in position order,
    ``allocs`` as (location code, sku, quantity) in the order ``views`` reads them, ``note``
    the customer's note sent with the order."""
    cur = order.currency
    return {
        "number": order.number,
        "channel": order.channel,
        "external_id": order.external_id,
        "status": order.status,
        "financial_status": order.financial_status,
        "fulfillment_status": order.fulfillment_status,
        "currency": cur,
        # The stored snapshot of the customer as ordered, with the customer's id
        # (``GET /api/v1/customers?q=`` finds the same customer).
        "customer": {**(order.customer or {}), "id": str(order.customer_id)},
        "shipping_address": order.shipping_address,
        "payment_method": order.payment_method,
        "note": note,
        "locale": order.locale,
        "lines": [
            {
                "sku": ln.sku,
                "name": ln.name,
                "quantity": ln.quantity,
                "unit_price": format_amount(ln.unit_price_minor, cur),
                "tax": format_amount(ln.tax_minor, cur),
                "allocated": ln.allocated,
                "backordered": ln.backordered,
                "shipped": ln.shipped,
                "returned": ln.returned,
                "cancelled": ln.cancelled,
            }
            for ln in lines
        ],
        "allocations": [{"location": c, "sku": s, "quantity": q} for c, s, q in allocs],
        "subtotal": format_amount(order.subtotal_minor, cur),
        "shipping_total": format_amount(order.shipping_minor, cur),
        "tax_total": format_amount(order.tax_minor, cur),
        "total": format_amount(order.total_minor, cur),
        "paid": format_amount(order.paid_minor, cur),
        "refunded": format_amount(order.refunded_minor, cur),
        "balance_due": format_amount(max(0, order.total_minor - order.paid_minor), cur),
        "refund_due": format_amount(refund_due_minor(order), cur),
        "prices_include_tax": order.prices_include_tax,
        "cancel_reason": order.cancel_reason,
        "tracking_token": order.tracking_token,
        "delivery": order.delivery,
        "risk": order.risk,
        "hold": order.hold,
        "created_at": iso(order.created_at),
        "updated_at": iso(order.updated_at),
    }


def get_order(db: Database, number: str) -> OrderView:
    return db.read(lambda conn: view(conn, fetch(conn, number)))


def _enum(value: str | None, allowed: type, field: str) -> str | None:
    if value is not None and value not in {m.value for m in allowed}:  # type: ignore[attr-defined]
        raise ValidationFailed.on(field, "unknown_value")
    return value


# A whole email address (not a fragment): ``q`` then means "orders of this email".
_WHOLE_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


def list_orders(
    db: Database,
    *,
    status: str | None = None,
    financial_status: str | None = None,
    fulfillment_status: str | None = None,
    channel: str | None = None,
    q: str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    refund_due: bool | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[OrderView]:
    """Newest first, keyset-paged on the order id. ``refund_due`` keeps the orders that owe
    money back (the finance queue).

    ``q`` is a case-insensitive substring of the order number, the customer's email, name
    and phone, except that a whole email address finds the orders of that email only (not
    ``aa@example.com`` for ``a@example.com``): that is what a person searching an email
    means, and it is an index lookup instead of a trigram scan whose posting lists
    (``@ex``, ``com``) hold nearly every order.

    A term of three characters or more is looked up in a trigram index by its rarest
    trigrams (``search_index.rarest``), and ``LIKE`` checks the whole term on what it
    finds: PostgreSQL's pg_trgm GIN index in the same statement; on SQLite the FTS5 table
    gives the indexed orders that may match, newest first, while the orders written since
    the worker last indexed are scanned (``services/search_index``).
    A term of one or two CJK characters (a surname, a given name, 李娜) is looked up in the
    index of such grams the same ways. On PostgreSQL a term the sample finds in many orders
    is searched in the newest ids first (``search_index.newest_span``). Both answer exactly
    what a scan would."""
    check_limit(limit)
    after = decode_cursor(cursor, int)
    filters = {
        Order.status: _enum(status, Status, "status"),
        Order.financial_status: _enum(financial_status, FinancialStatus, "financial_status"),
        Order.fulfillment_status: _enum(
            fulfillment_status, FulfillmentStatus, "fulfillment_status"
        ),
        Order.channel: channel,
    }
    if q and "\x00" in q:
        # No order's text holds a NUL (PostgreSQL cannot store one, and the contact fields
        # refuse control characters); FTS5 would read it as the end of its query.
        return Page([], None)
    # A phone number as people write it means the orders of that number, stored in E.164.
    q = (phone_as_stored(q) or q) if q else q
    # Compared as the stored text is written: after NFKC and case folding (a full-width
    # term finds half-width text and the other way round).
    q = search_index.search_fold(q) if q else q
    email = folded(q.strip()) if q and _WHOLE_EMAIL.fullmatch(q.strip()) else None
    gram = search_index.gram_term(q) if q and not email else None
    # The trigrams a term of three characters or more is looked up by (search_index.rarest).
    grams = search_index.trigrams(q, not db.is_sqlite) if q and not email else []
    pattern = like_pattern(q.strip() if email else q) if q else ""
    stmt = select(Order)
    for column, value in filters.items():
        if value is not None:
            stmt = stmt.where(column == value)
    if q and (db.is_sqlite or email):
        stmt = stmt.where(Order.search_text.like(pattern, escape="\\"))
    if gram and not db.is_sqlite:
        stmt = stmt.where(search_index.pg_grams_hold(Order.search_text, gram))
    if refund_due:
        stmt = stmt.where(refund_due_clause())
    if created_from:
        stmt = stmt.where(Order.created_at >= created_from)
    if created_to:
        stmt = stmt.where(Order.created_at < created_to)
    if after:
        stmt = stmt.where(Order.id < after[0])

    def work(conn: Connection) -> Page[OrderView]:
        query = stmt
        if q and not db.is_sqlite:
            # A plan for this term, not a generic one for every term: after a few runs of
            # the same statement psycopg prepares it, and PostgreSQL's generic plan, blind to
            # how common the term is, can cost 100 times more (at 1M orders a two-character
            # term took 540 ms, ANDing the pg_trgm index, against 16 ms). And no parallel
            # workers: starting them cost more than they saved (at 1M orders 林佳, 6,000
            # candidates, took 26-35 ms with two against 16-21 ms without).
            conn.execute(_SEARCH_PLAN)
            if not email:
                query = query.where(*_pg_term(conn, grams, pattern))
        match = None
        if db.is_sqlite and grams:
            match = search_index.fts_query(search_index.rarest(conn, grams))
        if email:
            ids = conn.execute(select(Customer.id).where(Customer.email == email)).scalars().all()
            if not ids:
                return Page([], None)
            query = stmt.where(Order.customer_id.in_(ids))
        sqlite_index = db.is_sqlite and (match or gram)
        indexed = search_index.indexed_up_to(conn) if sqlite_index else None
        if indexed is None:
            span = None
            if q and not db.is_sqlite and not email:
                span = search_index.newest_span(conn, q, limit + 1)
            rows = _newest(conn, query, limit + 1, span, after)
        else:
            rows = _search_sqlite(conn, query, match, gram, indexed, after, limit + 1)
        page = page_of(rows, limit, lambda o: o, lambda o: (int(o.id),))
        return Page(views(conn, page.items), page.next_cursor)

    return db.read(work)


def _newest(conn: Connection, query: Any, wanted: int, span: int | None, after: Any) -> list[Any]:
    """The newest ``wanted`` orders ``query`` selects; with a ``span``, those of the newest
    ``span`` ids (below the cursor) first, then the older ones if the page is not full
    (``search_index.newest_span``). The same rows either way."""
    ordered = query.order_by(Order.id.desc())
    top = after[0] if after else None
    if span is not None and top is None:
        newest = conn.execute(select(func.max(Order.id))).scalar()
        top = None if newest is None else int(newest) + 1
    if span is None or top is None:
        return list(conn.execute(ordered.limit(wanted)))
    edge = top - span
    rows = list(conn.execute(ordered.where(Order.id >= edge).limit(wanted)))
    if len(rows) < wanted:
        rows += conn.execute(ordered.where(Order.id < edge).limit(wanted - len(rows)))
    return rows


def _pg_term(conn: Connection, grams: list[str], pattern: str) -> list[ColumnElement[bool]]:
    """PostgreSQL: the conditions of a term (``pattern``) with these trigrams. When the
    rarest of them are fewer than all (``search_index.rarest``), pg_trgm's index looks
    those up and the whole term is checked on what it finds, in a form the index cannot
    take (it would add every trigram of the term to its lookup); otherwise one ``LIKE``,
    which the index answers with all of them."""
    probes = search_index.rarest(conn, grams) if grams else []
    if len(probes) == len(grams):
        return [Order.search_text.like(pattern, escape="\\")]
    return [
        *(Order.search_text.like(f"%{g}%") for g in probes),
        (Order.search_text + "").like(pattern, escape="\\"),
    ]


_SEARCH_PLAN = text(
    "SELECT set_config('plan_cache_mode', 'force_custom_plan', true),"
    " set_config('max_parallel_workers_per_gather', '0', true)"
)


def _search_sqlite(
    conn: Connection,
    query: Any,
    match: str | None,
    gram: str | None,
    indexed: int,
    after: Any,
    wanted: int,
) -> list[Any]:
    """The newest ``wanted`` orders ``query`` selects: those the index does not hold yet by
    a scan (they are the newest), then the indexed ones through it (the FTS5 ``match``, or
    the CJK ``gram``), newest first. Driven by the index in id order, a common term stops
    at the page's end."""
    rows = list(
        conn.execute(query.where(Order.id > indexed).order_by(Order.id.desc()).limit(wanted))
    )
    if len(rows) == wanted:
        return rows
    if match:
        fts = search_index.TABLE
        key = fts.c.rowid
        looked_up = query.select_from(fts).where(search_index.MATCH.op("MATCH")(match))
    else:
        grams = search_index.GRAMS
        key = grams.c.order_id
        looked_up = query.select_from(grams).where(grams.c.gram == gram)
    looked_up = (
        looked_up.join(Order, Order.id == key)
        .where(key <= indexed)
        .order_by(key.desc())
        .limit(wanted - len(rows))
    )
    if after:  # ``query`` has it on orders.id already; on the index's key it seeks to it
        looked_up = looked_up.where(key < after[0])
    return rows + list(conn.execute(looked_up))


def existing_numbers(db: Database, candidates: list[Any]) -> set[str]:
    """Which of these texts (a ledger's references) are order numbers: the pages link them."""
    wanted = {c for c in candidates if isinstance(c, str) and 0 < len(c) <= 40}
    if not wanted:
        return set()
    return set(
        db.read(
            lambda conn: (
                conn.execute(select(Order.number).where(Order.number.in_(wanted))).scalars().all()
            )
        )
    )


def events(db: Database, number: str) -> PageView[OrderEventView]:
    def work(conn: Connection) -> PageView[OrderEventView]:
        order = fetch(conn, number)
        rows = conn.execute(
            select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)
        ).all()
        return {
            "items": [
                {
                    "id": str(e.id),
                    "kind": e.kind,
                    "actor": e.actor,
                    "message": e.message,
                    "data": e.data,
                    "created_at": iso(e.created_at),
                }
                for e in rows
            ],
            "next_cursor": None,
        }

    return db.read(work)


def shipment_view(conn: Connection, s: Any) -> ShipmentView:
    number = conn.execute(select(Order.number).where(Order.id == s.order_id)).scalar_one()
    code = conn.execute(select(Location.code).where(Location.id == s.location_id)).scalar_one()
    return {
        "id": str(s.id),
        "order": number,
        "location": code,
        "carrier": s.carrier,
        "tracking_number": s.tracking_number,
        "status": s.status,
        "lines": s.lines,
        "exception": s.exception,
        "created_at": iso(s.created_at),
        "delivered_at": iso(s.delivered_at),
    }


def shipments_of(db: Database, number: str) -> PageView[ShipmentView]:
    def work(conn: Connection) -> PageView[ShipmentView]:
        order = fetch(conn, number)
        rows = conn.execute(
            select(Shipment).where(Shipment.order_id == order.id).order_by(Shipment.id)
        ).all()
        return {"items": [shipment_view(conn, s) for s in rows], "next_cursor": None}

    return db.read(work)
