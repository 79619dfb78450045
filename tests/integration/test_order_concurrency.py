"""Real threads placing, paying and refunding orders against one database: nothing is
promised twice, no money is taken or returned beyond what is due, and the same request sent
many times at once makes one order."""

from __future__ import annotations

import os
import random
from collections import Counter, defaultdict
from functools import partial

import pytest
from sqlalchemy import event, func, select

from dingdan.db.order_tables import (
    Allocation,
    IdempotencyKey,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
)
from dingdan.db.tables import Location, Product, StockLevel
from dingdan.domain.shared.errors import DomainError, InsufficientStock, ValidationFailed
from dingdan.services.fulfilment import shipments
from dingdan.services.inventory import stock as inventory
from dingdan.services.orders import capture
from dingdan.services.payments import transactions
from tests.builders import ADMIN, location, order_body, product, receive
from tests.helpers import run_threads

# Many threads (or processes) against one database: one such module at a time, on one
# pytest-xdist worker, beside the ordinary tests of the other.
pytestmark = pytest.mark.xdist_group("threads")


def _run_threads(n, target):
    return run_threads(n, target, timeout=45)


# The contract's order body, its customer without a phone.
_body = partial(order_body, customer={"email": "a@example.com", "name": "王小明"})


def _count(db, model):
    return db.read(lambda c: c.execute(select(func.count()).select_from(model)).scalar_one())


def _reserved_by_row(db):
    """(sku, location) -> (on_hand, reserved) from stock_levels."""
    return {
        (sku, code): (oh, rs)
        for sku, code, oh, rs in db.read(
            lambda c: c.execute(
                select(Product.sku, Location.code, StockLevel.on_hand, StockLevel.reserved)
                .join(Product, Product.id == StockLevel.product_id)
                .join(Location, Location.id == StockLevel.location_id)
            ).all()
        )
    }


def _allocated_by_row(db):
    """(sku, location) -> units held by allocation rows."""
    rows = db.read(
        lambda c: c.execute(
            select(Product.sku, Location.code, func.sum(Allocation.quantity))
            .join(Product, Product.id == Allocation.product_id)
            .join(Location, Location.id == Allocation.location_id)
            .group_by(Product.sku, Location.code)
        ).all()
    )
    return {(sku, code): int(q) for sku, code, q in rows}


def _assert_reservations_match_allocations(db):
    levels = _reserved_by_row(db)
    allocated = _allocated_by_row(db)
    for key, (on_hand, reserved) in levels.items():
        assert 0 <= reserved <= on_hand, key
        assert reserved == allocated.get(key, 0), key
    assert set(allocated) <= set(levels)
    assert inventory.verify(db) == []


def _watch_deadlocks(db):
    """Record every PostgreSQL deadlock that the retry loop would otherwise hide."""
    seen: list[str] = []
    original = db._retryable

    def spy(exc):
        if getattr(exc.orig, "sqlstate", None) == "40P01":
            seen.append(str(exc.orig).splitlines()[0])
        return original(exc)

    db._retryable = spy
    return seen


def _order_row(db, number):
    return db.read(lambda c: c.execute(select(Order).where(Order.number == number)).one())


def _payment_sums(db, number):
    def work(c):
        oid = c.execute(select(Order.id).where(Order.number == number)).scalar_one()
        rows = c.execute(
            select(Payment.kind, func.sum(Payment.amount_minor))
            .where(Payment.order_id == oid)
            .group_by(Payment.kind)
        ).all()
        return {k: int(v) for k, v in rows}

    return db.read(work)


# ---------------------------------------------------------------- placing orders


def test_eighty_buyers_for_forty_units_make_exactly_forty_orders(db):
    product(db, "HOT", price="199.00")
    location(db, "TPE")
    receive(db, "TPE", {"HOT": 40})
    placed: list[str] = []
    refused: list[int] = []

    def buy(i):
        body = _body(
            [{"sku": "HOT", "quantity": 1}],
            customer={"email": f"buyer{i}@example.com", "name": f"Buyer {i}"},
        )
        try:
            view, created = capture.place_order(db, ADMIN, body)
        except InsufficientStock as exc:
            assert exc.errors[0].field == "lines[0].quantity"
            refused.append(i)
            return
        assert created
        assert view["lines"][0]["allocated"] == 1 and view["allocations"] == [
            {"location": "TPE", "sku": "HOT", "quantity": 1}
        ]
        placed.append(view["number"])

    assert _run_threads(80, buy) == []
    assert len(placed) == 40 and len(set(placed)) == 40
    assert len(refused) == 40
    stock = inventory.stock_of(db, "HOT")
    assert (stock["on_hand"], stock["reserved"], stock["available"]) == (40, 40, 0)
    assert inventory.verify(db) == []
    assert _count(db, Order) == 40
    assert _count(db, Allocation) == 40
    numbers = db.read(lambda c: set(c.execute(select(Order.number)).scalars()))
    assert numbers == set(placed)
    _assert_reservations_match_allocations(db)


