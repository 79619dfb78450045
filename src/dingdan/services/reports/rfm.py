"""RFM segments per customer (shared/CONTRACT.md, "Reports": ``reports/customers``), the
scores and rules of domain/crm/rfm.py over every customer with an order not cancelled.

Recency is the days from the customer's last order (a day in the seller's time zone) to
today; frequency their orders; monetary their orders' totals less refunds in the shop's
main currency (the one most orders are in), in minor units. The whole set is scored at
once (quintiles are relative), then sorted and paged; a customer without an order is not
scored."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import Connection, case, func, select

from dingdan.db.engine import Database
from dingdan.db.order_tables import Customer, Order
from dingdan.domain.access.personal_data import mask_email, mask_phone
from dingdan.domain.crm import rfm
from dingdan.domain.crm.rfm import SEGMENTS, Facts, Segment
from dingdan.domain.shared.errors import ValidationFailed
from dingdan.domain.shared.money import format_amount
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE
from dingdan.services.reports.shapes import ScoredCustomer
from dingdan.services.shared.common import Page, check_limit, decode_cursor, encode_cursor, iso

SORTS = ("value", "orders", "last_order", "segment", "name")


def main_currency(conn: Connection) -> str | None:
    row = conn.execute(
        select(Order.currency, func.count().label("n"))
        .where(Order.status != "cancelled")
        .group_by(Order.currency)
        .order_by(func.count().desc(), Order.currency)
        .limit(1)
    ).first()
    return row[0] if row else None


def _rows(conn: Connection) -> tuple[list[Any], str | None]:
    currency = main_currency(conn)
    net = Order.total_minor - Order.refunded_minor
    in_main = func.coalesce(func.sum(case((Order.currency == currency, net), else_=0)), 0)
    agg = (
        select(
            Order.customer_id.label("cid"),
            func.count().label("orders"),
            func.max(Order.created_at).label("last_at"),
            in_main.label("monetary"),
        )
        .where(Order.status != "cancelled")
        .group_by(Order.customer_id)
        .subquery()
    )
    rows = conn.execute(
        select(Customer.id, Customer.name, Customer.email, Customer.phone, agg).join(
            agg, agg.c.cid == Customer.id
        )
    ).all()
    return list(rows), currency


def _instant(at: Any) -> datetime:
    if isinstance(at, str):  # SQLite's max() of a column may come back as its stored text
        at = datetime.fromisoformat(at)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def scored(db: Database, today: date | None = None) -> tuple[list[ScoredCustomer], str | None]:
    """Every customer with an order: facts, scores and segment."""
    rows, currency = db.read(_rows)
    as_of = today or datetime.now(SELLER_TIMEZONE).date()
    facts = [
        Facts(
            days_since_last=max(
                0, (as_of - _instant(r.last_at).astimezone(SELLER_TIMEZONE).date()).days
            ),
            orders=int(r.orders),
            monetary=int(r.monetary),
        )
        for r in rows
    ]
    out: list[ScoredCustomer] = []
    for r, f, s in zip(rows, facts, rfm.score(facts), strict=True):
        out.append(
            {
                "customer_id": str(r.id),
                "name": r.name,
                "email": r.email,
                "phone": r.phone,
                "orders": f.orders,
                "last_order_at": iso(_instant(r.last_at).astimezone(UTC)),
                "recency_days": f.days_since_last,
                "monetary_minor": f.monetary,
                "monetary": (
                    {"currency": currency, "amount": format_amount(f.monetary, currency)}
                    if currency
                    else None
                ),
                "r": s.r,
                "f": s.f,
                "m": s.m,
                "segment": s.segment.value,
            }
        )
    return out, currency


def _sort_key(sort: str) -> Any:
    rank = {s.value: i for i, s in enumerate(SEGMENTS)}
    keys = {
        "value": lambda c: (-c["monetary_minor"], -int(c["customer_id"])),
        "orders": lambda c: (-c["orders"], -int(c["customer_id"])),
        "last_order": lambda c: (c["recency_days"], -int(c["customer_id"])),
        "segment": lambda c: (rank[c["segment"]], -c["monetary_minor"], -int(c["customer_id"])),
        "name": lambda c: ((c["name"] or "").casefold(), -int(c["customer_id"])),
    }
    return keys[sort]


def check_segment(segment: str | None) -> Segment | None:
    if segment in (None, ""):
        return None
    if segment not in {s.value for s in SEGMENTS}:
        raise ValidationFailed.on("segment", "not_one_of", choices=", ".join(SEGMENTS))
    return Segment(segment)


def customers(
    db: Database,
    *,
    segment: str | None = None,
    sort: str = "value",
    limit: int = 50,
    cursor: str | None = None,
    today: date | None = None,
    every: list[ScoredCustomer] | None = None,
) -> Page:
    """One page of scored customers, ``segment`` only if given, in the ``sort`` order
    (``value``: monetary, largest first; ``orders``: most first; ``last_order``: latest
    first; ``segment``: champions first, then by value; ``name``). The cursor holds the
    position in that order. ``every``: what ``scored`` gave, when the caller has it."""
    check_limit(limit)
    wanted = check_segment(segment)
    if sort not in SORTS:
        raise ValidationFailed.on("sort", "not_one_of", choices=", ".join(SORTS))
    start = 0
    if cursor:
        start = (decode_cursor(cursor, int) or [0])[0]
        if start < 0:
            raise ValidationFailed.on("cursor", "invalid_cursor")
    items = every if every is not None else scored(db, today)[0]
    items = [c for c in items if wanted is None or c["segment"] == wanted.value]
    items.sort(key=_sort_key(sort))
    chunk = items[start : start + limit]
    more = start + limit < len(items)
    # Page's items are untyped (services/shared/common): the scored customers go in as they are.
    return Page(cast("list[dict[str, Any]]", chunk), encode_cursor(start + limit) if more else None)


FILE_HEADER = (
    "customer_id",
    "name",
    "email",
    "phone",
    "orders",
    "last_order_at",
    "recency_days",
    "currency",
    "monetary",
    "r",
    "f",
    "m",
    "segment",
)


def every_customer(
    db: Database, *, segment: str | None = None, sort: str = "value", masked: bool = False
) -> list[list[Any]]:
    """Every scored customer (``segment`` only if given) in the ``sort`` order, as the rows
    of a CSV or XLSX file under ``FILE_HEADER`` (contacts masked when ``masked``)."""
    wanted = check_segment(segment)
    if sort not in SORTS:
        raise ValidationFailed.on("sort", "not_one_of", choices=", ".join(SORTS))
    items, _ = scored(db)
    items = [c for c in items if wanted is None or c["segment"] == wanted.value]
    items.sort(key=_sort_key(sort))
    rows = []
    for c in items:
        email, phone = c["email"], c["phone"]
        if masked:
            email, phone = mask_email(email), mask_phone(phone)
        money = c["monetary"] or {"currency": None, "amount": None}
        rows.append(
            [c["customer_id"], c["name"], email, phone, c["orders"], c["last_order_at"]]
            + [c["recency_days"], money["currency"], money["amount"], c["r"], c["f"], c["m"]]
            + [c["segment"]]
        )
    return rows


def segment_counts(
    db: Database, today: date | None = None, every: list[ScoredCustomer] | None = None
) -> dict[str, int]:
    items = every if every is not None else scored(db, today)[0]
    counts = Counter(c["segment"] for c in items)
    return {s.value: counts.get(s.value, 0) for s in SEGMENTS}


def of_customer(db: Database, customer_id: int, today: date | None = None) -> ScoredCustomer | None:
    items, _ = scored(db, today)
    return next((c for c in items if c["customer_id"] == str(customer_id)), None)
