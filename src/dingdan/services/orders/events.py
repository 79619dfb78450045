"""The order's history: every use case that changes an order writes its events here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, insert

from dingdan.db.order_tables import OrderEvent
from dingdan.db.prepared import Prepared
from dingdan.db.tables import table_of

_INSERT_EVENT = Prepared(insert(table_of(OrderEvent)))


def event(
    conn: Connection,
    order_id: int,
    kind: str,
    actor: str,
    message: str | None = None,
    data: Mapping[str, object] | None = None,
) -> None:
    _INSERT_EVENT.run(
        conn,
        {"order_id": order_id, "kind": kind, "actor": actor, "message": message, "data": data},
    )


def add_events(
    conn: Connection,
    order_id: int,
    actor: str,
    items: Sequence[tuple[str, str | None, Mapping[str, object] | None]],
) -> None:
    """Several events of one order, (kind, message, data) in timeline order, in one
    executemany."""
    _INSERT_EVENT.run_many(
        conn,
        [
            {"order_id": order_id, "kind": k, "actor": actor, "message": m, "data": d}
            for k, m, d in items
        ],
    )
