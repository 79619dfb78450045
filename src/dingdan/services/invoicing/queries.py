"""Reading invoices: an order's, one with its lines and allowances, its MIG message. Every
read of an invoice is in the audit trail (who saw it, when): the reads write that entry."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from dingdan.db.engine import Database
from dingdan.db.invoice_tables import Allowance, Invoice, InvoiceLine
from dingdan.db.order_tables import Order
from dingdan.domain.shared.errors import NotFound
from dingdan.domain.shared.money import format_amount
from dingdan.services.invoicing.shapes import (
    AllowanceDetailView,
    AllowanceList,
    AllowanceView,
    InvoiceDetailView,
    InvoiceList,
    InvoiceView,
)
from dingdan.services.shared.common import Actor, audit, iso


def invoice_view(inv: Any, supplement_of: str | None = None) -> InvoiceView:
    """``supplement_of``: the number of the invoice a supplementary one adds to."""
    return {
        "number": inv.number,
        "random_code": inv.random_code,
        "status": inv.status,
        "type": inv.type,
        "einvoice": inv.einvoice,
        "period": inv.period,
        "issued_at": iso(inv.issued_at),
        "voided_at": iso(inv.voided_at),
        "currency": inv.currency,
        "total": format_amount(inv.total_minor, inv.currency),
        "tax": format_amount(inv.tax_minor, inv.currency),
        "carrier_type": inv.carrier_type,
        "carrier_id": inv.carrier_id,
        "donation_code": inv.donation_code,
        "buyer_ubn": inv.buyer_ubn,
        "buyer_name": inv.buyer_name,
        "seller_ubn": inv.seller_ubn,
        "seller_name": inv.seller_name,
        "upload_status": inv.upload_status,
        "void_reason": inv.void_reason,
        "centre": inv.centre,
        "document": "receipt" if (inv.number or "").startswith("RCT-") else "invoice",
        "supplement_of": supplement_of,
    }


def allowance_view(a: Any, currency: str) -> AllowanceView:
    return {
        "number": a.number,
        "amount": format_amount(a.amount_minor, currency),
        "tax": format_amount(a.tax_minor, currency),
        "status": a.status,
        "reason": a.reason,
        "issued_at": iso(a.issued_at),
        "upload_status": a.upload_status,
        "upload_error": a.upload_error,
        "voided_at": iso(a.voided_at),
        "void_reason": a.void_reason,
    }


def allowance_of(conn: Connection, inv: Any, number: str) -> AllowanceDetailView:
    """One allowance of the invoice ``inv``, with the invoice's number."""
    a = conn.execute(
        select(Allowance).where(Allowance.number == number, Allowance.invoice_id == inv.id)
    ).one()
    return {**allowance_view(a, inv.currency), "invoice_number": inv.number}


def _by_number(conn: Connection, number: str) -> Any:
    inv = conn.execute(select(Invoice).where(Invoice.number == number)).first()
    if inv is None:
        raise NotFound(detail=f"Invoice {number} not found.")
    return inv


def _allowances(conn: Connection, inv: Any) -> list[AllowanceView]:
    rows = conn.execute(
        select(Allowance).where(Allowance.invoice_id == inv.id).order_by(Allowance.id)
    ).all()
    return [allowance_view(a, inv.currency) for a in rows]


def invoice_detail(conn: Connection, number: str) -> InvoiceDetailView:
    inv = _by_number(conn, number)
    lines = conn.execute(
        select(InvoiceLine).where(InvoiceLine.invoice_id == inv.id).order_by(InvoiceLine.sequence)
    ).all()
    order_number = conn.execute(select(Order.number).where(Order.id == inv.order_id)).scalar_one()
    added_to = None
    if inv.supplement_of is not None:
        added_to = conn.execute(
            select(Invoice.number).where(Invoice.id == inv.supplement_of)
        ).scalar()
    return {
        **invoice_view(inv, added_to),
        "order_number": order_number,
        "lines": [
            {
                "sequence": ln.sequence,
                "description": ln.description,
                "quantity": ln.quantity,
                "unit_price": format_amount(ln.unit_price_minor, inv.currency),
                "amount": format_amount(ln.amount_minor, inv.currency),
            }
            for ln in lines
        ],
        "allowances": _allowances(conn, inv),
    }


def _seen(conn: Connection, actor: Actor, number: str, what: str = "view") -> None:
    audit(conn, actor, what, "invoice", number)


def order_invoices(db: Database, actor: Actor, order_number: str) -> InvoiceList:
    """The order's invoices, oldest first; the numbered ones' views audited (an order
    without any costs a read only)."""

    def read(conn: Connection) -> list[Any]:
        order_id = conn.execute(select(Order.id).where(Order.number == order_number)).scalar()
        if order_id is None:
            raise NotFound(detail=f"Order {order_number} not found.")
        return list(
            conn.execute(
                select(Invoice).where(Invoice.order_id == order_id).order_by(Invoice.id)
            ).all()
        )

    rows = db.read(read)
    numbered = [inv.number for inv in rows if inv.number]
    if numbered:

        def seen(conn: Connection) -> None:
            for number in numbered:
                _seen(conn, actor, number)

        db.write(seen)
    numbers = {inv.id: inv.number for inv in rows}
    return {"items": [invoice_view(inv, numbers.get(inv.supplement_of)) for inv in rows]}


def order_allowances(db: Database, order_number: str) -> dict[str, list[AllowanceView]]:
    """The allowances of the order's invoices, by invoice number, oldest first (for the
    order's invoices panel; the invoices' reads are audited by ``order_invoices``)."""

    def read(conn: Connection) -> dict[str, list[AllowanceView]]:
        rows = conn.execute(
            select(Allowance, Invoice.number.label("invoice_number"), Invoice.currency)
            .join(Invoice, Invoice.id == Allowance.invoice_id)
            .join(Order, Order.id == Invoice.order_id)
            .where(Order.number == order_number)
            .order_by(Allowance.id)
        ).all()
        out: dict[str, list[AllowanceView]] = {}
        for r in rows:
            out.setdefault(r.invoice_number, []).append(allowance_view(r, r.currency))
        return out

    return db.read(read)


def get_invoice(db: Database, actor: Actor, number: str) -> InvoiceDetailView:
    def work(conn: Connection) -> InvoiceDetailView:
        out = invoice_detail(conn, number)
        _seen(conn, actor, number)
        return out

    return db.write(work)


def allowances(db: Database, actor: Actor, number: str) -> AllowanceList:
    def work(conn: Connection) -> AllowanceList:
        inv = _by_number(conn, number)
        _seen(conn, actor, number)
        return {"items": _allowances(conn, inv)}

    return db.write(work)


def mig_xml(db: Database, actor: Actor, number: str) -> str:
    """The F0401 message kept when the invoice was issued (404 for an invoice without
    e-invoice, which has none)."""

    def work(conn: Connection) -> str:
        inv = _by_number(conn, number)
        if not inv.mig_xml:
            raise NotFound(detail=f"Invoice {number} has no e-invoice message.")
        _seen(conn, actor, number, "download")
        return str(inv.mig_xml)

    return db.write(work)
