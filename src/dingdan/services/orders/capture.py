"""Order capture: check, price, allocate, reserve and record an order in one transaction."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    bindparam,
    column,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError

from dingdan.db import stock as stock_sql
from dingdan.db.async_pg import AsyncStatements
from dingdan.db.engine import Database, RetryTransaction, json_text
from dingdan.db.order_tables import (
    Allocation,
    Channel,
    Counter,
    Customer,
    IdempotencyKey,
    Order,
    OrderLine,
    TaxRate,
)
from dingdan.db.prepared import Prepared
from dingdan.db.tables import Location, OutboxMessage, Product, StockLevel, table_of
from dingdan.db.types import utcnow
from dingdan.domain.inventory.stock import MovementKind
from dingdan.domain.orders import capture_input
from dingdan.domain.orders import delivery as delivery_rules
from dingdan.domain.orders import rules as rules
from dingdan.domain.orders import status as st
from dingdan.domain.shared import regions
from dingdan.domain.shared.errors import (
    Conflict,
    FieldErrors,
    IdempotencyConflict,
    InsufficientStock,
    ValidationFailed,
)
from dingdan.domain.shared.money import format_amount, parse_amount
from dingdan.domain.shared.numbers import check_amounts
from dingdan.domain.shared.text import folded
from dingdan.services.orders import invoice_lookup, pricing, replays
from dingdan.services.orders import risk as order_risk
from dingdan.services.orders.events import add_events
from dingdan.services.orders.notes import customer_note
from dingdan.services.orders.queries import get_order, view_of
from dingdan.services.orders.search_index import search_fold
from dingdan.services.shared.common import Actor
from dingdan.services.shared.view_types import OrderView

# Statements of the capture path, built once (building them per order cost more CPU than
# running them); the writes run on SQLite's cursor directly (db/prepared.py).
_INSERT_ORDER = Prepared(insert(table_of(Order)).returning(table_of(Order).c.id))
_INSERT_ALLOCATION = Prepared(insert(table_of(Allocation)))
_INSERT_OUTBOX = Prepared(insert(table_of(OutboxMessage)))
_INSERT_IDEMPOTENCY = insert(table_of(IdempotencyKey))

_P = table_of(Product)
_SL = table_of(StockLevel)
_LOC = table_of(Location)
_C = table_of(Customer)
_TAX = table_of(TaxRate)
_CN = table_of(Counter)
# Bumped by triggers on every change of tax_rates (migration 0008): read with the products,
# it tells whether this process's copy of the tax table is still current.
_TAX_VERSION = (
    select(_CN.c.value).where(_CN.c.name == "tax_rates").scalar_subquery().label("tax_version")
)
# The products of the order with their stock levels at active locations, in one query
# (a level at an inactive location comes back with code NULL and is not offered).
_PRODUCTS_AND_LEVELS = select(
    _P.c.id,
    _P.c.sku,
    _P.c.name,
    _P.c.price_minor,
    _P.c.currency,
    _P.c.active,
    _P.c.allow_backorder,
    _P.c.tax_class,
    _SL.c.location_id,
    _SL.c.on_hand,
    _SL.c.reserved,
    _LOC.c.code,
    _LOC.c.priority,
    _LOC.c.regions,
    _TAX_VERSION,
).select_from(
    _P.outerjoin(_SL, _SL.c.product_id == _P.c.id).outerjoin(
        _LOC, (_LOC.c.id == _SL.c.location_id) & _LOC.c.active.is_(True)
    )
)
_BY_COUNT: dict[int, Prepared] = {}


def _products_and_levels(n: int) -> Prepared:
    """The query for n SKUs (one compiled statement per count: an expanding IN would be
    compiled again on every call)."""
    stmt = _BY_COUNT.get(n)
    if stmt is None:
        skus = [bindparam(f"s{i}", type_=_P.c.sku.type) for i in range(n)]
        stmt = _BY_COUNT[n] = Prepared(_PRODUCTS_AND_LEVELS.where(_P.c.sku.in_(skus)))
    return stmt


_TAX_RATES = Prepared(
    select(_TAX.c.country, _TAX.c.tax_class, _TAX.c.rate_ppm, _TAX.c.prices_include_tax)
)
_CUSTOMER_COLUMNS = (_C.c.id, _C.c.email, _C.c.phone, _C.c.name, _C.c.addresses)
_CUSTOMER_BY_EMAIL = Prepared(select(*_CUSTOMER_COLUMNS).where(_C.c.email == bindparam("email")))
_CUSTOMER_BY_PHONE = Prepared(
    select(*_CUSTOMER_COLUMNS).where(_C.c.phone == bindparam("phone")).order_by(_C.c.id).limit(1)
)
_INSERT_CUSTOMER = Prepared(insert(_C).returning(_C.c.id))
_O = table_of(Order)
_IK = table_of(IdempotencyKey)
_IDEMPOTENCY = Prepared(
    select(_IK.c.request_hash, _IK.c.order_id).where(
        _IK.c.scope == bindparam("scope"), _IK.c.key == bindparam("key")
    )
)
_ORDER_BY_ID = select(_O).where(_O.c.id == bindparam("id"))
_BY_EXTERNAL_ID = (_O.c.channel == bindparam("channel")) & (
    _O.c.external_id == bindparam("external_id")
)
_ORDER_BY_EXTERNAL_ID = select(_O).where(_BY_EXTERNAL_ID)
_EXTERNAL_ID_TAKEN = Prepared(select(_O.c.id).where(_BY_EXTERNAL_ID))
_NEXTVAL = text("SELECT nextval('order_number_seq')")
# PostgreSQL: every write of the capture in one call (db/sql/place_order.sql, created by
# migration 0013; _one_call_payload), after one read of the customer and the order's number.
_PLACE_ORDER_CALL = Prepared(text("SELECT dingdan_place_order(CAST(:p AS json))"))
_STOCK_SHORT = "DD001"  # the SQLSTATEs the function raises
_CUSTOMER_CHANGED = "DD002"
_CUSTOMER_COLS = "c.id, c.email, c.phone, c.name, c.addresses"
# Typed so that the rows come back as named tuples with the columns' own conversions.
_NUMBER_AND_CUSTOMER_COLUMNS = (
    column("n", BigInteger()),
    *(column(c.key, c.type) for c in _CUSTOMER_COLUMNS),
)
_NUMBER_AND_CUSTOMER_SQL = {
    "email": f"SELECT nextval('order_number_seq') AS n, {_CUSTOMER_COLS}"
    " FROM (VALUES (1)) AS one (x) LEFT JOIN customers c ON c.email = :email",
    "phone": f"SELECT nextval('order_number_seq') AS n, {_CUSTOMER_COLS}"
    " FROM (VALUES (1)) AS one (x) LEFT JOIN LATERAL (SELECT id, email, phone, name,"
    " addresses FROM customers WHERE phone = :phone ORDER BY id LIMIT 1) c ON true",
}
_NUMBER_AND_CUSTOMER_BY_EMAIL = Prepared(
    text(_NUMBER_AND_CUSTOMER_SQL["email"]).columns(*_NUMBER_AND_CUSTOMER_COLUMNS)
)
_NUMBER_AND_CUSTOMER_BY_PHONE = Prepared(
    text(_NUMBER_AND_CUSTOMER_SQL["phone"]).columns(*_NUMBER_AND_CUSTOMER_COLUMNS)
)
_NEXT_COUNTER = Prepared(
    text("UPDATE counters SET value = value + 1 WHERE name = 'order_number' RETURNING value")
)


class _Stock:
    """What the capture read about stock: available units by (product, location) and the
    active locations holding the order's products, with their (priority, id, code)."""

    def __init__(self) -> None:
        self.available: dict[tuple[int, int], int] = {}
        self.locations: dict[int, tuple[int, int, str]] = {}
        self.regions: dict[int, list[str]] = {}  # the regions each location serves
        self.where: frozenset[str] | None = None  # the regions the address lies in
        self.tax_version: int | None = None  # of the tax table, read in the same statement

    def ordered_locations(self) -> list[int]:
        return sorted(self.locations, key=lambda loc: self.locations[loc][:2])


