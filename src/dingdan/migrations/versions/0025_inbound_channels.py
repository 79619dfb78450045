"""channels.kind, channels.webhook_secret, inbound_deliveries, channel_sku_aliases

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 05:15:00

The lead re-chains this revision on merge.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dingdan.db.types

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = dingdan.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=20), server_default="manual", nullable=False)
        )
        batch_op.add_column(sa.Column("webhook_secret", sa.String(length=200), nullable=True))
    op.create_table(
        "inbound_deliveries",
        sa.Column("id", _ID, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("delivery_id", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.String(length=60), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("order_number", sa.String(length=40), nullable=True),
        sa.Column("raw_body", sa.LargeBinary(), nullable=True),
        sa.Column("address_override", sa.JSON(), nullable=True),
        sa.Column("received_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_deliveries")),
        sa.UniqueConstraint(
            "channel", "delivery_id", name="uq_inbound_deliveries_channel_delivery"
        ),
    )
    with op.batch_alter_table("inbound_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_inbound_deliveries_status", ["status", "id"], unique=False)
        batch_op.create_index("ix_inbound_deliveries_received_at", ["received_at"], unique=False)
    op.create_table(
        "channel_sku_aliases",
        sa.Column("id", _ID, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("channel_sku", sa.String(length=100), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_sku_aliases")),
        sa.UniqueConstraint("channel", "channel_sku", name="uq_channel_sku_aliases_channel_sku"),
    )


def downgrade() -> None:
    op.drop_table("channel_sku_aliases")
    with op.batch_alter_table("inbound_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_deliveries_received_at")
        batch_op.drop_index("ix_inbound_deliveries_status")
    op.drop_table("inbound_deliveries")
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.drop_column("webhook_secret")
        batch_op.drop_column("kind")
