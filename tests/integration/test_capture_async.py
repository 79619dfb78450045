"""PostgreSQL's order capture on the event loop (``orders.place_order_async`` on psycopg's
asynchronous connections, db/async_pg.py): it stores exactly what the threaded path
stores, hands that path what only it answers, plans again when stock is taken under it,
never oversells from many loops at once, survives lost connections, answers 503 when the
database cannot be reached, and leaves no connection open after ``Database.dispose``."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

from dingdan.db.engine import Database
from dingdan.db.order_tables import Customer, IdempotencyKey, Order, OrderEvent, OrderLine
from dingdan.db.tables import OutboxMessage, StockMovement
from dingdan.domain.shared.errors import (
    IdempotencyConflict,
    InsufficientStock,
    ServiceUnavailable,
)
from dingdan.services.catalog import channels_and_taxes
from dingdan.services.orders import capture, queries
from tests.builders import ADMIN, location, product, receive
from tests.helpers import run_threads
from tests.integration.test_capture_stale_plan import _take_after_first_plan
from tests.integration.test_order_concurrency import (
    _assert_reservations_match_allocations,
    _body,
    _count,
    _watch_deadlocks,
)

# Many threads (or processes) against one database: one such module at a time, on one
# pytest-xdist worker, beside the ordinary tests of the other.
pytestmark = pytest.mark.xdist_group("threads")


@pytest.fixture
def pg_db(db: Database) -> Database:
    if db.is_sqlite:
        pytest.skip("SQLite's capture runs in a worker thread: its writers share one lock")
    return db


def _place(db: Database, body: dict[str, Any], **kw: Any) -> Any:
    return asyncio.run(capture.place_order_async(db, ADMIN, body, **kw))


def _stored(db: Database, number: str) -> dict[str, Any]:
    """What the capture wrote for one order, without ids, numbers and moments."""

    def work(c: Any) -> dict[str, Any]:
        o = c.execute(select(Order).where(Order.number == number)).one()
        lines = c.execute(
            select(OrderLine).where(OrderLine.order_id == o.id).order_by(OrderLine.position)
        ).all()
        events = c.execute(
            select(OrderEvent.kind, OrderEvent.actor, OrderEvent.message, OrderEvent.data)
            .where(OrderEvent.order_id == o.id)
            .order_by(OrderEvent.id)
        ).all()
        ledger = c.execute(
            select(
                StockMovement.product_id,
                StockMovement.location_id,
                StockMovement.kind,
                StockMovement.reserved_delta,
                StockMovement.reason,
                StockMovement.actor,
            )
            .where(StockMovement.reference == number)
            .order_by(StockMovement.id)
        ).all()
        outbox = c.execute(
            select(OutboxMessage.topic, OutboxMessage.payload).order_by(OutboxMessage.id)
        ).all()
        skip = {"id", "number", "tracking_token", "created_at", "updated_at", "search_text"}
        return {
            "order": {k: v for k, v in o._mapping.items() if k not in skip},
            "search_text": o.search_text.replace(number.lower(), "#"),
            "lines": [
                {k: v for k, v in ln._mapping.items() if k not in ("id", "order_id")}
                for ln in lines
            ],
            "events": [(k, a, (m or "").replace(number, "#"), d) for k, a, m, d in events],
            "ledger": [tuple(r) for r in ledger],
            "outbox": [(t, {**p, "number": "#"}) for t, p in outbox if p.get("number") == number],
        }

    return db.read(work)


def test_the_event_loop_stores_exactly_what_the_threaded_path_stores(pg_db: Database) -> None:
    db = pg_db
    product(db, "TEA-001", price="350.00")
    product(db, "CUP-002", price="120.00")
    location(db, "TPE", priority=0)
    location(db, "KHH", priority=1)
    receive(db, "TPE", {"TEA-001": 4, "CUP-002": 10})
    receive(db, "KHH", {"TEA-001": 10})
    # A rate of the seller's own, read through the tax table's version.
    channels_and_taxes.set_tax_rate(
        db, ADMIN, "TW", "standard", {"rate": "10", "prices_include_tax": False}
    )
    lines = [{"sku": "TEA-001", "quantity": 2}, {"sku": "CUP-002", "quantity": 1}]

    threaded, t_created = capture.place_order(db, ADMIN, _body(lines))
    looped, l_created = _place(db, _body(lines))

    assert t_created and l_created
    varying = ("number", "created_at", "updated_at", "tracking_token", "tracking_url")
    a = {k: v for k, v in threaded.items() if k not in varying}
    b = {k: v for k, v in looped.items() if k not in varying}
    assert a == b
    assert looped == queries.get_order(db, looped["number"])  # the answer is what is stored
    assert looped["tax_total"] == "88.00"  # 10% on 350 x 2 + 120 + 60 shipping, added
    assert _stored(db, threaded["number"]) == _stored(db, looped["number"])
    # Both found the same customer: the one the first order made.
    assert _count(db, Customer) == 1

    # An order split over two locations (neither holds all of it), from the same stock.
    product(db, "SPL-3", price="80.00")
    lines = [{"sku": "SPL-3", "quantity": 3}]
    receive(db, "TPE", {"SPL-3": 2})
    receive(db, "KHH", {"SPL-3": 2})
    threaded, _ = capture.place_order(db, ADMIN, _body(lines))
    receive(db, "TPE", {"SPL-3": 2})
    receive(db, "KHH", {"SPL-3": 1})
    looped, _ = _place(db, _body(lines))
    assert len(looped["allocations"]) == 2
    assert looped["allocations"] == threaded["allocations"]
    split = _stored(db, looped["number"])
    assert split == _stored(db, threaded["number"]) and len(split["ledger"]) == 2
    _assert_reservations_match_allocations(db)


def test_what_only_the_threaded_path_answers_is_handed_to_it(pg_db: Database) -> None:
    db = pg_db
    product(db, "TEA-001", price="350.00")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 30})
    body = _body([{"sku": "TEA-001", "quantity": 2}])

    first, created = _place(db, body, idempotency_key="k-1")
    assert created
    # The same key again: an earlier order answers, which the threaded path builds.
    assert _place(db, body, idempotency_key="k-1") is None
    again, created = capture.place_order(db, ADMIN, body, idempotency_key="k-1")
    assert (again["number"], created) == (first["number"], False)
    # The same key with another body is refused here already.
    with pytest.raises(IdempotencyConflict):
        _place(db, _body([{"sku": "TEA-001", "quantity": 3}]), idempotency_key="k-1")

    shop = _body([{"sku": "TEA-001", "quantity": 1}], external_id="SHOP-1")
    assert _place(db, shop) is not None
    assert _place(db, shop) is None  # that channel's order SHOP-1 exists

    channels_and_taxes.create_channel(db, ADMIN, {"code": "line-shop", "name": "LINE 商店"})
    assert _place(db, dict(body, channel="line-shop")) is None  # a channel of the seller's own

    assert _count(db, Order) == 2 and _count(db, IdempotencyKey) == 1
    stock = db.read(lambda c: c.execute(text("SELECT reserved FROM stock_levels")).scalar_one())
    assert stock == 3
    _assert_reservations_match_allocations(db)


def _levels(db: Database) -> list[tuple[str, int, int]]:
    rows = db.read(
        lambda c: c.execute(
            text(
                "SELECT l.code, s.on_hand, s.reserved FROM stock_levels s "
                "JOIN locations l ON l.id = s.location_id ORDER BY l.code"
            )
        ).all()
    )
    return [tuple(r) for r in rows]


def test_a_plan_made_stale_on_the_event_loop_leaves_nothing_and_answers_409(
    pg_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = pg_db
    product(db, "TEA-001", price="350.00")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 5})
    plans = _take_after_first_plan(monkeypatch, db, "TPE")

    with pytest.raises(InsufficientStock):
        _place(db, _body([{"sku": "TEA-001", "quantity": 3}]), idempotency_key="stale-1")

    assert plans == [0]
    for model in (Order, Customer, IdempotencyKey, OutboxMessage):
        assert _count(db, model) == 0, model.__name__
    assert _levels(db) == [("TPE", 5, 5)]  # only the other writer's reservation


def test_a_plan_made_stale_on_the_event_loop_is_made_again(
    pg_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = pg_db
    product(db, "TEA-001", price="350.00")
    location(db, "TPE", priority=0)
    location(db, "KHH", priority=1)
    receive(db, "TPE", {"TEA-001": 5})
    receive(db, "KHH", {"TEA-001": 5})
    plans = _take_after_first_plan(monkeypatch, db, "TPE")

    view, created = _place(db, _body([{"sku": "TEA-001", "quantity": 3}]))

    assert created and plans == [0, 1]
    assert [(a["location"], a["quantity"]) for a in view["allocations"]] == [("KHH", 3)]
    assert _count(db, Order) == 1 and _count(db, OutboxMessage) == 1
    assert _levels(db) == [("KHH", 5, 3), ("TPE", 5, 5)]


def test_eighty_buyers_on_four_event_loops_for_forty_units_make_exactly_forty_orders(
    pg_db: Database,
) -> None:
    """Four threads, each an event loop running twenty captures at once, against one SKU
    at two locations (some orders split); everyone a new customer with one shared email in
    ten, so the customer insert races too."""
    db = pg_db
    product(db, "HOT-1", price="99.00")
    location(db, "TPE", priority=0)
    location(db, "KHH", priority=1)
    receive(db, "TPE", {"HOT-1": 25})
    receive(db, "KHH", {"HOT-1": 15})
    deadlocks = _watch_deadlocks(db)
    outcomes: list[str] = []

    async def buyer(n: int) -> str:
        body = _body([{"sku": "HOT-1", "quantity": 1 + n % 2}])
        body["customer"] = {"email": f"buyer{n % 10}@example.com", "name": f"買家{n}"}
        try:
            view, created = await capture.place_order_async(db, ADMIN, body)
        except InsufficientStock:
            return "short"
        assert created
        return f"units:{sum(a['quantity'] for a in view['allocations'])}"

    def loop(i: int) -> None:
        async def many() -> list[str]:
            return list(await asyncio.gather(*(buyer(i * 20 + k) for k in range(20))))

        outcomes.extend(asyncio.run(many()))

    assert run_threads(4, loop, timeout=60) == []
    sold = sum(int(o.split(":")[1]) for o in outcomes if o.startswith("units:"))
    assert len(outcomes) == 80
    assert sold == 40  # every unit, and not one more
    levels = db.read(
        lambda c: c.execute(text("SELECT sum(on_hand), sum(reserved) FROM stock_levels")).one()
    )
    assert tuple(levels) == (40, 40)
    assert _count(db, Order) == sum(o.startswith("units:") for o in outcomes)
    assert _count(db, Customer) <= 10
    assert deadlocks == []
    _assert_reservations_match_allocations(db)


def _backends(dbname: str, admin_url: Any) -> list[int]:
    admin = create_engine(admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = :d "
                    "AND pid <> pg_backend_pid()"
                ),
                {"d": dbname},
            )
            return [int(r[0]) for r in rows]
    finally:
        admin.dispose()


def _admin_url(db: Database) -> Any:
    return db.engine.url.set(database="postgres")


def _ten_teas(db: Database) -> tuple[str, Any, dict[str, Any]]:
    """Ten units of one product; the database's name, a URL to watch its connections from,
    and an order of one unit."""
    product(db, "TEA-001", price="350.00")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 10})
    name = db.engine.url.database
    assert name
    return name, _admin_url(db), _body([{"sku": "TEA-001", "quantity": 1}])


def test_lost_connections_are_replaced_and_dispose_closes_every_one(pg_db: Database) -> None:
    db = pg_db
    name, admin_url, body = _ten_teas(db)

    async def around_a_lost_connection() -> list[str]:
        first, _ = await capture.place_order_async(db, ADMIN, body)
        # The server ends every connection of this database (a restart, a proxy, an admin).
        terminator = create_engine(admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        with terminator.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :d AND pid <> pg_backend_pid()"
                ),
                {"d": name},
            )
        terminator.dispose()
        second, _ = await capture.place_order_async(db, ADMIN, body)
        return [first["number"], second["number"]]

    numbers = asyncio.run(around_a_lost_connection())
    assert len(set(numbers)) == 2
    assert _count(db, Order) == 2
    assert _backends(name, admin_url) != []
    db.dispose()
    assert _backends(name, admin_url) == []


def test_an_ended_event_loop_leaves_no_connection_behind(pg_db: Database) -> None:
    db = pg_db
    name, admin_url, body = _ten_teas(db)

    async def place_and_name_the_connections() -> set[int]:
        await capture.place_order_async(db, ADMIN, body)
        pool = db._async_pool()
        return {s.conn.info.backend_pid for s in pool._idle}

    first = asyncio.run(place_and_name_the_connections())
    assert first and first <= set(_backends(name, admin_url))
    second = asyncio.run(place_and_name_the_connections())  # a new loop: the first has ended
    assert second and not first & second
    assert not first & set(_backends(name, admin_url))
    assert _count(db, Order) == 2


def test_a_database_that_cannot_be_reached_is_503(pg_db: Database) -> None:
    db = pg_db
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = db.engine.url.set(host="127.0.0.1", port=port)
    down = Database(url.render_as_string(hide_password=False))
    try:
        with pytest.raises(ServiceUnavailable):
            asyncio.run(
                capture.place_order_async(down, ADMIN, _body([{"sku": "TEA-001", "quantity": 1}]))
            )
    finally:
        down.dispose()
