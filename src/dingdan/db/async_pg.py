"""PostgreSQL on the event loop: psycopg's asynchronous connections for order capture.

``POST /api/v1/orders`` is two statements on PostgreSQL (the products read, then the
function that writes the order, migration 0009). Run in a worker thread through
SQLAlchemy's pool, a capture paid for the hand-off to the thread and back and for the pool's
checkout and checkin as much as for its own Python: measured with py-spy under 16 clients,
those were about a fifth of the server's CPU per order. Here the same statements run on
psycopg's ``AsyncConnection`` in the request's own task.

- ``AsyncPool``: one per event loop (a uvicorn worker has one; tests make many), over
  ``psycopg_pool.AsyncConnectionPool``. At most ``size`` connections, opened when first
  needed in autocommit mode: each statement is its own transaction, as for
  ``write_statement``. A connection that is broken or closed is not reused.
- ``AsyncStatements``: runs a ``Prepared`` statement with SQLAlchemy's compiled SQL, value
  conversion and row conversion, so the values stored and the rows read are exactly the
  threaded path's.
- A psycopg error is raised as SQLAlchemy's ``DBAPIError`` of the same class, with
  ``connection_invalidated`` set when the connection is lost, so ``Database``'s retries and
  error translation treat both paths alike.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, cast

import psycopg
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import Dialect
from sqlalchemy.exc import DBAPIError

from dingdan.db.prepared import Prepared

# How long a capture waits for a connection before the database counts as unavailable.
_WAIT_SECONDS = 10.0


def _as_dbapi_error(exc: psycopg.Error, sql: str, params: Any, lost: bool) -> DBAPIError:
    error = DBAPIError.instance(sql, params, exc, psycopg.Error, connection_invalidated=lost)
    return cast(DBAPIError, error)


class AsyncStatements:
    """``Prepared`` statements on one asynchronous connection."""

    def __init__(self, conn: psycopg.AsyncConnection[Any], dialect: Dialect) -> None:
        self.conn = conn
        self.dialect = dialect
        # One cursor per connection, as on the threaded path: a new cursor copies the
        # connection's adapters. Results are always read whole.
        self._cursor = conn.cursor()

    async def all(
        self, stmt: Prepared, params: Mapping[str, Any] | None = None, first: bool = False
    ) -> list[Any]:
        """Execute once; every row (or the first), named and converted as ``Prepared.all``."""
        params = params or {}
        compiled = stmt.compiled(self.dialect, params)
        values = compiled.bind(params)
        cursor = self._cursor
        try:
            await cursor.execute(compiled.sql, values)
            if first:
                row = await cursor.fetchone()
                rows = [] if row is None else [row]
            else:
                rows = await cursor.fetchall()
        except psycopg.Error as exc:
            lost = self.conn.closed or self.conn.broken
            raise _as_dbapi_error(exc, compiled.sql, values, lost) from exc
        return [compiled.row_of(r) for r in rows]

    async def first(self, stmt: Prepared, params: Mapping[str, Any] | None = None) -> Any:
        rows = await self.all(stmt, params, first=True)
        return rows[0] if rows else None


class _Connection(psycopg.AsyncConnection[Any]):
    """A pooled connection that keeps its ``AsyncStatements`` (its one cursor)."""

    statements: AsyncStatements | None = None


class AsyncPool:
    """At most ``size`` asynchronous connections of one event loop: ``psycopg_pool``'s
    ``AsyncConnectionPool``, opened on first use in the loop that uses it.

    No connection is opened ahead of need (``min_size=0``): tests and scripts make a pool per
    ``asyncio.run``. Connections are in autocommit mode; one that is broken or closed is not
    reused, one left inside a transaction is rolled back by the pool before reuse.
    """

    def __init__(self, connect_kwargs: dict[str, Any], dialect: Dialect, size: int) -> None:
        self._dialect = dialect
        # Every connection the pool opened, to close without an event loop (``close``).
        self._opened: weakref.WeakSet[psycopg.AsyncConnection[Any]] = weakref.WeakSet()
        self._pool: AsyncConnectionPool[_Connection] = AsyncConnectionPool(
            kwargs={**connect_kwargs, "autocommit": True},
            connection_class=_Connection,
            min_size=0,
            max_size=size,
            open=False,
            configure=self._configure,
            # A caller waiting longer than this for a connection gets the database's
            # unavailability, as one whose connection attempt failed (connect_timeout).
            timeout=_WAIT_SECONDS,
            # Retry opening a connection for as long as a caller may wait for it.
            reconnect_timeout=_WAIT_SECONDS,
            name="capture",
        )
        self._opening: asyncio.Lock | None = None
        self._closed = False

    async def _configure(self, conn: _Connection) -> None:
        self._opened.add(conn)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncStatements]:
        if self._closed or self._pool.closed:
            await self._open()
        try:
            conn = await self._pool.getconn()
        except psycopg.Error as exc:
            # No connection within the wait (the database is unreachable or every
            # connection stays busy): not a lost connection to retry on, unavailable.
            raise _as_dbapi_error(exc, "connect", None, False) from exc
        try:
            if conn.statements is None:
                conn.statements = AsyncStatements(conn, self._dialect)
            yield conn.statements
        finally:
            await self._pool.putconn(conn)

    async def _open(self) -> None:
        if self._closed:
            raise _as_dbapi_error(psycopg.OperationalError("pool closed"), "connect", None, False)
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._pool.closed:
                await self._pool.open()

    def close(self) -> None:
        """Close every connection the pool opened, now. Needs no event loop
        (``Database.dispose`` runs after the loops may have ended; the pool's own tasks end
        with their loop)."""
        self._closed = True
        for conn in list(self._opened):
            _finish(conn)


def _finish(conn: psycopg.AsyncConnection[Any]) -> None:
    # What AsyncConnection.close() does, without awaiting: libpq's PQfinish.
    if not conn.closed:
        conn.pgconn.finish()
