"""Carrier tracking events; carriers' webhook secrets

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 04:00:00

``tracking_events`` keeps every event a carrier reported (by webhook, file or API) once
(``key``: the carrier's event id, or a hash of what the event says), matched to its
shipment or not (``shipment_id`` NULL), and whether it moved the shipment (``applied``).
``carrier_webhook_deliveries`` remembers each webhook delivery's ``webhook-id`` so that a
delivery sent again changes nothing. ``carriers.webhook_secret`` is the ``whsec_`` secret
a carrier signs its deliveries with.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dingdan.db.types

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = dingdan.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("carriers") as batch_op:
        batch_op.add_column(sa.Column("webhook_secret", sa.String(length=100), nullable=True))
    op.create_table(
        "tracking_events",
        sa.Column("id", BigId, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("shipment_id", BigId, nullable=True),
        sa.Column("carrier", sa.String(length=50), nullable=False),
        sa.Column("tracking_number", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("exception", sa.String(length=30), nullable=True),
        sa.Column("occurred_at", Time, nullable=False),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column("received_at", Time, nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_tracking_events_shipment_id_shipments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_events")),
        sa.UniqueConstraint("key", name=op.f("uq_tracking_events_key")),
    )
    op.create_index(
        "ix_tracking_events_shipment_id_occurred_at",
        "tracking_events",
        ["shipment_id", "occurred_at"],
        unique=False,
    )
    op.create_index(
        "ix_tracking_events_carrier_tracking_number",
        "tracking_events",
        ["carrier", "tracking_number"],
        unique=False,
    )
    op.create_index(
        "ix_tracking_events_received_at", "tracking_events", ["received_at"], unique=False
    )
    op.create_table(
        "carrier_webhook_deliveries",
        sa.Column("id", BigId, nullable=False),
        sa.Column("carrier", sa.String(length=50), nullable=False),
        sa.Column("webhook_id", sa.String(length=200), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("received_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carrier_webhook_deliveries")),
        sa.UniqueConstraint("carrier", "webhook_id", name=op.f("uq_carrier_webhook_deliveries_id")),
    )


def downgrade() -> None:
    op.drop_table("carrier_webhook_deliveries")
    op.drop_index("ix_tracking_events_received_at", table_name="tracking_events")
    op.drop_index("ix_tracking_events_carrier_tracking_number", table_name="tracking_events")
    op.drop_index("ix_tracking_events_shipment_id_occurred_at", table_name="tracking_events")
    op.drop_table("tracking_events")
    with op.batch_alter_table("carriers") as batch_op:
        batch_op.drop_column("webhook_secret")
