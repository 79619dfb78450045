"""allowances.void_reason, upload_error: an allowance voided (G0501) says why, and a
centre's refusal of its upload is kept on it

Revision ID: 0049
Revises: 0048
Create Date: 2026-12-07 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0049"
down_revision = "0048"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("allowances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("void_reason", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("upload_error", sa.String(length=1000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("allowances", schema=None) as batch_op:
        batch_op.drop_column("upload_error")
        batch_op.drop_column("void_reason")
