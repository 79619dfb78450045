"""A customer's consent to marketing messages (issue 26, part 5; PDPA, PDPO and PIPL ask
for consent before direct marketing): each grant or withdrawal is a row of its own, with
when, how (``source``) and who recorded it; nothing is overwritten.

Messages about an order (confirmation, payment, shipping, reminders) need no consent.
Anything sent to promote (a campaign, a newsletter, a "come back" message) must first ask
``has_marketing_consent(conn, customer_id)``; Dingdan sends no such message itself today,
so this is the one check a sender of marketing calls (docs/architecture.md, "Customer
rights")."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select

from dingdan.db.consent_tables import CustomerConsent
from dingdan.db.engine import Database
from dingdan.db.order_tables import Customer
from dingdan.db.types import utcnow
from dingdan.domain.shared.errors import FieldErrors, NotFound
from dingdan.domain.shared.numbers import row_id
from dingdan.services.orders.shapes import ConsentCommand, ConsentEntryView, ConsentView
from dingdan.services.shared.common import Actor, audit, iso

MARKETING = "marketing"
SOURCE_MAX = 100


def _customer_id(conn: Connection, customer_id: str) -> int:
    cid = row_id(customer_id)
    if cid < 0 or conn.execute(select(Customer.id).where(Customer.id == cid)).first() is None:
        raise NotFound(detail=f"No customer with id {customer_id!r}.")
    return cid


def _entry(row: Any) -> ConsentEntryView:
    return {
        "granted": bool(row.granted),
        "at": iso(row.at),
        "source": row.source,
        "actor": row.actor,
    }


def _history(conn: Connection, cid: int) -> list[ConsentEntryView]:
    rows = conn.execute(
        select(CustomerConsent)
        .where(CustomerConsent.customer_id == cid, CustomerConsent.purpose == MARKETING)
        .order_by(CustomerConsent.id.desc())
    )
    return [_entry(r) for r in rows]


def consent_view(conn: Connection, cid: int) -> ConsentView:
    """``{"customer", "marketing": bool, "since", "source", "history": [newest first]}``."""
    history = _history(conn, cid)
    now = history[0] if history else None
    return {
        "customer": str(cid),
        "marketing": bool(now and now["granted"]),
        "since": now["at"] if now else None,
        "source": now["source"] if now else None,
        "history": history,
    }


def has_marketing_consent(conn: Connection, customer_id: int) -> bool:
    """Whether the customer agreed to marketing messages and has not withdrawn it since."""
    granted = conn.execute(
        select(CustomerConsent.granted)
        .where(CustomerConsent.customer_id == customer_id, CustomerConsent.purpose == MARKETING)
        .order_by(CustomerConsent.id.desc())
        .limit(1)
    ).scalar()
    return bool(granted)


def get_consent(db: Database, customer_id: str) -> ConsentView:
    return db.read(lambda conn: consent_view(conn, _customer_id(conn, customer_id)))


def set_marketing_consent(
    db: Database, actor: Actor, customer_id: str, body: ConsentCommand
) -> ConsentView:
    """Record a grant (``granted`` true) or a withdrawal, with its ``source`` (how the
    customer gave or withdrew it; "api" unless said). The same state again adds no row."""
    errors = FieldErrors()
    granted = body.get("granted")
    if not isinstance(granted, bool):
        errors.add("granted", "not_a_boolean")
    source = body.get("source", "api")
    if not isinstance(source, str) or not source.strip() or len(source) > SOURCE_MAX:
        errors.add("source", "required_text", max=SOURCE_MAX)
    errors.raise_if_any()

    def work(conn: Connection) -> ConsentView:
        cid = _customer_id(conn, customer_id)
        if has_marketing_consent(conn, cid) is granted and _history(conn, cid):
            return consent_view(conn, cid)
        conn.execute(
            insert(CustomerConsent).values(
                customer_id=cid,
                purpose=MARKETING,
                granted=granted,
                source=str(source).strip(),
                actor=actor.name[:200],
                at=utcnow(),
            )
        )
        audit(conn, actor, "update", "customer", str(cid), after={"marketing_consent": granted})
        return consent_view(conn, cid)

    return db.write(work)
