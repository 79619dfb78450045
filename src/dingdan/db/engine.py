"""Engines, transactions and retries.

SQLite: WAL, foreign keys on, a busy timeout, and write transactions opened with
``BEGIN IMMEDIATE`` so a writer takes the single write lock up front (a deferred
transaction that reads and then writes can fail at once with "database is locked").
Reads run on a second engine with ordinary deferred transactions, concurrent with writers.

Every use case runs in ``Database.write`` or ``Database.read``: one transaction, committed
once, retried whole on the transient failures each database has (SQLite's lock timeout,
PostgreSQL's deadlock and serialization failures). A database that cannot be reached
becomes ``ServiceUnavailable`` (503), never an unhandled error.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.pool import NullPool

from dingdan.domain.errors import Conflict, DomainError, ServiceUnavailable, ValidationFailed

T = TypeVar("T")
log = logging.getLogger("dingdan.db")

_PG_RETRYABLE = {"40001", "40P01"}  # serialization_failure, deadlock_detected
_ATTEMPTS = 8


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
            self.read_engine = _sqlite_engine(url, sqlite_synchronous, sqlite_busy_timeout, False)
            self._write_lock: threading.Lock | None = threading.Lock()
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
            )
            self.read_engine = self.engine
            self._write_lock = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def write(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in one write transaction, retrying it whole on transient failures."""
        if self._write_lock is None:
            return self._run(self.engine, work)
        # SQLite has one writer: queueing this process's writers here is fairer and cheaper
        # than letting them spin on the busy timeout (other processes still wait there).
        with self._write_lock:
            return self._run(self.engine, work)

    def read(self, work: Callable[[Connection], T]) -> T:
        return self._run(self.read_engine, work)

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()

    def _run(self, engine: Engine, work: Callable[[Connection], T]) -> T:
        for attempt in range(_ATTEMPTS):
            try:
                with engine.begin() as conn:
                    return work(conn)
            except RetryTransaction as retry:
                if attempt == _ATTEMPTS - 1:
                    raise retry.final from None
                continue
            except DomainError:
                raise
            except DataError as exc:
                # e.g. a NUL character, which PostgreSQL text cannot hold: the input's fault.
                raise ValidationFailed(
                    detail="The request holds a value the database cannot store "
                    f"(such as a NUL character): {_short(exc)}"
                ) from exc
            except IntegrityError as exc:
                raise Conflict(
                    detail=f"The change conflicts with stored data: {_short(exc)}"
                ) from exc
            except DBAPIError as exc:
                if self._retryable(exc) and attempt < _ATTEMPTS - 1:
                    time.sleep(min(0.5, 0.01 * 2**attempt) * (0.5 + random.random()))
                    continue
                if self._unavailable(exc):
                    log.warning("database unavailable: %s", _short(exc))
                    raise ServiceUnavailable(
                        detail="The database is unavailable; try again shortly."
                    ) from exc
                raise
        raise AssertionError("unreachable")

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


def _short(exc: BaseException) -> str:
    orig = getattr(exc, "orig", exc)
    return str(orig).splitlines()[0][:200]


def _sqlite_engine(url: str, synchronous: str, busy: float, immediate: bool) -> Engine:
    engine = create_engine(
        url,
        connect_args={"timeout": busy, "check_same_thread": False},
        poolclass=NullPool if ":memory:" in url else None,
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

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
