"""Issuing invoices, voiding them and giving allowances (折讓), from the outbox's events.

- ``order.paid`` (``issue_on`` payment) or ``order.shipped`` (``issue_on`` shipment): the
  order's invoice, once (``invoices.live_order_id`` is unique: a second run of the event,
  or a second worker, finds it or loses the race and finds it on its retry).
- ``einvoice.range_added``: the invoices left ``pending`` for want of numbers get theirs,
  oldest first.
- ``order.updated``: an invoiced order whose amounts changed is voided and issued again
  within the void window, else given an allowance for what it went down by.
- ``refund.created``: an allowance (G0401) for the refunded amount, keyed by the refund's
  payment id, never more than what the invoice has left.
- ``order.cancelled``: the invoice is voided within the window (else a full allowance).

Each runs in one transaction; the MIG message is built and kept in it. Uploading to a
value-added centre happens after, from the worker (services/invoicing/uploads.py).
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from dingdan.db.engine import Database
from dingdan.db.invoice_tables import Allowance, AllowanceLine, Invoice, InvoiceLine
from dingdan.db.order_tables import Order
from dingdan.db.types import utcnow
from dingdan.domain.access.roles import Role
from dingdan.domain.invoicing import documents, mig, rules
from dingdan.domain.invoicing.centres import CentreAnswer
from dingdan.domain.shared.errors import Conflict, FieldError, NotFound
from dingdan.domain.shared.money import format_amount
from dingdan.services.invoicing import building, numbers, pdf, proof
from dingdan.services.invoicing import settings as invoicing_settings
from dingdan.services.invoicing.shapes import InvoiceDetailView, SettingsView
from dingdan.services.orders.events import event
from dingdan.services.shared.common import Actor, audit
from dingdan.services.shared.outbox_events import emit

log = logging.getLogger("dingdan.invoicing")
SYSTEM = Actor("system:invoicing", Role.ADMIN)
INVOICE_SERIES = "INV"
ALLOWANCE_SERIES = "AL"
# Hong Kong has no VAT and no uniform invoice: an order shipped there gets a receipt
# (收據), numbered in its own series (RCT-2026-000001), with no tax on it.
RECEIPT_SERIES = "RCT"
RECEIPT_COUNTRIES = frozenset({"HK"})


def _receipt(conn: Connection, order_id: int) -> bool:
    address = conn.execute(select(Order.shipping_address).where(Order.id == order_id)).scalar()
    return (address or {}).get("country") in RECEIPT_COUNTRIES


def _live(conn: Connection, order_id: int) -> Any:
    return conn.execute(select(Invoice).where(Invoice.live_order_id == order_id)).first()


def issue_for_order(db: Database, order_number: str, trigger: str) -> str | None:
    """The order's invoice if it is due now (``trigger``: payment or shipment, as the
    settings say); the invoice's number (None: not due, already there, or pending)."""

    def work(conn: Connection) -> str | None:
        cfg = invoicing_settings.read(conn)
        if not cfg["configured"] or cfg["issue_on"] != trigger:
            return None
        order = building.order_of(conn, order_number)
        if order is None or order.status == "cancelled" or order.total_minor <= 0:
            return None
        if trigger == "payment" and order.paid_minor < order.total_minor:
            # Paid in full only (a refund since then is an allowance once it is issued:
            # its event comes after this one).
            return None
        if conn.dialect.name == "postgresql":
            # The customer may change the invoice request from the tracking page until the
            # invoice is issued (services/orders/invoice_choice.py locks the order too):
            # whichever comes second sees the other's work.
            conn.execute(select(Order.id).where(Order.id == order.id).with_for_update())
        if _live(conn, order.id) is not None:
            return None
        d = building.draft(conn, order, cfg)
        if d.total_minor <= 0:
            return None  # refunded in full before its invoice: nothing is invoiced
        invoice_id = create(conn, order, cfg, d)
        return issue_number(conn, invoice_id, cfg)

    return db.write(work)


