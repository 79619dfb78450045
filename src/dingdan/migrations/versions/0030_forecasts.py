"""forecasts, forecast_runs, promotion_events (issue 23: demand forecasts)

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 07:00:00

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dingdan.db.types

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = dingdan.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "forecasts",
        sa.Column("id", _ID, nullable=False),
        sa.Column("product_id", _ID, nullable=False),
        sa.Column("location", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=30), nullable=False),
        sa.Column("spec", sa.String(length=10), nullable=True),
        sa.Column("demand_class", sa.String(length=20), nullable=False),
        sa.Column("history_days", sa.Integer(), nullable=False),
        sa.Column("horizon", sa.Integer(), nullable=False),
        sa.Column("mase", sa.Float(), nullable=True),
        sa.Column("naive_mase", sa.Float(), nullable=True),
        sa.Column("error_stdev", sa.Float(), nullable=False),
        sa.Column("backtests", sa.JSON(), nullable=False),
        sa.Column("uplifts", sa.JSON(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("daily", sa.JSON(), nullable=False),
        sa.Column("computed_at", _AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_forecasts_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forecasts")),
        sa.UniqueConstraint("product_id", "location", name="uq_forecasts_product_location"),
    )
    with op.batch_alter_table("forecasts", schema=None) as batch_op:
        batch_op.create_index("ix_forecasts_computed_at", ["computed_at"], unique=False)
    op.create_table(
        "forecast_runs",
        sa.Column("id", _ID, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("slot", sa.String(length=20), nullable=False),
        sa.Column("started_at", _AT, nullable=False),
        sa.Column("finished_at", _AT, nullable=True),
        sa.Column("skus", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forecast_runs")),
        sa.UniqueConstraint("kind", "slot", name="uq_forecast_runs_kind_slot"),
    )
    op.create_table(
        "promotion_events",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_at", _AT, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotion_events")),
    )


def downgrade() -> None:
    op.drop_table("promotion_events")
    op.drop_table("forecast_runs")
    with op.batch_alter_table("forecasts", schema=None) as batch_op:
        batch_op.drop_index("ix_forecasts_computed_at")
    op.drop_table("forecasts")
