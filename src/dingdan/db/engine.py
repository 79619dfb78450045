"""Engines, transactions and retries.

SQLite: WAL, foreign keys on, a busy timeout, and write transactions opened with
``BEGIN IMMEDIATE`` so a writer takes the single write lock up front (a deferred
transaction that reads and then writes can fail at once with "database is locked").
Reads run on a second engine with ordinary deferred transactions, concurrent with writers.

Every use case runs in ``Database.write`` or ``Database.read``: one transaction, committed
once, retried whole on the transient failures each database has (SQLite's lock timeout,
PostgreSQL's deadlock and serialization failures). A database that cannot be reached
becomes ``ServiceUnavailable`` (503), never an unhandled error.

Group commit (SQLite): a durable SQLite commit costs an fsync (about 3 ms here), and SQLite
has one writer, so one commit per order caps a process at a few hundred orders per second
whatever the CPU does. Writers of one process that arrive while another holds the write
lock queue up; the next one to get the lock runs every queued unit of work in **one**
transaction, each inside its own SAVEPOINT, and commits once. A unit that fails (a domain
error, a conflict, a stale plan that runs out of retries) is rolled back to its savepoint
and only its caller gets the error; the others commit. Every caller returns only after the
commit that holds its writes, so an acknowledged write is durable exactly as before. If the
commit itself fails, every unit of the batch is run again on its own, with the usual
retries.

Between processes (``dingdan serve --workers N``, the worker, a CLI command), the leader of
a batch also holds an exclusive ``flock`` on ``<database>.writer.lock`` while its
transaction runs: a process waiting for it sleeps in the kernel and wakes the moment the
lock is free, where SQLite's busy handler would poll with growing sleeps (several processes
then spent their time waiting on each other instead of writing). Writers that are not
Dingdan still meet SQLite's own lock and busy timeout.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import threading
import time
import unicodedata
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any, Generic, TypeVar

from pydantic_core import to_json
from sqlalchemy import Connection, Engine, create_engine, event, func, literal_column
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.pool import NullPool

from dingdan.db.async_pg import AsyncPool, AsyncStatements
from dingdan.db.prepared import execute_raw
from dingdan.domain.shared.errors import (
    Conflict,
    DomainError,
    FieldError,
    ServiceUnavailable,
    ValidationFailed,
)

try:
    import fcntl
except ImportError:  # not POSIX: SQLite's busy timeout alone orders the processes
    fcntl = None  # type: ignore[assignment]

T = TypeVar("T")
log = logging.getLogger("dingdan.db")

_PG_RETRYABLE = {"40001", "40P01"}  # serialization_failure, deadlock_detected
_ATTEMPTS = 8
# Unique indexes that stand for a field of a request: how each database names the broken one
# (PostgreSQL the index, SQLite the column), the field, and its error code.
_UNIQUE_FIELDS = ((("uq_products_barcode", "products.barcode"), "barcode", "barcode_taken"),)
GROUP_MAX = 64  # units of work in one SQLite group commit


class RetryTransaction(Exception):  # noqa: N818 - a signal, not an error
    """Raised inside a unit of work to roll back and run it again (a plan went stale because
    another transaction committed first). ``final`` is raised when the attempts run out."""

    def __init__(self, final: DomainError) -> None:
        super().__init__(final.detail)
        self.final = final


class Database:
    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        sqlite_synchronous: str = "FULL",
        sqlite_busy_timeout: float = 10.0,
    ) -> None:
        if sqlite_synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError(f"unknown SQLite synchronous mode {sqlite_synchronous!r}")
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            self.engine = _sqlite_engine(url, sqlite_synchronous, sqlite_busy_timeout, True)
            # Reads come from as many threads as serve requests (lists, pages, exports).
            self.read_engine = _sqlite_engine(
                url, sqlite_synchronous, sqlite_busy_timeout, False, pool_size=pool_size
            )
            self._write_lock: threading.Lock | None = threading.Lock()
            self._queue_lock = threading.Lock()
            self._queue: list[_Unit[Any]] = []
            path = self.url.database
            self._lock_path = f"{path}.writer.lock" if path and path != ":memory:" else None
            self._lock_fd: int | None = None
        else:
            self.engine = create_engine(
                url,
                pool_size=pool_size,
                max_overflow=pool_size,
                # No ping per checkout (a round trip on every request): a connection found
                # dead is invalidated and the unit of work retried (see _retryable).
                pool_pre_ping=False,
                pool_timeout=10,
                connect_args={"connect_timeout": 5},
                json_serializer=json_text,
            )
            self.read_engine = self.engine
            self._write_lock = None
        # Connections of the same pool in autocommit mode (see write_statement).
        self._autocommit_engine = (
            None if self.is_sqlite else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        # PostgreSQL's asynchronous connections, one pool per event loop (write_statement_async).
        self._pool_size = pool_size
        self._async_pools: dict[asyncio.AbstractEventLoop, AsyncPool] = {}
        self._async_pools_lock = threading.Lock()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def write(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in one write transaction, retrying it whole on transient failures."""
        if self._write_lock is None:
            return self._run(self.engine, work)
        # SQLite has one writer: queueing this process's writers here is fairer and cheaper
        # than letting them spin on the busy timeout (other processes still wait there), and
        # lets one commit serve every writer that queued meanwhile (see the module's notes).
        #
        # Each waiting caller sleeps on its own event, set by the leader when its unit is
        # done, or when it is first in the queue and the lock is free (it leads next): no
        # caller wakes only to find that it has nothing to do, one after the other.
        unit: _Unit[T] = _Unit(work)
        with self._queue_lock:
            self._queue.append(unit)
        while not unit.done:
            if not self._write_lock.acquire(blocking=False):
                unit.ready.wait(0.1)  # the timeout only bounds a wake-up that went astray
                unit.ready.clear()
                continue
            try:
                if not unit.done:
                    self._lead()
            finally:
                self._write_lock.release()
                with self._queue_lock:
                    following = self._queue[0] if self._queue else None
                if following is not None:
                    following.ready.set()
        return unit.outcome()

    def write_statement(self, work: Callable[[Connection], T]) -> T:
        """Like ``write``, for work whose writes are ONE statement, after reads that need
        no snapshot of their own (they plan what the statement then checks again as it
        writes, as order capture's conditional stock updates do).

        PostgreSQL runs it outside a transaction block: that one statement is atomic by
        itself, and the BEGIN and COMMIT round trips (two of four for an order) are saved.
        A second write in ``work`` would be committed on its own: don't. SQLite: ``write``.
        """
        if self._autocommit_engine is None:
            return self.write(work)
        return self._run(self._autocommit_engine, work)

    async def write_statement_async(self, work: Callable[[AsyncStatements], Awaitable[T]]) -> T:
        """``write_statement`` on the running event loop, PostgreSQL only (db/async_pg.py):
        ``work`` runs its statements on an asynchronous connection in autocommit mode, with
        the same retries and the same errors as the threaded path."""
        pool = self._async_pool()
        for attempt in range(_ATTEMPTS):
            try:
                async with pool.connection() as statements:
                    return await work(statements)
            except (RetryTransaction, DomainError, DBAPIError) as exc:
                delay = self._after_failure(exc, attempt)
            if delay:
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    def _async_pool(self) -> AsyncPool:
        if self.is_sqlite:
            raise RuntimeError("SQLite has no asynchronous connections here")
        loop = asyncio.get_running_loop()
        pool = self._async_pools.get(loop)
        if pool is None:
            with self._async_pools_lock:
                pool = self._async_pools.get(loop)
                if pool is None:
                    self._close_pools_of_ended_loops()
                    dialect = self.engine.dialect
                    _, kwargs = dialect.create_connect_args(self.engine.url)
                    kwargs.setdefault("connect_timeout", 5)  # as the threaded pool's
                    pool = self._async_pools[loop] = AsyncPool(
                        dict(kwargs), dialect, self._pool_size
                    )
        return pool

    def _close_pools_of_ended_loops(self) -> None:
        # A server has one loop per worker process for its life; tests and scripts that run
        # asyncio.run() again and again would otherwise keep each ended loop's connections.
        for loop in [loop for loop in self._async_pools if loop.is_closed()]:
            self._async_pools.pop(loop).close()

    def _lead(self) -> None:
        """Run the queued units (this caller's among them) as one group; wake their callers."""
        with self._queue_lock:
            batch, self._queue = self._queue[:GROUP_MAX], self._queue[GROUP_MAX:]
        try:
            with self._between_processes():
                self._run_group(batch)
        finally:
            for queued in batch:
                queued.ready.set()

    def _between_processes(self) -> Any:
        """The cross-process writer lock (SQLite files on a POSIX system; a no-op otherwise).
        Taken while this process's write lock is held, so one thread at a time uses it."""
        if self._lock_path is None or fcntl is None:
            return nullcontext()
        return self._flock()

    @contextmanager
    def _flock(self) -> Iterator[None]:
        assert fcntl is not None and self._lock_path is not None
        if self._lock_fd is None:
            self._lock_fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _run_group(self, batch: list[_Unit[Any]]) -> None:
        """Run queued units of work; each unit ends done, with a value or an error, even
        when something that is not an ``Exception`` (an interrupt) stops the batch: its
        callers are waiting for exactly that."""
        try:
            self._run_units(batch)
        finally:
            for unit in batch:
                if not unit.done:
                    unit.error = unit.error or ServiceUnavailable(
                        detail="The write was interrupted before it was stored; try again."
                    )
                    unit.done = True

    def _run_units(self, batch: list[_Unit[Any]]) -> None:
        if len(batch) > 1:
            try:
                with self.engine.begin() as conn:
                    for unit in batch:
                        unit.run_in_savepoint(conn, self)
                for unit in batch:
                    unit.done = True
                return
            except DBAPIError:
                # The transaction or its commit failed: nothing of the batch is stored.
                # Run every unit again on its own, with the usual retries and errors.
                for unit in batch:
                    unit.reset()
        for unit in batch:
            try:
                unit.value = self._run(self.engine, unit.work)
            except BaseException as exc:  # handed to the unit's own caller
                unit.error = exc
            unit.done = True

    def read(self, work: Callable[[Connection], T]) -> T:
        return self._run(self.read_engine, work)

    def translate(self, exc: DBAPIError) -> DomainError | None:
        """The domain error a failed statement stands for (None: transient or unknown)."""
        # The database's own message names tables, constraints and values: it goes to the
        # log, and the client gets a message of its own.
        if isinstance(exc, DataError):
            # e.g. a value out of a column's range that a check missed: the input's fault.
            log.warning("value refused by the database: %s", _short(exc))
            return ValidationFailed(detail="The request holds a value the database cannot store.")
        if isinstance(exc, IntegrityError):
            said = str(exc.orig)
            for marks, field, code in _UNIQUE_FIELDS:
                if any(m in said for m in marks):
                    return Conflict(
                        detail=f"The {field} is already taken.", errors=[FieldError.of(field, code)]
                    )
            log.warning("change refused by the database: %s", _short(exc))
            return Conflict(
                detail="The change conflicts with stored data (it may exist already, or "
                "another request changed it first); reload and try again."
            )
        return None

    def dispose(self) -> None:
        if self.is_sqlite and self._lock_fd is not None:
            with self._write_lock or nullcontext():
                os.close(self._lock_fd)
                self._lock_fd = None
        with self._async_pools_lock:
            pools, self._async_pools = list(self._async_pools.values()), {}
        for pool in pools:
            pool.close()
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()

    def _run(self, engine: Engine, work: Callable[[Connection], T]) -> T:
        for attempt in range(_ATTEMPTS):
            try:
                with engine.begin() as conn:
                    return work(conn)
            except (RetryTransaction, DomainError, DBAPIError) as exc:
                delay = self._after_failure(exc, attempt)
            if delay:
                time.sleep(delay)
        raise AssertionError("unreachable")

    def _after_failure(self, exc: Exception, attempt: int) -> float:
        """After attempt ``attempt`` failed with ``exc``: the seconds to wait before the
        next attempt, or raises what the caller gets (the domain error a failed statement
        stands for, 503 for a database that cannot be reached, or ``exc`` itself)."""
        last = attempt == _ATTEMPTS - 1
        if isinstance(exc, RetryTransaction):
            if last:
                raise exc.final from None
            return 0.0
        if isinstance(exc, DomainError):
            raise exc
        if isinstance(exc, (DataError, IntegrityError)):
            error = self.translate(exc)
            assert error is not None
            raise error from exc
        if isinstance(exc, DBAPIError):
            if self._retryable(exc) and not last:
                return min(0.5, 0.01 * 2**attempt) * (0.5 + random.random())
            if self._unavailable(exc):
                log.warning("database unavailable: %s", _short(exc))
                raise ServiceUnavailable(
                    detail="The database is unavailable; try again shortly."
                ) from exc
        raise exc

    def _retryable(self, exc: DBAPIError) -> bool:
        if self.is_sqlite:
            return isinstance(exc, OperationalError) and "locked" in str(exc.orig).lower()
        return getattr(exc.orig, "sqlstate", None) in _PG_RETRYABLE or bool(
            exc.connection_invalidated
        )

    def _unavailable(self, exc: DBAPIError) -> bool:
        if exc.connection_invalidated:
            return True
        if self.is_sqlite:
            text = str(exc.orig).lower()
            return any(s in text for s in ("locked", "unable to open", "disk i/o", "readonly"))
        if isinstance(exc, OperationalError):
            return True
        sqlstate = getattr(exc.orig, "sqlstate", None) or ""
        return sqlstate.startswith(("08", "57P"))


