"""Exports of the lists as CSV or XLSX (shared/CONTRACT.md, "Order import and export"):
orders, order lines, customers, products, inventory and stock movements (the contract's
kinds), returns (a row per return line) and payments (payments, refunds and
authorizations, a row each), with the list's own filters, streamed.

Each export reads its list the way the list does (the same service function, so the same
filters and the same order), one page of ``BATCH`` rows per short read transaction, keyset
paged: never one transaction for the whole export, never the whole result in memory. The
first page is read before anything is sent, so that a bad filter is refused as an error
rather than as a broken file.

Times are ISO 8601 in the seller's time zone with its offset (``2026-12-07T11:44:25+08:00``),
``from`` and ``to`` are days there, both included; money is a decimal string with its
currency in a column beside it, as the API shows it. Warehouse and viewer see customers'
emails and phones masked, as in the API; the customers export, whose every row is a
person's details, is refused to them, and each customer it hands out is an audited view.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, select

from dingdan.db.engine import Database
from dingdan.db.order_tables import Order, Payment
from dingdan.db.tables import Location, Product, StockMovement, table_of
from dingdan.domain.access.personal_data import mask_email, mask_phone, sees_masked
from dingdan.domain.catalog.styles import options_text
from dingdan.domain.shared.errors import Forbidden, NotFound, ValidationFailed
from dingdan.domain.shared.money import format_amount
from dingdan.domain.shared.text import has_control
from dingdan.services.after_sales import return_queries
from dingdan.services.catalog import products
from dingdan.services.catalog.imports import PRODUCT_COLUMNS
from dingdan.services.inventory import stock_overview
from dingdan.services.orders import customers, queries
from dingdan.services.reports.dashboard import BUSINESS_TZ
from dingdan.services.reports.export_files import MEDIA_TYPES, csv_chunks, xlsx_chunks
from dingdan.services.shared.common import (
    Actor,
    Page,
    audit,
    check_limit,
    decode_cursor,
    page_of,
)

BATCH = 200  # rows per read transaction (the lists' largest page)
FORMATS = ("csv", "xlsx")
Params = Mapping[str, str]
Fetch = Callable[[str | None], Page]
ToRows = Callable[[dict[str, Any]], Iterable[Sequence[Any]]]

ORDER_HEADER = (
    "number", "created_at", "channel", "external_id", "status", "financial_status",
    "fulfillment_status", "customer_name", "customer_email", "customer_phone", "country",
    "city", "postal_code", "currency", "items", "subtotal", "shipping_total", "tax_total",
    "total", "paid", "refunded", "refund_due", "payment_method", "note", "cancel_reason",
)  # fmt: skip
LINE_HEADER = (
    "number", "created_at", "channel", "external_id", "status", "currency", "customer_name",
    "customer_email", "customer_phone", "country", "sku", "name", "quantity", "unit_price",
    "tax", "allocated", "backordered", "shipped", "returned", "cancelled",
)  # fmt: skip
CUSTOMER_HEADER = ("id", "name", "email", "phone", "orders", "lifetime_value", "created_at")
INVENTORY_HEADER = (
    "sku", "name", "barcode", "location", "on_hand", "reserved", "available",
    "low_stock_threshold",
)  # fmt: skip
RETURN_HEADER = (
    "id", "order", "status", "created_at", "received_at", "refunded_at", "location",
    "currency", "sku", "quantity", "reason", "unit_price", "resellable", "damaged",
    "refund", "refund_to", "note",
)  # fmt: skip
PAYMENT_HEADER = (
    "id", "created_at", "order", "kind", "status", "provider", "method", "currency", "amount",
    "reference", "reason", "actor",
)  # fmt: skip
PAYMENT_KINDS = ("payment", "refund", "authorization")
MOVEMENT_HEADER = (
    "id", "created_at", "sku", "location", "kind", "on_hand_delta", "reserved_delta",
    "reason", "reference", "actor",
)  # fmt: skip


@dataclass(frozen=True)
class Export:
    """What to answer: the file's name and type, and its bytes, read as they are sent."""

    kind: str
    format: str
    filename: str
    media_type: str
    chunks: Iterator[bytes]


# ---- what the request asks ---------------------------------------------------------------


def _text(params: Params, name: str, longest: int = 200) -> str | None:
    value = (params.get(name) or "").strip()
    if len(value) > longest:
        raise ValidationFailed.on(name, "too_long", max=longest)
    if has_control(value):  # a NUL above all, which PostgreSQL cannot compare
        raise ValidationFailed.on(name, "control_characters")
    return value or None


