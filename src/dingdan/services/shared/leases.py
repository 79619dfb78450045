"""Claiming work from a table that several workers read at once: one statement.

A queue (the outbox, customer messages, webhook deliveries, stale payment intents) is
claimed by one UPDATE of the rows a SELECT finds ready, which writes the claim (a lease:
``claimed_by``/``claimed_until``, or a time stamp the ready rows are told apart by) and
returns what the claimer needs. Two workers never claim one row:

- PostgreSQL: the ready rows are locked ``FOR UPDATE SKIP LOCKED``, so a row another claim
  holds is passed over rather than waited for, and a row another claim has just committed is
  checked again against the ready conditions (READ COMMITTED follows the row to its newest
  version), which its new lease no longer meets. ``= ANY(ARRAY(...))``: the planner looks
  each id up in the primary key, where ``IN (...)`` became a hash join over a scan of the
  whole table (14 ms against 3 ms per batch of 500 with 20,000 outbox rows waiting).
- SQLite: one writer at a time, and the UPDATE with its subquery is one statement.

The ready SELECT must select the table's ``id`` only and hold the conditions that a claim
makes false (a lease not yet run out), so a claimed row is not ready again until then.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row, Select, Table, func, update


def lease(
    conn: Connection,
    table: Table,
    ready: Select[Any],
    values: Mapping[str, object],
    returning: Sequence[Any],
) -> Sequence[Row[Any]]:
    """Set ``values`` on the rows of ``table`` that ``ready`` (a SELECT of their ids) finds,
    skipping those another transaction holds; the ``returning`` columns of the rows claimed."""
    chosen: Any = table.c.id.in_(ready.scalar_subquery())
    if conn.dialect.name == "postgresql":
        locked = ready.with_for_update(skip_locked=True, of=table).scalar_subquery()
        chosen = table.c.id == func.any(func.array(locked))
    return conn.execute(update(table).where(chosen).values(**values).returning(*returning)).all()
