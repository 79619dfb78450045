"""Order import from CSV or XLSX (shared/CONTRACT.md, "Order import and export").

One row per order line; the rows of one order (same ``channel`` and ``external_id``) stand
together. Every row is checked first (each order as ``POST /api/v1/orders`` checks its body,
plus ``created_at`` and the SKUs); a bad row stops the import before anything is stored,
unless ``skip_bad`` (then every order with a bad row is left out whole).

Without ``historical`` each order is captured by ``place_order``, one by one, as the API
would (an order refused for stock is listed, the others stay). With ``historical`` each
order is stored as it was, in batches of ``BATCH`` orders per transaction of bulk
statements: ``created_at`` kept, status completed, paid (one payment row of the total) and
shipped in full (one delivered shipment, lines shipped); no stock moves, no outbox event
(no message, webhook, invoice or risk review). It is linked to its customer as capture
links one (``match_customer``), and numbered from capture's own sequence.

An order whose (channel, external_id) is already stored is left as it is: importing a file
twice adds nothing.

Lives in the catalog context (above orders) because it reuses the catalog's file reader.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, Text, any_, bindparam, insert, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY

from dingdan.db import bulk
from dingdan.db.engine import Database
from dingdan.db.order_tables import Customer, Order, OrderEvent, OrderLine, Payment, Shipment
from dingdan.db.tables import Location, Product, table_of
from dingdan.domain.orders import capture_input, rules
from dingdan.domain.orders import status as st
from dingdan.domain.shared.errors import (
    FieldError,
    FieldErrors,
    InsufficientStock,
    ValidationFailed,
)
from dingdan.domain.shared.money import format_amount, parse_amount
from dingdan.domain.shared.time_zone import SELLER_TIMEZONE
from dingdan.services.catalog.imports import ROW_KEY, Row, RowError, _check_columns
from dingdan.services.orders import capture
from dingdan.services.orders.search_index import search_fold
from dingdan.services.shared.common import Actor, audit

Progress = Callable[[int], Any]
BATCH = 1_000  # historical orders per transaction

ORDER_REQUIRED = (
    "channel",
    "external_id",
    "created_at",
    "currency",
    "customer_email",
    "customer_phone",
    "customer_name",
    "country",
    "sku",
    "quantity",
    "unit_price",
)
ADDRESS_COLUMNS = ("city", "postal_code", "line1")
ORDER_COLUMNS = ORDER_REQUIRED + ADDRESS_COLUMNS + ("shipping_price", "payment_method")
_HISTORICAL_CARRIER = "import"

_O, _OL, _C = table_of(Order), table_of(OrderLine), table_of(Customer)
_P, _LOC = table_of(Product), table_of(Location)
_PAY, _SHIP, _EV = table_of(Payment), table_of(Shipment), table_of(OrderEvent)


@dataclass
class OrderImportResult:
    imported: int = 0  # orders stored by this import
    existing: int = 0  # orders of the file already stored (left as they were)
    skipped: int = 0  # bad rows left out with skip_bad
    errors: list[RowError] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # "channel/external_id" short of stock


@dataclass
class _Order:
    rows: list[int]  # the spreadsheet row numbers of its lines
    body: dict[str, Any]  # as POST /api/v1/orders takes it
    created_at: datetime
    data: capture_input.OrderInput | None = None
    gaps: set[str] = field(default_factory=set)  # address columns left empty (historical)


def _number(row: Row, i: int) -> int:
    given = row.get(ROW_KEY)
    return int(given) if given and given.isdecimal() else i + 2


def _groups(rows: Iterable[Row]) -> Iterator[tuple[list[int], list[Row], RowError | None]]:
    """The rows of each order, with the error of a row whose order appeared earlier apart."""
    seen: dict[tuple[str, str], int] = {}
    key: tuple[str, str] | None = None
    numbers: list[int] = []
    group: list[Row] = []
    for i, row in enumerate(rows):
        number = _number(row, i)
        k = (row.get("channel") or "", row.get("external_id") or "")
        if k != key:
            if group:
                yield numbers, group, None
            numbers, group, key = [], [], k
            if k in seen:
                error = FieldError.of("external_id", "appears_again", key=k[1], row=seen[k])
                yield [number], [row], RowError.of(number, error)
                key = None
                continue
            seen[k] = number
        numbers.append(number)
        group.append(row)
    if group:
        yield numbers, group, None


def _created_at(value: str | None, errors: FieldErrors) -> datetime:
    try:
        when = datetime.fromisoformat((value or "").replace(" ", "T", 1))
    except ValueError:
        errors.add("created_at", "not_a_time")
        return datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=SELLER_TIMEZONE)
    return when.astimezone(UTC)


_PLACEHOLDER = "-"  # a historical order's missing address text (it was shipped long ago)
# A valid postal code where one is required, checked in place of a historical order's
# missing one (which is stored as none).
_SAMPLE_POSTAL = {
    "TW": "100",
    "CN": "100000",
    "SG": "018956",
    "US": "10001",
    "JP": "100-0001",
    "CA": "K1A 0B1",
    "GB": "SW1A 1AA",
}


def _body(rows: list[Row], historical: bool) -> dict[str, Any]:
    first = rows[0]
    address: dict[str, Any] = {
        "name": first.get("customer_name") or first.get("customer_email") or "",
        "line1": first.get("line1"),
        "city": first.get("city"),
        "postal_code": first.get("postal_code"),
        "country": first.get("country"),
        "phone": first.get("customer_phone"),
    }
    if historical:  # a past order's address need not be whole: stand-ins, not stored
        address["line1"] = address["line1"] or _PLACEHOLDER
        address["city"] = address["city"] or _PLACEHOLDER
        country = str(address["country"] or "").upper()
        address["postal_code"] = address["postal_code"] or _SAMPLE_POSTAL.get(country)
    customer = {
        "email": first.get("customer_email"),
        "phone": first.get("customer_phone"),
        "name": first.get("customer_name"),
    }
    return {
        "channel": first.get("channel"),
        "external_id": first.get("external_id"),
        "currency": first.get("currency"),
        "customer": {k: v for k, v in customer.items() if v is not None},
        "shipping_address": address,
        "lines": [
            {
                "sku": r.get("sku"),
                "quantity": _quantity(r.get("quantity")),
                "unit_price": r.get("unit_price"),
            }
            for r in rows
        ],
        "shipping_price": first.get("shipping_price") or "0",
        "payment_method": first.get("payment_method") or rules.PaymentMethod.OTHER.value,
    }


def _quantity(text: str | None) -> Any:
    return int(text) if text and text.isdecimal() else text


# capture_input's field -> the file's column
_FIELD_OF = {
    "customer": "customer_email",
    "customer.email": "customer_email",
    "customer.phone": "customer_phone",
    "customer.name": "customer_name",
    "shipping_address.name": "customer_name",
    "shipping_address.phone": "customer_phone",
    "shipping_address.line1": "line1",
    "shipping_address.city": "city",
    "shipping_address.postal_code": "postal_code",
    "shipping_address.country": "country",
    "lines": "sku",
}


def _row_errors(numbers: list[int], errors: Sequence[FieldError]) -> list[RowError]:
    out = []
    for e in errors:
        row, name = numbers[0], _FIELD_OF.get(e.field, e.field)
        if e.field.startswith("lines["):
            index, _, rest = e.field[len("lines[") :].partition("].")
            if index.isdecimal() and int(index) < len(numbers):
                row, name = numbers[int(index)], rest or "sku"
        out.append(RowError.of(row, FieldError(name, e.message, e.code, e.params)))
    return out


Rows = Sequence[Row] | Callable[[], Iterable[Row]]  # rows, or what reads them afresh


class _Products:
    """The file's products by SKU (None: no such product), looked up a chunk at a time."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.known: dict[str, Any] = {}

    def load(self, skus: set[str]) -> None:
        missing = sorted(skus - self.known.keys())
        if missing:
            found = self.db.read(lambda conn: _products(conn, missing))
            self.known.update({sku: found.get(sku) for sku in missing})

    def get(self, sku: str) -> Any:
        return self.known.get(sku)


