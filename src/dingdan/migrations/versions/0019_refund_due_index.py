"""A partial index of the orders that owe money back

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 04:00:00

The dashboard's "refunds due" queue and the orders list's ``refund_due=true`` filter read
the orders whose paid less refunded exceeds what they are owed. They were a scan of every
order; this index holds only those (a handful in a shop of a million orders). Its condition
is the text the queries use (db/order_tables.py ``REFUND_DUE_SQL``), so that SQLite, which
matches a partial index by the shape of the WHERE term, uses it too.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_WHERE = "paid_minor - refunded_minor > CASE WHEN status = 'cancelled' THEN 0 ELSE total_minor END"


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch_op:
        batch_op.create_index(
            "ix_orders_refund_due",
            ["id"],
            unique=False,
            sqlite_where=sa.text(_WHERE),
            postgresql_where=sa.text(_WHERE),
        )


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch_op:
        batch_op.drop_index("ix_orders_refund_due")
