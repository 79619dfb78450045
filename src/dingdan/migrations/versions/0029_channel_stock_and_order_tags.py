"""channel_stock_rules, order_tags: stock for channels and order tags (issue 21)

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 07:00:00

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dingdan.db.types

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = dingdan.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "channel_stock_rules",
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("buffer_kind", sa.String(length=10), nullable=False),
        sa.Column("buffer_value", sa.Integer(), nullable=False),
        sa.Column("skus", sa.JSON(), nullable=True),
        sa.Column("locations", sa.JSON(), nullable=True),
        sa.Column("updated_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_channel_stock_rules")),
    )
    op.create_table(
        "order_tags",
        sa.Column("order_id", _ID, nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_tags_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("order_id", "tag", name=op.f("pk_order_tags")),
    )
    with op.batch_alter_table("order_tags", schema=None) as batch_op:
        batch_op.create_index("ix_order_tags_tag", ["tag", "order_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("order_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_order_tags_tag")
    op.drop_table("order_tags")
    op.drop_table("channel_stock_rules")
