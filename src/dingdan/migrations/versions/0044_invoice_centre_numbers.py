"""invoices.centre, centre_key, supplement_of: numbers a value-added centre assigns, and
supplementary invoices for an order raised after its void window

Revision ID: 0044
Revises: 0043
Create Date: 2026-12-07 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0044"
down_revision = "0043"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("centre", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("centre_key", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("supplement_of", _ID, nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_invoices_centre_key"), ["centre_key"])


def downgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_invoices_centre_key"), type_="unique")
        batch_op.drop_column("supplement_of")
        batch_op.drop_column("centre_key")
        batch_op.drop_column("centre")
