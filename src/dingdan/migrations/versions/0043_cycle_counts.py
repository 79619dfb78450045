"""cycle_counts, cycle_count_lines, stock_count_dates: counts driven by ABC classes

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-07 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dingdan.db.types

revision = "0043"
down_revision = "0042"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = dingdan.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cycle_counts",
        sa.Column("id", _ID, nullable=False),
        sa.Column("location_id", _ID, nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("posted_by", sa.String(length=200), nullable=True),
        sa.Column("posted_at", _AT, nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'posted')", name=op.f("ck_cycle_counts_cycle_count_status")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_cycle_counts_location_id_locations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cycle_counts")),
    )
    op.create_index("ix_cycle_counts_location_id", "cycle_counts", ["location_id", "id"])
    op.create_table(
        "cycle_count_lines",
        sa.Column("id", _ID, nullable=False),
        sa.Column("count_id", _ID, nullable=False),
        sa.Column("product_id", _ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("abc_class", sa.String(length=1), nullable=False),
        sa.Column("xyz_class", sa.String(length=1), nullable=True),
        sa.Column("last_counted_at", _AT, nullable=True),
        sa.Column("counted", sa.Integer(), nullable=True),
        sa.Column("on_hand_at_count", sa.Integer(), nullable=True),
        sa.Column("counted_by", sa.String(length=200), nullable=True),
        sa.Column("counted_at", _AT, nullable=True),
        sa.Column("posted_delta", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "counted IS NULL OR counted >= 0",
            name=op.f("ck_cycle_count_lines_counted_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["count_id"],
            ["cycle_counts.id"],
            name=op.f("fk_cycle_count_lines_count_id_cycle_counts"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_cycle_count_lines_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cycle_count_lines")),
        sa.UniqueConstraint("count_id", "product_id", name="uq_cycle_count_lines_product"),
    )
    op.create_table(
        "stock_count_dates",
        sa.Column("product_id", _ID, nullable=False),
        sa.Column("location_id", _ID, nullable=False),
        sa.Column("last_counted_at", _AT, nullable=False),
        sa.Column("count_id", _ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["count_id"],
            ["cycle_counts.id"],
            name=op.f("fk_stock_count_dates_count_id_cycle_counts"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_stock_count_dates_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_stock_count_dates_product_id_products")
        ),
        sa.PrimaryKeyConstraint("product_id", "location_id", name=op.f("pk_stock_count_dates")),
    )


def downgrade() -> None:
    op.drop_table("stock_count_dates")
    op.drop_table("cycle_count_lines")
    op.drop_index("ix_cycle_counts_location_id", table_name="cycle_counts")
    op.drop_table("cycle_counts")
