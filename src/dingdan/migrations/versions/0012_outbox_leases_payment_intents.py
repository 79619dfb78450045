"""Outbox leases and dead messages; payment intents

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 21:45:00

The worker no longer runs handlers inside the transaction that takes the messages: it
claims a batch (a lease: ``claimed_by``, ``claimed_until``) in one short transaction, runs
the handlers with none open, and deletes the handled messages in another. A message whose
handler keeps failing becomes ``dead`` after its last attempt instead of being retried
forever. ``ix_outbox_ready`` replaces ``ix_outbox_pending``: nothing sets ``processed_at``
(a handled message is deleted), and the claim looks messages up by status and time. On
PostgreSQL the outbox's pages keep half their room free for the leases' updates.

``payment_attempts`` holds what Dingdan asks a payment provider to do, written before the
call and settled after it, each in its own transaction (see ``db/payment_tables.py``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dingdan.db.types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = dingdan.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=10), server_default="pending", nullable=False)
        )
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("claimed_until", Time, nullable=True))
        batch_op.drop_index("ix_outbox_pending")
        batch_op.create_index("ix_outbox_ready", ["status", "available_at"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # Room on each page for the lease's new row version: the update stays on the page
        # without new index entries (a HOT update), and a backlog drains at 21-25,000
        # messages/s instead of 15-21,000 (bench/drain_outbox.py).
        op.execute("ALTER TABLE outbox SET (fillfactor = 50)")
    op.create_table(
        "payment_attempts",
        sa.Column("id", BigId, nullable=False),
        sa.Column("order_id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("provider", sa.String(length=30), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("original_reference", sa.String(length=200), nullable=True),
        sa.Column("provider_reference", sa.String(length=200), nullable=True),
        sa.Column("payment_id", BigId, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("actor_role", sa.String(length=30), nullable=False),
        sa.Column("settled_at", Time, nullable=True),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_payment_attempts_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_payment_attempts_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_attempts")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payment_attempts_idempotency_key")),
    )
    with op.batch_alter_table("payment_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_payment_attempts_order_id_status", ["order_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_payment_attempts_status_created_at", ["status", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("payment_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_attempts_status_created_at")
        batch_op.drop_index("ix_payment_attempts_order_id_status")
    op.drop_table("payment_attempts")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE outbox RESET (fillfactor)")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_ready")
        batch_op.create_index("ix_outbox_pending", ["processed_at", "available_at"], unique=False)
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("status")