def _flag(params: Params, name: str) -> bool | None:
    value = (params.get(name) or "").strip().lower()
    if not value:
        return None
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValidationFailed.on(name, "not_a_yes_no")


def _day(params: Params, name: str) -> date | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed.on(name, "not_a_date") from None


def _period(params: Params) -> tuple[datetime | None, datetime | None]:
    """``from`` and ``to`` as instants: midnight starting ``from`` and midnight ending ``to``
    in the seller's time zone (``to`` included)."""
    start, end = _day(params, "from"), _day(params, "to")
    if start and end and end < start:
        raise ValidationFailed.on("to", "before_start")

    def midnight(day: date) -> datetime | None:
        if not date.min + timedelta(days=1) < day < date.max - timedelta(days=1):
            return None  # the ends of the calendar, near no record (and beyond UTC's)
        return datetime.combine(day, time(), tzinfo=BUSINESS_TZ).astimezone(UTC)

    return (
        midnight(start) if start else None,
        midnight(end + timedelta(days=1)) if end and end < date.max else None,
    )


def local_time(value: Any) -> str:
    """An instant (a datetime, or RFC 3339 text) in the seller's time zone, to the second."""
    if value is None or value == "":
        return ""
    dt = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)  # stored in UTC
    return str(dt.astimezone(BUSINESS_TZ).isoformat(timespec="seconds"))


# ---- the lists, page by page ---------------------------------------------------------------


def _orders(db: Database, params: Params) -> Fetch:
    created_from, created_to = _period(params)
    wanted: dict[str, Any] = {
        "status": _text(params, "status"),
        "financial_status": _text(params, "financial_status"),
        "fulfillment_status": _text(params, "fulfillment_status"),
        "channel": _text(params, "channel", 32),
        "q": _text(params, "q"),
        "refund_due": _flag(params, "refund_due"),
        "created_from": created_from,
        "created_to": created_to,
    }
    return lambda cursor: queries.list_orders(db, **wanted, limit=BATCH, cursor=cursor)


def _customers(db: Database, params: Params) -> Fetch:
    q = _text(params, "q")
    return lambda cursor: customers.list_customers(db, q=q, limit=BATCH, cursor=cursor)


def _products(db: Database, params: Params) -> Fetch:
    wanted: dict[str, Any] = {
        "q": _text(params, "q"),
        "active": _flag(params, "active"),
        "category": _text(params, "category"),
        "brand": _text(params, "brand"),
        "style": _text(params, "style"),
    }
    return lambda cursor: products.list_products(db, **wanted, limit=BATCH, cursor=cursor)


def _inventory(db: Database, params: Params) -> Fetch:
    wanted: dict[str, Any] = {
        "q": _text(params, "q", 100),
        "location": _text(params, "location", 50),
        "low_stock": bool(_flag(params, "low_stock")),
    }
    return lambda cursor: stock_overview.stock_by_product(db, **wanted, limit=BATCH, cursor=cursor)


def _returns(db: Database, params: Params) -> Fetch:
    status, order = _text(params, "status"), _text(params, "order", 50)
    return lambda cursor: return_queries.list_returns(
        db, status=status, order=order, limit=BATCH, cursor=cursor
    )


def _movements(db: Database, params: Params) -> Fetch:
    """The ledger of every SKU (or of ``sku``), newest first, of ``location`` if given."""
    start, end = _period(params)
    sku, location = _text(params, "sku", 100), _text(params, "location", 50)
    stmt = (
        select(StockMovement, Product.sku, Location.code.label("location_code"))
        .join(Product, Product.id == StockMovement.product_id)
        .join(Location, Location.id == StockMovement.location_id)
        .order_by(StockMovement.id.desc())
        .limit(BATCH + 1)
    )
    if sku:
        stmt = stmt.where(Product.sku == sku)
    if location:
        stmt = stmt.where(Location.code == location)
    if start:
        stmt = stmt.where(StockMovement.created_at >= start)
    if end:
        stmt = stmt.where(StockMovement.created_at < end)

    return _newest_first(db, stmt, StockMovement.id)


