"""Backorder reservations in the ledger name their order by number; payments by time

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 01:00:00

A reservation made when stock arrived for a backorder was written with the order's
internal id as its reference (``order:17``) where every other movement names the order by
its number (``DD001017``). New ones are written with the number; this rewrites the old
ones, so that the ledger reads the same everywhere and a search for a number finds them.
A downgrade leaves the references as they are.

``ix_payments_created_at``: the dashboard sums the day's payments and refunds (money
received today) without reading every payment.
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch_op:
        batch_op.create_index("ix_payments_created_at", ["created_at"], unique=False)
    op.execute(
        """
        UPDATE stock_movements
        SET reference = (
            SELECT orders.number FROM orders
            WHERE 'order:' || CAST(orders.id AS VARCHAR(20)) = stock_movements.reference
        )
        WHERE reason = 'backorder'
          AND reference LIKE 'order:%'
          AND EXISTS (
            SELECT 1 FROM orders
            WHERE 'order:' || CAST(orders.id AS VARCHAR(20)) = stock_movements.reference
          )
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("payments") as batch_op:
        batch_op.drop_index("ix_payments_created_at")
    # The references keep the numbers: they are as true as the ids were.
