"""What an order's invoice says: its lines and amounts, from the order as it is now, and
the ``documents.py`` values (EInvoice, Allowance) an issued invoice's rows become."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from dingdan.db.invoice_tables import Invoice, InvoiceLine
from dingdan.db.order_tables import Order, OrderLine
from dingdan.db.types import utcnow
from dingdan.domain.invoicing import documents, rules
from dingdan.domain.orders.invoice_request import InvoiceRequest
from dingdan.services.invoicing.shapes import SettingsView
from dingdan.services.orders import invoice_choice

SHIPPING = "運費"  # the shipping line's description (Taiwan's invoices are in Chinese)
TAX_LINE = "營業稅"  # prices without tax: the tax as a line of its own
REFUND_LINE = "退款"  # refunded before the invoice was issued: a line taking it off
ADJUSTMENT = "訂單調整"  # a supplementary invoice's rest that no line of the order explains


@dataclass(frozen=True)
class LineDraft:
    description: str
    quantity: int
    unit_price_minor: int
    amount_minor: int


@dataclass(frozen=True)
class Draft:
    lines: tuple[LineDraft, ...]
    total_minor: int
    tax_minor: int
    einvoice: bool


def request_of(conn: Connection, order_id: int) -> InvoiceRequest:
    """The newest invoice request of the order (none: a printed B2C invoice)."""
    return InvoiceRequest.of(invoice_choice.current_request(conn, order_id))


def gets_einvoice(order: Any, settings: SettingsView) -> bool:
    """A TWD order shipped to TW, with e-invoice on (the contract)."""
    country = (order.shipping_address or {}).get("country")
    return bool(settings["einvoice"]) and order.currency == "TWD" and country == "TW"


def _nt(minor: int) -> int:
    """TWD minor units rounded to whole NT$ (half up), in minor units again."""
    return int(rules.nt_dollars(minor)) * 100


def draft(conn: Connection, order: Any, settings: SettingsView) -> Draft:
    """The invoice of the order as it stands (cancelled units left out)."""
    einvoice = gets_einvoice(order, settings)
    rows = conn.execute(
        select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.position)
    ).all()
    lines = []
    for ln in rows:
        qty = ln.quantity - ln.cancelled
        if qty <= 0:
            continue
        price, amount = ln.unit_price_minor, ln.unit_price_minor * qty
        if einvoice:
            price, amount = _nt(price), _nt(amount)
        lines.append(LineDraft(ln.name, qty, price, amount))
    if order.shipping_minor:
        ship = _nt(order.shipping_minor) if einvoice else order.shipping_minor
        lines.append(LineDraft(SHIPPING, 1, ship, ship))
    if not order.prices_include_tax and order.tax_minor:
        tax = _nt(order.tax_minor) if einvoice else order.tax_minor
        lines.append(LineDraft(TAX_LINE, 1, tax, tax))
    refunded = refunds_kept_off(order)
    if refunded:
        off = -(_nt(refunded) if einvoice else refunded)
        lines.append(LineDraft(REFUND_LINE, 1, off, off))
    return of_lines(conn, order, tuple(lines), einvoice)


def refunds_kept_off(order: Any) -> int:
    """What the refunds take off the invoice (minor units): the refunds beyond what was
    paid over the order's total. An order edited down and the difference refunded keeps
    its (smaller) total; money refunded from an order as it stands (a goodwill refund, a
    refund before shipping with "issue on shipment") is not invoiced."""
    overpaid = max(0, int(order.paid_minor) - int(order.total_minor))
    return max(0, int(order.refunded_minor) - overpaid)


def of_lines(conn: Connection, order: Any, lines: tuple[LineDraft, ...], einvoice: bool) -> Draft:
    """The draft of these lines: the total, and the tax (an e-invoice's from its total, as
    the specification rounds it; another invoice's, the order's in the same share)."""
    total = sum(ln.amount_minor for ln in lines)
    if einvoice:
        b2b = request_of(conn, order.id).type == "b2b"
        _, split = documents.tax_split(Decimal(max(total, 0)) / 100, b2b=b2b)
        return Draft(lines, total, int(split) * 100, True)
    whole = int(order.total_minor)
    share = int(order.tax_minor)
    if total != whole and whole > 0:
        share = share * total // whole
    return Draft(lines, total, max(0, share), False)


def added_lines(
    before: list[LineDraft], after: tuple[LineDraft, ...], amount: int
) -> tuple[LineDraft, ...]:
    """A supplementary invoice's lines for ``amount`` more than ``before`` invoiced: the
    units each line of ``after`` has more than before (same description and price), and
    what that leaves of ``amount`` as one adjustment line (a price raised, a line less)."""
    had: dict[tuple[str, int], int] = {}
    for ln in before:
        if ln.description != REFUND_LINE:
            key = (ln.description, ln.unit_price_minor)
            had[key] = had.get(key, 0) + ln.quantity
    out = []
    for ln in after:
        more = ln.quantity - had.get((ln.description, ln.unit_price_minor), 0)
        if ln.description != REFUND_LINE and more > 0 and ln.unit_price_minor > 0:
            out.append(
                LineDraft(ln.description, more, ln.unit_price_minor, ln.unit_price_minor * more)
            )
    rest = amount - sum(ln.amount_minor for ln in out)
    if rest:
        out.append(LineDraft(ADJUSTMENT, 1, rest, rest))
    return tuple(out)


def lines_of(conn: Connection, invoice_ids: list[int]) -> list[LineDraft]:
    rows = conn.execute(
        select(InvoiceLine)
        .where(InvoiceLine.invoice_id.in_(invoice_ids))
        .order_by(InvoiceLine.invoice_id, InvoiceLine.sequence)
    ).all()
    return [LineDraft(r.description, r.quantity, r.unit_price_minor, r.amount_minor) for r in rows]


def _party_seller(settings: SettingsView) -> documents.Party:
    return documents.Party(
        name=settings["seller_name"],
        ubn=settings["seller_ubn"],
        address=settings.get("seller_address"),
        phone=settings.get("seller_phone"),
        email=settings.get("seller_email"),
    )


def _buyer(inv: Any) -> documents.Party:
    if inv.type == "b2b":
        return documents.Party(name=inv.buyer_name or "", ubn=inv.buyer_ubn)
    return documents.Party(name=inv.buyer_name or documents.B2C_BUYER_UBN)


def _doc_lines(conn: Connection, invoice_id: int) -> tuple[documents.Line, ...]:
    rows = conn.execute(
        select(InvoiceLine)
        .where(InvoiceLine.invoice_id == invoice_id)
        .order_by(InvoiceLine.sequence)
    ).all()
    return tuple(
        documents.Line(
            sequence=r.sequence,
            description=r.description,
            quantity=Decimal(r.quantity),
            unit_price=Decimal(r.unit_price_minor) / 100,
            amount=Decimal(r.amount_minor) / 100,
        )
        for r in rows
    )


def _with_contact(conn: Connection, inv: Any, buyer: documents.Party) -> documents.Party:
    """The buyer with the order's email, phone and address: what a centre needs to send the
    invoice (ECPay asks for an email or a phone, and an address when printed)."""
    order = conn.execute(
        select(Order.customer, Order.shipping_address).where(Order.id == inv.order_id)
    ).one()
    customer, addr = order.customer or {}, order.shipping_address or {}
    parts = (addr.get(k) for k in ("postal_code", "city", "line1", "line2"))
    return replace(
        buyer,
        name=buyer.name or str(addr.get("name") or ""),
        address=" ".join(str(p) for p in parts if p) or None,
        phone=customer.get("phone") or addr.get("phone"),
        email=customer.get("email"),
    )


def einvoice_of(
    conn: Connection, inv: Any, settings: SettingsView, *, for_centre: bool = False
) -> documents.EInvoice:
    """The issued e-invoice row as the plain value MIG and the centres are built from.
    ``for_centre``: the buyer's contact details too, and for an invoice whose number the
    centre assigns and has not yet answered, our key at the centre as its number."""
    buyer = _buyer(inv)
    if for_centre:
        buyer = _with_contact(conn, inv, buyer)
    return documents.EInvoice(
        number=inv.number or inv.centre_key,
        issued_at=inv.issued_at or utcnow(),
        random_code=inv.random_code or "",
        seller=_party_seller(settings),
        buyer=buyer,
        lines=_doc_lines(conn, inv.id),
        total=Decimal(inv.total_minor) / 100,
        carrier_type=inv.carrier_type,
        carrier_id=inv.carrier_id,
        donation_code=inv.donation_code,
    )


def void_of(inv: Any, reason: str) -> documents.InvoiceVoid:
    return documents.InvoiceVoid(
        number=inv.number,
        issued_at=inv.issued_at,
        voided_at=inv.voided_at,
        reason=reason,
        seller_ubn=inv.seller_ubn or "",
        buyer_ubn=inv.buyer_ubn,
    )


def allowance_void_of(
    inv: Any, allowance: Any, reason: str, voided_at: Any = None
) -> documents.AllowanceVoid:
    """The void (G0501) of an allowance row of the invoice ``inv``."""
    return documents.AllowanceVoid(
        number=allowance.number,
        issued_at=allowance.issued_at,
        voided_at=voided_at or allowance.voided_at,
        reason=reason,
        seller_ubn=inv.seller_ubn or "",
        buyer_ubn=inv.buyer_ubn,
        invoice_number=inv.number,
    )


def allowance_of(
    inv: Any,
    number: str,
    issued_at: Any,
    lines: tuple[documents.Line, ...],
    settings: SettingsView,
) -> documents.Allowance:
    return documents.Allowance(
        number=number,
        issued_at=issued_at,
        invoice_number=inv.number,
        invoice_issued_at=inv.issued_at,
        seller=_party_seller(settings),
        buyer=_buyer(inv),
        lines=lines,
        total=sum((ln.amount for ln in lines), Decimal(0)),
    )


def order_of(conn: Connection, number: str) -> Any:
    return conn.execute(select(Order).where(Order.number == number)).first()


def invoice_row(conn: Connection, invoice_id: int) -> Any:
    return conn.execute(select(Invoice).where(Invoice.id == invoice_id)).one()