def create(
    conn: Connection,
    order: Any,
    cfg: SettingsView,
    d: building.Draft | None = None,
    supplement_of: int | None = None,
) -> int:
    """A pending invoice of the order as it stands, or of the draft ``d`` (its number comes
    from issue_number). A supplementary invoice is not the order's live one."""
    d = d or building.draft(conn, order, cfg)
    req = building.request_of(conn, order.id)
    b2b = req.type == "b2b"
    invoice_id = int(
        conn.execute(
            insert(Invoice)
            .values(
                order_id=order.id,
                live_order_id=None if supplement_of else order.id,
                supplement_of=supplement_of,
                number=None,
                einvoice=d.einvoice,
                status="pending",
                type=req.type,
                carrier_type=req.carrier_type,
                carrier_id=req.carrier_id,
                donation_code=req.donation_code,
                buyer_ubn=req.buyer_ubn if b2b else None,
                buyer_name=req.buyer_name if b2b else (order.customer or {}).get("name"),
                seller_ubn=cfg["seller_ubn"],
                seller_name=cfg["seller_name"],
                currency=order.currency,
                total_minor=d.total_minor,
                tax_minor=d.tax_minor,
                upload_status="pending" if d.einvoice else "not_required",
                created_at=utcnow(),
            )
            .returning(Invoice.id)
        ).scalar_one()
    )
    if d.lines:
        conn.execute(
            insert(InvoiceLine),
            [
                {
                    "invoice_id": invoice_id,
                    "sequence": i,
                    "description": ln.description[:500],
                    "quantity": ln.quantity,
                    "unit_price_minor": ln.unit_price_minor,
                    "amount_minor": ln.amount_minor,
                }
                for i, ln in enumerate(d.lines, start=1)
            ],
        )
    return invoice_id


def numbering_centre() -> str | None:
    """The centre that assigns the e-invoice numbers (ECPay), None: the local ranges do."""
    from dingdan.config import get_settings
    from dingdan.services.invoicing.centres import numbering_centre as of_settings

    return of_settings(get_settings())


def issue_number(conn: Connection, invoice_id: int, cfg: SettingsView) -> str | None:
    """Number and issue a pending invoice now; None when no e-invoice number is left (it
    stays pending until a range is added) or when the centre assigns the number (it stays
    pending until the centre answers: services/invoicing/uploads.py)."""
    inv = building.invoice_row(conn, invoice_id)
    now = utcnow()
    period = rules.period_of(now)
    low = None
    if inv.einvoice:
        centre = numbering_centre()
        if centre is not None:
            _await_centre(conn, inv, centre)
            return None
        taken = numbers.take_einvoice_number(conn, period)
        if taken is None:
            log.warning("no e-invoice number left for %s: invoice %s pending", period, inv.id)
            return None
        number, code = taken.number, rules.random_code()
        if taken.low:
            low = {"period": period, "prefix": number[:2], "remaining": taken.remaining}
    else:
        series = RECEIPT_SERIES if _receipt(conn, inv.order_id) else INVOICE_SERIES
        number, code = numbers.next_in_series(conn, series, rules.local(now).year), None
    conn.execute(
        update(Invoice)
        .where(Invoice.id == invoice_id, Invoice.status == "pending")
        .values(number=number, random_code=code, period=period, issued_at=now, status="issued")
    )
    order_number = announce(conn, invoice_id, cfg)
    if low is not None:
        emit(conn, "einvoice.range_low", {**low, "number": order_number})
    return number


def _await_centre(conn: Connection, inv: Any, centre: str) -> None:
    """The invoice waits (pending) for the number the centre assigns: the worker sends it
    under our key and records the answer (uploads.py); the local ranges are not used."""
    if inv.centre_key is not None:
        return
    key = rules.centre_key(_order_number(conn, inv.order_id))
    conn.execute(
        update(Invoice)
        .where(Invoice.id == inv.id)
        .values(centre=centre, centre_key=key, upload_status="pending", upload_error=None)
    )


