"""Server-side back-office sessions; sign-in throttling by account and address

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 00:30:00

``sessions`` holds one row per signed-in browser: the SHA-256 of the random token its
cookie carries, the user, and an absolute expiry set at sign-in. Signing out deletes the
row, so a copied cookie stops working with it; a session past its expiry is refused
whatever its cookie says.

``sign_in_throttle`` counts failed sign-ins per key (an email at one address, and one
address) whether or not the email belongs to an account, and the time before which that
key may not try again. It replaces the lock on ``users`` (``failed_logins``,
``locked_until`` are no longer read).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dingdan.db.types

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = dingdan.db.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("expires_at", Time, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"], unique=False)
    op.create_table(
        "sign_in_throttle",
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("blocked_until", Time, nullable=True),
        sa.Column("updated_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_throttle")),
    )
    op.create_index(
        "ix_sign_in_throttle_updated_at", "sign_in_throttle", ["updated_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_sign_in_throttle_updated_at", table_name="sign_in_throttle")
    op.drop_table("sign_in_throttle")
    op.drop_index("ix_sessions_user_id", table_name="sessions")
    op.drop_table("sessions")
