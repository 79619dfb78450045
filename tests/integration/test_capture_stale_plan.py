"""Stock taken by another writer between the capture's reads (its plan) and its write.

On PostgreSQL the capture reads without a transaction block and writes the whole order in
one statement (migration 0009), whose conditional stock updates come last: when one fails,
the statement must fail whole, leaving no customer, order, key, ledger row or outbox
message of the attempt, and the capture plans again from what is left. SQLite's capture
holds the write lock from its first read to its commit, so no writer can come between.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from dingdan.db.order_tables import (
    Allocation,
    Customer,
    IdempotencyKey,
    Order,
    OrderEvent,
)
from dingdan.db.tables import OutboxMessage, StockMovement
from dingdan.domain.shared.errors import InsufficientStock
from dingdan.services.inventory import stock as inventory
from dingdan.services.orders import capture
from tests.builders import ADMIN, address, location, order_body, product, receive


@pytest.fixture
def pg_db(db):
    if db.is_sqlite:
        pytest.skip("SQLite's capture holds the write lock from its reads to its commit")
    return db


def _body(quantity: int) -> dict:
    return order_body(
        [{"sku": "TEA-001", "quantity": quantity}],
        customer={"email": "new-buyer@example.com", "name": "林小華"},
        shipping_address=address(
            name="林小華",
            line1="中正路1號",
            city="台中市",
            postal_code="400",
            phone="+886922333444",
        ),
    )


def _count(db, model) -> int:
    return db.read(lambda c: c.execute(select(func.count()).select_from(model)).scalar_one())


def _take_after_first_plan(monkeypatch, db, location_code: str) -> list[int]:
    """After the capture's first plan, another connection reserves all of ``location_code``
    and commits. Returns the list of plans made (one entry per attempt)."""
    real_plan = capture._plan
    plans: list[int] = []

    def plan_then_race(data, products, stock):
        plan = real_plan(data, products, stock)
        plans.append(len(plans))
        if len(plans) == 1:
            with db.engine.begin() as other:
                other.execute(
                    text(
                        "UPDATE stock_levels SET reserved = on_hand WHERE location_id = "
                        "(SELECT id FROM locations WHERE code = :code)"
                    ),
                    {"code": location_code},
                )
        return plan

    monkeypatch.setattr(capture, "_plan", plan_then_race)
    return plans


def test_a_plan_made_stale_leaves_nothing_of_the_attempt_and_answers_409(pg_db, monkeypatch):
    db = pg_db
    product(db, "TEA-001", price="350.00")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 5})
    plans = _take_after_first_plan(monkeypatch, db, "TPE")

    with pytest.raises(InsufficientStock):
        capture.place_order(db, ADMIN, _body(3), idempotency_key="stale-1")

    assert plans == [0]  # planned once; the second attempt found nothing to plan with
    for model in (Order, Customer, IdempotencyKey, Allocation, OrderEvent, OutboxMessage):
        assert _count(db, model) == 0, model.__name__
    kinds = db.read(lambda c: c.execute(select(StockMovement.kind)).scalars().all())
    assert "reservation" not in kinds
    stock = inventory.stock_of(db, "TEA-001")
    assert (stock["on_hand"], stock["reserved"]) == (5, 5)  # only the other writer's


def test_a_plan_made_stale_is_made_again_from_the_stock_that_is_left(pg_db, monkeypatch):
    db = pg_db
    product(db, "TEA-001", price="350.00")
    location(db, "TPE", priority=0)
    location(db, "KHH", priority=1)
    receive(db, "TPE", {"TEA-001": 5})
    receive(db, "KHH", {"TEA-001": 5})
    plans = _take_after_first_plan(monkeypatch, db, "TPE")

    view, created = capture.place_order(db, ADMIN, _body(3), idempotency_key="stale-2")

    assert created and plans == [0, 1]
    assert [(a["location"], a["quantity"]) for a in view["allocations"]] == [("KHH", 3)]
    assert _count(db, Order) == 1 and _count(db, Customer) == 1
    assert _count(db, IdempotencyKey) == 1 and _count(db, OutboxMessage) == 1
    levels = db.read(
        lambda c: c.execute(
            text(
                "SELECT l.code, s.on_hand, s.reserved FROM stock_levels s "
                "JOIN locations l ON l.id = s.location_id ORDER BY l.code"
            )
        ).all()
    )
    assert [tuple(r) for r in levels] == [("KHH", 5, 3), ("TPE", 5, 5)]
    reserved = db.read(
        lambda c: c.execute(
            select(func.sum(StockMovement.reserved_delta)).where(
                StockMovement.kind == "reservation"
            )
        ).scalar_one()
    )
    assert reserved == 3  # the ledger holds the order's reservation once
    # The same key again answers the stored order.
    again, created_again = capture.place_order(db, ADMIN, _body(3), idempotency_key="stale-2")
    assert not created_again and again["number"] == view["number"]
