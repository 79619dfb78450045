"""Risk at capture (the facts, read in one statement inside the capture's transaction), the
order scored again when a card payment arrives, the block list, the risk settings,
releasing a held order, and the review queue.

The facts are one SELECT of scalar subqueries, each on an index and bounded: whether the
customer has an earlier order (LIMIT 1), orders in the window by email (customers.email,
orders.customer_id), by phone and by the address's first line (expression indexes on the
JSON columns, migration 0041), by client IP, the customer's failed payment attempts in the
window and the refused or returned parcels of the customer's and the address's latest
orders (each counted up to its rule's limit), the block list, and the settings row itself
(so a capture needs no second read to learn the settings).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import (
    JSON,
    Connection,
    Engine,
    Integer,
    bindparam,
    column,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnClause

from dingdan.db.engine import Database
from dingdan.db.order_tables import Order, Payment
from dingdan.db.prepared import Prepared
from dingdan.db.risk_tables import RiskBlock
from dingdan.db.tables import Setting, table_of
from dingdan.db.types import UTCDateTime, utcnow
from dingdan.domain.orders import risk as rk
from dingdan.domain.shared.errors import (
    Conflict,
    FieldErrors,
    InvalidTransition,
    NotFound,
    OnHold,
    ValidationFailed,
)
from dingdan.domain.shared.money import exponent, format_amount
from dingdan.domain.shared.text import check_clean
from dingdan.services.orders.events import event
from dingdan.services.orders.queries import get_order
from dingdan.services.orders.shapes import (
    BlockCommand,
    BlockView,
    OrderBrief,
    ReviewItem,
    RiskSettingsCommand,
    RiskSettingsView,
)
from dingdan.services.shared.common import Actor, audit, iso
from dingdan.services.shared.view_types import OrderView

KEY = "risk"  # the settings row
HISTORY = 500  # the latest orders of a customer and of an address whose refusals count
MAX_BLOCKS_LISTED = 500

_PHONE = {
    "sqlite": "json_extract(customer, '$.phone')",
    "postgresql": "(customer ->> 'phone')",
}
_LINE1 = {
    "sqlite": "json_extract(shipping_address, '$.line1')",
    "postgresql": "(shipping_address ->> 'line1')",
}
_REFUSED = "('refused', 'returned_to_sender')"


@dataclass(frozen=True)
class OrderFacts:
    """What the capture knows of the new order before it is written."""

    email: str | None  # as the customer is found by (capture.email_key)
    phone: str | None
    line1: str | None
    line2: str | None
    shipping_country: str | None
    billing_country: str | None
    client_ip: str | None
    total_minor: int
    currency: str


def _sql(dialect: str, by_email: bool, with_ip: bool) -> str:
    return "SELECT" + _select_list(dialect, by_email, with_ip)


def _select_list(dialect: str, by_email: bool, with_ip: bool) -> str:
    phone, line1 = _PHONE[dialect], _LINE1[dialect]
    if by_email:
        customer_orders = (
            "SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id"
            " WHERE c.email = :email"
        )
        in_window = (
            "(SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id"
            " WHERE c.email = :email AND o.created_at >= :since)"
        )
        owner = "o.customer_id IN (SELECT id FROM customers WHERE email = :email)"
    else:
        customer_orders = f"SELECT id FROM orders WHERE {phone} = :phone"
        in_window = "0"
        owner = phone.replace("(customer", "(o.customer") + " = :phone"
    by_ip = (
        "(SELECT count(*) FROM orders WHERE client_ip = :ip AND created_at >= :since)"
        if with_ip
        else "NULL"
    )
    # Bounded: whether the customer has any order at all (LIMIT 1); their failed payment
    # attempts in the window and their refused parcels counted only up to the rule's limit,
    # all the rule needs (:failed_cap, :cod_cap), the refusals among the latest orders of
    # the customer and of the address.
    recent_customer = f"SELECT id FROM ({customer_orders} ORDER BY 1 DESC LIMIT {HISTORY}) h1"
    recent_address = (
        f"SELECT id FROM (SELECT id FROM orders WHERE {line1} = :line1"
        f" ORDER BY created_at DESC LIMIT {HISTORY}) h2"
    )
    return f"""
  (SELECT value FROM settings WHERE key = '{KEY}') AS settings,
  {in_window} AS by_email,
  (SELECT count(*) FROM ({customer_orders} LIMIT 1) e) AS earlier,
  (SELECT count(*) FROM orders WHERE {phone} = :phone AND created_at >= :since) AS by_phone,
  (SELECT count(*) FROM orders WHERE {line1} = :line1 AND created_at >= :since) AS by_address,
  {by_ip} AS by_ip,
  (SELECT count(*) FROM (SELECT 1 FROM payment_attempts pa JOIN orders o ON o.id = pa.order_id
     WHERE pa.status = 'failed' AND pa.kind = 'payment' AND pa.created_at >= :since
     AND {owner} LIMIT :failed_cap) f) AS failed_payments,
  (SELECT count(*) FROM (SELECT 1 FROM shipments WHERE exception IN {_REFUSED} AND order_id IN
     ({recent_customer} UNION {recent_address}) LIMIT :cod_cap) r) AS cod_refusals,
  (SELECT 1 FROM risk_blocks WHERE kind = 'email' AND key = :email_key) AS block_email,
  (SELECT 1 FROM risk_blocks WHERE kind = 'phone' AND key = :phone_key) AS block_phone,
  (SELECT 1 FROM risk_blocks WHERE kind = 'address' AND key = :address_key) AS block_address"""


_COLUMNS: tuple[ColumnClause[Any], ...] = (
    column("settings", JSON()),
    *(
        column(name, Integer())
        for name in (
            "by_email",
            "earlier",
            "by_phone",
            "by_address",
            "by_ip",
            "failed_payments",
            "cod_refusals",
            "block_email",
            "block_phone",
            "block_address",
        )
    ),
)
_QUERIES: dict[tuple[str, bool, bool], Prepared] = {}


def _query(dialect: str, by_email: bool, with_ip: bool) -> Prepared:
    stmt = _QUERIES.get((dialect, by_email, with_ip))
    if stmt is None:
        sql = text(_sql(dialect, by_email, with_ip)).bindparams(
            bindparam("since", type_=UTCDateTime(timezone=True))
        )
        stmt = _QUERIES[(dialect, by_email, with_ip)] = Prepared(sql.columns(*_COLUMNS))
    return stmt


# Per engine: the settings as last read (raw value, parsed). The facts' statement reads the
# row too; the window it counted with is the kept one, counted again when the row differs.
_SETTINGS: WeakKeyDictionary[Engine, tuple[Any, rk.Settings]] = WeakKeyDictionary()


def _cap(settings: rk.Settings, rule: str) -> int:
    """How far a bounded count goes: the rule's limit (0 when the rule cannot fire)."""
    r = settings.rules[rule]
    return int(r.limit or 0) if settings.enabled and r.enabled and r.points > 0 else 0


