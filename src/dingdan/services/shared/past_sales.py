"""A mark that changes whenever the sales of a past day change (issue 23: the ABC classes of
a day, services/purchasing/abc.py, are kept under it). The classes are over whole days to
yesterday, so today's orders do not touch them, but cancelling an order placed before today,
cancelling some of its units or editing its lines does: each of these writes a new mark in
its own transaction (the ``settings`` row ``past_sales_mark``), and every process's kept
classes are computed again at their next read (the mark is read with the thresholds), not
the next day. Here, below orders and purchasing, so that both reach it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from dingdan.db.tables import Setting
from dingdan.db.types import utcnow
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE

KEY = "past_sales_mark"


def changed(conn: Connection, placed_at: datetime, now: datetime | None = None) -> None:
    """The lines of an order placed at ``placed_at`` changed in this transaction."""
    at = now or utcnow()
    if placed_at.astimezone(SELLER_TIMEZONE).date() >= at.astimezone(SELLER_TIMEZONE).date():
        return  # today's orders are in no kept classes yet
    value = {"mark": uuid.uuid4().hex}
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(Setting).values(key=KEY, value=value, updated_at=at)
    conn.execute(
        stmt.on_conflict_do_update(index_elements=["key"], set_={"value": value, "updated_at": at})
    )


def mark(conn: Connection) -> Any:
    """The latest mark (None before any change to a past day)."""
    return conn.execute(select(Setting.value).where(Setting.key == KEY)).scalar()
