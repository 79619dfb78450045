"""Customers: the list with search, and one customer's orders and lifetime value.

Lifetime value is what the customer actually paid, less refunds, per currency (an amount
in TWD and one in HKD are not added up)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, or_, select

from dingdan.db.engine import Database, nfkc
from dingdan.db.order_tables import Customer, Order
from dingdan.domain.shared.contact import phone_as_stored
from dingdan.domain.shared.errors import NotFound
from dingdan.domain.shared.money import format_amount
from dingdan.domain.shared.numbers import row_id
from dingdan.domain.shared.text import folded
from dingdan.services.orders.shapes import (
    CustomerDetail,
    CustomerOrderRow,
    CustomerStats,
    CustomerView,
)
from dingdan.services.shared.common import (
    Page,
    check_limit,
    decode_cursor,
    iso,
    like_pattern,
    page_of,
)


def _values(conn: Connection, ids: list[int]) -> dict[int, CustomerStats]:
    """Order count and lifetime value per customer id."""
    out: dict[int, CustomerStats] = {i: {"orders": 0, "lifetime_value": []} for i in ids}
    if not ids:
        return out
    rows = conn.execute(
        select(
            Order.customer_id,
            Order.currency,
            func.count(),
            func.coalesce(func.sum(Order.paid_minor - Order.refunded_minor), 0),
        )
        .where(Order.customer_id.in_(ids))
        .group_by(Order.customer_id, Order.currency)
        .order_by(Order.customer_id, Order.currency)
    )
    for cid, currency, count, net in rows:
        out[cid]["orders"] += int(count)
        out[cid]["lifetime_value"].append(
            {"currency": currency, "amount": format_amount(int(net), currency)}
        )
    return out


def customer_view(c: Any, stats: CustomerStats) -> CustomerView:
    return {
        "id": str(c.id),
        "name": c.name,
        "email": c.email,
        "phone": c.phone,
        "addresses": c.addresses or [],
        "created_at": iso(c.created_at),
        "orders": stats["orders"],
        "lifetime_value": stats["lifetime_value"],
    }


def list_customers(
    db: Database, *, q: str | None = None, limit: int = 50, cursor: str | None = None
) -> Page[CustomerView]:
    """Newest first; ``q`` is a case-insensitive substring of name, email or phone, a phone
    as people type it (``0912-345-678``, ``0912345678``) read the way the orders search
    reads it (``contact.phone_as_stored``: one matcher for both)."""
    check_limit(limit)
    after = decode_cursor(cursor, int)
    stmt = select(Customer).order_by(Customer.id.desc()).limit(limit + 1)
    if q and "\x00" in q:
        return Page([], None)
    if q:
        # Emails are kept folded (order capture's ``email_key``): the term is folded alike.
        q = folded(phone_as_stored(q) or q)
        pattern = like_pattern(q.strip())
        stmt = stmt.where(
            or_(
                # Names as typed: compared after NFKC (a full-width name is found by its
                # half-width letters and the other way round), as the orders search does.
                func.lower(nfkc(db, Customer.name)).like(pattern, escape="\\"),
                func.lower(Customer.email).like(pattern, escape="\\"),
                Customer.phone.like(pattern, escape="\\"),
            )
        )
    if after:
        stmt = stmt.where(Customer.id < after[0])

    def work(conn: Connection) -> tuple[list[Any], dict[int, CustomerStats]]:
        rows = list(conn.execute(stmt))
        return rows, _values(conn, [int(r.id) for r in rows])

    rows, stats = db.read(work)
    return page_of(rows, limit, lambda c: customer_view(c, stats[int(c.id)]), lambda c: (c.id,))


def _order_row(o: Any) -> CustomerOrderRow:
    return {
        "number": o.number,
        "channel": o.channel,
        "status": o.status,
        "financial_status": o.financial_status,
        "fulfillment_status": o.fulfillment_status,
        "currency": o.currency,
        "total": format_amount(o.total_minor, o.currency),
        "paid": format_amount(o.paid_minor, o.currency),
        "created_at": iso(o.created_at),
    }


def customer_detail(db: Database, customer_id: str) -> CustomerDetail:
    """One customer with every order, newest first."""

    def work(conn: Connection) -> CustomerDetail:
        row = None
        if (cid := row_id(customer_id)) >= 0:
            row = conn.execute(select(Customer).where(Customer.id == cid)).first()
        if row is None:
            raise NotFound(detail=f"No customer with id {customer_id!r}.")
        orders = conn.execute(
            select(Order).where(Order.customer_id == row.id).order_by(Order.id.desc()).limit(500)
        )
        view = customer_view(row, _values(conn, [int(row.id)])[int(row.id)])
        return {**view, "order_list": [_order_row(o) for o in orders]}

    return db.read(work)
