"""Outbox ids are never used again on SQLite

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 04:30:00

The outbox is a queue: handled events are deleted. On SQLite its ``id`` was a plain rowid,
which starts again from the largest id left, so once the queue was empty the next event
took id 1 again. The consumers of events (webhooks, messages) key what they write by the
event's id, so an id must name one event forever: the table is made again with
``AUTOINCREMENT`` (SQLite then remembers the largest id ever given). PostgreSQL's
identity column never goes back: nothing to do there. A downgrade leaves it.
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "outbox", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ):
        pass


def downgrade() -> None:
    pass