def test_orders_naming_the_same_skus_in_opposite_orders_never_deadlock_or_oversell(db):
    product(db, "A", price="100.00")
    product(db, "B", price="50.00")
    location(db, "TPE", priority=0)
    location(db, "KHH", priority=1)
    receive(db, "TPE", {"A": 20, "B": 20})
    receive(db, "KHH", {"A": 20, "B": 20})
    deadlocks = _watch_deadlocks(db)
    placed: list[dict] = []
    refused: list[int] = []

    def worker(i):
        rng = random.Random(i)
        for j in range(6):
            skus = ["A", "B"] if (i + j) % 2 else ["B", "A"]
            lines = [{"sku": s, "quantity": rng.randint(1, 4)} for s in skus]
            body = _body(lines, customer={"email": f"c{i}-{j}@example.com"})
            try:
                view, created = capture.place_order(db, ADMIN, body)
            except InsufficientStock:
                refused.append(i)
                continue
            assert created
            placed.append(view)

    assert _run_threads(16, worker) == []
    assert deadlocks == []
    assert placed and refused  # demand (about 480 units) is far over the 80 on hand
    wanted: Counter[str] = Counter()
    for view in placed:
        for ln in view["lines"]:
            assert ln["allocated"] == ln["quantity"] and ln["backordered"] == 0
            wanted[ln["sku"]] += ln["quantity"]
        held = Counter()
        for a in view["allocations"]:
            held[a["sku"]] += a["quantity"]
        assert held == Counter({ln["sku"]: ln["quantity"] for ln in view["lines"]})
    for sku in ("A", "B"):
        stock = inventory.stock_of(db, sku)
        assert stock["on_hand"] == 40
        assert stock["reserved"] == wanted[sku] <= 40
    assert _count(db, Order) == len(placed)
    _assert_reservations_match_allocations(db)


# ---------------------------------------------------------------- payments and refunds


@pytest.fixture
def one_order(db):
    product(db, "TEA-001", price="350.00")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 10})
    view, _ = capture.place_order(db, ADMIN, _body([{"sku": "TEA-001", "quantity": 2}]))
    assert view["total"] == "760.00"
    return view["number"]


def _race_payments(db, number, amounts, kind):
    done: list[int] = []
    refused: list[int] = []

    def pay(i):
        try:
            if kind == "payment":
                transactions.record_payment(db, ADMIN, number, {"amount": amounts[i]})
            else:
                body = {"amount": amounts[i], "reason": f"refund {i}"}
                transactions.refund(db, ADMIN, number, body)
            done.append(i)
        except ValidationFailed as exc:
            assert [e.field for e in exc.errors] == ["amount"]
            refused.append(i)

    assert _run_threads(len(amounts), pay) == []
    return done, refused


def test_two_payments_at_once_that_together_exceed_the_total_take_only_one(db, one_order):
    done, refused = _race_payments(db, one_order, ["500.00", "500.00"], "payment")
    assert len(done) == 1 and len(refused) == 1
    o = _order_row(db, one_order)
    assert (o.paid_minor, o.total_minor) == (50_000, 76_000)
    assert o.financial_status == "partially_paid"
    assert _payment_sums(db, one_order) == {"payment": 50_000}


def test_ten_payments_at_once_never_take_more_than_the_total(db, one_order):
    done, refused = _race_payments(db, one_order, ["100.00"] * 10, "payment")
    assert len(done) == 7 and len(refused) == 3
    o = _order_row(db, one_order)
    assert o.paid_minor == 70_000 <= o.total_minor
    assert _payment_sums(db, one_order) == {"payment": 70_000}
    transactions.record_payment(db, ADMIN, one_order, {"amount": "60.00"})
    assert _order_row(db, one_order).financial_status == "paid"


