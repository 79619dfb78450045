"""Statements compiled once and run on the connection's DBAPI cursor.

A Core statement executed through ``Connection.execute`` costs SQLAlchemy 40-60 us of
Python per call (cache key, execution context, parameter processing, result wrapping), more
than SQLite takes to run it. Order capture sends a dozen statements per order, so on SQLite
that overhead was a third of the server's CPU. ``Prepared`` keeps SQLAlchemy for what it is
good at, building and compiling the statement and converting values (its own bind
processors, so a datetime or a JSON column is stored exactly as SQLAlchemy stores it, and
its column defaults), and does the per-call part itself: bind the values, execute, read the
row count or the rows. A driver error is raised as SQLAlchemy's ``DBAPIError``, so
``Database``'s retries and error translation see what they always see.

On PostgreSQL the same holds with psycopg's named parameters, except for executemany, which
goes through SQLAlchemy (psycopg counts its rows its own way). A lost connection is
invalidated as SQLAlchemy would, so ``Database`` retries on a fresh one.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable
from sqlalchemy.sql.dml import Insert


class _Compiled:
    def __init__(self, stmt: Any, keys: Sequence[str] | None, dialect: Dialect) -> None:
        compiled = stmt.compile(dialect=dialect, column_keys=list(keys) if keys else None)
        self.sql = str(compiled)
        # SQLite's "?" takes a tuple in this order; psycopg's %(name)s a dict.
        self.named = compiled.positiontup is None
        binds = compiled.binds
        self.names: list[str] = list(binds if self.named else compiled.positiontup)
        processors: dict[str, Callable[[Any], Any] | None] = {
            name: binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in set(self.names)
        }
        self.processors = [processors[name] for name in self.names]
        # Columns that the INSERT lists because they have a Python-side default (created_at,
        # attempts, ...): filled here as SQLAlchemy fills them when a row does not give one.
        self.defaults: dict[str, Callable[[], Any]] = {}
        table = stmt.table if isinstance(stmt, Insert) else None
        for name in set(self.names) - set(keys or ()):
            column = table.c.get(name) if table is not None else None
            default = column.default if column is not None else None
            if default is None or not (default.is_scalar or default.is_callable):
                if binds[name].value is not None:  # a value built into the statement (LIMIT 1)
                    self.defaults[name] = _default_of(binds[name].effective_value, False)
                continue
            self.defaults[name] = _default_of(default.arg, default.is_callable)  # type: ignore[attr-defined]
        # Rows of a SELECT or RETURNING: named tuples of values converted by the columns'
        # own result processors (booleans, JSON, datetimes as SQLAlchemy hands them back).
        columns = list(getattr(stmt, "exported_columns", None) or ())
        self.row = namedtuple("Row", [c.key for c in columns], rename=True) if columns else None  # type: ignore[misc]
        self.results = [
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns
        ]
        if not any(self.results):
            self.results = []

    def row_of(self, values: Sequence[Any]) -> Any:
        if self.row is None:
            return tuple(values)
        if self.results:
            values = [v if f is None else f(v) for f, v in zip(self.results, values, strict=True)]
        return self.row(*values)

    def bind(self, params: Mapping[str, Any]) -> Any:
        out = []
        for name, process in zip(self.names, self.processors, strict=True):
            if name in params:
                value = params[name]
            elif name in self.defaults:
                value = self.defaults[name]()
            else:
                raise KeyError(f"no value for bind parameter {name!r}")
            # As SQLAlchemy does, None goes through the processor too (JSON stores 'null').
            out.append(value if process is None else process(value))
        return dict(zip(self.names, out, strict=True)) if self.named else tuple(out)


def _default_of(arg: Any, is_callable: bool) -> Callable[[], Any]:
    if is_callable:  # SQLAlchemy wraps a column's default function to take a context
        return lambda: arg(None)
    return lambda: arg


class Prepared:
    """``stmt`` compiled once per dialect; an INSERT once per set of columns it is given
    (as SQLAlchemy compiles it for the keys of its parameters)."""

    def __init__(self, stmt: Executable, *, per_keys: bool | None = None) -> None:
        """``per_keys=False``: an INSERT whose values are all bound parameters already
        (several rows in one statement), compiled once."""
        self.stmt = stmt
        self._per_keys = isinstance(stmt, Insert) if per_keys is None else per_keys
        self._compiled: dict[tuple[str, frozenset[str]], _Compiled] = {}

    def _raw(
        self, conn: Connection, params: Mapping[str, Any], many: bool = False
    ) -> _Compiled | None:
        """The compiled form to run on the cursor, or None to go through SQLAlchemy: on
        PostgreSQL for executemany, whose row count psycopg reports its own way."""
        dialect = conn.dialect
        if many and dialect.name != "sqlite":
            return None
        return self.compiled(dialect, params)

    def compiled(self, dialect: Dialect, params: Mapping[str, Any]) -> _Compiled:
        """The statement compiled for ``dialect`` (and, for an INSERT, the keys of
        ``params``): its SQL, ``bind`` for its values and ``row_of`` for its rows (what
        db/async_pg.py runs on an asynchronous connection)."""
        keys = frozenset(params) if self._per_keys else frozenset()
        compiled = self._compiled.get((dialect.name, keys))
        if compiled is None:
            given = sorted(keys) if self._per_keys else None
            compiled = self._compiled[(dialect.name, keys)] = _Compiled(self.stmt, given, dialect)
        return compiled

    def run(self, conn: Connection, params: Mapping[str, Any] | None = None) -> int:
        """Execute once; the number of rows it changed."""
        params = params or {}
        compiled = self._raw(conn, params)
        assert compiled is not None
        return int(execute_raw(conn, compiled.sql, compiled.bind(params)))

    def run_many(self, conn: Connection, rows: Iterable[Mapping[str, Any]]) -> int:
        """Execute once per row (one executemany); the number of rows changed in all."""
        rows = list(rows)
        if not rows:
            return 0
        compiled = self._raw(conn, rows[0], many=True)
        if compiled is None:
            return int(conn.execute(self.stmt, rows).rowcount)
        return int(execute_raw(conn, compiled.sql, [compiled.bind(r) for r in rows], many=True))

    def first(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any:
        """Execute once; the first row (named, as SQLAlchemy converts it) or None."""
        rows = self.all(conn, params, first=True)
        return rows[0] if rows else None

    def all(
        self, conn: Connection, params: Mapping[str, Any] | None = None, first: bool = False
    ) -> list[Any]:
        """Execute once; every row (named, as SQLAlchemy converts it)."""
        params = params or {}
        compiled = self._raw(conn, params)
        assert compiled is not None
        rows = execute_raw(conn, compiled.sql, compiled.bind(params), fetch=1 if first else -1)
        return [compiled.row_of(r) for r in rows]


_CURSOR = "dingdan.cursor"


def execute_raw(
    conn: Connection, sql: str, values: Any = (), fetch: int = 0, many: bool = False
) -> Any:
    """Run ``sql`` on the connection's DBAPI cursor, inside its transaction. fetch: 0 the
    row count, 1 at most one row (a list), -1 every row. A driver error is raised as
    SQLAlchemy's ``DBAPIError``; as SQLAlchemy does, a lost connection is invalidated (not
    handed out again) and the error says so, which is what Database's retry looks at."""
    pooled = conn.connection
    dbapi_conn = pooled.dbapi_connection
    assert dbapi_conn is not None
    dbapi_error = conn.dialect.loaded_dbapi.Error
    # psycopg: one cursor per connection, kept with the pooled connection (its info is
    # cleared when the pool connects again): a new cursor copies the connection's adapters,
    # a visible cost per statement. Its results are always read whole, so nothing is left
    # open on the server. SQLite: a cursor per call, closed after it, so that a statement
    # read only in part (fetch=1) does not stay active.
    keep = conn.dialect.name == "postgresql"
    cursor = pooled.info.get(_CURSOR) if keep else None
    if cursor is None or cursor.connection is not dbapi_conn:
        cursor = dbapi_conn.cursor()
        if keep:
            pooled.info[_CURSOR] = cursor
    try:
        if many:
            cursor.executemany(sql, values)
        else:
            cursor.execute(sql, values)
        if fetch == 1:
            row = cursor.fetchone()
            return [] if row is None else [row]
        if fetch:
            return cursor.fetchall()
        return cursor.rowcount
    except dbapi_error as exc:
        lost = conn.dialect.is_disconnect(exc, dbapi_conn, cursor)
        if lost:
            conn.invalidate(exc)
        raise DBAPIError.instance(
            sql, values, exc, dbapi_error, connection_invalidated=lost
        ) from exc
    finally:
        if not keep:
            cursor.close()
