"""Trigram index for the order list's substring search (PostgreSQL only)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Indexes that live only in migrations (dialect-specific); autogenerate comparisons skip
# names ending in this suffix (see migrations/env.py and tests/integration/test_migrations.py).
SUFFIX = "_trgm"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_orders_search_text_trgm "
        "ON orders USING gin (search_text gin_trgm_ops)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_orders_search_text_trgm")
