"""delivery_runs, delivery_stops: own delivery (a day's run per driver, proof of delivery,
the cash handed in)

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-07 10:00:00

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dingdan.db.types

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = dingdan.db.types.UTCDateTime(timezone=True)
_LIVE_STOP = "status <> 'failed'"


def _stamps() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("created_at", _AT, nullable=False),
        sa.Column("updated_at", _AT, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "delivery_runs",
        sa.Column("id", _ID, nullable=False),
        sa.Column("driver_id", _ID, nullable=False),
        sa.Column("run_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("cash_handed_in_minor", sa.BigInteger(), nullable=True),
        sa.Column("cash_recorded_by", sa.String(length=200), nullable=True),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.Column("closed_at", _AT, nullable=True),
        sa.Column("close_note", sa.String(length=500), nullable=True),
        *_stamps(),
        sa.CheckConstraint(
            "cash_handed_in_minor >= 0", name=op.f("ck_delivery_runs_cash_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["driver_id"], ["users.id"], name=op.f("fk_delivery_runs_driver_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_runs")),
    )
    op.create_index(
        "uq_delivery_runs_driver_day", "delivery_runs", ["driver_id", "run_date"], unique=True
    )
    op.create_index("ix_delivery_runs_date_id", "delivery_runs", ["run_date", "id"])
    op.create_table(
        "delivery_stops",
        sa.Column("id", _ID, nullable=False),
        sa.Column("run_id", _ID, nullable=False),
        sa.Column("shipment_id", _ID, nullable=False),
        sa.Column("order_id", _ID, nullable=False),
        sa.Column("area", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("fail_reason", sa.String(length=30), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("cod_due_minor", sa.BigInteger(), nullable=False),
        sa.Column("cod_collected_minor", sa.BigInteger(), nullable=False),
        sa.Column("photo_path", sa.String(length=300), nullable=True),
        sa.Column("photo_sha256", sa.String(length=64), nullable=True),
        sa.Column("photo_type", sa.String(length=50), nullable=True),
        sa.Column("signature_path", sa.String(length=300), nullable=True),
        sa.Column("signature_sha256", sa.String(length=64), nullable=True),
        sa.Column("done_by", sa.String(length=200), nullable=True),
        sa.Column("done_at", _AT, nullable=True),
        *_stamps(),
        sa.CheckConstraint(
            "cod_due_minor >= 0 AND cod_collected_minor >= 0",
            name=op.f("ck_delivery_stops_cod_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["delivery_runs.id"], name=op.f("fk_delivery_stops_run_id_delivery_runs")
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name=op.f("fk_delivery_stops_shipment_id_shipments")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_delivery_stops_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_stops")),
    )
    op.create_index("ix_delivery_stops_run_id", "delivery_stops", ["run_id"])
    op.create_index("ix_delivery_stops_order_id", "delivery_stops", ["order_id"])
    op.create_index(
        "uq_delivery_stops_live_shipment",
        "delivery_stops",
        ["shipment_id"],
        unique=True,
        sqlite_where=sa.text(_LIVE_STOP),
        postgresql_where=sa.text(_LIVE_STOP),
    )


def downgrade() -> None:
    op.drop_table("delivery_stops")
    op.drop_table("delivery_runs")
