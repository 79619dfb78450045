"""live_changes: what the open back-office screens are told changed (live pages)

Revision ID: 0046
Revises: 0045
Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dingdan.db.types

revision = "0046"
down_revision = "0045"
branch_labels = None
depends_on = None

# services/shared/live_changes.py NAMES; a name missing here is inserted when first touched.
_NAMES = ("orders", "payments", "warehouse", "returns", "disputes", "stock")


def upgrade() -> None:
    table = op.create_table(
        "live_changes",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", dingdan.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_live_changes")),
    )
    now = dingdan.db.types.utcnow()
    op.bulk_insert(table, [{"name": n, "seq": 0, "changed_at": now} for n in _NAMES])


def downgrade() -> None:
    op.drop_table("live_changes")
