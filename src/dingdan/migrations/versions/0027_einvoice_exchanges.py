"""einvoice_exchanges: every request to and answer from an e-invoice value-added centre

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dingdan.db.types

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = dingdan.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "einvoice_exchanges",
        sa.Column("id", _ID, nullable=False),
        sa.Column("centre", sa.String(length=20), nullable=False),
        sa.Column("operation", sa.String(length=30), nullable=False),
        sa.Column("document_number", sa.String(length=40), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("request_body", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("code", sa.String(length=40), nullable=True),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("at", _AT, nullable=False),
        sa.Column("answered_at", _AT, nullable=True),
        sa.CheckConstraint(
            "outcome IN ('pending', 'ok', 'refused', 'retry')",
            name=op.f("ck_einvoice_exchanges_einvoice_exchange_outcome_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_einvoice_exchanges")),
    )
    with op.batch_alter_table("einvoice_exchanges", schema=None) as batch_op:
        batch_op.create_index(
            "ix_einvoice_exchanges_document",
            ["document_number", "operation", "id"],
            unique=False,
        )
        batch_op.create_index("ix_einvoice_exchanges_at", ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("einvoice_exchanges", schema=None) as batch_op:
        batch_op.drop_index("ix_einvoice_exchanges_at")
        batch_op.drop_index("ix_einvoice_exchanges_document")
    op.drop_table("einvoice_exchanges")
