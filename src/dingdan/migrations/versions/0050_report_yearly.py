"""report_yearly: the reports' rollups summed by year, filled from report_monthly

A range of a year or more reads whole years (services/reports/rollup_reads.py): a dimension
of many keys (customers, SKUs) then costs a row per key per year rather than per month. The
rows already rolled up by month are summed into their years here, so the table starts equal
to the monthly rows it stands for; the worker keeps it from then on.

Revision ID: 0050
Revises: 0049
Create Date: 2026-12-08 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0050"
down_revision = "0049"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_yearly",
        sa.Column("dimension", sa.String(length=20), nullable=False),
        sa.Column("year", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("orders", sa.BigInteger(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("revenue_minor", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "dimension", "year", "currency", "key", name=op.f("pk_report_yearly")
        ),
    )
    if op.get_bind().dialect.name == "postgresql":
        year = "CAST(date_trunc('year', month) AS DATE)"
    else:  # SQLite keeps dates as ISO text
        year = "substr(month, 1, 4) || '-01-01'"
    op.execute(
        "INSERT INTO report_yearly (dimension, year, currency, key, orders, units, revenue_minor) "
        f"SELECT dimension, {year}, currency, key, SUM(orders), SUM(units), SUM(revenue_minor) "
        f"FROM report_monthly GROUP BY dimension, {year}, currency, key "
        "HAVING SUM(orders) <> 0 OR SUM(units) <> 0 OR SUM(revenue_minor) <> 0"
    )


def downgrade() -> None:
    op.drop_table("report_yearly")