_Checked = tuple["_Order | None", list[RowError], int]  # the order (None: bad), errors, rows


def _check_group(
    numbers: list[int],
    group: list[Row],
    channels: set[str],
    products: _Products,
    historical: bool,
) -> _Checked:
    errors = FieldErrors()
    created_at = _created_at(group[0].get("created_at"), errors)
    if not group[0].get("external_id"):  # what makes importing a file twice add nothing
        errors.add("external_id", "required")
    found = [RowError.of(numbers[0], e) for e in errors.items]
    body = _body(group, historical)
    data = None
    try:
        data = capture_input.validate(body, channels)
    except ValidationFailed as exc:
        found += _row_errors(numbers, exc.errors)
    for n, r in zip(numbers, group, strict=True):
        sku = r.get("sku")
        if sku and products.get(sku) is None:
            found.append(RowError.of(n, FieldError.of("sku", "unknown_sku", sku=sku)))
    if found:
        return None, found, len(group)
    gaps = {c for c in ADDRESS_COLUMNS if not group[0].get(c)}
    return _Order(numbers, body, created_at, data, gaps), [], len(group)


def _checked(
    rows: Iterable[Row], channels: set[str], products: _Products, historical: bool
) -> Iterator[_Checked]:
    """Each order of the file, checked, a chunk of orders at a time (their SKUs looked up
    together)."""
    chunk: list[tuple[list[int], list[Row], RowError | None]] = []

    def flush() -> Iterator[_Checked]:
        products.load({s for _, group, _ in chunk for r in group if (s := r.get("sku"))})
        for numbers, group, apart in chunk:
            if apart is not None:
                yield None, [apart], 1
            else:
                yield _check_group(numbers, group, channels, products, historical)
        chunk.clear()

    for item in _groups(rows):
        chunk.append(item)
        if len(chunk) >= BATCH:
            yield from flush()
    yield from flush()


