"""PostgreSQL's capture function checks the customer it is given (SQLSTATE DD002)

Revision ID: 0051
Revises: 0050
Create Date: 2026-12-08 00:30:00

Two orders at once from one existing customer, each with a new address, both read the
customer and both wrote its address list: the second overwrote the first's address. Two
first orders at once with one phone and no email both found no customer and both made one
(phones have no unique key). The function now refuses a customer row that changed since
Python read it, and makes a customer found by phone alone under an advisory lock on that
phone, refusing when one was made meanwhile; Python reads and decides again. It is created
again from db/sql/place_order.sql. Nothing else changes; the function before this one
accepts the same payloads, so the downgrade leaves it as it is (its checks ignored by
earlier code, which sends neither ``seen`` nor ``phone_lock``).
"""

from __future__ import annotations

from pathlib import Path

from alembic import op

revision = "0051"
down_revision = "0050"
branch_labels = None
depends_on = None

SQL_FILE = Path(__file__).resolve().parents[2] / "db" / "sql" / "place_order.sql"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(SQL_FILE.read_text(encoding="utf-8"))


def downgrade() -> None:
    pass