def test_two_refunds_at_once_that_together_exceed_what_was_paid_return_only_one(db, one_order):
    transactions.record_payment(db, ADMIN, one_order, {"amount": "760.00"})
    done, refused = _race_payments(db, one_order, ["500.00", "500.00"], "refund")
    assert len(done) == 1 and len(refused) == 1
    o = _order_row(db, one_order)
    assert (o.paid_minor, o.refunded_minor) == (76_000, 50_000)
    assert o.financial_status == "partially_refunded"
    assert _payment_sums(db, one_order) == {"payment": 76_000, "refund": 50_000}


def test_ten_refunds_at_once_never_return_more_than_was_paid(db, one_order):
    transactions.record_payment(db, ADMIN, one_order, {"amount": "760.00"})
    done, refused = _race_payments(db, one_order, ["100.00"] * 10, "refund")
    assert len(done) == 7 and len(refused) == 3
    o = _order_row(db, one_order)
    assert o.refunded_minor == 70_000 <= o.paid_minor == 76_000
    assert _payment_sums(db, one_order) == {"payment": 76_000, "refund": 70_000}
    transactions.refund(db, ADMIN, one_order, {"amount": "60.00", "reason": "rest"})
    assert _order_row(db, one_order).financial_status == "refunded"


def test_payments_and_refunds_racing_keep_refunded_within_paid_within_total(db, one_order):
    transactions.record_payment(db, ADMIN, one_order, {"amount": "300.00"})
    kinds = ["payment" if i % 2 else "refund" for i in range(12)]
    taken = []

    def act(i):
        try:
            if kinds[i] == "payment":
                transactions.record_payment(db, ADMIN, one_order, {"amount": "90.00"})
            else:
                body = {"amount": "80.00", "reason": "goodwill"}
                transactions.refund(db, ADMIN, one_order, body)
            taken.append(kinds[i])
        except ValidationFailed as exc:
            assert [e.field for e in exc.errors] == ["amount"]

    assert _run_threads(12, act) == []
    o = _order_row(db, one_order)
    paid = 30_000 + 9_000 * taken.count("payment")
    refunded = 8_000 * taken.count("refund")
    assert (o.paid_minor, o.refunded_minor) == (paid, refunded)
    assert 0 <= o.refunded_minor <= o.paid_minor <= o.total_minor
    assert _payment_sums(db, one_order) == {"payment": paid, "refund": refunded}


# ---------------------------------------------------------------- the same request many times


def test_one_idempotency_key_sent_by_ten_threads_at_once_makes_one_order(db):
    product(db, "TEA-001", price="350.00")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 30})
    body = _body([{"sku": "TEA-001", "quantity": 2}])
    answers: list[tuple[str, bool]] = []

    def send(i):
        view, created = capture.place_order(db, ADMIN, body, idempotency_key="same-key")
        answers.append((view["number"], created))

    assert _run_threads(10, send) == []
    assert len(answers) == 10
    assert len({n for n, _ in answers}) == 1
    assert sum(created for _, created in answers) == 1
    assert _count(db, Order) == 1 and _count(db, IdempotencyKey) == 1
    assert _count(db, OrderLine) == 1
    stock = inventory.stock_of(db, "TEA-001")
    assert (stock["on_hand"], stock["reserved"]) == (30, 2)
    _assert_reservations_match_allocations(db)


def test_a_replay_answers_the_order_as_it_is_now_read_outside_the_write_transaction(db):
    """The same key again: the earlier order, as it is now (cancelled since), read after the
    write transaction; on SQLite the writer's connection reads no line of it (the single
    write lock is not held while the view is built)."""
    product(db, "TEA-001", price="350.00")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 30})
    body = _body([{"sku": "TEA-001", "quantity": 2}])
    first, created = capture.place_order(db, ADMIN, body, idempotency_key="k-replay")
    assert created and first["status"] == "open"
    shipments.cancel_order(db, ADMIN, first["number"], "customer asked")
    written: list[str] = []

    def record(conn, cursor, statement, *_):
        written.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        again, created = capture.place_order(db, ADMIN, body, idempotency_key="k-replay")
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert not created and again["number"] == first["number"]
    assert again["status"] == "cancelled" and again["lines"][0]["cancelled"] == 2
    if db.is_sqlite:
        assert written and not [s for s in written if "order_lines" in s]
    assert _count(db, Order) == 1


