"""``inventory.changed``: what each channel may sell of the SKUs whose available stock
changed, for a shop's marketplace connectors (issue 21, part 7).

Read from the ledger, not from each use case: every change of stock writes movement rows
(also the PostgreSQL capture function, db/sql/place_order.sql), so one scan per worker round
sees them all. A round takes the rows after the last one it told about, nets
``on_hand_delta - reserved_delta`` per SKU (a reservation released and taken again in one
round nets to nothing: no event), and emits ONE event per SKU whose available changed,
however many orders moved it: a flash sale's thousand orders of one SKU in a second are
one event per round, not a thousand.

The position (the last movement id told about) is kept in ``settings`` under
``inventory_changed``, read FOR UPDATE, so two workers never tell the same rows twice. On
PostgreSQL ids are taken at insert and committed in any order: a round takes only rows
written ``LAG`` ago or more, by which time the transactions that wrote lower ids have
committed (a use case is one short transaction). On SQLite (one writer) ids commit in
order and the lag is 0.

A first round (no position yet) starts at the end of the ledger, so that upgrading a shop
with a long history tells nothing until stock moves.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.db.engine import Database
from dingdan.db.tables import Setting, StockMovement
from dingdan.db.types import utcnow
from dingdan.services.catalog import channel_stock
from dingdan.services.shared.outbox_events import emit

KEY = "inventory_changed"
LAG = timedelta(seconds=2)
BATCH = 5000  # movement rows per round; the rest wait for the next


def _position(conn: Connection) -> int | None:
    value = conn.execute(select(Setting.value).where(Setting.key == KEY).with_for_update()).scalar()
    return int(value["after"]) if value else None


def _save(conn: Connection, after: int) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    values = {"value": {"after": after}, "updated_at": utcnow()}
    conn.execute(
        dialect.insert(Setting)
        .values(key=KEY, **values)
        .on_conflict_do_update(index_elements=["key"], set_=values)
    )


def _told_all(conn: Connection) -> bool:
    told = conn.execute(select(Setting.value).where(Setting.key == KEY)).scalar()
    if not told:
        return False
    last = conn.execute(select(func.max(StockMovement.id))).scalar()
    return int(last or 0) <= int(told["after"])


def emit_changes(db: Database, now: datetime | None = None) -> int:
    """One round: the number of ``inventory.changed`` events emitted."""
    lag = timedelta(0) if db.is_sqlite else LAG
    until = (now or utcnow()) - lag
    if db.read(_told_all):  # most rounds: nothing moved, and no write transaction
        return 0

    def work(conn: Connection) -> int:
        after = _position(conn)
        if after is None:
            last = conn.execute(select(func.max(StockMovement.id))).scalar()
            _save(conn, int(last or 0))
            return 0
        rows = conn.execute(
            select(
                StockMovement.id,
                StockMovement.product_id,
                StockMovement.on_hand_delta - StockMovement.reserved_delta,
                StockMovement.created_at,
            )
            .where(StockMovement.id > after)
            .order_by(StockMovement.id)
            .limit(BATCH)
        ).all()
        # Up to the first row too recent: a lower id may still be uncommitted before it.
        young = next((i for i, r in enumerate(rows) if r[3] > until), len(rows))
        rows = rows[:young]
        if not rows:
            return 0
        net: dict[int, int] = defaultdict(int)
        for _, pid, delta, _at in rows:
            net[int(pid)] += int(delta)
        _save(conn, int(rows[-1][0]))
        changed = [pid for pid, delta in net.items() if delta]
        payloads = channel_stock.changed_numbers(conn, changed)
        for payload in payloads:
            emit(conn, "inventory.changed", payload)
        return len(payloads)

    return db.write(work)
