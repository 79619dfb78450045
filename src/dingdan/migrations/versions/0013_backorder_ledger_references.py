"""Backorder reservations in the ledger name their order by number

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 01:00:00

A reservation made when stock arrived for a backorder was written with the order's
internal id as its reference (``order:17``) where every other movement names the order by
its number (``DD001017``). New ones are written with the number; this rewrites the old
ones, so that the ledger reads the same everywhere and a search for a number finds them.
Data only: the schema does not change, and a downgrade leaves the references as they are.
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
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
    pass  # the numbers are as true as the ids were