def _payments(db: Database, params: Params) -> Fetch:
    """Every payment, refund and authorization of every order, newest first; ``type``
    (payment, refund, authorization), ``provider`` and ``method`` narrow it, ``from``/``to``
    bound the day it was recorded."""
    start, end = _period(params)
    kind = _text(params, "type", 20)
    if kind is not None and kind not in PAYMENT_KINDS:
        raise ValidationFailed.on("type", "not_one_of", choices=", ".join(PAYMENT_KINDS))
    provider, method = _text(params, "provider", 30), _text(params, "method", 20)
    stmt = (
        select(
            *[c for c in table_of(Payment).c if c.name != "order_id"], Order.number, Order.currency
        )
        .join(Order, Order.id == Payment.order_id)
        .order_by(Payment.id.desc())
        .limit(BATCH + 1)
    )
    for column, value in ((Payment.kind, kind), (Payment.provider, provider)):
        if value:
            stmt = stmt.where(column == value)
    if method:
        stmt = stmt.where(Payment.method == method)
    if start:
        stmt = stmt.where(Payment.created_at >= start)
    if end:
        stmt = stmt.where(Payment.created_at < end)
    return _newest_first(db, stmt, Payment.id)


def _newest_first(db: Database, stmt: Any, id_column: Any) -> Fetch:
    """Pages of ``stmt`` (ordered by ``id_column`` descending, limited to BATCH + 1) by
    keyset: each page starts below the last id of the one before."""

    def fetch(cursor: str | None) -> Page:
        check_limit(BATCH)
        after = decode_cursor(cursor, int)
        query = stmt.where(id_column < after[0]) if after else stmt

        def work(conn: Connection) -> list[Any]:
            return list(conn.execute(query))

        return page_of(db.read(work), BATCH, lambda m: m._asdict(), lambda m: (int(m.id),))

    return fetch


# ---- rows ------------------------------------------------------------------------------------


def _contact(actor: Actor) -> Callable[[dict[str, Any]], tuple[Any, Any]]:
    masked = sees_masked(actor.role)

    def contact(c: dict[str, Any]) -> tuple[Any, Any]:
        email, phone = c.get("email"), c.get("phone")
        return (mask_email(email), mask_phone(phone)) if masked else (email, phone)

    return contact


def _order_rows(actor: Actor) -> ToRows:
    contact = _contact(actor)

    def rows(o: dict[str, Any]) -> Iterable[Sequence[Any]]:
        email, phone = contact(o["customer"])
        a = o["shipping_address"] or {}
        yield (
            o["number"], local_time(o["created_at"]), o["channel"], o["external_id"],
            o["status"], o["financial_status"], o["fulfillment_status"],
            o["customer"].get("name"), email, phone, a.get("country"), a.get("city"),
            a.get("postal_code"), o["currency"], sum(ln["quantity"] for ln in o["lines"]),
            o["subtotal"], o["shipping_total"], o["tax_total"], o["total"], o["paid"],
            o["refunded"], o["refund_due"], o["payment_method"], o["note"], o["cancel_reason"],
        )  # fmt: skip

    return rows


def _line_rows(actor: Actor) -> ToRows:
    contact = _contact(actor)

    def rows(o: dict[str, Any]) -> Iterable[Sequence[Any]]:
        email, phone = contact(o["customer"])
        head = (
            o["number"], local_time(o["created_at"]), o["channel"], o["external_id"],
            o["status"], o["currency"], o["customer"].get("name"), email, phone,
            (o["shipping_address"] or {}).get("country"),
        )  # fmt: skip
        for ln in o["lines"]:
            yield head + (
                ln["sku"], ln["name"], ln["quantity"], ln["unit_price"], ln["tax"],
                ln["allocated"], ln["backordered"], ln["shipped"], ln["returned"],
                ln["cancelled"],
            )  # fmt: skip

    return rows


def _customer_rows(c: dict[str, Any]) -> Iterable[Sequence[Any]]:
    value = "; ".join(f"{v['currency']} {v['amount']}" for v in c["lifetime_value"])
    yield (
        c["id"], c["name"], c["email"], c["phone"], c["orders"], value,
        local_time(c["created_at"]),
    )  # fmt: skip


def _product_rows(p: dict[str, Any]) -> Iterable[Sequence[Any]]:
    # A variant's options as one cell, "尺寸=M; 顏色=紅", as the import reads them.
    yield tuple(
        options_text(p["options"]) if name == "options" else p[name] for name in PRODUCT_COLUMNS
    )


def _inventory_rows(s: dict[str, Any]) -> Iterable[Sequence[Any]]:
    """One row per location holding a level; a product with none, one row without one."""
    head = (s["sku"], s["name"], s["barcode"])
    for where in s["locations"] or [{"location": None, "on_hand": 0, "reserved": 0}]:
        on_hand, reserved = where["on_hand"], where["reserved"]
        yield head + (
            where["location"],
            on_hand,
            reserved,
            on_hand - reserved,
            s["low_stock_threshold"],
        )