def _counting(settings: rk.Settings) -> tuple[int, int, int]:
    """What of the settings the facts' statement counts with: when another process changed
    it, the facts are counted again."""
    return (
        settings.window_hours,
        _cap(settings, "failed_payments"),
        _cap(settings, "cod_refusals"),
    )


def _statement(engine: Engine, order: OrderFacts) -> tuple[Prepared, dict[str, object], Any]:
    raw, settings = _SETTINGS.get(engine, (None, rk.Settings()))
    hours, failed_cap, cod_cap = _counting(settings)
    params: dict[str, object] = {
        "email": order.email,
        "phone": order.phone,
        "line1": order.line1,
        "ip": order.client_ip,
        "failed_cap": failed_cap,
        "cod_cap": cod_cap,
        "since": utcnow() - timedelta(hours=hours),
        "email_key": rk.email_key(order.email),
        "phone_key": rk.phone_key(order.phone),
        "address_key": rk.address_key(order.line1, order.line2),
    }
    if not order.client_ip:
        del params["ip"]
    stmt = _query(engine.dialect.name, bool(order.email), bool(order.client_ip))
    return stmt, params, raw


_WITH_NUMBER: dict[tuple[str, bool, bool], Prepared] = {}


def with_facts(
    engine: Engine,
    order: OrderFacts,
    sql: str,
    columns: tuple[ColumnClause[Any], ...],
    params: Mapping[str, object],
) -> tuple[Prepared, dict[str, object], Any]:
    """PostgreSQL's capture: its read of the order's number and customer (``sql``, one row
    of ``columns`` with ``params``) and the risk facts in one statement, so the facts cost
    no round trip of their own. Returns the statement, its parameters and what ``decide``
    needs besides the row."""
    _, facts_params, kept = _statement(engine, order)
    key = (sql, bool(order.email), bool(order.client_ip))
    stmt = _WITH_NUMBER.get(key)
    if stmt is None:
        select_list = _select_list(engine.dialect.name, key[1], key[2])
        combined = text(f"SELECT b.*, {select_list} FROM ({sql}) AS b").bindparams(
            bindparam("since", type_=UTCDateTime(timezone=True))
        )
        stmt = _WITH_NUMBER[key] = Prepared(combined.columns(*columns, *_COLUMNS))
    return stmt, {**facts_params, **params}, kept