def numbered_by_centre(
    conn: Connection, invoice_id: int, answer: CentreAnswer, cfg: SettingsView
) -> str:
    """Keep the number and random code the centre assigned (its answer to our issue) on the
    invoice that waited for them; the invoice's upload status after it: ``uploaded`` (now
    issued), ``pending_void`` (voided while it waited: the void follows) or ``failed`` (the
    answer holds no usable number, for a person to see)."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(Invoice.id).where(Invoice.id == invoice_id).with_for_update())
    inv = building.invoice_row(conn, invoice_id)
    if inv.number is not None:  # another worker recorded the same answer first
        return str(inv.upload_status)
    number, code = answer.invoice_number or "", answer.random_code or ""
    problem = None
    if rules.EINVOICE_NUMBER.fullmatch(number) is None or rules.RANDOM_CODE.fullmatch(code) is None:
        problem = f"the centre answered no usable number ({number!r}, {code!r})"
    elif conn.execute(select(Invoice.id).where(Invoice.number == number)).first() is not None:
        problem = f"the centre's number {number} is already another invoice's"
    if problem is not None:
        log.error("invoice %s: %s", invoice_id, problem)
        conn.execute(
            update(Invoice)
            .where(Invoice.id == invoice_id)
            .values(upload_status="failed", upload_error=problem)
        )
        return "failed"
    at = answer.issued_at or utcnow()
    values: dict[str, Any] = {
        "number": number,
        "random_code": code,
        "issued_at": at,
        "period": rules.period_of(at),
        "upload_error": None,
    }
    if inv.status == "pending":
        values.update(status="issued", upload_status="uploaded")
        conn.execute(update(Invoice).where(Invoice.id == invoice_id).values(**values))
        announce(conn, invoice_id, cfg)
        return "uploaded"
    conn.execute(update(Invoice).where(Invoice.id == invoice_id).values(**values))
    inv = building.invoice_row(conn, invoice_id)
    xml = mig.f0401(building.einvoice_of(conn, inv, cfg)).decode()
    void_xml = mig.f0501(building.void_of(inv, inv.void_reason or "")).decode()
    conn.execute(
        update(Invoice)
        .where(Invoice.id == invoice_id)
        .values(mig_xml=xml, void_xml=void_xml, upload_status="pending_void")
    )
    return "pending_void"


def announce(conn: Connection, invoice_id: int, cfg: SettingsView) -> str:
    """What follows a number given (here, or by the centre's answer): the F0401 message
    kept, the order's event, ``invoice.issued``, the PDFs queued; the order's number."""
    inv = building.invoice_row(conn, invoice_id)
    if inv.einvoice:
        xml = mig.f0401(building.einvoice_of(conn, inv, cfg)).decode()
        conn.execute(update(Invoice).where(Invoice.id == invoice_id).values(mig_xml=xml))
    order_number = _order_number(conn, inv.order_id)
    total = format_amount(inv.total_minor, inv.currency)
    number = inv.number
    event(
        conn,
        inv.order_id,
        "invoice_issued",
        SYSTEM.name,
        f"Invoice {number} issued",
        {"invoice": number, "total": total},
    )
    emit(
        conn,
        "invoice.issued",
        {"number": order_number, "invoice": number, "total": total, "currency": inv.currency},
    )
    inv = building.invoice_row(conn, invoice_id)
    pdf.queue(conn, inv, cfg, SYSTEM.name)
    proof.queue(conn, inv, cfg, SYSTEM.name)
    return order_number


def _order_number(conn: Connection, order_id: int) -> str:
    from dingdan.db.order_tables import Order

    return str(conn.execute(select(Order.number).where(Order.id == order_id)).scalar_one())


def issue_pending(db: Database) -> int:
    """Number the pending invoices, oldest first, one transaction each, until numbers run
    out; how many were issued."""
    done = 0
    while True:

        def work(conn: Connection) -> bool | None:
            cfg = invoicing_settings.read(conn)
            row = conn.execute(
                select(Invoice.id)
                .where(Invoice.status == "pending", Invoice.centre_key.is_(None))
                .order_by(Invoice.id)
                .limit(1)
            ).first()
            if row is None:
                return None
            if issue_number(conn, int(row.id), cfg) is not None:
                return True
            # Not numbered: out of numbers (stop), or handed to the centre (go on).
            return building.invoice_row(conn, int(row.id)).centre_key is not None

        issued = db.write(work)
        if not issued:
            return done
        done += 1


# Voids ----------------------------------------------------------------------------------------


def _void(conn: Connection, inv: Any, reason: str, cfg: SettingsView, actor: Actor) -> None:
    now = utcnow()
    conn.execute(
        update(Invoice)
        .where(Invoice.id == inv.id)
        .values(status="void", live_order_id=None, voided_at=now, void_reason=reason[:200])
    )
    if inv.status != "issued":
        return  # a pending invoice had no number: nothing was issued to void
    inv = building.invoice_row(conn, inv.id)
    if inv.einvoice:
        xml = mig.f0501(building.void_of(inv, reason)).decode()
        # The centre hears of the void once it has the invoice: an issue not yet uploaded
        # goes first (uploads.py), then the void.
        upload = "pending_void" if inv.upload_status == "uploaded" else "pending"
        conn.execute(
            update(Invoice).where(Invoice.id == inv.id).values(void_xml=xml, upload_status=upload)
        )
    order_number = _order_number(conn, inv.order_id)
    event(
        conn,
        inv.order_id,
        "invoice_voided",
        actor.name,
        f"Invoice {inv.number} voided: {reason}",
        {"invoice": inv.number, "reason": reason},
    )
    emit(conn, "invoice.voided", {"number": order_number, "invoice": inv.number, "reason": reason})
    audit(conn, actor, "void", "invoice", inv.number, {"status": "issued"}, {"status": "void"})
    pdf.queue(conn, building.invoice_row(conn, inv.id), cfg, actor.name)


def _window_open(inv: Any, cfg: SettingsView, now: datetime) -> bool:
    return inv.period is None or rules.may_void(inv.period, now, cfg["void_closing_day"])


def void(db: Database, actor: Actor, number: str, reason: str) -> InvoiceDetailView:
    """Void an issued invoice within the void window (its number is never used again)."""
    from dingdan.services.invoicing import queries

    def work(conn: Connection) -> InvoiceDetailView:
        cfg = invoicing_settings.read(conn)
        inv = conn.execute(select(Invoice).where(Invoice.number == number)).first()
        if inv is None:
            raise NotFound(detail=f"Invoice {number} not found.")
        if inv.status != "issued":
            raise Conflict(
                detail=f"Invoice {number} is {inv.status}.",
                errors=[FieldError.of("number", "invoice_not_voidable", status=inv.status)],
            )
        if not _window_open(inv, cfg, utcnow()):
            closed = rules.void_deadline(inv.period, cfg["void_closing_day"])
            raise Conflict(
                detail=f"Invoice {number} can no longer be voided.",
                errors=[
                    FieldError.of("number", "void_window_closed", closed=closed.date().isoformat())
                ],
            )
        _void(conn, inv, reason, cfg, actor)
        return queries.invoice_detail(conn, number)

    return db.write(work)


# Allowances -----------------------------------------------------------------------------------


def allowed_left(conn: Connection, inv: Any) -> int:
    """What the invoice has left for allowances: its total less its allowances not void."""
    return _allowed_left(conn, inv)


def _allowed_left(conn: Connection, inv: Any) -> int:
    given = conn.execute(
        select(func.coalesce(func.sum(Allowance.amount_minor), 0)).where(
            Allowance.invoice_id == inv.id, Allowance.status == "issued"
        )
    ).scalar_one()
    return int(inv.total_minor) - int(given)


def give_allowance(
    conn: Connection,
    inv: Any,
    amount_minor: int,
    source: str,
    reason: str,
    cfg: SettingsView,
    actor: Actor = SYSTEM,
) -> str | None:
    """An allowance of ``amount_minor`` (capped at what the invoice has left) against an
    issued invoice, keyed by ``source``; its number (None: nothing left, or given before)."""
    if conn.execute(select(Allowance.id).where(Allowance.source == source)).first() is not None:
        return None
    if inv.einvoice:
        amount_minor = int(rules.nt_dollars(amount_minor)) * 100
    amount = min(amount_minor, _allowed_left(conn, inv))
    if amount <= 0:
        return None
    now = utcnow()
    number = numbers.next_in_series(conn, ALLOWANCE_SERIES, rules.local(now).year)
    line = documents.Line(
        1, reason[:100] or "折讓", Decimal(1), Decimal(amount) / 100, Decimal(amount) / 100
    )
    doc = building.allowance_of(inv, number, now, (line,), cfg)
    _, tax = documents.tax_split(doc.total, b2b=True)
    xml = mig.g0401(doc).decode() if inv.einvoice else None
    allowance_id = conn.execute(
        insert(Allowance)
        .values(
            invoice_id=inv.id,
            number=number,
            source=source,
            status="issued",
            amount_minor=amount,
            tax_minor=int(tax) * 100 if inv.einvoice else 0,
            reason=reason[:500],
            upload_status="pending" if inv.einvoice else "not_required",
            mig_xml=xml,
            issued_at=now,
        )
        .returning(Allowance.id)
    ).scalar_one()
    conn.execute(
        insert(AllowanceLine).values(
            allowance_id=allowance_id,
            sequence=1,
            description=line.description,
            quantity=1,
            unit_price_minor=amount,
            amount_minor=amount,
            tax_minor=int(tax) * 100 if inv.einvoice else 0,
        )
    )
    shown = format_amount(amount, inv.currency)
    event(
        conn,
        inv.order_id,
        "invoice_allowance",
        actor.name,
        f"Allowance {number} of {shown} {inv.currency} on invoice {inv.number}",
        {"invoice": inv.number, "allowance": number, "amount": shown},
    )
    return number


def _family(conn: Connection, main: Any) -> list[Any]:
    """The order's live invoice and its supplementary invoices not void, oldest first."""
    more = conn.execute(
        select(Invoice)
        .where(Invoice.supplement_of == main.id, Invoice.status != "void")
        .order_by(Invoice.id)
    ).all()
    return [main, *more]


def _effective(conn: Connection, invoices: list[Any]) -> int:
    """What the invoices say the buyer owes: their totals less their allowances."""
    return sum(_allowed_left(conn, inv) for inv in invoices)


def _give_down(
    conn: Connection,
    invoices: list[Any],
    amount: int,
    source: str,
    reason: str,
    cfg: SettingsView,
) -> None:
    """Allowances for ``amount`` against the issued invoices, the newest first, each up to
    what it has left (keyed ``source``, ``source#1``, ...)."""
    issued = [inv for inv in reversed(invoices) if inv.status == "issued"]
    for i, inv in enumerate(issued):
        if amount <= 0:
            return
        take = min(amount, _allowed_left(conn, inv))
        if take > 0:
            give_allowance(conn, inv, take, source if i == 0 else f"{source}#{i}", reason, cfg)
            amount -= take


def on_refund(db: Database, order_number: str, amount: str, payment_id: str, reason: str) -> None:
    """A refund: an allowance for what the invoices now hold beyond what the order keeps
    (at most the refund). Refunded before the invoice: the invoice, when issued, leaves it
    out (building.refunds_kept_off); an invoice still waiting for its number is made
    again as the order now stands."""

    def work(conn: Connection) -> None:
        cfg = invoicing_settings.read(conn)
        order = building.order_of(conn, order_number)
        if order is None or not cfg["configured"]:
            return
        main = _live(conn, order.id)
        if main is None:
            return
        if main.status == "pending":
            _reconcile(conn, order, main, f"refund:{payment_id}", cfg)
            return
        invoices = _family(conn, main)
        target = building.draft(conn, order, cfg).total_minor
        excess = _effective(conn, invoices) - max(target, 0)
        give = min(_minor(amount, order.currency), excess)
        if give > 0:
            _give_down(conn, invoices, give, f"refund:{payment_id}", f"退款 {reason}", cfg)

    db.write(work)


def _minor(amount: str, currency: str) -> int:
    from dingdan.domain.shared.money import parse_amount

    return parse_amount(amount, currency, "amount")


def on_order_changed(db: Database, order_number: str, source: str, cancelled: bool) -> None:
    """An invoiced order was edited (or cancelled): within the void window the invoice is
    voided and (unless cancelled) issued again as the order now stands; after it, an
    allowance for what the order went down by, or a supplementary invoice for what it
    went up by (a closed period's invoice cannot be voided: the difference is a new
    invoice)."""

    def work(conn: Connection) -> None:
        cfg = invoicing_settings.read(conn)
        order = building.order_of(conn, order_number)
        if order is None or not cfg["configured"]:
            return
        main = _live(conn, order.id)
        if main is None:
            return
        if cancelled:
            _cancel(conn, main, source, cfg)
        else:
            _reconcile(conn, order, main, source, cfg)

    db.write(work)


def _cancel(conn: Connection, main: Any, source: str, cfg: SettingsView) -> None:
    """Each invoice voided while it may be, else an allowance for all it has left."""
    now = utcnow()
    for i, inv in enumerate(reversed(_family(conn, main))):
        if inv.status == "pending" or _window_open(inv, cfg, now):
            _void(conn, inv, "訂單取消", cfg, SYSTEM)
        else:
            left = _allowed_left(conn, inv)
            if left > 0:
                give_allowance(conn, inv, left, f"{source}#{i}" if i else source, "訂單取消", cfg)


def _reconcile(conn: Connection, order: Any, main: Any, source: str, cfg: SettingsView) -> None:
    """Bring the invoices to the order as it stands (see on_order_changed)."""
    d = building.draft(conn, order, cfg)
    invoices = _family(conn, main)
    effective = _effective(conn, invoices)
    if d.total_minor == effective:
        return
    if main.status == "pending" or _window_open(main, cfg, utcnow()):
        for inv in reversed(invoices):
            _void(conn, inv, "訂單修改", cfg, SYSTEM)
        if d.total_minor > 0:
            new_id = create(conn, order, cfg, d)
            conn.execute(update(Invoice).where(Invoice.id == main.id).values(replaced_by=new_id))
            issue_number(conn, new_id, cfg)
        return
    waiting = [inv for inv in invoices[1:] if inv.status == "pending"]
    if waiting:
        # A supplement still without its number is made again for the whole difference.
        for inv in waiting:
            _void(conn, inv, "訂單修改", cfg, SYSTEM)
        invoices = _family(conn, main)
        effective = _effective(conn, invoices)
        if d.total_minor == effective:
            return
    if d.total_minor < effective:
        _give_down(conn, invoices, effective - d.total_minor, source, "訂單修改", cfg)
        return
    before = building.lines_of(conn, [inv.id for inv in invoices])
    lines = building.added_lines(before, d.lines, d.total_minor - effective)
    extra = building.of_lines(conn, order, lines, d.einvoice)
    new_id = create(conn, order, cfg, extra, supplement_of=main.id)
    issue_number(conn, new_id, cfg)