class _Unit(Generic[T]):
    """One caller's unit of work in a SQLite group commit."""

    def __init__(self, work: Callable[[Connection], T]) -> None:
        self.work = work
        self.ready = threading.Event()  # done, or first in the queue with the lock free
        self.done = False
        self.value: T | None = None
        self.error: BaseException | None = None

    def reset(self) -> None:
        self.value, self.error = None, None

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]

    def run_in_savepoint(self, conn: Connection, db: Database) -> None:
        """Run the work inside a SAVEPOINT of the group's transaction: on failure only its
        own writes are undone and the error is kept for its caller. A ``DBAPIError`` that
        is not the input's fault (lock, I/O) fails the whole group."""
        for attempt in range(_ATTEMPTS):
            savepoint = _Savepoint(conn)
            try:
                self.value = self.work(conn)
                savepoint.commit()
                return
            except RetryTransaction as retry:
                savepoint.rollback()
                if attempt == _ATTEMPTS - 1:
                    self.error = retry.final
                    return
            except (DataError, IntegrityError) as exc:
                savepoint.rollback()
                self.error = db.translate(exc)
                return
            except DBAPIError:
                savepoint.rollback()
                raise
            except BaseException as exc:  # a domain error, a bug, an interrupt: its caller's alone
                savepoint.rollback()
                self.error = exc
                return


