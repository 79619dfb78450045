"""Many rows at once on PostgreSQL by ``COPY ... FROM STDIN`` (psycopg's ``cursor.copy``).

``copy_rows`` stores what ``conn.execute(insert(table), rows)`` would store: the columns the
rows give, converted as their SQLAlchemy types convert them (JSON by the engine's serializer,
``TypeDecorator``s by their ``process_bind_param``), and every column they leave out that has
a Python-side default (``default=``) filled by it, once a row, as an INSERT fills it; columns
with neither keep the server's default (a serial ``id``, ``server_default``). What it saves
is the INSERT's cost for thousands of rows: SQLAlchemy's statement of thousands of
parameters, which psycopg parses again on every batch, and the server's planning of it.

``next_ids`` takes ids from a table's serial sequence ahead of a COPY, so that the rows that
refer to the new ones (an order's lines) can be written without reading them back.

PostgreSQL only; COPY runs inside the connection's transaction, and its errors are raised
as SQLAlchemy's ``DBAPIError`` as any statement's are (so ``Database.write`` retries what
it retries, and a lost connection is invalidated).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Connection, Table, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.schema import CallableColumnDefault, ScalarElementColumnDefault
from sqlalchemy.types import JSON, TypeDecorator


def next_ids(conn: Connection, table: Table, n: int, column: str = "id") -> list[int]:
    """``n`` new values of ``table.column``'s sequence, in increasing order."""
    if n <= 0:
        return []
    stmt = text(
        "SELECT nextval(pg_get_serial_sequence(:table, :column)) AS v "
        "FROM generate_series(1, :n) ORDER BY v"
    )
    values = conn.execute(stmt, {"table": table.name, "column": column, "n": n}).scalars()
    return [int(v) for v in values]


def _converter(column: Column[Any], conn: Connection) -> Callable[[Any], Any]:
    kind = column.type
    dialect = conn.dialect
    if isinstance(kind, TypeDecorator):
        decorator = kind

        def decorated(value: Any) -> Any:
            return decorator.process_bind_param(value, dialect)

        return decorated
    if isinstance(kind, JSON):
        dumps: Callable[[Any], str] = getattr(dialect, "_json_serializer", None) or json.dumps
        none_as_null = kind.none_as_null

        def serialized(value: Any) -> Any:
            if value is None and none_as_null:
                return None
            return dumps(value)  # None as JSON's null, as SQLAlchemy's JSON type stores it

        return serialized
    return lambda value: value


def _default(column: Column[Any]) -> Callable[[], Any]:
    default = column.default
    if isinstance(default, ScalarElementColumnDefault):
        value = default.arg
        return lambda: value
    if isinstance(default, CallableColumnDefault):
        fn = default.arg  # SQLAlchemy's wrapper, which takes an execution context
        return lambda: fn(None)  # type: ignore[arg-type]
    raise NotImplementedError(f"COPY cannot fill {column.table.name}.{column.name}'s default")


def copy_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    """Write ``rows`` (every one with the keys of the first) into ``table`` by COPY, as an
    INSERT of them would; the number of rows written."""
    if not rows:
        return 0
    given = [table.c[name] for name in rows[0]]
    filled = [c for c in table.c if c.name not in rows[0] and c.default is not None]
    convert = [_converter(c, conn) for c in given + filled]
    defaults = [_default(c) for c in filled]
    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(quote(c.name) for c in given + filled)
    sql = f"COPY {quote(table.name)} ({names}) FROM STDIN"
    keys = [c.name for c in given]
    dbapi_conn = conn.connection.dbapi_connection
    assert dbapi_conn is not None
    dbapi_error = conn.dialect.loaded_dbapi.Error
    cursor = dbapi_conn.cursor()
    try:
        with cursor.copy(sql) as copy:  # type: ignore[attr-defined]
            for row in rows:
                values = [row[k] for k in keys] + [d() for d in defaults]
                copy.write_row([f(v) for f, v in zip(convert, values, strict=True)])
        return int(cursor.rowcount)
    except dbapi_error as exc:
        lost = conn.dialect.is_disconnect(exc, dbapi_conn, cursor)
        if lost:
            conn.invalidate(exc)
        raise DBAPIError.instance(sql, None, exc, dbapi_error, connection_invalidated=lost) from exc
    finally:
        cursor.close()
