"""report_daily, report_monthly, report_order_facts, report_carrier_promises: the reports' daily rollups

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07 07:00:00

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "report_daily",
        sa.Column("dimension", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("orders", sa.BigInteger(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("revenue_minor", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "dimension", "day", "currency", "key", name=op.f("pk_report_daily")
        ),
    )
    with op.batch_alter_table("report_daily", schema=None) as batch_op:
        batch_op.create_index(
            "ix_report_daily_dimension_key", ["dimension", "currency", "key", "day"], unique=False
        )
    op.create_table(
        "report_monthly",
        sa.Column("dimension", sa.String(length=20), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("orders", sa.BigInteger(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("revenue_minor", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "dimension", "month", "currency", "key", name=op.f("pk_report_monthly")
        ),
    )
    op.create_table(
        "report_order_facts",
        sa.Column("order_id", _ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_report_order_facts_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_report_order_facts")),
    )
    op.create_table(
        "report_carrier_promises",
        sa.Column("carrier", sa.String(length=50), nullable=False),
        sa.Column("region", sa.String(length=10), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("carrier", "region", name=op.f("pk_report_carrier_promises")),
    )


def downgrade() -> None:
    op.drop_table("report_carrier_promises")
    op.drop_table("report_order_facts")
    op.drop_table("report_monthly")
    op.drop_table("report_daily")
