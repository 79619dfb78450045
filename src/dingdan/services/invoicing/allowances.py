"""Allowances (折讓) a person gives or voids, beside the ones refunds and edits give
(issuing.py).

Voiding an allowance (G0501) is what a seller does with one made in error, a wrong amount
say, before giving the right one: it is marked ``void`` with why, keeps its number and
its source (the refund it came from stays recorded, and is never given a second
allowance by itself), and stops counting against the invoice, so a new allowance may take
its place: ``give`` one by hand. The G0501 message is kept with it. The centre hears of
it after the commit, from the worker (uploads.py): an allowance the centre took has
``upload_status`` ``pending_void`` until the void is taken; one still waiting is sent
first when it may already be at the centre, else nothing is sent (``not_required``).
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from sqlalchemy import Connection, select, update

from dingdan.db.invoice_tables import Allowance, Invoice
from dingdan.db.types import utcnow
from dingdan.domain.invoicing import mig
from dingdan.domain.shared.errors import (
    Conflict,
    FieldError,
    FieldErrors,
    NotFound,
    ValidationFailed,
)
from dingdan.domain.shared.money import format_amount, parse_amount
from dingdan.services.invoicing import building, issuing, queries
from dingdan.services.invoicing import settings as invoicing_settings
from dingdan.services.invoicing.shapes import AllowanceDetailView
from dingdan.services.orders.events import event
from dingdan.services.shared.common import Actor, audit

REASON_MAX = 200

# The upload status an allowance has once voided, by the one it had: a centre that took it
# hears of the void; one that refused it, or never needed it, has nothing to void.
AFTER_VOID = {
    "uploaded": "pending_void",
    "pending": "pending",
    "failed": "not_required",
    "not_required": "not_required",
}


def _reason(reason: Any) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise ValidationFailed.on("reason", "required")
    if len(text) > REASON_MAX:
        raise ValidationFailed.on("reason", "too_long", max=REASON_MAX)
    return text


def _invoice(conn: Connection, number: str) -> Any:
    inv = conn.execute(select(Invoice).where(Invoice.number == number)).first()
    if inv is None:
        raise NotFound(detail=f"Invoice {number} not found.")
    return inv


def _not_voidable(number: str, status: str) -> Conflict:
    return Conflict(
        detail=f"Allowance {number} is {status}.",
        errors=[FieldError.of("allowance_number", "allowance_not_voidable", status=status)],
    )


def void_allowance(
    db: Any, actor: Actor, invoice_number: str, allowance_number: str, reason: Any
) -> AllowanceDetailView:
    """Void an issued allowance of the invoice (G0501); the allowance as it is then."""
    why = _reason(reason)

    def work(conn: Connection) -> AllowanceDetailView:
        inv = _invoice(conn, invoice_number)
        stmt = select(Allowance).where(
            Allowance.number == allowance_number, Allowance.invoice_id == inv.id
        )
        if conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update()  # two voids at once: the second sees the first
        a = conn.execute(stmt).first()
        if a is None:
            raise NotFound(detail=f"Invoice {invoice_number} has no allowance {allowance_number}.")
        if a.status != "issued":
            raise _not_voidable(allowance_number, a.status)
        now = utcnow()
        values: dict[str, Any] = {
            "status": "void",
            "voided_at": now,
            "void_reason": why,
            "upload_status": AFTER_VOID.get(a.upload_status, a.upload_status),
            "upload_error": None,
        }
        if inv.einvoice:
            doc = building.allowance_void_of(inv, a, why, now)
            values["void_xml"] = mig.g0501(doc).decode()
        done = conn.execute(
            update(Allowance)
            .where(Allowance.id == a.id, Allowance.status == "issued")
            .values(**values)
        )
        if done.rowcount != 1:  # SQLite: another void committed between the read and here
            raise _not_voidable(allowance_number, "void")
        shown = format_amount(a.amount_minor, inv.currency)
        event(
            conn,
            inv.order_id,
            "invoice_allowance_voided",
            actor.name,
            f"Allowance {a.number} of {shown} {inv.currency} on invoice {inv.number} voided: {why}",
            {"invoice": inv.number, "allowance": a.number, "amount": shown, "reason": why},
        )
        audit(
            conn,
            actor,
            "void",
            "allowance",
            a.number,
            {"status": "issued", "invoice": inv.number},
            {"status": "void", "reason": why},
        )
        return queries.allowance_of(conn, inv, a.number)

    done: AllowanceDetailView = db.write(work)
    return done


def give(
    db: Any, actor: Actor, invoice_number: str, amount: Any, reason: Any
) -> AllowanceDetailView:
    """An allowance of ``amount`` against an issued invoice, given by a person (the right
    one after a void, a discount agreed after issue); refused beyond what the invoice has
    left. An e-invoice's allowance is whole NT$."""
    why = _reason(reason)

    def work(conn: Connection) -> AllowanceDetailView:
        cfg = invoicing_settings.read(conn)
        inv = _invoice(conn, invoice_number)
        errors = FieldErrors()
        minor = 0
        if not isinstance(amount, str):
            errors.add("amount", "not_a_number")
        else:
            try:
                minor = parse_amount(amount, inv.currency, "amount", allow_zero=False)
            except ValidationFailed as exc:
                errors.items.extend(exc.errors)
        errors.raise_if_any()
        if inv.status != "issued":
            raise Conflict(
                detail=f"Invoice {invoice_number} is {inv.status}.",
                errors=[FieldError.of("number", "allowance_invoice_not_issued", status=inv.status)],
            )
        if conn.dialect.name == "postgresql":
            # Two allowances at once: the second counts the first (never beyond the total).
            conn.execute(select(Invoice.id).where(Invoice.id == inv.id).with_for_update())
        left = issuing.allowed_left(conn, inv)
        if inv.einvoice and minor % 100:
            raise ValidationFailed.on("amount", "einvoice_whole_twd")
        if minor > left:
            raise ValidationFailed.on(
                "amount", "allowance_beyond_invoice", left=format_amount(left, inv.currency)
            )
        number = issuing.give_allowance(
            conn, inv, minor, f"manual:{uuid4().hex}", why, cfg, actor=actor
        )
        if number is None:  # nothing left (checked above): not reached
            raise Conflict(detail=f"Invoice {invoice_number} has nothing left to allow.")
        audit(
            conn,
            actor,
            "create",
            "allowance",
            number,
            None,
            {"invoice": inv.number, "amount": format_amount(minor, inv.currency), "reason": why},
        )
        return queries.allowance_of(conn, inv, number)

    done: AllowanceDetailView = db.write(work)
    return done