def decide(engine: Engine, order: OrderFacts, kept: Any, row: Any) -> rk.Risk | None:
    """The order's risk from the facts' row; None when the settings changed what is counted
    (the window, the limits of the bounded counts) since they were kept (count again)."""
    raw = row.settings
    if raw != kept or engine not in _SETTINGS:
        settings = rk.stored_settings(raw)
        old = _SETTINGS.get(engine, (None, rk.Settings()))[1]
        _SETTINGS[engine] = (raw, settings)
        if _counting(settings) != _counting(old):
            return None
    settings = _SETTINGS[engine][1]
    blocked = tuple(
        k
        for k, hit in (
            ("email", row.block_email),
            ("phone", row.block_phone),
            ("address", row.block_address),
        )
        if hit
    )
    facts = rk.Facts(
        email=order.email,
        orders_by_email=int(row.by_email or 0),
        orders_by_phone=int(row.by_phone or 0),
        orders_by_address=int(row.by_address or 0),
        orders_by_ip=None if row.by_ip is None else int(row.by_ip),
        earlier_orders=int(row.earlier or 0),
        total_minor=order.total_minor,
        decimals=exponent(order.currency),
        currency=order.currency,
        shipping_country=order.shipping_country,
        billing_country=order.billing_country,
        failed_payments=int(row.failed_payments or 0),
        cod_refusals=int(row.cod_refusals or 0),
        blocked=blocked,
    )
    return rk.score(facts, settings)


def assess(conn: Connection, order: OrderFacts) -> rk.Risk:
    """The new order's risk, read inside the capture's transaction (one statement; two
    when the settings' counting changed since this process last read them)."""
    for _ in range(2):
        stmt, params, kept = _statement(conn.engine, order)
        risk = decide(conn.engine, order, kept, stmt.first(conn, params))
        if risk is not None:
            return risk
    raise AssertionError("the risk settings changed twice during one capture")


async def assess_async(
    engine: Engine,
    first: Callable[[Prepared, Mapping[str, object]], Awaitable[Any]],
    order: OrderFacts,
) -> rk.Risk:
    """``assess`` on an asynchronous connection (``first``: its ``AsyncStatements.first``)."""
    for _ in range(2):
        stmt, params, kept = _statement(engine, order)
        risk = decide(engine, order, kept, await first(stmt, params))
        if risk is not None:
            return risk
    raise AssertionError("the risk settings changed twice during one capture")


# --- a card payment ------------------------------------------------------------------------

_P = table_of(Payment)


def orders_by_card(conn: Connection, order_id: int, fingerprint: str, hours: int) -> int:
    """Other orders paid with the card of ``fingerprint`` in the last ``hours`` (on the
    index of payments by fingerprint and time)."""
    since = utcnow() - timedelta(hours=hours)
    return int(
        conn.execute(
            select(func.count(_P.c.order_id.distinct())).where(
                _P.c.card_fingerprint == fingerprint,
                _P.c.created_at >= since,
                _P.c.kind == "payment",
                _P.c.order_id != order_id,
            )
        ).scalar_one()
    )


