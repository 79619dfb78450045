"""Uploading e-invoice documents to a value-added centre (加值中心), from the worker.

Issued invoices, voids, allowances and their voids are written with ``upload_status``
``pending`` (a void of a document the centre took: ``pending_void``) in the transaction
that made them; ``upload_pending`` hands each to the centre that
``centre_of`` gives for the settings, outside any transaction, and records the answer: ok
→ ``uploaded`` (a void whose invoice went first: ``pending_void`` until the void goes
too); a retryable answer (the centre down, a timeout) stays ``pending`` with the
error kept, for the next round; a refusal → ``failed`` with the centre's message, for a
person to see. Nothing is lost: a crash between the call and the record calls again, and
every centre answers a repeated document as done (domain/invoicing/centres.py).

``centre_of`` is the one place an adapter is chosen (ECPay, Amego: their adapters are not
in this module). Without one, documents wait ``pending``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, or_, select, update

from dingdan.db.einvoice_exchange_tables import EinvoiceExchange
from dingdan.db.engine import Database
from dingdan.db.invoice_tables import Allowance, Invoice
from dingdan.domain.invoicing.centres import Centre, CentreAnswer
from dingdan.services.invoicing import building
from dingdan.services.invoicing import settings as invoicing_settings
from dingdan.services.invoicing.shapes import SettingsView

log = logging.getLogger("dingdan.invoicing")
BATCH = 50


def centre_of(db: Database) -> Centre | None:
    """The centre the seller set up (``DINGDAN_EINVOICE_CENTRE``; None: none is, documents
    wait ``pending``). The one place an adapter is chosen."""
    from dingdan.config import get_settings
    from dingdan.services.invoicing.centres import centre_from_settings

    return centre_from_settings(db, get_settings())


def _status(answer: CentreAnswer) -> tuple[str, str | None]:
    if answer.ok:
        return "uploaded", None
    said = f"{answer.code or ''} {answer.message or ''}".strip()[:1000] or "refused"
    return ("pending" if answer.retryable else "failed"), said


def _ask(call: Callable[[], CentreAnswer]) -> CentreAnswer:
    try:
        return call()
    except Exception as exc:  # noqa: BLE001 - an adapter that raised: try again next round
        log.warning("e-invoice centre failed: %s", exc)
        return CentreAnswer(ok=False, message=str(exc)[:500], retryable=True)


def _record(db: Database, row: Any, status: str, error: str | None, table: Any = Invoice) -> None:
    """An invoice's (or an allowance's) upload state, only over the state read: one voided
    meanwhile is sent again next round (answered from the exchange log) and then voided."""
    db.write(
        lambda conn: conn.execute(
            update(table)
            .where(table.id == row.id, table.status == row.status)
            .values(upload_status=status, upload_error=error)
        )
    )


def _upload_invoice(db: Database, centre: Centre, inv: Any, cfg: SettingsView) -> str:
    """The invoice's pending document(s): its issue, then (voided) its void. An invoice
    whose number the centre assigns is issued first, and numbered from the answer."""
    if inv.number is None:
        status, inv = _numbered_by_centre(db, centre, inv, cfg)
        if status != "pending_void":
            return status
    elif inv.upload_status == "pending":

        def read(conn: Connection) -> Any:
            return building.einvoice_of(conn, inv, cfg, for_centre=True)

        doc = db.read(read)
        status, error = _status(_ask(lambda: centre.issue(doc)))
        if status == "uploaded" and inv.status == "void":
            status = "pending_void"
        _record(db, inv, status, error)
        if status != "pending_void":
            return status
    void = building.void_of(inv, inv.void_reason or "")
    status, error = _status(_ask(lambda: centre.void(void)))
    _record(db, inv, status, error)
    return status


def _ever_sent(db: Database, centre: Centre, key: str, operation: str = "issue") -> bool:
    """Whether a request of ``operation`` for the document ever left (the centre may
    hold it, whatever became of the answer)."""
    return (
        db.read(
            lambda conn: conn.execute(
                select(EinvoiceExchange.id)
                .where(
                    EinvoiceExchange.centre == centre.name,
                    EinvoiceExchange.operation == operation,
                    EinvoiceExchange.document_number == key,
                )
                .limit(1)
            ).first()
        )
        is not None
    )


def _numbered_by_centre(
    db: Database, centre: Centre, inv: Any, cfg: SettingsView
) -> tuple[str, Any]:
    """Issue at the centre an invoice that waits for the centre's number, under our key,
    and keep the number and random code it answers: the invoice becomes ``issued`` (or,
    voided while it waited, gets its number and ``pending_void``, for the void to follow).
    A void invoice never sent has nothing to void: ``not_required``."""
    if inv.centre_key is None or (
        inv.status == "void" and not _ever_sent(db, centre, inv.centre_key)
    ):
        _record(db, inv, "not_required", None)
        return "not_required", inv
    doc = db.read(lambda conn: building.einvoice_of(conn, inv, cfg, for_centre=True))
    answer = _ask(lambda: centre.issue(doc))
    if not answer.ok:
        status, error = _status(answer)
        _record(db, inv, status, error)
        return status, inv
    from dingdan.services.invoicing import issuing

    status = db.write(lambda conn: issuing.numbered_by_centre(conn, inv.id, answer, cfg))
    return status, db.read(lambda conn: building.invoice_row(conn, inv.id))


def _record_allowance(db: Database, a: Any, status: str, error: str | None) -> None:
    _record(db, a, status, error, Allowance)


def _upload_allowance(db: Database, centre: Centre, a: Any, cfg: SettingsView) -> str:
    """The allowance's pending document(s): the allowance (G0401), then, voided, its void
    (G0501). Voided before the centre ever heard of it: nothing to send."""
    if a.upload_status == "pending":
        if a.status == "void" and not _ever_sent(db, centre, a.number, "allowance"):
            _record_allowance(db, a, "not_required", None)
            return "not_required"
        doc = db.read(lambda conn: _allowance_doc(conn, a, cfg))
        status, error = _status(_ask(lambda: centre.allowance(doc)))
        if status == "uploaded" and a.status == "void":
            status = "pending_void"
        _record_allowance(db, a, status, error)
        if status != "pending_void":
            return status
    inv = db.read(lambda conn: building.invoice_row(conn, a.invoice_id))
    void = building.allowance_void_of(inv, a, a.void_reason or "")
    status, error = _status(_ask(lambda: centre.void_allowance(void)))
    # A void not yet taken waits as it was (pending_void): the allowance is not sent again.
    _record_allowance(db, a, "pending_void" if status == "pending" else status, error)
    return status


def upload_pending(db: Database, centre: Centre | None = None) -> int:
    """Hand the pending documents to the centre; how many it took."""
    cfg = invoicing_settings.get(db)
    centre = centre or centre_of(db)
    if centre is None:
        return 0
    if getattr(centre, "assigns_numbers", False):
        from dingdan.services.invoicing import issuing

        # Invoices left waiting for local numbers before the centre took over numbering.
        if issuing.numbering_centre() is not None:
            issuing.issue_pending(db)
    invoices = db.read(
        lambda c: c.execute(
            select(Invoice)
            .where(
                Invoice.upload_status.in_(("pending", "pending_void")),
                or_(
                    Invoice.status.in_(("issued", "void")),
                    Invoice.centre_key.is_not(None),  # pending: awaits the centre's number
                ),
            )
            .order_by(Invoice.id)
            .limit(BATCH)
        ).all()
    )
    # The centre down (a retryable answer): the rest waits for the next round, instead of
    # each document waiting out its own timeout in this one.
    done = 0
    for inv in invoices:
        status = _upload_invoice(db, centre, inv, cfg)
        if status == "pending":
            return done
        done += status == "uploaded"
    allowances = db.read(
        lambda c: c.execute(
            select(Allowance)
            .where(Allowance.upload_status.in_(("pending", "pending_void")))
            .order_by(Allowance.id)
            .limit(BATCH)
        ).all()
    )
    for a in allowances:
        status = _upload_allowance(db, centre, a, cfg)
        if status == "pending":
            break
        done += status == "uploaded"
    return done


def _allowance_doc(conn: Connection, a: Any, cfg: SettingsView) -> Any:
    from decimal import Decimal

    from dingdan.db.invoice_tables import AllowanceLine
    from dingdan.domain.invoicing import documents

    inv = building.invoice_row(conn, a.invoice_id)
    rows = conn.execute(
        select(AllowanceLine)
        .where(AllowanceLine.allowance_id == a.id)
        .order_by(AllowanceLine.sequence)
    ).all()
    lines = tuple(
        documents.Line(
            r.sequence,
            r.description,
            Decimal(r.quantity),
            Decimal(r.unit_price_minor) / 100,
            Decimal(r.amount_minor) / 100,
        )
        for r in rows
    )
    return building.allowance_of(inv, a.number, a.issued_at, lines, cfg)
