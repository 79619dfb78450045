"""risk_blocks (the risk block list); indexes the capture's risk facts read: orders by the
customer's phone and by the shipping address's first line (expressions on the JSON
columns) and by client_ip

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-07 10:00:00

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dingdan.db.types

revision = "0040"
down_revision = "0039"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = dingdan.db.types.UTCDateTime(timezone=True)

# The expressions exactly as services/orders/risk.py writes them in its queries (SQLite uses
# an index on an expression only for the same expression). Names end in _expr: the models
# cannot describe them for both databases, so autogenerate leaves them out (env_filters).
_EXPRESSIONS = {
    "sqlite": {
        "ix_orders_phone_expr": "json_extract(customer, '$.phone'), created_at",
        "ix_orders_line1_expr": "json_extract(shipping_address, '$.line1'), created_at",
    },
    "postgresql": {
        "ix_orders_phone_expr": "(customer ->> 'phone'), created_at",
        "ix_orders_line1_expr": "(shipping_address ->> 'line1'), created_at",
    },
}


def upgrade() -> None:
    op.create_table(
        "risk_blocks",
        sa.Column("id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("value", sa.String(length=300), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_blocks")),
        sa.UniqueConstraint("kind", "key", name="uq_risk_blocks_kind_key"),
    )
    bind = op.get_bind()
    for name, expr in _EXPRESSIONS[bind.dialect.name].items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON orders ({expr})")
    # orders.client_ip came with migration 0034; _expr: left out of autogenerate as well.
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_orders_client_ip_expr ON orders (client_ip, created_at)"
    )


def downgrade() -> None:
    for name in (
        "ix_orders_client_ip_expr",
        "ix_orders_line1_expr",
        "ix_orders_phone_expr",
    ):
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.drop_table("risk_blocks")
