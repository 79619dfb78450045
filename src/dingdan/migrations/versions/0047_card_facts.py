"""payments: the card a payment was made with (card_bin, card_last4, card_fingerprint,
card_country) and the index the card velocity rule reads

Revision ID: 0047
Revises: 0046
Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0047"
down_revision = "0046"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("card_bin", sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column("card_last4", sa.String(length=4), nullable=True))
        batch_op.add_column(sa.Column("card_fingerprint", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("card_country", sa.String(length=2), nullable=True))
    op.create_index(
        "ix_payments_card_fingerprint",
        "payments",
        ["card_fingerprint", "created_at"],
        sqlite_where=sa.text("card_fingerprint IS NOT NULL"),
        postgresql_where=sa.text("card_fingerprint IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_payments_card_fingerprint", table_name="payments")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("card_country")
        batch_op.drop_column("card_fingerprint")
        batch_op.drop_column("card_last4")
        batch_op.drop_column("card_bin")
