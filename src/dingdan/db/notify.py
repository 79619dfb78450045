"""PostgreSQL's LISTEN on a connection of its own (not one of the pool's: it stays open as
long as the process listens), for the live pages (services/shared/live_changes.py)."""

from __future__ import annotations

import psycopg
from psycopg import sql

from dingdan.db.engine import Database


class Listener:
    """One LISTEN connection. ``wait`` blocks until a notification on the channel comes or
    ``timeout`` seconds pass; a lost connection raises ``psycopg.OperationalError`` (the
    caller opens a new Listener)."""

    def __init__(self, db: Database, channel: str) -> None:
        conninfo = db.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._conn = psycopg.connect(conninfo, autocommit=True, connect_timeout=5)
        self._conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))

    def wait(self, timeout: float) -> bool:
        heard = False
        for _ in self._conn.notifies(timeout=timeout, stop_after=1):
            heard = True
        return heard

    def close(self) -> None:
        self._conn.close()