def on_card_payment(
    conn: Connection,
    actor: Actor,
    order_id: int,
    fingerprint: str | None,
    card_country: str | None,
) -> rk.Risk | None:
    """Scores the order again once a card payment told its card (in the payment's
    transaction, the order's row held): the card velocity and card country rules decided
    with the card's facts, the capture's other reasons kept. When the level becomes high,
    the order is held exactly as at capture (``risk_held`` event, audited), unless it has
    shipped or is no longer open: then the order is flagged (``risk_flagged``), not held.
    Orders not scored at capture (staff's exchanges, replacements) are left alone. Returns
    the new risk, None when nothing changed."""
    if not fingerprint and not card_country:
        return None
    row = conn.execute(
        select(
            _O.c.number,
            _O.c.status,
            _O.c.fulfillment_status,
            _O.c.risk,
            _O.c.hold,
            _O.c.shipping_address,
            _O.c.billing_address,
        ).where(_O.c.id == order_id)
    ).first()
    if row is None or not isinstance(row.risk, dict):
        return None
    settings = load_settings(conn)
    by_card = None
    if fingerprint:
        by_card = orders_by_card(conn, order_id, fingerprint, settings.window_hours)
    facts = rk.CardFacts(
        orders_by_card=by_card,
        card_country=card_country,
        shipping_country=(row.shipping_address or {}).get("country"),
        billing_country=(row.billing_address or {}).get("country"),
    )
    risk = rk.with_card(row.risk, facts, settings)
    if risk.as_dict() == row.risk:
        return None
    shipped = row.status != "open" or row.fulfillment_status != "unfulfilled"
    hold = row.hold
    if risk.hold and hold is None and not shipped:
        hold = risk.hold
    conn.execute(
        update(_O)
        .where(_O.c.id == order_id)
        .values(risk=risk.as_dict(), hold=hold, updated_at=utcnow())
    )
    if hold != row.hold:
        event(conn, order_id, "risk_held", actor.name, None, {**risk.as_dict(), "hold": hold})
        audit(
            conn,
            actor,
            "hold_risk",
            "order",
            row.number,
            {"hold": row.hold, "risk": row.risk},
            {"hold": hold, "risk": risk.as_dict()},
        )
    elif risk.hold:
        # High now, but shipped (or held already): the seller is told, nothing is stopped.
        event(conn, order_id, "risk_flagged", actor.name, None, risk.as_dict())
        audit(conn, actor, "flag_risk", "order", row.number, {"risk": row.risk}, risk.as_dict())
    return risk


def created_event(risk: rk.Risk) -> tuple[str, str | None, Mapping[str, object]] | None:
    """The new order's event when it is held (written by both capture paths)."""
    if risk.hold is None:
        return None
    return ("risk_held", None, {**risk.as_dict(), "hold": risk.hold})


# --- settings ----------------------------------------------------------------------------------


def load_settings(conn: Connection) -> rk.Settings:
    value = conn.execute(select(Setting.value).where(Setting.key == KEY)).scalar()
    return rk.stored_settings(value)


def settings_view(settings: rk.Settings) -> RiskSettingsView:
    """The settings as stored and answered (``rk.Settings.as_dict``'s fields, typed)."""
    return {
        "enabled": settings.enabled,
        "window_hours": settings.window_hours,
        "medium": settings.medium,
        "high": settings.high,
        "rules": {
            k: {"points": r.points, "limit": r.limit, "enabled": r.enabled}
            for k, r in settings.rules.items()
        },
    }


def get_settings(db: Database) -> RiskSettingsView:
    return db.read(lambda conn: settings_view(load_settings(conn)))


def put_settings(db: Database, actor: Actor, body: RiskSettingsCommand) -> RiskSettingsView:
    """Replaces the settings; fields left out take their defaults."""
    settings = rk.parse_settings(body)

    def work(conn: Connection) -> RiskSettingsView:
        before = settings_view(load_settings(conn))
        value = settings_view(settings)
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(Setting).values(key=KEY, value=value, updated_at=utcnow())
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["key"], set_={"value": value, "updated_at": utcnow()}
            )
        )
        audit(conn, actor, "update", "setting", KEY, before, value)
        return value

    return db.write(work)


# --- the block list ----------------------------------------------------------------------------

_B = table_of(RiskBlock)


