"""PostgreSQL on the event loop: psycopg's asynchronous connections for order capture.

``POST /api/v1/orders`` is two statements on PostgreSQL (the products read, then the
function that writes the order, migration 0009). Run in a worker thread through
SQLAlchemy's pool, a capture paid for the hand-off to the thread and back and for the pool's
checkout and checkin as much as for its own Python: measured with py-spy under 16 clients,
those were about a fifth of the server's CPU per order. Here the same statements run on
psycopg's ``AsyncConnection`` in the request's own task.

- ``AsyncPool``: one per event loop (a uvicorn worker has one; tests make many). At most
  ``size`` connections, idle ones reused last-in first-out, opened when first needed in
  autocommit mode: each statement is its own transaction, as for ``write_statement``. A
  connection that is broken, closed, or left inside a transaction is not reused.
- ``AsyncStatements``: runs a ``Prepared`` statement with SQLAlchemy's compiled SQL, value
  conversion and row conversion, so the values stored and the rows read are exactly the
  threaded path's.
- A psycopg error is raised as SQLAlchemy's ``DBAPIError`` of the same class, with
  ``connection_invalidated`` set when the connection is lost, so ``Database``'s retries and
  error translation treat both paths alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, cast

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy import Dialect
from sqlalchemy.exc import DBAPIError

from dingdan.db.prepared import Prepared


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


class AsyncPool:
    """At most ``size`` asynchronous connections of one event loop."""

    def __init__(self, connect_kwargs: dict[str, Any], dialect: Dialect, size: int) -> None:
        self._kwargs = connect_kwargs
        self._dialect = dialect
        self._slots = asyncio.Semaphore(size)
        self._idle: list[AsyncStatements] = []
        self._closed = False

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncStatements]:
        async with self._slots:
            statements = self._idle.pop() if self._idle else await self._connect()
            try:
                yield statements
            finally:
                self._give_back(statements)

    async def _connect(self) -> AsyncStatements:
        try:
            conn = await psycopg.AsyncConnection.connect(**self._kwargs, autocommit=True)
        except psycopg.Error as exc:
            # As when the threaded pool cannot connect: not a lost connection to retry on,
            # the database is unavailable.
            raise _as_dbapi_error(exc, "connect", None, False) from exc
        return AsyncStatements(conn, self._dialect)

    def _give_back(self, statements: AsyncStatements) -> None:
        conn = statements.conn
        reusable = (
            not self._closed
            and not conn.closed
            and not conn.broken
            and conn.info.transaction_status == TransactionStatus.IDLE
        )
        if reusable:
            self._idle.append(statements)
        else:
            _finish(conn)

    def close(self) -> None:
        """Close the idle connections now and each one in use when it is given back. Needs
        no event loop (``Database.dispose`` runs after the loops may have ended)."""
        self._closed = True
        idle, self._idle = self._idle, []
        for statements in idle:
            _finish(statements.conn)


def _finish(conn: psycopg.AsyncConnection[Any]) -> None:
    # What AsyncConnection.close() does, without awaiting: libpq's PQfinish.
    if not conn.closed:
        conn.pgconn.finish()
