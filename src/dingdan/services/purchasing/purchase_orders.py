"""Purchase orders: draft → sent → partially received → received, or closed short, or
cancelled before anything arrived. Receiving is services/purchasing/receiving.py.

Numbers are gapless per year (PO-2026-0001): a counter row, bumped in the creating
transaction, so a refused or rolled-back PO leaves no hole. Status changes lock the PO row
(``FOR UPDATE``; SQLite has one writer) and check the transition table before they write.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.db.engine import Database
from dingdan.db.order_tables import Counter
from dingdan.db.purchasing_tables import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseReceipt,
    PurchaseReceiptLine,
    Supplier,
)
from dingdan.db.tables import Location
from dingdan.db.types import utcnow
from dingdan.domain.catalog import products as rules
from dingdan.domain.inventory.stock import check_lines
from dingdan.domain.purchasing.purchase_orders import POStatus, check_transition
from dingdan.domain.shared import money
from dingdan.domain.shared.errors import (
    FieldErrors,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE
from dingdan.services.inventory.locations import receiving
from dingdan.services.inventory.stock import product_ids
from dingdan.services.purchasing import suppliers
from dingdan.services.purchasing.shapes import (
    CheckedPOLine,
    POLineView,
    PurchaseOrderCommand,
    PurchaseOrderPatch,
    PurchaseOrderRow,
    PurchaseOrderView,
    ReceiptSummaryView,
)
from dingdan.services.shared.common import (
    Actor,
    Page,
    audit,
    check_limit,
    decode_cursor,
    iso,
    page_of,
)
from dingdan.services.shared.outbox_events import emit

MAX_LINES = 1000


# ---- reading -------------------------------------------------------------------------------


def po_id_of(ref: str) -> tuple[str, Any]:
    """A PO is named in a URL by its id or its number."""
    if ref.isascii() and ref.isdigit() and len(ref) <= 18:
        return "id", int(ref)
    return "number", ref


def fetch(conn: Connection, ref: str, *, lock: bool = False) -> Row[Any]:
    column, value = po_id_of(ref)
    stmt = select(PurchaseOrder).where(getattr(PurchaseOrder, column) == value)
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    if row is None:
        raise NotFound(detail=f"No purchase order {ref!r}.")
    return row


def lines_of(conn: Connection, po_id: int) -> list[Row[Any]]:
    return list(
        conn.execute(
            select(PurchaseOrderLine)
            .where(PurchaseOrderLine.purchase_order_id == po_id)
            .order_by(PurchaseOrderLine.position)
        )
    )


def _receipts(conn: Connection, po_id: int) -> list[ReceiptSummaryView]:
    rows = conn.execute(
        select(
            PurchaseReceipt.id,
            PurchaseReceipt.received_by,
            PurchaseReceipt.reference,
            PurchaseReceipt.created_at,
            PurchaseOrderLine.sku,
            PurchaseReceiptLine.quantity,
        )
        .join(PurchaseReceiptLine, PurchaseReceiptLine.receipt_id == PurchaseReceipt.id)
        .join(PurchaseOrderLine, PurchaseOrderLine.id == PurchaseReceiptLine.line_id)
        .where(PurchaseReceipt.purchase_order_id == po_id)
        .order_by(PurchaseReceipt.id, PurchaseOrderLine.position)
    )
    out: dict[int, ReceiptSummaryView] = {}
    for r in rows:
        rec = out.setdefault(
            r.id,
            {
                "id": str(r.id),
                "received_by": r.received_by,
                "reference": r.reference,
                "created_at": iso(r.created_at),
                "lines": [],
            },
        )
        rec["lines"].append({"sku": r.sku, "quantity": r.quantity})
    return list(out.values())


def po_view(conn: Connection, po: Any) -> PurchaseOrderView:
    cur = po.currency
    supplier = conn.execute(
        select(Supplier.code, Supplier.name).where(Supplier.id == po.supplier_id)
    ).one()
    location = conn.execute(select(Location.code).where(Location.id == po.location_id)).scalar_one()
    lines = lines_of(conn, po.id)
    total = sum(ln.quantity * ln.unit_cost_minor for ln in lines)
    line_views: list[POLineView] = [
        {
            "sku": ln.sku,
            "quantity": ln.quantity,
            "received": ln.received,
            "unit_cost": money.format_amount(ln.unit_cost_minor, cur),
        }
        for ln in lines
    ]
    return {
        "id": str(po.id),
        "number": po.number,
        "status": po.status,
        "supplier": supplier.code,
        "supplier_name": supplier.name,
        "location": location,
        "currency": cur,
        "expected_date": po.expected_date.isoformat() if po.expected_date else None,
        "freight": money.format_amount(po.freight_minor, cur),
        "duty": money.format_amount(po.duty_minor, cur),
        "notes": po.notes,
        "lines": line_views,
        "total": money.format_amount(total, cur),
        "receipts": _receipts(conn, po.id),
        "created_by": po.created_by,
        "created_at": iso(po.created_at),
        "updated_at": iso(po.updated_at),
        "sent_at": iso(po.sent_at),
        "closed_at": iso(po.closed_at),
    }


def get_purchase_order(db: Database, ref: str) -> PurchaseOrderView:
    return db.read(lambda conn: po_view(conn, fetch(conn, ref)))


def list_purchase_orders(
    db: Database,
    *,
    status: str | None = None,
    supplier: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """Newest first; ``status`` and ``supplier`` (its code) narrow the list."""
    check_limit(limit)
    after = decode_cursor(cursor, int)
    if status is not None and status not in POStatus.__members__.values():
        raise ValidationFailed.on("status", "not_one_of", choices=", ".join(POStatus))
    stmt = (
        select(
            PurchaseOrder,
            Supplier.code.label("supplier_code"),
            Supplier.name.label("supplier_name"),
            Location.code.label("location_code"),
        )
        .join(Supplier, Supplier.id == PurchaseOrder.supplier_id)
        .join(Location, Location.id == PurchaseOrder.location_id)
        .order_by(PurchaseOrder.id.desc())
        .limit(limit + 1)
    )
    if status:
        stmt = stmt.where(PurchaseOrder.status == status)
    if supplier:
        stmt = stmt.where(Supplier.code == supplier)
    if after:
        stmt = stmt.where(PurchaseOrder.id < after[0])
    rows = db.read(lambda conn: list(conn.execute(stmt)))

    def item(r: Any) -> PurchaseOrderRow:
        return {
            "id": str(r.id),
            "number": r.number,
            "status": r.status,
            "supplier": r.supplier_code,
            "supplier_name": r.supplier_name,
            "location": r.location_code,
            "currency": r.currency,
            "expected_date": r.expected_date.isoformat() if r.expected_date else None,
            "created_at": iso(r.created_at),
        }

    return page_of(rows, limit, item, lambda r: (int(r.id),))


# ---- creating ------------------------------------------------------------------------------


def next_number(conn: Connection, now: datetime | None = None) -> str:
    """PO-<year>-<n>, n counting from 1 each year (the seller's year), without gaps: the
    counter row is locked by the update until the creating transaction ends."""
    year = (now or utcnow()).astimezone(SELLER_TIMEZONE).year
    name = f"purchase_order:{year}"
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(
        dialect.insert(Counter)
        .values(name=name, value=0)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    value = conn.execute(
        update(Counter)
        .where(Counter.name == name)
        .values(value=Counter.value + 1)
        .returning(Counter.value)
    ).scalar_one()
    return f"PO-{year}-{int(value):04d}"


def _money_field(data: Mapping[str, Any], name: str, currency: str, errors: FieldErrors) -> int:
    value = data.get(name)
    if value is None:
        return 0
    minor = rules.price_minor(value, currency, name, errors)
    return minor or 0


def _expected(value: Any, errors: FieldErrors) -> date | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors.add("expected_date", "not_a_date")
        return None


def _header(data: PurchaseOrderPatch, currency: str, errors: FieldErrors) -> dict[str, Any]:
    cols: dict[str, Any] = {}
    if "expected_date" in data:
        cols["expected_date"] = _expected(data["expected_date"], errors)
    for name in ("freight", "duty"):
        if name in data:
            cols[f"{name}_minor"] = _money_field(data, name, currency, errors)
    if "notes" in data:
        rules.check_text(data["notes"], "notes", errors, max_len=2000, required=False)
        cols["notes"] = data["notes"]
    return cols


def insert_purchase_order(
    conn: Connection,
    actor: Actor,
    supplier: Any,
    location: Any,
    lines: list[CheckedPOLine],
    header: Mapping[str, object],
) -> int:
    """Write a draft PO whose lines are already checked: ``{"product_id", "sku",
    "quantity", "unit_cost_minor"}``. Each supplier-product pair is remembered with the
    cost (the supplier's latest price)."""
    po_id = conn.execute(
        insert(PurchaseOrder)
        .values(
            number=next_number(conn),
            supplier_id=supplier.id,
            location_id=location.id,
            status=POStatus.DRAFT.value,
            currency=supplier.currency,
            created_by=actor.name,
            **{"freight_minor": 0, "duty_minor": 0, **header},
        )
        .returning(PurchaseOrder.id)
    ).scalar_one()
    conn.execute(
        insert(PurchaseOrderLine),
        [
            {
                "purchase_order_id": po_id,
                "position": i,
                "product_id": ln["product_id"],
                "sku": ln["sku"],
                "quantity": ln["quantity"],
                "received": 0,
                "unit_cost_minor": ln["unit_cost_minor"],
            }
            for i, ln in enumerate(lines)
        ],
    )
    for ln in lines:
        suppliers.link_product(
            conn, supplier, ln["product_id"], {"cost_minor": ln["unit_cost_minor"]}
        )
    return int(po_id)


def create_purchase_order(
    db: Database, actor: Actor, data: PurchaseOrderCommand
) -> PurchaseOrderView:
    errors = FieldErrors()
    check_lines(data.get("lines"), errors)
    if isinstance(data.get("lines"), list) and len(data["lines"]) > MAX_LINES:
        errors.add("lines", "too_many_items", max=MAX_LINES)
    errors.raise_if_any()
    lines = data["lines"]

    def work(conn: Connection) -> PurchaseOrderView:
        supplier = suppliers.fetch(conn, data.get("supplier") or "", field="supplier")
        if not supplier.active:
            raise ValidationFailed.on("supplier", "inactive_supplier", supplier=supplier.code)
        location = receiving(conn, data.get("location") or "", field="location")
        ids = product_ids(conn, [ln["sku"] for ln in lines])
        errors = FieldErrors()
        checked: list[CheckedPOLine] = []
        for i, ln in enumerate(lines):
            cost = rules.price_minor(
                ln.get("unit_cost"), supplier.currency, f"lines[{i}].unit_cost", errors
            )
            quantity = ln["quantity"]
            assert quantity is not None  # check_lines refused a missing one
            checked.append(
                {
                    "product_id": ids[ln["sku"]],
                    "sku": ln["sku"],
                    "quantity": quantity,
                    "unit_cost_minor": cost or 0,
                }
            )
        header = _header(data, supplier.currency, errors)
        errors.raise_if_any()
        po_id = insert_purchase_order(conn, actor, supplier, location, checked, header)
        view = po_view(conn, fetch(conn, str(po_id)))
        audit(conn, actor, "create", "purchase_order", view["number"], after=view)
        return view

    return db.write(work)


def update_purchase_order(
    db: Database, actor: Actor, ref: str, data: PurchaseOrderPatch
) -> PurchaseOrderView:
    """The expected date, freight, duty and notes, while goods may still arrive (freight and
    duty are often known only when the invoice comes)."""

    def work(conn: Connection) -> PurchaseOrderView:
        po = fetch(conn, ref, lock=True)
        if po.status in (POStatus.RECEIVED, POStatus.CLOSED, POStatus.CANCELLED):
            raise InvalidTransition(detail=f"A purchase order that is {po.status} is final.")
        errors = FieldErrors()
        cols = _header(data, po.currency, errors)
        errors.raise_if_any()
        before = po_view(conn, po)
        if cols:
            conn.execute(update(PurchaseOrder).where(PurchaseOrder.id == po.id).values(**cols))
        after = po_view(conn, fetch(conn, str(po.id)))
        audit(conn, actor, "update", "purchase_order", po.number, before=before, after=after)
        return after

    return db.write(work)


# ---- status changes ------------------------------------------------------------------------


_AUDIT_ACTIONS = {POStatus.SENT: "send", POStatus.CANCELLED: "cancel_po", POStatus.CLOSED: "close"}


def _change(db: Database, actor: Actor, ref: str, target: POStatus) -> PurchaseOrderView:
    def work(conn: Connection) -> PurchaseOrderView:
        po = fetch(conn, ref, lock=True)
        check_transition(po.status, target)
        values: dict[str, Any] = {"status": target.value}
        now = utcnow()
        if target is POStatus.SENT:
            values["sent_at"] = now
        if target is POStatus.CLOSED:
            values["closed_at"] = now
        conn.execute(update(PurchaseOrder).where(PurchaseOrder.id == po.id).values(**values))
        view = po_view(conn, fetch(conn, str(po.id)))
        audit(
            conn,
            actor,
            _AUDIT_ACTIONS[target],
            "purchase_order",
            po.number,
            before={"status": po.status},
            after={"status": target.value},
        )
        if target is POStatus.SENT:
            # The PDF and the e-mail to the supplier are made after the commit (messaging).
            emit(
                conn,
                "purchase_order.sent",
                {"id": view["id"], "number": view["number"], "supplier": view["supplier"]},
            )
        return view

    return db.write(work)


def send(db: Database, actor: Actor, ref: str) -> PurchaseOrderView:
    return _change(db, actor, ref, POStatus.SENT)


def cancel(db: Database, actor: Actor, ref: str) -> PurchaseOrderView:
    return _change(db, actor, ref, POStatus.CANCELLED)


def close(db: Database, actor: Actor, ref: str) -> PurchaseOrderView:
    return _change(db, actor, ref, POStatus.CLOSED)
