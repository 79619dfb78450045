"""orders.delivery, risk, hold, client_ip, billing_address; ix_orders_held

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07 10:00:00

Pickup instead of delivery (``delivery``), the capture's risk assessment and the hold it may
put on the order, and the client's IP and billing address the risk rules read. Orders
already stored keep nulls (not assessed, not held). PostgreSQL's capture function writes
the new columns: it is created again from db/sql/place_order.sql.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None

SQL_FILE = Path(__file__).resolve().parents[2] / "db" / "sql" / "place_order.sql"


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivery", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("risk", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("hold", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("client_ip", sa.String(length=45), nullable=True))
        batch_op.add_column(sa.Column("billing_address", sa.JSON(), nullable=True))
        batch_op.create_index(
            "ix_orders_held",
            ["id"],
            unique=False,
            sqlite_where=sa.text("hold IS NOT NULL"),
            postgresql_where=sa.text("hold IS NOT NULL"),
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(SQL_FILE.read_text(encoding="utf-8"))


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_held")
        batch_op.drop_column("billing_address")
        batch_op.drop_column("client_ip")
        batch_op.drop_column("hold")
        batch_op.drop_column("risk")
        batch_op.drop_column("delivery")
