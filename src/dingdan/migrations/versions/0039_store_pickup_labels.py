"""label_ranges, shipment_labels, store_pickups; channels.pick_priority

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-07 10:00:00

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dingdan.db.types

revision = "0039"
down_revision = "0038"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = dingdan.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "label_ranges",
        sa.Column("id", _ID, nullable=False),
        sa.Column("carrier", sa.String(length=50), nullable=False),
        sa.Column("start_no", sa.BigInteger(), nullable=False),
        sa.Column("end_no", sa.BigInteger(), nullable=False),
        sa.Column("next_no", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("check_digit", sa.String(length=10), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.CheckConstraint(
            "start_no <= end_no AND next_no >= start_no AND next_no <= end_no + 1",
            name=op.f("ck_label_ranges_next_within_range"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label_ranges")),
    )
    op.create_index("ix_label_ranges_carrier", "label_ranges", ["carrier", "id"])
    op.create_table(
        "shipment_labels",
        sa.Column("shipment_id", _ID, nullable=False),
        sa.Column("carrier", sa.String(length=50), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("range_id", _ID, nullable=False),
        sa.Column("sender", sa.JSON(), nullable=False),
        sa.Column("recipient", sa.JSON(), nullable=False),
        sa.Column("cod_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["range_id"],
            ["label_ranges.id"],
            name=op.f("fk_shipment_labels_range_id_label_ranges"),
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_shipment_labels_shipment_id_shipments"),
        ),
        sa.PrimaryKeyConstraint("shipment_id", name=op.f("pk_shipment_labels")),
        sa.UniqueConstraint("carrier", "number", name="uq_shipment_labels_number"),
    )
    op.create_table(
        "store_pickups",
        sa.Column("order_id", _ID, nullable=False),
        sa.Column("location_id", _ID, nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("open_code", sa.String(length=12), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("ready_at", _AT, nullable=False),
        sa.Column("handed_over_at", _AT, nullable=True),
        sa.Column("handed_over_by", sa.String(length=200), nullable=True),
        sa.Column("shipment_id", _ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_store_pickups_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_store_pickups_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_store_pickups_shipment_id_shipments"),
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_store_pickups")),
        sa.UniqueConstraint("open_code", name=op.f("uq_store_pickups_open_code")),
    )
    op.create_index("ix_store_pickups_location_status", "store_pickups", ["location_id", "status"])
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pick_priority", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.drop_column("pick_priority")
    op.drop_index("ix_store_pickups_location_status", table_name="store_pickups")
    op.drop_table("store_pickups")
    op.drop_table("shipment_labels")
    op.drop_index("ix_label_ranges_carrier", table_name="label_ranges")
    op.drop_table("label_ranges")