def _return_rows(r: dict[str, Any]) -> Iterable[Sequence[Any]]:
    """One row per line of the return."""
    refund = r["refund"] or {}
    head = (
        r["id"], r["order"], r["status"], local_time(r["created_at"]),
        local_time(r["received_at"]), local_time(r["refunded_at"]), r["location"], r["currency"],
    )  # fmt: skip
    for ln in r["lines"]:
        yield head + (
            ln["sku"], ln["quantity"], ln["reason"], ln["unit_price"], ln["resellable"],
            ln["damaged"], refund.get("amount"), refund.get("to"), r["note"],
        )  # fmt: skip


def _payment_rows(p: dict[str, Any]) -> Iterable[Sequence[Any]]:
    yield (
        str(p["id"]), local_time(p["created_at"]), p["number"], p["kind"], p["status"],
        p["provider"], p["method"], p["currency"], format_amount(p["amount_minor"], p["currency"]),
        p["reference"], p["reason"], p["actor"],
    )  # fmt: skip


def _movement_rows(m: dict[str, Any]) -> Iterable[Sequence[Any]]:
    yield (
        str(m["id"]), local_time(m["created_at"]), m["sku"], m["location_code"], m["kind"],
        m["on_hand_delta"], m["reserved_delta"], m["reason"], m["reference"], m["actor"],
    )  # fmt: skip


# ---- the export ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    header: tuple[str, ...]
    fetch: Callable[[Database, Params], Fetch]
    rows: Callable[[Actor], ToRows]
    personal: bool = False  # every row is a person's details: refused to masked roles


KINDS: dict[str, Kind] = {
    "orders": Kind(ORDER_HEADER, _orders, _order_rows),
    "order-lines": Kind(LINE_HEADER, _orders, _line_rows),
    "customers": Kind(CUSTOMER_HEADER, _customers, lambda _: _customer_rows, personal=True),
    "products": Kind(PRODUCT_COLUMNS, _products, lambda _: _product_rows),
    "inventory": Kind(INVENTORY_HEADER, _inventory, lambda _: _inventory_rows),
    "movements": Kind(MOVEMENT_HEADER, _movements, lambda _: _movement_rows),
    "returns": Kind(RETURN_HEADER, _returns, lambda _: _return_rows),
    "payments": Kind(PAYMENT_HEADER, _payments, lambda _: _payment_rows),
}


def _record_views(db: Database, actor: Actor, items: list[dict[str, Any]]) -> None:
    """Each customer handed out unmasked is a view of their details (one audit entry each,
    one transaction per page)."""

    def work(conn: Connection) -> None:
        for c in items:
            audit(conn, actor, "view", "customer", str(c["id"]))

    if items:
        db.write(work)


def _items(
    db: Database, actor: Actor, kind: Kind, fetch: Fetch, first: Page
) -> Iterator[dict[str, Any]]:
    page = first
    while True:
        if kind.personal:
            _record_views(db, actor, page.items)
        yield from page.items
        if not page.next_cursor:
            return
        page = fetch(page.next_cursor)


def filename(kind: str, fmt: str, now: datetime | None = None) -> str:
    """``orders-20261207.csv``: the kind and the day (in the seller's time zone)."""
    day = (now or datetime.now(UTC)).astimezone(BUSINESS_TZ)
    return f"{kind}-{day:%Y%m%d}.{fmt}"


def start(
    db: Database,
    actor: Actor,
    kind: str,
    fmt: str,
    params: Params,
    now: datetime | None = None,
) -> Export:
    """The export of the list ``kind`` filtered by ``params`` (the list's own filters as
    text, ``from`` and ``to`` as days), in ``fmt`` (``csv`` or ``xlsx``). Refuses an unknown
    kind (``NotFound``), format or filter (``ValidationFailed``), and a personal-data export
    to a role that sees such data masked (``Forbidden``), before any byte is sent."""
    spec = KINDS.get(kind)
    if spec is None:
        raise NotFound(detail=f"No export of {kind!r}; there are: {', '.join(KINDS)}.")
    if fmt not in FORMATS:
        raise ValidationFailed.on("format", "not_one_of", choices=", ".join(FORMATS))
    if spec.personal and sees_masked(actor.role):
        raise Forbidden(detail="Your role does not see customers' emails and phones.")
    fetch = spec.fetch(db, params)
    first = fetch(None)  # a bad filter is refused here, before the answer starts
    to_rows = spec.rows(actor)
    rows = (row for item in _items(db, actor, spec, fetch, first) for row in to_rows(item))
    chunks = csv_chunks(spec.header, rows) if fmt == "csv" else xlsx_chunks(spec.header, rows, kind)
    return Export(kind, fmt, filename(kind, fmt, now), MEDIA_TYPES[fmt], chunks)