def test_one_channel_external_id_sent_by_ten_threads_at_once_makes_one_order(db):
    product(db, "TEA-001", price="350.00")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 100})
    answers: list[tuple[str, bool, int]] = []

    def send(i):
        # Different bodies on purpose: the (channel, external_id) answers whatever the body.
        body = _body([{"sku": "TEA-001", "quantity": i + 1}], external_id="SHOP-77")
        view, created = capture.place_order(db, ADMIN, body)
        answers.append((view["number"], created, view["lines"][0]["quantity"]))

    assert _run_threads(10, send) == []
    assert len(answers) == 10
    assert len({(n, q) for n, _, q in answers}) == 1  # all see the same order, unchanged
    assert sum(created for _, created, _ in answers) == 1
    assert _count(db, Order) == 1
    quantity = answers[0][2]
    stock = inventory.stock_of(db, "TEA-001")
    assert (stock["on_hand"], stock["reserved"]) == (100, quantity)
    _assert_reservations_match_allocations(db)


def test_the_same_customer_ordering_from_many_threads_at_once_gets_every_order(db):
    product(db, "TEA-001", price="350.00")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 100})
    placed: list[str] = []

    def send(i):
        view, created = capture.place_order(db, ADMIN, _body([{"sku": "TEA-001", "quantity": 1}]))
        assert created
        placed.append(view["number"])

    assert _run_threads(12, send) == []
    assert len(set(placed)) == 12 and _count(db, Order) == 12
    customers = db.read(lambda c: set(c.execute(select(Order.customer_id)).scalars()))
    assert len(customers) == 1  # one email, one customer, however many raced to create it
    by_sku: dict[str, int] = defaultdict(int)
    for (sku, _), (_, rs) in _reserved_by_row(db).items():
        by_sku[sku] += rs
    assert by_sku == {"TEA-001": 12}
    _assert_reservations_match_allocations(db)


# ---------------------------------------------------------------- one order changed twice at once
#
# On PostgreSQL (READ COMMITTED) the services below read the order or shipment row without
# locking it, decide on that snapshot, then write: two requests at once both pass the check.
# SQLite runs one writer at a time, so it serializes them and the tests pass there.

ON_POSTGRESQL = os.environ.get("DINGDAN_TEST_BACKEND", "sqlite") == "postgresql"


def _pairwise(db, rounds, make, actions):
    """For each round: make an order, then run ``actions`` on it from threads at once.
    Returns one tuple of outcomes per round ("ok" or the error class name)."""
    results = []
    for _ in range(rounds):
        subject = make()
        outcome: dict[int, str] = {}

        def act(i, subject=subject, outcome=outcome):
            try:
                actions[i](subject)
                outcome[i] = "ok"
            except DomainError as exc:
                outcome[i] = type(exc).__name__

        assert _run_threads(len(actions), act) == []
        results.append(tuple(outcome[i] for i in range(len(actions))))
    return results


def test_two_cancels_of_one_order_at_once_release_its_stock_only_once(db):
    product(db, "A")
    location(db, "TPE")
    receive(db, "TPE", {"A": 1000})
    capture.place_order(db, ADMIN, _body([{"sku": "A", "quantity": 50}]))  # another order's hold

    def make():
        return capture.place_order(db, ADMIN, _body([{"sku": "A", "quantity": 2}]))[0]["number"]

    def cancel(number):
        shipments.cancel_order(db, ADMIN, number, "customer changed their mind")

    results = _pairwise(db, 10, make, [cancel, cancel])
    assert set(results) <= {("InvalidTransition", "ok"), ("ok", "InvalidTransition")}
    stock = inventory.stock_of(db, "A")
    assert stock["reserved"] == 50  # only the big order still holds stock
    _assert_reservations_match_allocations(db)


def _no_cancelled_order_holds_stock(db):
    def work(c):
        held = c.execute(
            select(Order.number, func.sum(Allocation.quantity))
            .join(Allocation, Allocation.order_id == Order.id)
            .where(Order.status == "cancelled")
            .group_by(Order.number)
        ).all()
        lines = c.execute(select(OrderLine.id, OrderLine.allocated)).all()
        per_line = dict(
            c.execute(
                select(Allocation.line_id, func.sum(Allocation.quantity)).group_by(
                    Allocation.line_id
                )
            ).all()
        )
        mismatched = [i for i, a in lines if a != int(per_line.get(i, 0))]
        return held, mismatched

    held, mismatched = db.read(work)
    assert held == [], "cancelled orders still hold stock"
    assert mismatched == [], "lines whose allocated differs from their allocations"


