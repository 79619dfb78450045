"""Orders' search text and customers' emails after NFKC and case folding

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 02:00:00

Order capture now writes ``orders.search_text`` after NFKC and case folding (it was lower
case), and the search folds its term alike, so that a full-width term finds half-width
text and the other way round. The text of the orders written before is folded here, a
thousand orders at a time; on SQLite the triggers of 0010 and 0011 keep the indexes in
step with each changed row. Customers are found by their email after NFKC and case
folding: each customer's email is folded here too, unless another customer already has
the folded address (two customers that were told apart wrongly stay two, for a person to
merge). The orders keep their emails as they were sent. A downgrade changes nothing back:
the folded text is what the older code searched too, less its full-width forms.
"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_BATCH = 1000


def _fold(value: str) -> str:
    return unicodedata.normalize("NFKC", value).casefold()


def upgrade() -> None:
    conn = op.get_bind()
    last = 0
    read = sa.text("SELECT id, search_text FROM orders WHERE id > :last ORDER BY id LIMIT :n")
    write = sa.text("UPDATE orders SET search_text = :t WHERE id = :id")
    while rows := conn.execute(read, {"last": last, "n": _BATCH}).all():
        changed = [
            {"id": r.id, "t": _fold(r.search_text)[:800]}
            for r in rows
            if r.search_text and _fold(r.search_text)[:800] != r.search_text
        ]
        if changed:
            conn.execute(write, changed)
        last = rows[-1].id
    last = 0
    read = sa.text(
        "SELECT id, email FROM customers WHERE id > :last AND email IS NOT NULL"
        " ORDER BY id LIMIT :n"
    )
    taken = sa.text("SELECT 1 FROM customers WHERE email = :e")
    write = sa.text("UPDATE customers SET email = :e WHERE id = :id")
    while rows := conn.execute(read, {"last": last, "n": _BATCH}).all():
        for r in rows:
            key = _fold(r.email.strip())
            if key == r.email or len(key) > 254:
                continue
            if conn.execute(taken, {"e": key}).first() is None:
                conn.execute(write, {"e": key, "id": r.id})
        last = rows[-1].id


def downgrade() -> None:
    pass