def channel_codes(conn: Connection) -> set[str]:
    custom = conn.execute(select(Channel.code).where(Channel.active.is_(True))).scalars()
    return set(rules.BUILTIN_CHANNELS) | set(custom)


def request_hash(body: Mapping[str, object]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def place_order(
    db: Database,
    actor: Actor,
    body: dict[str, object],
    *,
    idempotency_key: str | None = None,
    prefix: str = "DD",
    look_up_invoice: bool = False,
) -> tuple[OrderView, bool]:
    """Returns the order and whether it was created now (False: an earlier one answered).
    ``body`` is the order as sent (JSON), checked whole by ``capture_input.validate``.
    Every order placed is scored for risk (and held when high). ``look_up_invoice``: a
    buyer's mobile barcode or donation code is asked of the e-invoice centre first, before
    the transaction (invoice_lookup.py; the API and the order entry page, not imports or
    channels, whose orders are the channel's)."""
    channels = (
        set(rules.BUILTIN_CHANNELS)
        if body.get("channel") in rules.BUILTIN_CHANNELS
        else db.read(channel_codes)
    )
    data = capture_input.validate(body, channels)
    if look_up_invoice and invoice_lookup.needs_lookup(data.invoice):
        data = dataclasses.replace(data, invoice=invoice_lookup.verify(db, data.invoice))
    if data.delivery and data.delivery["type"] == delivery_rules.STORE_PICKUP:
        db.read(lambda conn: check_pickup_location(conn, data.delivery))
    digest = request_hash(body) if idempotency_key else ""  # only a keyed request keeps one

    key = _key_row(actor, idempotency_key, digest)

    def work(conn: Connection) -> Callable[[], OrderView] | tuple[str, bool]:
        """The new order's answer, or the number of the earlier order to answer with and
        whether it was found by its external id (not by the Idempotency-Key)."""
        earlier, by_key = _earlier(conn, actor, idempotency_key, digest, data)
        if earlier is not None:
            return str(earlier.number), not by_key
        return _create(conn, actor, data, prefix, key, score_risk=True)[1]

    # PostgreSQL writes the whole order in one statement (_one_call_payload), so the
    # capture needs no transaction block around it; SQLite writes it statement by statement.
    try:
        answer = db.write_statement(work)
    except Conflict:
        # A concurrent request with the same key, external id or new customer won the race;
        # running again finds what it committed.
        answer = db.write_statement(work)
    # Built after the commit, an earlier order's view on a reader: SQLite's one write lock
    # (and a PostgreSQL connection) is not held for it.
    if isinstance(answer, tuple):
        number, by_external_id = answer
        if by_external_id:
            replays.record_if_different(db, actor, number, data)
        return get_order(db, number), False
    return answer(), True


async def place_order_async(
    db: Database,
    actor: Actor,
    body: dict[str, object],
    *,
    idempotency_key: str | None = None,
    prefix: str = "DD",
    look_up_invoice: bool = False,
) -> tuple[OrderView, bool] | None:
    """``place_order`` on the running event loop, PostgreSQL only (db/async_pg.py): the same
    checks, statements and answer, with no worker thread. None when the request needs what
    only ``place_order`` does, which then answers it: a channel of the seller's own (read
    from the database first), or an earlier order to answer with (its Idempotency-Key or
    external id was seen before)."""
    if body.get("channel") not in rules.BUILTIN_CHANNELS:
        return None
    data = capture_input.validate(body, set(rules.BUILTIN_CHANNELS))
    if data.delivery and data.delivery["type"] == delivery_rules.STORE_PICKUP:
        return None  # its location is checked by place_order
    if look_up_invoice and invoice_lookup.needs_lookup(data.invoice):
        return None  # the centre is asked (a blocking call) by place_order, in its thread
    digest = request_hash(body) if idempotency_key else ""
    key = _key_row(actor, idempotency_key, digest)

    async def work(statements: AsyncStatements) -> Callable[[], OrderView] | None:
        if idempotency_key:
            row = await statements.first(
                _IDEMPOTENCY, {"scope": actor.name, "key": idempotency_key}
            )
            if row is not None:
                _check_same_request(row, digest)
                return None
        if data.external_id:
            params = {"channel": data.channel, "external_id": data.external_id}
            if await statements.first(_EXTERNAL_ID_TAKEN, params) is not None:
                return None
        stmt, params = _products_query(data)
        products, stock = _products_of(data, await statements.all(stmt, params))
        overrides = _kept_tax_overrides(db.engine, stock.tax_version)
        if overrides is None:
            rates = await statements.all(_TAX_RATES)
            overrides = _keep_tax_overrides(db.engine, stock.tax_version, rates)
        draft = _draft(data, products, stock, overrides, None, actor)
        facts = _facts(draft)
        found_stmt, found_params, kept = _number_and_customer_query(data, facts, db.engine)
        found = await statements.first(found_stmt, found_params)
        risk = order_risk.decide(db.engine, facts, kept, found)
        if risk is None:  # the settings' window changed: count again
            risk = await order_risk.assess_async(db.engine, statements.first, facts)
        _with_risk(draft, risk)
        payload, lines = _one_call_payload(actor, draft, prefix, key, found)
        try:
            row = await statements.first(_PLACE_ORDER_CALL, {"p": json_text(payload)})
        except DBAPIError as exc:
            _raise_if_stale(exc)
            raise
        _one_call_done(draft, lines, row[0])
        return _answer_of(draft, lines)

    try:
        answer = await db.write_statement_async(work)
    except Conflict:  # as in place_order
        answer = await db.write_statement_async(work)
    return None if answer is None else (answer(), True)


def check_pickup_location(conn: Connection, delivery: Mapping[str, object] | None) -> None:
    """A ``store_pickup`` names an active location of the seller (422 on
    ``delivery.location`` otherwise)."""
    if not delivery or delivery.get("type") != delivery_rules.STORE_PICKUP:
        return
    code = delivery.get("location")
    found = conn.execute(
        select(_LOC.c.id).where(_LOC.c.code == code, _LOC.c.active.is_(True))
    ).first()
    if found is None:
        raise ValidationFailed.on("delivery.location", "unknown_location", location=code)


def _key_row(actor: Actor, idempotency_key: str | None, digest: str) -> dict[str, str] | None:
    """The Idempotency-Key row stored with a keyed request's order."""
    if not idempotency_key:
        return None
    return dict(scope=actor.name, key=idempotency_key, request_hash=digest)


def _check_same_request(key_row: Any, digest: str) -> None:
    if key_row.request_hash != digest:
        raise IdempotencyConflict(
            detail="This Idempotency-Key was used with a different request body."
        )


def _earlier(
    conn: Connection, actor: Actor, key: str | None, digest: str, data: capture_input.OrderInput
) -> tuple[Any, bool]:
    """The earlier order to answer with (None: there is none), and whether its
    Idempotency-Key found it (else its channel and external id)."""
    if key:
        row = _IDEMPOTENCY.first(conn, {"scope": actor.name, "key": key})
        if row is not None:
            _check_same_request(row, digest)
            return conn.execute(_ORDER_BY_ID, {"id": row.order_id}).one(), True
    if data.external_id:
        params = {"channel": data.channel, "external_id": data.external_id}
        return conn.execute(_ORDER_BY_EXTERNAL_ID, params).first(), False
    return None, False


def _products_query(data: capture_input.OrderInput) -> tuple[Prepared, dict[str, str]]:
    skus = sorted({ln.sku for ln in data.lines})
    return _products_and_levels(len(skus)), {f"s{i}": s for i, s in enumerate(skus)}


def _products(conn: Connection, data: capture_input.OrderInput) -> tuple[list[Any], _Stock]:
    stmt, params = _products_query(data)
    return _products_of(data, stmt.all(conn, params))


def _products_of(data: capture_input.OrderInput, read: Sequence[Any]) -> tuple[list[Any], _Stock]:
    """The order's products, line by line, and their stock, from the rows of
    ``_products_query``; the lines whose product cannot be sold are refused."""
    rows: dict[str, Any] = {}
    stock = _Stock()
    for r in read:
        rows[r.sku] = r
        stock.tax_version = r.tax_version
        if r.location_id is not None:
            stock.available[(r.id, r.location_id)] = r.on_hand - r.reserved
            if r.code is not None:
                stock.locations[r.location_id] = (r.priority, r.location_id, r.code)
                if r.regions:
                    stock.regions[r.location_id] = r.regions
    errors = FieldErrors()
    for i, ln in enumerate(data.lines):
        p = rows.get(ln.sku)
        if p is None:
            errors.add(f"lines[{i}].sku", "unknown_sku", sku=ln.sku)
        elif not p.active:
            errors.add(f"lines[{i}].sku", "inactive_sku", sku=ln.sku)
        elif ln.unit_price is None and p.currency != data.currency:
            errors.add(f"lines[{i}].unit_price", "price_required", currency=p.currency)
    errors.raise_if_any()
    return [rows[ln.sku] for ln in data.lines], stock


def _prices(data: capture_input.OrderInput, products: list[Any]) -> list[int]:
    return [
        p.price_minor
        if ln.unit_price is None
        else parse_amount(ln.unit_price, data.currency, f"lines[{i}].unit_price")
        for i, (ln, p) in enumerate(zip(data.lines, products, strict=True))
    ]


def _plan(data: capture_input.OrderInput, products: list[Any], stock: _Stock) -> rules.Plan:
    """Active locations without a level of any of the products can allocate nothing (every
    quantity is at least 1), so the locations that hold them are all the planner needs."""
    available = stock.available
    locations = stock.ordered_locations()
    wants = [
        rules.Want(i, p.id, ln.quantity, p.allow_backorder)
        for i, (ln, p) in enumerate(zip(data.lines, products, strict=True))
    ]
    plan = rules.plan_allocation(wants, available, locations, _serving(data, stock, locations))
    if plan.short:
        errors = FieldErrors()
        for i, missing in sorted(plan.short.items()):
            have = data.lines[i].quantity - missing
            errors.add(
                f"lines[{i}].quantity",
                "insufficient",
                available=have,
                sku=data.lines[i].sku,
                short=missing,
            )
        raise InsufficientStock(detail="Not enough stock for this order.", errors=errors.items)
    return plan


def _serving(
    data: capture_input.OrderInput, stock: _Stock, locations: list[int]
) -> list[int] | None:
    """The locations (of ``locations``, in their order) that serve the order's address;
    None when every location serves everywhere (no location names regions). A store
    pickup is served by its store alone, whatever the regions."""
    d = data.delivery
    if d and d.get("type") == delivery_rules.STORE_PICKUP:
        return [loc for loc in locations if stock.locations[loc][2] == d.get("location")]
    if not stock.regions:
        return None
    where = stock.where = regions.address_regions(data.address.as_dict())
    return [loc for loc in locations if regions.serves(stock.regions.get(loc), where)]


@dataclass
class CustomerMatch:
    """Who the order belongs to, as decided from the customer row found (or none): the
    existing customer's id and the columns to change, or no id and the new row's values."""

    id: int | None
    values: dict[str, Any]


def match_customer(row: Any, data: capture_input.OrderInput) -> CustomerMatch:
    """``row``: the customer found by ``_customer_lookup`` (None: a new one). A new address
    goes first, ten at most, the same one is not kept twice; empty contact fields are
    filled from the order, filled ones are kept."""
    email = email_key(data.email)
    address = data.address.as_dict()
    if row is None or row.id is None:
        return CustomerMatch(
            None, dict(email=email, phone=data.phone, name=data.name, addresses=[address])
        )
    addresses = list(row.addresses or [])
    changes: dict[str, Any] = {}
    if address not in addresses:
        changes["addresses"] = ([address] + addresses)[:10]
    for col, value in (("email", email), ("phone", data.phone), ("name", data.name)):
        if value and not getattr(row, col):
            changes[col] = value
    return CustomerMatch(int(row.id), changes)


def _customer_lookup(data: capture_input.OrderInput) -> tuple[str, dict[str, Any]]:
    """Found by email; by phone only when the order gives no email (a phone shared by a
    household must not merge two people who gave different emails)."""
    if data.email:
        return "email", {"email": email_key(data.email)}
    return "phone", {"phone": data.phone}


def email_key(email: str | None) -> str | None:
    """A customer's email as customers are told apart and found by: NFKC, then case
    folding (``ＷＡＮＧ@example.com`` and ``Wang@example.com`` are one customer). The order
    keeps the address as it was sent. The rare address that NFKC makes longer than the
    column holds is matched lower-cased, as before."""
    if not email:
        return None
    key = folded(email.strip())
    return key if len(key) <= 254 else email.strip().lower()


def _customer(conn: Connection, data: capture_input.OrderInput) -> int:
    by, params = _customer_lookup(data)
    stmt = _CUSTOMER_BY_EMAIL if by == "email" else _CUSTOMER_BY_PHONE
    match = match_customer(stmt.first(conn, params), data)
    if match.id is None:
        return int(_INSERT_CUSTOMER.first(conn, match.values)[0])
    if match.values:
        conn.execute(update(_C).where(_C.c.id == match.id).values(**match.values))
    return match.id


def _number_and_customer_query(
    data: capture_input.OrderInput, facts: order_risk.OrderFacts | None = None, engine: Any = None
) -> tuple[Prepared, dict[str, Any], Any]:
    """PostgreSQL: the order's next number and its customer's row, in one read; with
    ``facts``, the order's risk facts in the same read (order_risk.decide reads them; the
    third value is what it needs besides)."""
    by, params = _customer_lookup(data)
    if facts is not None:
        sql, columns = _NUMBER_AND_CUSTOMER_SQL[by], _NUMBER_AND_CUSTOMER_COLUMNS
        return order_risk.with_facts(engine, facts, sql, columns, params)
    stmt = _NUMBER_AND_CUSTOMER_BY_EMAIL if by == "email" else _NUMBER_AND_CUSTOMER_BY_PHONE
    return stmt, params, None


def format_number(prefix: str, n: int) -> str:
    """The order number: the prefix and at least six digits."""
    return f"{prefix}{int(n):06d}"


def search_text(number: str, rest: str) -> str:
    """The orders row's search_text: the number and the draft's contact words, after NFKC
    and case folding (``search_fold``)."""
    return (search_fold(number) + rest)[:800]


def next_number(conn: Connection, prefix: str) -> str:
    if conn.dialect.name == "postgresql":
        n = conn.execute(_NEXTVAL).scalar_one()
    else:
        n = _NEXT_COUNTER.first(conn)[0]
    return format_number(prefix, n)


def tax_overrides(conn: Connection) -> dict[tuple[str, str], rules.TaxRule]:
    """The seller's own rates, by (country, tax class); the defaults fill the rest."""
    return _overrides_of(_TAX_RATES.all(conn))


def _overrides_of(rows: Sequence[Any]) -> dict[tuple[str, str], rules.TaxRule]:
    return {(c, t): rules.TaxRule(int(r), bool(inc)) for c, t, r, inc in rows}


# Per engine (one per database in a process): (tax table version, the rates at it).
_TAX_CACHE: WeakKeyDictionary[Engine, tuple[int, dict[tuple[str, str], rules.TaxRule]]] = (
    WeakKeyDictionary()
)


def _current_tax_overrides(
    conn: Connection, version: int | None
) -> dict[tuple[str, str], rules.TaxRule]:
    """The seller's rates, read again only when the table's version is not the one kept."""
    kept = _kept_tax_overrides(conn.engine, version)
    if kept is not None:
        return kept
    return _keep_tax_overrides(conn.engine, version, _TAX_RATES.all(conn))


def _kept_tax_overrides(
    engine: Engine, version: int | None
) -> dict[tuple[str, str], rules.TaxRule] | None:
    """The rates kept for ``engine`` if they are at ``version``; None: read them."""
    if version is None:  # no counter row: read them every time
        return None
    kept = _TAX_CACHE.get(engine)
    return kept[1] if kept is not None and kept[0] == version else None


def _keep_tax_overrides(
    engine: Engine, version: int | None, rows: Sequence[Any]
) -> dict[tuple[str, str], rules.TaxRule]:
    overrides = _overrides_of(rows)
    if version is not None:
        _TAX_CACHE[engine] = (version, overrides)
    return overrides


def create_order_in(
    conn: Connection, actor: Actor, data: capture_input.OrderInput, prefix: str
) -> int:
    """Create a checked order inside the caller's transaction (exchanges, reshipments)."""
    return _create(conn, actor, data, prefix, check_prices=False)[0]


@dataclass
class _Draft:
    """The new order as computed from what the capture read, before it is written."""

    data: capture_input.OrderInput
    products: list[Any]
    stock: _Stock
    prices: list[int]
    totals: rules.Totals
    plan: rules.Plan
    values: dict[str, Any]  # the orders row, without its number (and id)
    search_rest: str  # search_text after the number
    below: list[pricing.BelowList]  # lines priced below their product's price
    risk: Any = None  # the order's risk (domain/orders/risk.Risk), None when not scored


def _draft(
    data: capture_input.OrderInput,
    products: list[Any],
    stock: _Stock,
    overrides: dict[tuple[str, str], rules.TaxRule],
    customer_id: int | None,
    priced_by: Actor | None = None,
) -> _Draft:
    """Prices, taxes, totals and the allocation plan (refused when stock is short).
    ``priced_by``: who sent the prices, refused when a price is below its product's and
    they may not set such prices (None: the caller decided the prices, e.g. an exchange)."""
    prices = _prices(data, products)
    below = [
        b
        for i, (ln, p, price) in enumerate(zip(data.lines, products, prices, strict=True))
        if ln.unit_price is not None
        and (
            b := pricing.below_list(
                f"lines[{i}].unit_price", p.sku, price, data.currency, p.price_minor, p.currency
            )
        )
        is not None
    ]
    if priced_by is not None:
        pricing.require_pricing(priced_by, below)
    country = data.address.country
    amounts = [
        (price * ln.quantity, rules.tax_rule(country, p.tax_class, overrides))
        for price, ln, p in zip(prices, data.lines, products, strict=True)
    ]
    check_amounts(
        [(f"lines[{i}].quantity", a) for i, (a, _) in enumerate(amounts)]
        + [("shipping_price", data.shipping_minor)],
        "lines",
    )
    ship_rule = rules.tax_rule(country, "standard", overrides)
    totals = rules.totals(amounts, data.shipping_minor, ship_rule)
    plan = _plan(data, products, stock)
    fin = st.financial(totals.total, 0, 0)
    customer = {"email": data.email, "name": data.name, "phone": data.phone}
    rest = search_fold("".join(" " + x for x in (data.email, data.name, data.phone) if x))
    now = utcnow()
    values: dict[str, Any] = dict(
        channel=data.channel,
        external_id=data.external_id,
        status="open",
        financial_status=fin.value,
        fulfillment_status="unfulfilled",
        currency=data.currency,
        customer_id=customer_id,
        customer=customer,
        shipping_address=data.address.as_dict(),
        payment_method=data.payment_method,
        locale=data.locale,
        prices_include_tax=ship_rule.prices_include_tax,
        subtotal_minor=totals.subtotal,
        shipping_minor=totals.shipping,
        tax_minor=totals.tax,
        total_minor=totals.total,
        tracking_token=secrets.token_urlsafe(24),
        paid_minor=0,
        refunded_minor=0,
        cancel_reason=None,
        delivery=data.delivery,
        risk=None,
        hold=None,
        client_ip=data.client_ip,
        billing_address=data.billing_address.as_dict() if data.billing_address else None,
        created_at=now,
        updated_at=now,
    )
    return _Draft(data, products, stock, prices, totals, plan, values, rest, below)


def _create(
    conn: Connection,
    actor: Actor,
    data: capture_input.OrderInput,
    prefix: str,
    idempotency: dict[str, str] | None = None,
    *,
    one_call: bool | None = None,
    check_prices: bool = True,
    score_risk: bool = False,
) -> tuple[int, Callable[[], OrderView]]:
    """The new order's id and what builds its view from what was written (no re-read; the
    caller builds it once its transaction is over). ``idempotency``: the request's
    Idempotency-Key row (scope, key, request_hash), stored with the order. ``one_call``
    (PostgreSQL's default): every write in one call of the database's function, which writes
    what this module decided; otherwise statement by statement (SQLite; on PostgreSQL only
    the parity test does that, see docs/architecture.md). ``check_prices``: refuse prices
    below the product's that ``actor`` may not set (False: the caller set them). ``score_risk``:
    score the order's risk and hold it when high (orders placed, not imported or made by
    staff for an exchange)."""
    products, stock = _products(conn, data)
    overrides = _current_tax_overrides(conn, stock.tax_version)
    priced_by = actor if check_prices else None
    if one_call if one_call is not None else conn.dialect.name == "postgresql":
        draft = _draft(data, products, stock, overrides, None, priced_by)
        facts = _facts(draft) if score_risk else None
        stmt, params, kept = _number_and_customer_query(data, facts, conn.engine)
        found = stmt.first(conn, params)
        if facts is not None:
            risk = order_risk.decide(conn.engine, facts, kept, found)
            _with_risk(draft, risk or order_risk.assess(conn, facts))
        payload, lines = _one_call_payload(actor, draft, prefix, idempotency, found)
        try:
            out = _PLACE_ORDER_CALL.first(conn, {"p": json_text(payload)})[0]
        except DBAPIError as exc:
            _raise_if_stale(exc)
            raise
        order_id = _one_call_done(draft, lines, out)
        return order_id, _answer_of(draft, lines)
    draft = _draft(data, products, stock, overrides, _customer(conn, data), priced_by)
    if score_risk:
        _with_risk(draft, order_risk.assess(conn, _facts(draft)))
    values, totals, plan = draft.values, draft.totals, draft.plan
    number = next_number(conn, prefix)
    values["number"] = number
    values["search_text"] = search_text(number, draft.search_rest)
    order_id = int(_INSERT_ORDER.first(conn, values)[0])
    lines = _line_rows(order_id, data, products, draft.prices, totals, plan)
    line_ids = _insert_lines(conn, lines)
    for ln, line_id in zip(lines, line_ids, strict=True):
        ln["id"] = line_id
    _reserve(conn, actor, order_id, number, products, line_ids, plan)
    _record_created(conn, actor, order_id, number, draft)
    if idempotency:
        conn.execute(_INSERT_IDEMPOTENCY, dict(idempotency, order_id=order_id))
    return order_id, _answer_of(draft, lines)


def _facts(draft: _Draft) -> order_risk.OrderFacts:
    """What the risk rules need of the new order (its history is read by order_risk)."""
    data = draft.data
    billing = data.billing_address
    return order_risk.OrderFacts(
        email=email_key(data.email),
        phone=data.phone,
        line1=data.address.line1 or None,
        line2=data.address.line2,
        shipping_country=data.address.country,
        billing_country=billing.country if billing else None,
        client_ip=data.client_ip,
        total_minor=draft.totals.total,
        currency=data.currency,
    )


def _with_risk(draft: _Draft, risk: Any) -> None:
    """The order's risk and hold, in the row both capture paths write."""
    draft.risk = risk
    draft.values["risk"] = risk.as_dict()
    draft.values["hold"] = risk.hold


def _answer_of(draft: _Draft, lines: list[dict[str, Any]]) -> Callable[[], OrderView]:
    """What builds the new order's view from what was written."""
    where = draft.stock.locations
    data, plan, values = draft.data, draft.plan, draft.values

    def answer() -> OrderView:
        allocs = [
            (where[loc][2], data.lines[i].sku, q)
            for i, loc, q in sorted(
                plan.allocations, key=lambda a: (a[0], where[a[1]][0], where[a[1]][2])
            )
        ]
        return view_of(
            SimpleNamespace(**values),
            [SimpleNamespace(**r) for r in lines],
            allocs,
            customer_note(data.note),
        )

    return answer


def _one_call_payload(
    actor: Actor,
    draft: _Draft,
    prefix: str,
    idempotency: dict[str, str] | None,
    found: Any,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """PostgreSQL: every write of the capture in one statement (db/sql/place_order.sql):
    the customer, the numbered order, the Idempotency-Key, lines, allocations, the ledger,
    the events, the outbox row and last the conditional stock updates in lock order.
    ``found``: the row of ``_number_and_customer_query`` (the number's sequence value and
    the customer found, if any). Everything the function writes is decided here, by the
    same code as SQLite's path; it adds nothing but ids and the time. Returns the payload
    and the lines (their ids come back from the call: ``_one_call_done``)."""
    data, products, plan, values = draft.data, draft.products, draft.plan, draft.values
    number = format_number(prefix, found.n)
    values["number"] = number
    values["search_text"] = search_text(number, draft.search_rest)
    match = match_customer(found, data)
    lines = _line_rows(0, data, products, draft.prices, draft.totals, plan)
    ledger = _reservations(products, plan)
    order = {
        k: v for k, v in values.items() if k not in ("created_at", "updated_at", "customer_id")
    }
    payload = {
        "now": values["created_at"].isoformat(),
        "customer": _customer_payload(found, data, match),
        "order": order,
        "lines": [{k: v for k, v in ln.items() if k != "order_id"} for ln in lines],
        "allocations": [
            {"line": i, "product_id": products[i].id, "location_id": loc, "quantity": q}
            for i, loc, q in plan.allocations
        ],
        "moves": [
            {"product_id": m.product_id, "location_id": m.location_id, "reserved": m.reserved_delta}
            for m in stock_sql.merge(ledger)
        ],
        "ledger": stock_sql.ledger_rows(ledger, actor.name, _RESERVED_FOR, number),
        "events": [
            {"kind": k, "actor": actor.name, "message": m, "data": d}
            for k, m, d in _created_events(actor, draft, number)
        ],
        "outbox": [_created_outbox(draft, number)],
        "idempotency": idempotency,
    }
    return payload, lines


def _customer_payload(found: Any, data: capture_input.OrderInput, match: CustomerMatch) -> Any:
    """The customer part of the function's payload: the match, and what the function checks
    before writing it (SQLSTATE DD002 when it no longer holds): the customer's row as it was
    read when the match changes it (``seen``), or, for a new customer looked up by phone
    alone, the advisory lock that makes a second order with that phone wait
    (``phone_lock``)."""
    out: dict[str, Any] = {"id": match.id, "values": match.values}
    if match.id is not None and match.values:
        out["seen"] = {k: getattr(found, k) for k in ("email", "phone", "name", "addresses")}
    elif match.id is None and data.phone and _customer_lookup(data)[0] == "phone":
        out["phone_lock"] = phone_lock(data.phone)
    return out


def phone_lock(phone: str) -> int:
    """The PostgreSQL advisory lock (a signed 64-bit key) held while a customer with this
    phone is made: phones have no unique key (a household may share one)."""
    digest = hashlib.sha256(f"dingdan customer phone {phone}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _raise_if_stale(exc: DBAPIError) -> None:
    if getattr(exc.orig, "sqlstate", None) == _STOCK_SHORT:
        # Another order took the stock between our read and our reservation; the statement
        # failed whole: plan again.
        raise RetryTransaction(
            InsufficientStock(detail="Not enough stock for this order.")
        ) from None
    if getattr(exc.orig, "sqlstate", None) == _CUSTOMER_CHANGED:
        # Another order changed this order's customer (or made it) between our read and our
        # write: match the customer again.
        raise RetryTransaction(
            Conflict(detail="The customer changed while the order was placed; try again.")
        ) from None


def _one_call_done(draft: _Draft, lines: list[dict[str, Any]], out: dict[str, Any]) -> int:
    """What the function returned, put in the draft's order and lines; the order's id."""
    order_id = int(out["id"])
    draft.values["customer_id"] = int(out["customer_id"])
    for ln, line_id in zip(lines, out["line_ids"], strict=True):
        ln["order_id"], ln["id"] = order_id, int(line_id)
    return order_id


def _reservations(products: list[Any], plan: rules.Plan) -> list[stock_sql.Move]:
    """One reservation per allocation of the plan (the ledger rows; merged per level for
    the conditional updates)."""
    return [
        stock_sql.Move(products[i].id, loc, MovementKind.RESERVATION, 0, q)
        for i, loc, q in plan.allocations
    ]


_OL = table_of(OrderLine)
_LINES_BY_SHAPE: dict[tuple[int, tuple[str, ...]], Prepared] = {}
_LINES_PER_INSERT = 200


def _insert_lines(conn: Connection, lines: list[dict[str, Any]]) -> list[int]:
    """The lines in one INSERT of several rows (200 at most, within SQLite's limit of bound
    values); their ids in the order given (matched by position: the order of RETURNING's
    rows is not promised)."""
    if len(lines) > _LINES_PER_INSERT:
        return [
            line_id
            for start in range(0, len(lines), _LINES_PER_INSERT)
            for line_id in _insert_lines(conn, lines[start : start + _LINES_PER_INSERT])
        ]
    keys = tuple(sorted(lines[0]))
    stmt = _LINES_BY_SHAPE.get((len(lines), keys))
    if stmt is None:
        rows = [
            {k: bindparam(f"{k}_{i}", type_=_OL.c[k].type) for k in keys} for i in range(len(lines))
        ]
        stmt = _LINES_BY_SHAPE[(len(lines), keys)] = Prepared(
            insert(_OL).values(rows).returning(_OL.c.id, _OL.c.position), per_keys=False
        )
    params = {f"{k}_{i}": ln[k] for i, ln in enumerate(lines) for k in keys}
    ids = {int(r.position): int(r.id) for r in stmt.all(conn, params)}
    return [ids[ln["position"]] for ln in lines]


def _line_rows(
    order_id: int,
    data: capture_input.OrderInput,
    products: list[Any],
    prices: list[int],
    totals: rules.Totals,
    plan: rules.Plan,
) -> list[dict[str, Any]]:
    rows = []
    for i, (ln, p, price) in enumerate(zip(data.lines, products, prices, strict=True)):
        back = plan.backordered.get(i, 0)
        rows.append(
            {
                "order_id": order_id,
                "position": i,
                "product_id": p.id,
                "sku": p.sku,
                "name": p.name,
                "quantity": ln.quantity,
                "unit_price_minor": price,
                "tax_minor": totals.line_taxes[i],
                "allocated": ln.quantity - back,
                "backordered": back,
                "shipped": 0,
                "returned": 0,
                "cancelled": 0,
            }
        )
    return rows


def _reserve(
    conn: Connection,
    actor: Actor,
    order_id: int,
    number: str,
    products: list[Any],
    line_ids: list[int],
    plan: rules.Plan,
) -> None:
    if not plan.allocations:
        return
    _INSERT_ALLOCATION.run_many(
        conn,
        [
            {
                "order_id": order_id,
                "line_id": line_ids[i],
                "product_id": products[i].id,
                "location_id": loc,
                "quantity": q,
            }
            for i, loc, q in plan.allocations
        ],
    )
    moves = _reservations(products, plan)
    if not stock_sql.try_apply_all(
        conn, moves, actor=actor.name, reason=_RESERVED_FOR, reference=number
    ):
        # Another order took the stock between our read and our reservation: plan again.
        raise RetryTransaction(InsufficientStock(detail="Not enough stock for this order."))


def _record_created(
    conn: Connection, actor: Actor, order_id: int, number: str, draft: _Draft
) -> None:
    add_events(conn, order_id, actor.name, _created_events(actor, draft, number))
    _INSERT_OUTBOX.run(conn, _created_outbox(draft, number))


_RESERVED_FOR = "order"  # the ledger's reason for a capture's reservations
INVOICE_REQUEST_EVENT = "invoice_request"  # the order's event holding its invoice request


def _created_outbox(draft: _Draft, number: str) -> dict[str, Any]:
    data = draft.data
    total = format_amount(draft.totals.total, data.currency)
    return dict(
        topic="order.created",
        payload={
            "number": number,
            "total": total,
            "currency": data.currency,
            "channel": data.channel,
        },
    )


def _route_of(draft: _Draft) -> tuple[str, dict[str, Any]]:
    """Why the order was filled from where it was: the "allocated" event's message and its
    ``route`` data (the rule, the locations by code, the regions that made them serve)."""
    stock, plan, where = draft.stock, draft.plan, draft.stock.where
    code = {loc: stock.locations[loc][2] for loc in stock.locations}
    used = plan.locations()
    serving = [
        loc
        for loc in stock.ordered_locations()
        if where is None or regions.serves(stock.regions.get(loc), where)
    ]
    matched = regions.matching(stock.regions.get(used[0]), where or ()) if used else []
    served = bool(set(used) & set(serving))
    message = rules.route_message(plan.route, [code[loc] for loc in used], matched, served)
    return message, {
        "route": plan.route.value,
        "locations": [code[loc] for loc in used],
        "serving": [code[loc] for loc in serving],
        "regions": matched,
    }


def _created_events(
    actor: Actor, draft: _Draft, number: str
) -> list[tuple[str, str | None, Mapping[str, object] | None]]:
    """The events of a new order, (kind, message, data) in timeline order."""
    data, plan = draft.data, draft.plan
    total = format_amount(draft.totals.total, data.currency)
    items: list[tuple[str, str | None, Mapping[str, object] | None]] = [
        (
            "created",
            f"Order {number} placed on {data.channel}",
            {"total": total, "currency": data.currency},
        )
    ]
    if draft.below:
        items.append(pricing.event(draft.below))
    note = customer_note(data.note)
    if note:
        items.append(("customer_note", note, None))
    if data.invoice is not None:
        # The invoicing context reads the newest of these when it issues the invoice; an
        # event is written by both capture paths (PostgreSQL's function writes the list).
        items.append((INVOICE_REQUEST_EVENT, None, data.invoice.as_dict()))
    held = order_risk.created_event(draft.risk) if draft.risk is not None else None
    if held is not None:
        items.append(held)
    if plan.allocations:
        message, route = _route_of(draft)
        allocations = [
            {"line": i, "location_id": loc, "quantity": q} for i, loc, q in plan.allocations
        ]
        items.append(("allocated", message, {"allocations": allocations, **route}))
    if plan.backordered:
        items.append(
            (
                "backordered",
                None,
                {
                    "lines": [
                        {"sku": data.lines[i].sku, "quantity": q}
                        for i, q in plan.backordered.items()
                    ]
                },
            )
        )
    return items