def test_a_cancel_racing_the_receipt_that_fills_its_backorder_leaves_nothing_held(db):
    product(db, "A")
    product(db, "B", allow_backorder=True)
    location(db, "TPE")
    receive(db, "TPE", {"A": 1000})

    def make():
        free = inventory.stock_of(db, "B")["available"]
        if free:  # the last round's receipt came after its cancel: count it away
            body = {"location": "TPE", "sku": "B", "delta": -free, "reason": "cycle_count"}
            inventory.adjust(db, ADMIN, body)
        body = _body([{"sku": "B", "quantity": 2}, {"sku": "A", "quantity": 1}])
        view, _ = capture.place_order(db, ADMIN, body)
        assert view["lines"][0]["backordered"] == 2
        return view["number"]

    def cancel(number):
        shipments.cancel_order(db, ADMIN, number, "too slow")

    def restock(number):
        receive(db, "TPE", {"B": 2})

    results = _pairwise(db, 20, make, [cancel, restock])
    assert {r[1] for r in results} == {"ok"}, "a receipt of goods was refused"
    assert {r[0] for r in results} == {"ok"}
    _no_cancelled_order_holds_stock(db)
    _assert_reservations_match_allocations(db)
    stock = inventory.stock_of(db, "B")
    assert (stock["reserved"], stock["backordered"]) == (0, 0)


def test_a_cancel_racing_a_shipment_lets_one_win_and_refuses_the_other_as_a_transition(db):
    product(db, "A")
    location(db, "TPE")
    receive(db, "TPE", {"A": 1000})
    capture.place_order(db, ADMIN, _body([{"sku": "A", "quantity": 5}]))  # another order's hold

    def make():
        body = _body([{"sku": "A", "quantity": 2}], payment_method="cod")
        return capture.place_order(db, ADMIN, body)[0]["number"]

    def cancel(number):
        shipments.cancel_order(db, ADMIN, number, "customer asked")

    def ship(number):
        shipments.create_shipment(db, ADMIN, number, {"carrier": "tcat"})

    results = _pairwise(db, 10, make, [cancel, ship])
    assert set(results) <= {("ok", "InvalidTransition"), ("InvalidTransition", "ok")}
    stock = inventory.stock_of(db, "A")
    shipped = sum(r == ("InvalidTransition", "ok") for r in results)
    assert (stock["on_hand"], stock["reserved"]) == (1000 - 2 * shipped, 5)
    _no_cancelled_order_holds_stock(db)
    _assert_reservations_match_allocations(db)


def test_a_shipment_marked_delivered_by_five_threads_at_once_is_delivered_once(db):
    product(db, "A")
    location(db, "TPE")
    receive(db, "TPE", {"A": 100})

    def make():
        body = _body([{"sku": "A", "quantity": 1}], payment_method="cod")
        number = capture.place_order(db, ADMIN, body)[0]["number"]
        return shipments.create_shipment(db, ADMIN, number, {"carrier": "tcat"})["id"]

    def deliver(shipment_id):
        shipments.mark_delivered(db, ADMIN, shipment_id)

    results = _pairwise(db, 4, make, [deliver] * 5)
    assert all(sorted(r) == ["InvalidTransition"] * 4 + ["ok"] for r in results)
    events = db.read(
        lambda c: c.execute(
            select(func.count()).select_from(OrderEvent).where(OrderEvent.kind == "delivered")
        ).scalar_one()
    )
    assert events == 4


def test_an_order_of_450_lines_is_stored_line_by_line_in_order(db):
    """Lines go to the database several rows per statement (SQLite: 200 at most, within its
    limit of bound values); every line keeps its position, id and allocation."""
    product(db, "TEA-001", price="10.00")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 1000})
    body = _body([{"sku": "TEA-001", "quantity": 1 + i % 2} for i in range(450)])
    view, created = capture.place_order(db, ADMIN, body)
    assert created and len(view["lines"]) == 450
    assert [ln["quantity"] for ln in view["lines"]] == [1 + i % 2 for i in range(450)]
    stored = db.read(
        lambda c: c.execute(
            select(OrderLine.id, OrderLine.position, OrderLine.quantity).order_by(OrderLine.id)
        ).all()
    )
    assert [r.position for r in stored] == list(range(450))
    assert [r.quantity for r in stored] == [1 + i % 2 for i in range(450)]
    by_line = dict(
        db.read(lambda c: c.execute(select(Allocation.line_id, Allocation.quantity)).all())
    )
    assert by_line == {r.id: r.quantity for r in stored}
    assert inventory.stock_of(db, "TEA-001")["reserved"] == 675
