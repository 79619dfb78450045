"""Payment intents keep what their record needs; replays of keyed POST requests

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 00:30:00

``payment_attempts.details``: what the second transaction of an intent needs beyond the
money (a dispute's note and the status it was resolved from, the authorization a capture or
a void is for), so that the worker records a recovered intent as the request would have.

``request_replays``: the answer to a POST sent with an ``Idempotency-Key``, per principal
and key, with the request's fingerprint (its path and body), so a client's retry gets the
same answer instead of a second payment, refund or product (``web/api/shared/replays.py``).
Order capture keeps its own ``idempotency_keys``, written in the order's transaction.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dingdan.db.types

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

Time = dingdan.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("payment_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("details", sa.JSON(), nullable=True))
    op.create_table(
        "request_replays",
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_request_replays")),
    )
    with op.batch_alter_table("request_replays", schema=None) as batch_op:
        batch_op.create_index("ix_request_replays_created_at", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("request_replays", schema=None) as batch_op:
        batch_op.drop_index("ix_request_replays_created_at")
    op.drop_table("request_replays")
    with op.batch_alter_table("payment_attempts", schema=None) as batch_op:
        batch_op.drop_column("details")
