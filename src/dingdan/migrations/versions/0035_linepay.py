"""linepay_exchanges: every request to and answer from LINE Pay

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-07 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dingdan.db.types

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = dingdan.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "linepay_exchanges",
        sa.Column("id", _ID, nullable=False),
        sa.Column("operation", sa.String(length=20), nullable=False),
        sa.Column("intent_id", sa.BigInteger(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=100), nullable=True),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.Column("transaction_id", sa.String(length=40), nullable=True),
        sa.Column("method", sa.String(length=6), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("request_body", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("return_code", sa.String(length=10), nullable=True),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("at", _AT, nullable=False),
        sa.Column("answered_at", _AT, nullable=True),
        sa.CheckConstraint(
            "outcome IN ('pending', 'ok', 'refused', 'retry')",
            name=op.f("ck_linepay_exchanges_linepay_exchange_outcome_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linepay_exchanges")),
    )
    with op.batch_alter_table("linepay_exchanges", schema=None) as batch_op:
        batch_op.create_index("ix_linepay_exchanges_intent", ["intent_id", "id"], unique=False)
        batch_op.create_index(
            "ix_linepay_exchanges_transaction", ["transaction_id", "id"], unique=False
        )
        batch_op.create_index(
            "ix_linepay_exchanges_key", ["idempotency_key", "operation"], unique=False
        )
        batch_op.create_index("ix_linepay_exchanges_at", ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("linepay_exchanges", schema=None) as batch_op:
        batch_op.drop_index("ix_linepay_exchanges_at")
        batch_op.drop_index("ix_linepay_exchanges_key")
        batch_op.drop_index("ix_linepay_exchanges_transaction")
        batch_op.drop_index("ix_linepay_exchanges_intent")
    op.drop_table("linepay_exchanges")
