"""Live pages: which screens' data changed, told to every app process (docs/architecture.md,
"Live pages").

A change is known by a *name* (``orders``, ``warehouse``, ``returns`` ...), never by what it
holds: the open pages hear the name and fetch their own fragment again, under the reader's
own permissions. Names come from the outbox: the worker's consumer (``on_event``, subscribed
to every topic) collects the names of the events it handled and ``publish`` adds one to each
name's counter in ``live_changes`` in one short transaction after the drain (so the reports'
rollups of the same events are written first). A change that writes no event (an order
marked picked, a dispute's status) calls ``touch`` in its own transaction.

The app processes learn of it without any memory shared with the worker: each reads the
counters (``marks``) when woken, on PostgreSQL by a NOTIFY sent in the same transaction
(delivered at its commit), on SQLite by a timer (``POLL_SECONDS``).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from typing import Any, Protocol

from sqlalchemy import Connection, select, text
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.db.engine import Database
from dingdan.db.live_tables import LiveChange
from dingdan.db.tables import table_of
from dingdan.db.types import utcnow
from dingdan.domain.access.roles import Action

CHANNEL = "dingdan_live"
POLL_SECONDS = 0.25  # SQLite: how often an app process reads the counters (a few rows)
PG_SAFETY_SECONDS = 5.0  # PostgreSQL: read them this often even if no NOTIFY came

# Each name and who may hear of it: a name is told only to a user who may see its page.
NAMES: dict[str, Action] = {
    "orders": Action.READ,  # the order list, the dashboard
    "payments": Action.MANAGE_PAYMENTS,  # money on the dashboard, the refunds owed
    "warehouse": Action.FULFIL,  # the pick list and the orders to pack
    "returns": Action.READ,  # the returns list, the dashboard's returns waiting
    "disputes": Action.MANAGE_RETURNS,  # the disputes list
    "stock": Action.READ,  # the dashboard's low stock and backorders
}

_ORDER = ("orders",)
_PICK = ("orders", "warehouse")
# The outbox's event types (outbox_events.EVENT_TYPES) and the names each changes; an event
# type not here (invoices, e-invoice ranges, webhooks' own) changes no live page.
TOPIC_NAMES: dict[str, tuple[str, ...]] = {
    "order.created": _PICK,
    "order.updated": _PICK,
    "order.paid": (*_PICK, "payments"),
    "order.cancelled": (*_PICK, "payments"),
    "order.shipped": _PICK,
    "order.out_for_delivery": _ORDER,
    "order.delivery_exception": _ORDER,
    "order.delivered": _ORDER,
    "order.ready_for_pickup": _PICK,
    "order.store_closed": _ORDER,
    "return.requested": ("returns",),
    "return.approved": ("returns",),
    "return.rejected": ("returns",),
    "return.received": ("returns", "stock"),
    "refund.created": ("orders", "payments", "returns"),
    "store_credit.issued": ("payments",),
    "dispute.opened": ("disputes",),
    "inventory.low_stock": ("stock",),
    "inventory.changed": ("stock", "warehouse"),
    "purchase_order.received": ("stock", "warehouse"),
}

_TABLE = table_of(LiveChange)


def allowed_names(may: Any) -> frozenset[str]:
    """The names a reader may hear of; ``may(action) -> bool`` is the reader's check."""
    return frozenset(name for name, action in NAMES.items() if may(action))


def touch(conn: Connection, names: Iterable[str]) -> None:
    """Count a change of each name in the caller's transaction; on PostgreSQL the app
    processes are woken when it commits (a NOTIFY is delivered then, or never)."""
    chosen = sorted(set(names))  # one lock order: two publishers never deadlock
    if not chosen:
        return
    unknown = [n for n in chosen if n not in NAMES]
    if unknown:  # a typo would be a change no page ever hears
        raise ValueError(f"unknown live names {unknown!r}")
    dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(_TABLE)
    stmt = stmt.on_conflict_do_update(
        index_elements=[_TABLE.c.name],
        set_={"seq": _TABLE.c.seq + 1, "changed_at": stmt.excluded.changed_at},
    )
    now = utcnow()
    conn.execute(stmt, [{"name": n, "seq": 1, "changed_at": now} for n in chosen])
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


def marks(db: Database) -> dict[str, int]:
    """Every name's counter now (a handful of rows)."""
    return db.read(
        lambda conn: {n: int(s) for n, s in conn.execute(select(_TABLE.c.name, _TABLE.c.seq))}
    )


def changed(before: dict[str, int], now: dict[str, int]) -> frozenset[str]:
    return frozenset(n for n, seq in now.items() if before.get(n) != seq)


# The worker's side -----------------------------------------------------------------------
# Names heard by the consumer and not yet published, per database (tests run several).
_pending: weakref.WeakKeyDictionary[Database, set[str]] = weakref.WeakKeyDictionary()
_pending_lock = threading.Lock()


def on_event(db: Database, message: Any) -> None:
    """The consumer of every outbox event: remember its names for ``publish``."""
    names = TOPIC_NAMES.get(message.topic)
    if names:
        with _pending_lock:
            _pending.setdefault(db, set()).update(names)


def publish(db: Database) -> list[str]:
    """After a drain: one transaction counting every name its events changed (nothing when
    none). A failure keeps the names for the next round."""
    with _pending_lock:
        names = _pending.pop(db, set())
    if not names:
        return []
    try:
        db.write(lambda conn: touch(conn, names))
    except Exception:
        with _pending_lock:
            _pending.setdefault(db, set()).update(names)
        raise
    return sorted(names)


# The app process's side ------------------------------------------------------------------
class Waiter(Protocol):
    def wait(self, timeout: float) -> bool: ...

    def close(self) -> None: ...


class _Timer:
    """SQLite: nothing to listen to; the counters are read every ``POLL_SECONDS``."""

    def __init__(self) -> None:
        self._stop = threading.Event()

    def wait(self, timeout: float) -> bool:
        self._stop.wait(min(timeout, POLL_SECONDS))
        return True

    def close(self) -> None:
        self._stop.set()


def waiter(db: Database) -> Waiter:
    """What an app process's reader blocks on between two reads of the counters: a LISTEN
    connection on PostgreSQL (``wait`` True when a NOTIFY came), a timer on SQLite."""
    if db.dialect == "postgresql":
        from dingdan.db.notify import Listener

        return Listener(db, CHANNEL)
    return _Timer()
