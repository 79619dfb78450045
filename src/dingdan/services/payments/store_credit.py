"""Store credit: a ledger of earn and spend entries per customer and currency, and a balance
row per (customer, currency) that changes by one conditional statement, so two spends racing
can never take it below zero (``CHECK balance_minor >= 0`` is the last guard)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.db.engine import Database
from dingdan.db.order_tables import Customer, Order
from dingdan.db.return_tables import Return, StoreCreditBalance, StoreCreditEntry
from dingdan.domain.shared.errors import NotFound, ValidationFailed
from dingdan.domain.shared.money import format_amount
from dingdan.domain.shared.numbers import row_id
from dingdan.services.payments.shapes import StoreCreditView
from dingdan.services.shared.common import iso
from dingdan.services.shared.outbox_events import emit


def _entry(
    conn: Connection, customer_id: int, currency: str, kind: str, amount: int, ref: Any, actor: str
) -> None:
    conn.execute(
        insert(StoreCreditEntry).values(
            customer_id=customer_id,
            currency=currency,
            kind=kind,
            amount_minor=amount,
            reference=ref,
            actor=actor,
        )
    )


def earn(
    conn: Connection,
    customer_id: int,
    currency: str,
    amount_minor: int,
    reference: str | None,
    actor: str = "system",
) -> None:
    """Credit the customer inside the caller's transaction."""
    if amount_minor <= 0:
        raise ValidationFailed.on("amount", "must_be_positive")
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(StoreCreditBalance).values(
        customer_id=customer_id, currency=currency, balance_minor=amount_minor
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["customer_id", "currency"],
            set_={"balance_minor": StoreCreditBalance.balance_minor + amount_minor},
        )
    )
    _entry(conn, customer_id, currency, "earn", amount_minor, reference, actor)
    emit(conn, "store_credit.issued", _issued(conn, customer_id, currency, amount_minor, reference))


def _issued(
    conn: Connection, customer_id: int, currency: str, amount_minor: int, reference: str | None
) -> dict[str, Any]:
    """The event's payload: the order it came from (a return's order), when there is one."""
    number = None
    if reference and re.fullmatch(r"return:[0-9]{1,18}", reference):
        number = conn.execute(
            select(Order.number)
            .join(Return, Return.order_id == Order.id)
            .where(Return.id == int(reference[7:]))
        ).scalar()
    return {
        "number": number,
        "customer_id": str(customer_id),
        "currency": currency,
        "amount": format_amount(amount_minor, currency),
        "reference": reference,
    }


def spend_store_credit(
    conn: Connection,
    customer_id: int,
    currency: str,
    amount_minor: int,
    reference: str | None,
    actor: str = "system",
) -> None:
    """Take ``amount_minor`` from the customer's credit inside the caller's transaction, or
    raise ``ValidationFailed`` on ``amount`` when the balance does not cover it."""
    if amount_minor <= 0:
        raise ValidationFailed.on("amount", "must_be_positive")
    b = StoreCreditBalance
    done = conn.execute(
        update(b)
        .where(
            b.customer_id == customer_id,
            b.currency == currency,
            b.balance_minor >= amount_minor,
        )
        .values(balance_minor=b.balance_minor - amount_minor)
    ).rowcount
    if not done:
        have = balance(conn, customer_id, currency)
        raise ValidationFailed.on(
            "amount",
            "exceeds_store_credit",
            balance=f"{format_amount(have, currency)} {currency}",
        )
    _entry(conn, customer_id, currency, "spend", amount_minor, reference, actor)


def balance(conn: Connection, customer_id: int, currency: str) -> int:
    value = conn.execute(
        select(StoreCreditBalance.balance_minor).where(
            StoreCreditBalance.customer_id == customer_id,
            StoreCreditBalance.currency == currency,
        )
    ).scalar()
    return int(value or 0)


def _customer_id(customer_id: str) -> int:
    return row_id(customer_id)


def store_credit_of(db: Database, customer_id: str) -> StoreCreditView:
    """Balances per currency and the latest 50 ledger entries, newest first."""

    def work(conn: Connection) -> StoreCreditView:
        cid = _customer_id(customer_id)
        if conn.execute(select(Customer.id).where(Customer.id == cid)).first() is None:
            raise NotFound(detail=f"No customer with id {customer_id!r}.")
        balances = conn.execute(
            select(StoreCreditBalance.currency, StoreCreditBalance.balance_minor)
            .where(StoreCreditBalance.customer_id == cid)
            .order_by(StoreCreditBalance.currency)
        ).all()
        entries = conn.execute(
            select(StoreCreditEntry)
            .where(StoreCreditEntry.customer_id == cid)
            .order_by(StoreCreditEntry.id.desc())
            .limit(50)
        ).all()
        return {
            "customer": str(cid),
            "balances": [{"currency": c, "balance": format_amount(int(m), c)} for c, m in balances],
            "entries": [
                {
                    "id": str(e.id),
                    "kind": e.kind,
                    "amount": format_amount(e.amount_minor, e.currency),
                    "currency": e.currency,
                    "reference": e.reference,
                    "actor": e.actor,
                    "created_at": iso(e.created_at),
                }
                for e in entries
            ],
        }

    return db.read(work)
