"""ecpay_trades (an order's attempts at paying through ECPay: virtual accounts, payment
codes, their deadlines) and payment_exchanges (every request to and callback from a payment
service)

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-07 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dingdan.db.types

revision = "0041"
down_revision = "0040"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = dingdan.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ecpay_trades",
        sa.Column("id", _ID, nullable=False),
        sa.Column("order_id", _ID, nullable=False),
        sa.Column("merchant_trade_no", sa.String(length=20), nullable=False),
        sa.Column("choice", sa.String(length=10), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("trade_no", sa.String(length=20), nullable=True),
        sa.Column("bank_code", sa.String(length=10), nullable=True),
        sa.Column("v_account", sa.String(length=32), nullable=True),
        sa.Column("payment_no", sa.String(length=32), nullable=True),
        sa.Column("expires_at", _AT, nullable=True),
        sa.Column("rtn_code", sa.String(length=20), nullable=True),
        sa.Column("rtn_msg", sa.String(length=200), nullable=True),
        sa.Column("paid_form", sa.Text(), nullable=True),
        sa.Column("payment_id", _ID, nullable=True),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sa.CheckConstraint(
            "status IN ('started', 'waiting', 'paid', 'failed')",
            name=op.f("ck_ecpay_trades_ecpay_trade_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_ecpay_trades_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_ecpay_trades_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ecpay_trades")),
        sa.UniqueConstraint("merchant_trade_no", name=op.f("uq_ecpay_trades_merchant_trade_no")),
    )
    with op.batch_alter_table("ecpay_trades", schema=None) as batch_op:
        batch_op.create_index("ix_ecpay_trades_order_id", ["order_id", "id"], unique=False)
        batch_op.create_index("ix_ecpay_trades_trade_no", ["trade_no"], unique=False)
    op.create_table(
        "payment_exchanges",
        sa.Column("id", _ID, nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("operation", sa.String(length=30), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("request_body", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("code", sa.String(length=40), nullable=True),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("at", _AT, nullable=False),
        sa.Column("answered_at", _AT, nullable=True),
        sa.CheckConstraint(
            "outcome IN ('pending', 'ok', 'refused', 'retry')",
            name=op.f("ck_payment_exchanges_payment_exchange_outcome_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_exchanges")),
    )
    with op.batch_alter_table("payment_exchanges", schema=None) as batch_op:
        batch_op.create_index("ix_payment_exchanges_reference", ["reference", "id"], unique=False)
        batch_op.create_index("ix_payment_exchanges_at", ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("payment_exchanges", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_exchanges_at")
        batch_op.drop_index("ix_payment_exchanges_reference")
    op.drop_table("payment_exchanges")
    with op.batch_alter_table("ecpay_trades", schema=None) as batch_op:
        batch_op.drop_index("ix_ecpay_trades_trade_no")
        batch_op.drop_index("ix_ecpay_trades_order_id")
    op.drop_table("ecpay_trades")