def _columns_checked(rows: Iterable[Row], historical: bool) -> Iterator[Row]:
    """The rows, once the first one showed the file's columns are the ones expected."""
    it = iter(rows)
    first = next(it, None)
    required = ORDER_REQUIRED + (() if historical else ADDRESS_COLUMNS)
    _check_columns([first] if first is not None else [], required, ORDER_COLUMNS)
    assert first is not None
    yield first
    yield from it


def _check(
    rows: Sequence[Row], channels: set[str], products: _Products, historical: bool
) -> tuple[list[_Order], list[RowError], int]:
    """The good orders, every bad row's errors, and how many rows were bad."""
    good: list[_Order] = []
    bad: list[RowError] = []
    bad_rows = 0
    for order, errors, _ in _checked(rows, channels, products, historical):
        if order is None:
            bad += errors
            bad_rows += len({e.row for e in errors})
        else:
            good.append(order)
    return good, bad, bad_rows


def _products(conn: Connection, skus: Sequence[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for i in range(0, len(skus), 500):
        stmt = select(_P.c.id, _P.c.sku, _P.c.name, _P.c.tax_class, _P.c.price_minor).where(
            _P.c.sku.in_(skus[i : i + 500])
        )
        found.update({r.sku: r for r in conn.execute(stmt)})
    return found


def import_orders(
    db: Database,
    actor: Actor,
    rows: Rows,
    *,
    historical: bool = False,
    skip_bad: bool = False,
    progress: Progress | None = None,
    started: Progress | None = None,
    prefix: str = "DD",
    source: str | None = None,
) -> OrderImportResult:
    """Check every row (first pass), then import (second pass). ``rows``: the rows, or a
    function that reads them afresh (``imports.stream_rows``: the file is read twice and
    never held whole). ``progress(n)``: n more rows checked, then imported; ``started(n)``:
    the file has n rows and the import begins."""
    read_rows: Callable[[], Iterable[Row]] = rows if callable(rows) else (lambda: rows)
    channels = db.read(capture.channel_codes)
    products = _Products(db)
    result = OrderImportResult()
    total = 0
    for order, errors, n in _checked(
        _columns_checked(read_rows(), historical), channels, products, historical
    ):
        total += n
        if order is None:
            result.errors += errors
            result.skipped += len({e.row for e in errors})
        if progress:
            progress(n)
    if result.errors and not skip_bad:
        result.skipped = 0
        return result
    if started:
        started(total)

    def good() -> Iterator[_Order]:
        for order, _, n in _checked(read_rows(), channels, products, historical):
            if order is not None:
                yield order
            elif progress:
                progress(n)

    if historical:
        _store_historical(db, actor, good(), products, result, progress, prefix)
    else:
        _capture(db, actor, good(), result, progress, prefix)
    if result.imported:
        db.write(
            lambda conn: audit(
                conn,
                actor,
                "orders.import",
                "order",
                (source or "import")[:100],
                {"imported": result.imported, "historical": historical},
            )
        )
    return result


def _capture(
    db: Database,
    actor: Actor,
    orders: Iterable[_Order],
    result: OrderImportResult,
    progress: Progress | None,
    prefix: str,
) -> None:
    for order in orders:
        try:
            _, created = capture.place_order(db, actor, order.body, prefix=prefix)
        except InsufficientStock:
            result.refused.append(f"{order.body['channel']}/{order.body['external_id']}")
        else:
            if created:
                result.imported += 1
            else:
                result.existing += 1
        if progress:
            progress(len(order.rows))


def _batches(items: Iterable[_Order]) -> Iterator[list[_Order]]:
    batch: list[_Order] = []
    for item in items:
        batch.append(item)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _store_historical(
    db: Database,
    actor: Actor,
    orders: Iterable[_Order],
    products: _Products,
    result: OrderImportResult,
    progress: Progress | None,
    prefix: str,
) -> None:
    """One transaction a batch. With COPY (PostgreSQL) a thread of its own writes each batch
    while this one reads and checks the next (the server's work and the wait for it overlap
    the checks); the next is handed over only once the last is committed, so a batch that
    fails stops the import with nothing after it written, as without the thread, and no
    more than two batches are held."""
    overrides = db.read(capture.tax_overrides)

    def write(batch: list[_Order]) -> tuple[list[_Order], tuple[int, int]]:
        def work(conn: Connection) -> tuple[int, int]:
            return _write_batch(conn, actor, batch, products, overrides, prefix)

        return batch, db.write(work)

    def done(batch: list[_Order], counts: tuple[int, int]) -> None:
        result.imported += counts[0]
        result.existing += counts[1]
        if progress:
            progress(sum(len(o.rows) for o in batch))

    if not (COPY_ON_POSTGRESQL and db.dialect == "postgresql"):
        for batch in _batches(orders):
            done(*write(batch))
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer") as writer:
        pending: Future[tuple[list[_Order], tuple[int, int]]] | None = None
        for batch in _batches(orders):  # checked while the one before is written
            if pending is not None:
                done(*pending.result())
            pending = writer.submit(write, batch)
        if pending is not None:
            done(*pending.result())


def _among(conn: Connection, column: Any, values: Sequence[Any]) -> Any:
    """``column IN (values)``; on PostgreSQL ``column = ANY(array)``, one parameter (psycopg
    parses a statement of a thousand parameters again each time, in Python)."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(Text)))
    return column.in_(values)


def _existing(conn: Connection, batch: list[_Order]) -> set[tuple[str, str]]:
    keys = [(o.body["channel"], o.body["external_id"]) for o in batch]
    stmt = select(_O.c.channel, _O.c.external_id).where(
        _among(conn, _O.c.channel, sorted({k[0] for k in keys})),
        _among(conn, _O.c.external_id, sorted({k[1] for k in keys})),
    )
    return {(r.channel, r.external_id) for r in conn.execute(stmt)} & set(keys)


def _numbers(conn: Connection, prefix: str, n: int) -> list[str]:
    """``n`` order numbers, as ``capture.next_number`` takes them one at a time."""
    if conn.dialect.name == "postgresql":
        stmt = text("SELECT nextval('order_number_seq') FROM generate_series(1, :n)")
        values = [int(v) for v in conn.execute(stmt, {"n": n}).scalars()]
    else:
        bump = text(
            "UPDATE counters SET value = value + :n WHERE name = 'order_number' RETURNING value"
        )
        last = int(conn.execute(bump, {"n": n}).scalar_one())
        values = list(range(last - n + 1, last + 1))
    return [capture.format_number(prefix, v) for v in values]


_CUSTOMER_COLUMNS = (_C.c.id, _C.c.email, _C.c.phone, _C.c.name, _C.c.addresses)


def _customers(conn: Connection, datas: list[capture_input.OrderInput], copy: bool) -> list[int]:
    """Each order's customer, found or created as capture finds or creates one (by email; by
    phone when the order gives none, the oldest with that phone), read for the whole batch
    in two queries; an order sees the customers made or changed by the batch's earlier
    ones. ``copy`` (PostgreSQL): the new customers are written at the end, as the batch
    left them, by one COPY with ids taken from their sequence in the order they came, and
    the changed ones by one executemany (psycopg pipelines it); else each new customer is
    inserted as it comes and each changed one updated at the end."""
    emails = sorted({k for d in datas if (k := capture.email_key(d.email))})
    phones = sorted({d.phone for d in datas if not d.email and d.phone})
    by_email: dict[str, SimpleNamespace] = {}
    by_phone: dict[str, SimpleNamespace] = {}
    for i in range(0, len(emails), 500):
        stmt = select(*_CUSTOMER_COLUMNS).where(_among(conn, _C.c.email, emails[i : i + 500]))
        by_email.update({r.email: SimpleNamespace(**r._mapping) for r in conn.execute(stmt)})
    for i in range(0, len(phones), 500):
        stmt = (
            select(*_CUSTOMER_COLUMNS)
            .where(_among(conn, _C.c.phone, phones[i : i + 500]))
            .order_by(_C.c.id.desc())
        )
        by_phone.update({r.phone: SimpleNamespace(**r._mapping) for r in conn.execute(stmt)})
    found: list[SimpleNamespace] = []
    changed: dict[int, SimpleNamespace] = {}
    created: list[SimpleNamespace] = []  # with copy: new customers, written at the end
    for data in datas:
        key = capture.email_key(data.email)
        row = by_email.get(key) if key else by_phone.get(data.phone or "")
        match = capture.match_customer(row, data)
        if match.id is None:
            if copy:  # a stand-in id (negative) until the batch's ids are taken
                row = SimpleNamespace(id=-1 - len(created), **match.values)
                created.append(row)
            else:
                add = insert(_C).values(**match.values).returning(_C.c.id)
                row = SimpleNamespace(id=int(conn.execute(add).scalar_one()), **match.values)
            if key:
                by_email[key] = row
            if row.phone and row.phone not in by_phone:
                by_phone[row.phone] = row
            found.append(row)
            continue
        assert row is not None
        for col, value in match.values.items():
            setattr(row, col, value)
        if match.values and match.id > 0:
            changed[row.id] = row
        found.append(row)
    if created:
        for row, new_id in zip(created, bulk.next_ids(conn, _C, len(created)), strict=True):
            row.id = new_id
        values = [_customer_values(row) | {"id": row.id} for row in created]
        bulk.copy_rows(conn, _C, values)
    if changed and copy:
        change = update(_C).where(_C.c.id == bindparam("customer_id"))  # SET: the keys
        params = [_customer_values(row) | {"customer_id": row.id} for row in changed.values()]
        conn.execute(change, params)
    elif changed:
        for row in changed.values():
            conn.execute(update(_C).where(_C.c.id == row.id).values(**_customer_values(row)))
    return [int(row.id) for row in found]


def _customer_values(row: SimpleNamespace) -> dict[str, Any]:
    return dict(email=row.email, phone=row.phone, name=row.name, addresses=row.addresses)


def _insert_all(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """The rows in bulk: on PostgreSQL with RETURNING, which has SQLAlchemy send INSERTs of
    many rows each ("insertmanyvalues"; psycopg's own executemany sends one statement per
    row), on SQLite by executemany (one prepared statement run per row, in process)."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(insert(table), rows)
        return
    conn.execute(insert(table).returning(table.c.id), rows).all()


# PostgreSQL: a historical batch written by COPY (False: by INSERTs, as on SQLite; the
# tests compare the two).
COPY_ON_POSTGRESQL = True


def _write_batch(
    conn: Connection,
    actor: Actor,
    batch: list[_Order],
    products: _Products,
    overrides: dict[tuple[str, str], rules.TaxRule],
    prefix: str,
) -> tuple[int, int]:
    there = _existing(conn, batch)
    new = [o for o in batch if (o.body["channel"], o.body["external_id"]) not in there]
    if not new:
        return 0, len(batch)
    copy = COPY_ON_POSTGRESQL and conn.dialect.name == "postgresql"
    write = bulk.copy_rows if copy else _insert_all
    datas = [o.data for o in new]
    assert all(d is not None for d in datas)
    customer_ids = _customers(conn, datas, copy)  # type: ignore[arg-type]
    numbers = _numbers(conn, prefix, len(new))
    location_id = conn.execute(
        select(_LOC.c.id).order_by(_LOC.c.active.desc(), _LOC.c.priority, _LOC.c.id).limit(1)
    ).scalar()
    order_rows, line_rows = [], []
    for order, customer_id, number in zip(new, customer_ids, numbers, strict=True):
        data = order.data
        assert data is not None
        row, lines = _historical_rows(data, order, customer_id, number, products, overrides)
        order_rows.append(row)
        line_rows.append(lines)
    if copy:  # ids taken first, in the file's order, as the INSERT would number them
        for row, order_id in zip(order_rows, bulk.next_ids(conn, _O, len(new)), strict=True):
            row["id"] = order_id
        bulk.copy_rows(conn, _O, order_rows)
        ids = {row["number"]: row["id"] for row in order_rows}
    else:
        _insert_all(conn, _O, order_rows)
        ids = dict(
            (r.number, r.id)
            for r in conn.execute(select(_O.c.number, _O.c.id).where(_O.c.number.in_(numbers)))
        )
    lines_all, payments, shipments, events = [], [], [], []
    for row, lines, order in zip(order_rows, line_rows, new, strict=True):
        order_id = ids[row["number"]]
        when = row["created_at"]
        for ln in lines:
            ln["order_id"] = order_id
        lines_all += lines
        if row["total_minor"] > 0:
            payments.append(
                dict(
                    order_id=order_id,
                    kind="payment",
                    status="succeeded",
                    provider="manual",
                    amount_minor=row["total_minor"],
                    method=row["payment_method"],
                    reference=f"import:{row['external_id']}"[:200],
                    reason=None,
                    actor=actor.name,
                    created_at=when,
                )
            )
        if location_id is not None:
            shipments.append(
                dict(
                    order_id=order_id,
                    location_id=location_id,
                    carrier=_HISTORICAL_CARRIER,
                    tracking_number=None,
                    status="delivered",
                    lines=[{"sku": ln["sku"], "quantity": ln["quantity"]} for ln in lines],
                    exception=None,
                    delivered_at=when,
                    created_at=when,
                    updated_at=when,
                )
            )
        total = format_amount(row["total_minor"], row["currency"])
        events.append(
            dict(
                order_id=order_id,
                kind="created",
                actor=actor.name,
                message=f"Imported as a past order ({order.body['channel']}, {total})",
                data={"historical": True, "rows": order.rows[:50]},
                created_at=when,
            )
        )
    write(conn, _OL, lines_all)
    write(conn, _PAY, payments)
    write(conn, _SHIP, shipments)
    write(conn, _EV, events)
    return len(new), len(batch) - len(new)


def _historical_rows(
    data: capture_input.OrderInput,
    order: _Order,
    customer_id: int,
    number: str,
    products: _Products,
    overrides: dict[tuple[str, str], rules.TaxRule],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    country = data.address.country
    items = [products.get(ln.sku) for ln in data.lines]
    prices = [
        p.price_minor
        if ln.unit_price is None
        else parse_amount(str(ln.unit_price), data.currency, f"lines[{i}].unit_price")
        for i, (ln, p) in enumerate(zip(data.lines, items, strict=True))
    ]
    amounts = [
        (price * ln.quantity, rules.tax_rule(country, p.tax_class, overrides))
        for price, ln, p in zip(prices, data.lines, items, strict=True)
    ]
    ship_rule = rules.tax_rule(country, "standard", overrides)
    totals = rules.totals(amounts, data.shipping_minor, ship_rule)
    address = data.address.as_dict()
    for gap in order.gaps:
        address[gap] = None if gap == "postal_code" else ""
    rest = search_fold("".join(" " + x for x in (data.email, data.name, data.phone) if x))
    row = dict(
        number=number,
        channel=data.channel,
        external_id=data.external_id,
        status=st.Status.COMPLETED.value,
        financial_status=st.financial(totals.total, totals.total, 0).value,
        fulfillment_status=st.FulfillmentStatus.FULFILLED.value,
        currency=data.currency,
        customer_id=customer_id,
        customer={"email": data.email, "name": data.name, "phone": data.phone},
        shipping_address=address,
        payment_method=data.payment_method,
        locale=data.locale,
        prices_include_tax=ship_rule.prices_include_tax,
        subtotal_minor=totals.subtotal,
        shipping_minor=totals.shipping,
        tax_minor=totals.tax,
        total_minor=totals.total,
        paid_minor=totals.total,
        refunded_minor=0,
        search_text=capture.search_text(number, rest),
        tracking_token=secrets.token_urlsafe(24),
        cancel_reason=None,
        created_at=order.created_at,
        updated_at=order.created_at,
    )
    lines = [
        dict(
            position=i,
            product_id=p.id,
            sku=p.sku,
            name=p.name,
            quantity=ln.quantity,
            unit_price_minor=price,
            tax_minor=totals.line_taxes[i],
            allocated=0,
            backordered=0,
            shipped=ln.quantity,
            returned=0,
            cancelled=0,
        )
        for i, (ln, p, price) in enumerate(zip(data.lines, items, prices, strict=True))
    ]
    return row, lines


# --- the back office's preview -------------------------------------------------------------


@dataclass(frozen=True)
class PreviewRow:
    row: int
    channel: str | None
    external_id: str | None
    sku: str | None
    quantity: str | None
    unit_price: str | None
    errors: list[RowError]


@dataclass(frozen=True)
class OrderPreview:
    rows: list[PreviewRow]
    orders: int  # good orders, as the import would take them

    @property
    def errors(self) -> list[RowError]:
        return [e for r in self.rows for e in r.errors]

    @property
    def bad_rows(self) -> int:
        return sum(1 for r in self.rows if r.errors)


def preview_orders(db: Database, rows: Sequence[Row], historical: bool) -> OrderPreview:
    """Every row with its errors, as ``import_orders`` would check them; nothing is written."""
    channels = db.read(capture.channel_codes)
    rows = list(_columns_checked(rows, historical))
    good, bad, _ = _check(rows, channels, _Products(db), historical)
    by_row: dict[int, list[RowError]] = {}
    for e in bad:
        by_row.setdefault(e.row, []).append(e)
    out = []
    for i, r in enumerate(rows):
        n = _number(r, i)
        out.append(
            PreviewRow(
                n,
                r.get("channel"),
                r.get("external_id"),
                r.get("sku"),
                r.get("quantity"),
                r.get("unit_price"),
                by_row.get(n, []),
            )
        )
    return OrderPreview(out, len(good))