class _Savepoint:
    """SAVEPOINT on the connection's DBAPI cursor: the unit's writes can be undone alone.
    Issued directly (SQLAlchemy's ``begin_nested`` bookkeeping cost as much as a small
    statement per unit); a failure is raised as SQLAlchemy's ``DBAPIError`` like any."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        execute_raw(conn, "SAVEPOINT dingdan_unit")

    def commit(self) -> None:
        execute_raw(self.conn, "RELEASE dingdan_unit")

    def rollback(self) -> None:
        execute_raw(self.conn, "ROLLBACK TO dingdan_unit")
        execute_raw(self.conn, "RELEASE dingdan_unit")


def _nfkc(value: Any) -> Any:
    return unicodedata.normalize("NFKC", value) if isinstance(value, str) else value


def nfkc(db: Database, column: Any) -> Any:
    """``column`` after NFKC, in SQL: a search compares the stored text as NFKC reads it (a
    full-width ``ＡＢＣ`` is found by ``abc``) while the text itself is kept as sent."""
    if db.is_sqlite:
        return func.nfkc(column)
    return func.normalize(column, literal_column("NFKC"))


def json_text(value: Any) -> str:
    """JSON columns' text: pydantic-core's serializer (compact UTF-8), four times faster than
    the standard library's; what it writes reads back the same."""
    return to_json(value).decode()


def _short(exc: BaseException) -> str:
    orig = getattr(exc, "orig", exc)
    return str(orig).splitlines()[0][:200]


def _sqlite_engine(
    url: str, synchronous: str, busy: float, immediate: bool, pool_size: int = 5
) -> Engine:
    memory = ":memory:" in url
    engine = create_engine(
        url,
        connect_args={"timeout": busy, "check_same_thread": False},
        poolclass=NullPool if memory else None,
        # A connection beyond the pool is closed when given back, and opening one costs
        # the PRAGMAs and a read of the schema: keep as many as there are readers.
        **({} if memory else {"pool_size": pool_size, "max_overflow": pool_size}),
        json_serializer=json_text,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN is ours to issue.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute(f"PRAGMA busy_timeout={int(busy * 1000)}")
        cur.close()
        # PostgreSQL's normalize(text, NFKC), for searches of text as people type it.
        dbapi_conn.create_function("nfkc", 1, _nfkc, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
