"""ecpay_parcels, ecpay_logistics_exchanges, cod_payout_lines

Revision ID: 0042
Revises: 0041
Create Date: 2026-12-07 09:56:20.033691
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dingdan.db.types

revision = "0042"
down_revision = "0041"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ecpay_logistics_exchanges",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("operation", sa.String(length=20), nullable=False),
        sa.Column("trade_no", sa.String(length=20), nullable=True),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("request_body", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("code", sa.String(length=20), nullable=True),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("at", dingdan.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", dingdan.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "direction IN ('in', 'out')", name=op.f("ck_ecpay_logistics_exchanges_direction_known")
        ),
        sa.CheckConstraint(
            "outcome IN ('pending', 'ok', 'refused', 'retry')",
            name=op.f("ck_ecpay_logistics_exchanges_outcome_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ecpay_logistics_exchanges")),
    )
    with op.batch_alter_table("ecpay_logistics_exchanges", schema=None) as batch_op:
        batch_op.create_index("ix_ecpay_logistics_exchanges_at", ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ecpay_logistics_exchanges_order_id"), ["order_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ecpay_logistics_exchanges_trade_no"), ["trade_no"], unique=False
        )

    op.create_table(
        "cod_payout_lines",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("report", sa.String(length=200), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("trade_no", sa.String(length=20), nullable=True),
        sa.Column("logistics_id", sa.String(length=20), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("expected_minor", sa.BigInteger(), nullable=True),
        sa.Column("payout_date", sa.String(length=20), nullable=True),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("settled_key", sa.String(length=20), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", dingdan.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_cod_payout_lines_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cod_payout_lines")),
        sa.UniqueConstraint("settled_key", name=op.f("uq_cod_payout_lines_settled_key")),
    )
    with op.batch_alter_table("cod_payout_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cod_payout_lines_order_id"), ["order_id"], unique=False
        )
        batch_op.create_index("ix_cod_payout_lines_outcome", ["outcome", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_cod_payout_lines_report"), ["report"], unique=False)

    op.create_table(
        "ecpay_parcels",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("trade_no", sa.String(length=20), nullable=False),
        sa.Column("subtype", sa.String(length=20), nullable=False),
        sa.Column("brand", sa.String(length=20), nullable=False),
        sa.Column("store_id", sa.String(length=20), nullable=False),
        sa.Column("goods_amount", sa.Integer(), nullable=False),
        sa.Column("collection_amount", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(length=50), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("logistics_id", sa.String(length=20), nullable=True),
        sa.Column("payment_no", sa.String(length=20), nullable=True),
        sa.Column("validation_no", sa.String(length=10), nullable=True),
        sa.Column(
            "shipment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("last_code", sa.String(length=10), nullable=True),
        sa.Column("last_message", sa.String(length=200), nullable=True),
        sa.Column("store_closed_at", dingdan.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", dingdan.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", dingdan.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'created', 'refused')", name=op.f("ck_ecpay_parcels_state_known")
        ),
        sa.CheckConstraint(
            "collection_amount >= 0 AND goods_amount >= 0",
            name=op.f("ck_ecpay_parcels_amounts_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_ecpay_parcels_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name=op.f("fk_ecpay_parcels_shipment_id_shipments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ecpay_parcels")),
        sa.UniqueConstraint("logistics_id", name=op.f("uq_ecpay_parcels_logistics_id")),
        sa.UniqueConstraint("trade_no", name=op.f("uq_ecpay_parcels_trade_no")),
    )
    with op.batch_alter_table("ecpay_parcels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ecpay_parcels_order_id"), ["order_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ecpay_parcels_shipment_id"), ["shipment_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ecpay_parcels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ecpay_parcels_shipment_id"))
        batch_op.drop_index(batch_op.f("ix_ecpay_parcels_order_id"))

    op.drop_table("ecpay_parcels")
    with op.batch_alter_table("cod_payout_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cod_payout_lines_report"))
        batch_op.drop_index("ix_cod_payout_lines_outcome")
        batch_op.drop_index(batch_op.f("ix_cod_payout_lines_order_id"))

    op.drop_table("cod_payout_lines")
    with op.batch_alter_table("ecpay_logistics_exchanges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ecpay_logistics_exchanges_trade_no"))
        batch_op.drop_index(batch_op.f("ix_ecpay_logistics_exchanges_order_id"))
        batch_op.drop_index("ix_ecpay_logistics_exchanges_at")

    op.drop_table("ecpay_logistics_exchanges")