def block_view(row: Any) -> BlockView:
    return {
        "id": str(row.id),
        "kind": row.kind,
        "value": row.value,
        "note": row.note,
        "created_by": row.created_by,
        "created_at": iso(row.created_at),
    }


def _checked_block(body: Any) -> tuple[str, str, str, str | None]:
    errors = FieldErrors()
    if not isinstance(body, dict):
        raise ValidationFailed.on("body", "not_an_object")
    kind = body.get("kind")
    if kind not in rk.BLOCK_KINDS:
        errors.add("kind", "not_one_of", choices=", ".join(rk.BLOCK_KINDS))
    value = body.get("value")
    if not isinstance(value, str) or not value.strip() or len(value) > 300:
        errors.add("value", "required_text", max=300)
    elif not check_clean(value, "value", errors):
        pass
    note = body.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > 500):
        errors.add("note", "required_text", max=500)
    errors.raise_if_any()
    key = rk.block_key(str(kind), str(value))
    if key is None:
        raise ValidationFailed.on("value", "required_text", max=300)
    return str(kind), str(value).strip(), key, (note.strip() or None) if note else None


def add_block(db: Database, actor: Actor, body: BlockCommand) -> BlockView:
    """A new block-list entry; 409 when the same kind and key is listed already."""
    kind, value, key, note = _checked_block(body)

    def work(conn: Connection) -> BlockView:
        return add_block_in(conn, actor, kind, value, note)

    return db.write(work)


def add_block_in(
    conn: Connection, actor: Actor, kind: str, value: str, note: str | None = None
) -> BlockView:
    key = rk.block_key(kind, value)
    if key is None:
        raise ValidationFailed.on("value", "required_text", max=300)
    taken = conn.execute(select(_B).where(_B.c.kind == kind, _B.c.key == key)).first()
    if taken is not None:
        raise Conflict(detail=f"This {kind} is on the block list already (entry {taken.id}).")
    now = utcnow()
    try:
        with conn.begin_nested():
            row = conn.execute(
                _B.insert()
                .values(
                    kind=kind,
                    value=value[:300],
                    key=key,
                    note=note,
                    created_by=actor.name,
                    created_at=now,
                    updated_at=now,
                )
                .returning(*_B.c)
            ).one()
    except IntegrityError:
        raise Conflict(detail=f"This {kind} is on the block list already.") from None
    view = block_view(row)
    audit(conn, actor, "block", "risk_block", str(row.id), None, view)
    return view


def list_blocks(db: Database, kind: str | None = None) -> list[BlockView]:
    if kind is not None and kind not in rk.BLOCK_KINDS:
        raise ValidationFailed.on("kind", "not_one_of", choices=", ".join(rk.BLOCK_KINDS))

    def work(conn: Connection) -> list[BlockView]:
        stmt = select(_B).order_by(_B.c.id.desc()).limit(MAX_BLOCKS_LISTED)
        if kind is not None:
            stmt = stmt.where(_B.c.kind == kind)
        return [block_view(r) for r in conn.execute(stmt)]

    return db.read(work)


def remove_block(db: Database, actor: Actor, block_id: int) -> None:
    def work(conn: Connection) -> None:
        row = conn.execute(select(_B).where(_B.c.id == block_id)).first()
        if row is None:
            raise NotFound(detail=f"No block-list entry {block_id}.")
        conn.execute(delete(_B).where(_B.c.id == block_id))
        audit(conn, actor, "unblock", "risk_block", str(block_id), block_view(row), None)

    db.write(work)


# --- holds -------------------------------------------------------------------------------------

_O = table_of(Order)


def refuse_if_held(conn: Connection, order_id: int) -> None:
    """Raises OnHold (409 ``on_hold``) when the order is held: called by picking, packing
    and shipping inside their write transaction, after the order row is read there."""
    row = conn.execute(select(_O.c.number, _O.c.hold, _O.c.risk).where(_O.c.id == order_id)).first()
    if row is None or row.hold is None:
        return
    reasons = ", ".join(r.get("code", "") for r in (row.risk or {}).get("reasons", []))
    why = f" ({reasons})" if reasons else ""
    raise OnHold(
        detail=f"Order {row.number} is held for a risk review{why}: "
        "approve it (or cancel it) before picking, packing or shipping."
    )


def _held_order(conn: Connection, number: str) -> Any:
    stmt = select(_O.c.id, _O.c.status, _O.c.hold, _O.c.risk).where(_O.c.number == number)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    if row is None:
        raise NotFound(detail=f"No order numbered {number!r}.")
    if row.status != "open":
        raise InvalidTransition(detail=f"Order {number} is {row.status}; nothing to release.")
    if row.hold != rk.HOLD:
        raise InvalidTransition(detail=f"Order {number} is not held for a risk review.")
    return row


def approve_in(conn: Connection, actor: Actor, number: str, note: str | None = None) -> None:
    """Releases the order's risk hold (it is pickable at once); audited, in its events."""
    row = _held_order(conn, number)
    conn.execute(update(_O).where(_O.c.id == row.id).values(hold=None, updated_at=utcnow()))
    event(conn, row.id, "risk_approved", actor.name, note, {"risk": row.risk})
    audit(conn, actor, "approve_risk", "order", number, {"hold": row.hold}, {"hold": None})


def approve(db: Database, actor: Actor, number: str, note: str | None = None) -> OrderView:
    db.write(lambda conn: approve_in(conn, actor, number, note))
    return get_order(db, number)


# --- the review queue --------------------------------------------------------------------------

MAX_QUEUE = 100
_SIMILAR = 10


def _brief(row: Any) -> OrderBrief:
    return {
        "number": row.number,
        "status": row.status,
        "financial_status": row.financial_status,
        "fulfillment_status": row.fulfillment_status,
        "total": format_amount(row.total_minor, row.currency),
        "currency": row.currency,
        "created_at": iso(row.created_at),
        "hold": row.hold,
    }


_BRIEF_COLUMNS = (
    "id",
    "number",
    "status",
    "financial_status",
    "fulfillment_status",
    "total_minor",
    "currency",
    "created_at",
    "hold",
)


def held_count(db: Database) -> int:
    """Open orders held for review (the nav's count)."""
    return int(
        db.read(
            lambda conn: conn.execute(
                select(func.count())
                .select_from(_O)
                .where(_O.c.hold.is_not(None), _O.c.status == "open")
            ).scalar_one()
        )
    )


def _similar(conn: Connection, row: Any) -> list[OrderBrief]:
    """Other orders with the same email (customer), phone or first address line, newest
    first: each read on its index."""
    dialect = conn.dialect.name
    cols = ", ".join(_BRIEF_COLUMNS)
    phone = (row.customer or {}).get("phone")
    line1 = (row.shipping_address or {}).get("line1")
    found: dict[int, Any] = {}
    for where, params in (
        ("customer_id = :v", {"v": row.customer_id}),
        (f"{_PHONE[dialect]} = :v", {"v": phone}),
        (f"{_LINE1[dialect]} = :v", {"v": line1}),
    ):
        if params["v"] is None:
            continue
        sql = text(
            f"SELECT {cols} FROM orders WHERE {where} AND id <> :id ORDER BY id DESC LIMIT :n"
        ).columns(*(_O.c[c] for c in _BRIEF_COLUMNS))
        for r in conn.execute(sql, {**params, "id": row.id, "n": _SIMILAR}):
            found.setdefault(int(r.id), r)
    return [_brief(found[i]) for i in sorted(found, reverse=True)[:_SIMILAR]]


def review_queue(db: Database, limit: int = MAX_QUEUE) -> list[ReviewItem]:
    """Open orders held for review, oldest first, each with its risk, its customer and
    the other orders by the same email, phone or address."""

    def work(conn: Connection) -> list[ReviewItem]:
        rows = conn.execute(
            select(_O)
            .where(_O.c.hold.is_not(None), _O.c.status == "open")
            .order_by(_O.c.id)
            .limit(limit)
        ).all()
        return [
            {
                **_brief(r),
                "risk": r.risk or {},
                "customer": r.customer or {},
                "shipping_address": r.shipping_address or {},
                "payment_method": r.payment_method,
                "similar": _similar(conn, r),
            }
            for r in rows
        ]

    return db.read(work)
