"""Two first orders of one new customer captured at the same moment are both accepted and
share one customer.

PostgreSQL: both captures read "no customer with this email" and both insert one; the
second insert waits for the first's commit and fails on ``uq_customers_email``, and the
capture runs again once, finding the customer the first made (``place_order`` and
``place_order_async``). SQLite: the capture reads and writes under the one writer's lock,
so the second finds the first's customer at once; the same test holds it to that."""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from typing import Any

import pytest
from sqlalchemy import select

from dingdan.db.engine import Database
from dingdan.db.order_tables import Customer, Order
from dingdan.services.orders import capture
from tests.builders import ADMIN, OMIT, address, location, order_body, product, receive
from tests.helpers import run_threads

pytestmark = pytest.mark.xdist_group("threads")

PAIRS = 4  # pairs of threads, each pair placing the same new customer's orders at once
ROUNDS = 20  # new customers per pair


def _body(email: str, line1: str) -> dict[str, Any]:
    return order_body(
        [{"sku": "NEW-1", "quantity": 1}],
        customer={"email": email, "name": "新客人", "phone": None},
        shipping_address=address(line1=line1, phone=None),
        payment_method="card",
        shipping_price=OMIT,
    )


@pytest.fixture
def stocked(db: Database) -> Database:
    location(db, "TPE")
    product(db, "NEW-1")
    receive(db, "TPE", {"NEW-1": 1000})
    return db


def _owners(db: Database) -> tuple[dict[str, set[int]], dict[int, str]]:
    """The customer ids the orders of each email point to, and each customer's email."""

    def work(c: Any) -> tuple[dict[str, set[int]], dict[int, str]]:
        orders = c.execute(select(Order.customer, Order.customer_id)).all()
        owners: dict[str, set[int]] = defaultdict(set)
        for o in orders:
            owners[o.customer["email"]].add(o.customer_id)
        emails = dict(c.execute(select(Customer.id, Customer.email)).tuples().all())
        return owners, emails

    return db.read(work)


def _check_one_customer_each(db: Database, emails: list[str]) -> None:
    owners, customers = _owners(db)
    assert sorted(owners) == sorted(emails)
    for email, ids in owners.items():
        assert len(ids) == 1, (email, ids)  # both orders, one customer
        assert customers[next(iter(ids))] == email
    assert sorted(customers.values()) == sorted(emails)  # no customer made twice


def test_first_orders_of_one_new_customer_at_once_are_both_accepted_by_one_customer(
    stocked: Database,
) -> None:
    db = stocked
    barriers = [threading.Barrier(2) for _ in range(PAIRS)]
    numbers: list[str] = []

    def place(i: int) -> None:
        pair, side = divmod(i, 2)
        for r in range(ROUNDS):
            barriers[pair].wait(timeout=60)  # the pair's two orders start together
            body = _body(f"new-{pair}-{r}@example.com", f"信義路五段{side + 1}號")
            order, created = capture.place_order(db, ADMIN, body)
            assert created
            numbers.append(order["number"])

    assert run_threads(2 * PAIRS, place, timeout=300) == []
    assert len(set(numbers)) == 2 * PAIRS * ROUNDS
    emails = [f"new-{p}-{r}@example.com" for p in range(PAIRS) for r in range(ROUNDS)]
    _check_one_customer_each(db, emails)
    # Each customer keeps both orders' addresses: the second read the first's customer.
    addresses = db.read(lambda c: c.execute(select(Customer.addresses)).scalars().all())
    assert [len(a) for a in addresses] == [2] * len(emails)


def test_first_orders_of_one_new_customer_on_the_event_loop_share_one_customer(
    stocked: Database,
) -> None:
    db = stocked
    if db.is_sqlite:
        pytest.skip("SQLite's capture runs in a worker thread (the test above)")
    emails = [f"loop-{r}@example.com" for r in range(PAIRS * ROUNDS // 2)]

    async def pairs() -> list[Any]:
        calls = [
            capture.place_order_async(db, ADMIN, _body(e, f"信義路五段{side + 1}號"))
            for e in emails
            for side in range(2)
        ]
        return await asyncio.gather(*calls, return_exceptions=True)

    answers = asyncio.run(pairs())
    assert [a for a in answers if isinstance(a, BaseException)] == []
    assert all(a is not None and a[1] for a in answers)
    _check_one_customer_each(db, emails)


def _phone_body(phone: str, line1: str) -> dict[str, Any]:
    return order_body(
        [{"sku": "NEW-1", "quantity": 1}],
        customer={"email": None, "name": "電話客人", "phone": phone},
        shipping_address=address(line1=line1, phone=phone),
        payment_method="cod",
        shipping_price=OMIT,
    )


def test_first_orders_at_once_by_one_phone_and_no_email_share_one_customer(
    stocked: Database,
) -> None:
    """Phones have no unique key: on PostgreSQL the capture function makes a customer found
    by phone alone under an advisory lock on the phone and refuses (DD002) when one was made
    meanwhile, so the second order matches the first's customer."""
    db = stocked
    barriers = [threading.Barrier(2) for _ in range(PAIRS)]

    def place(i: int) -> None:
        pair, side = divmod(i, 2)
        for r in range(ROUNDS):
            barriers[pair].wait(timeout=60)
            body = _phone_body(f"+8869{pair:02d}{r:06d}", f"信義路五段{side + 1}號")
            assert capture.place_order(db, ADMIN, body)[1]

    assert run_threads(2 * PAIRS, place, timeout=300) == []

    def work(c: Any) -> tuple[list[Any], list[Any]]:
        return (
            c.execute(select(Order.customer_id, Order.customer)).all(),
            c.execute(select(Customer.phone, Customer.addresses)).all(),
        )

    orders, customers = db.read(work)
    by_phone: dict[str, set[int]] = defaultdict(set)
    for o in orders:
        by_phone[o.customer["phone"]].add(o.customer_id)
    assert len(orders) == 2 * PAIRS * ROUNDS
    assert all(len(ids) == 1 for ids in by_phone.values()), by_phone
    assert sorted(c.phone for c in customers) == sorted(by_phone)  # none made twice
    assert [len(c.addresses) for c in customers] == [2] * len(customers)


def test_orders_at_once_from_one_customer_with_new_addresses_keep_every_address(
    stocked: Database,
) -> None:
    """An existing customer's two orders at once, each to an address the customer never
    used: both addresses are kept (on PostgreSQL the second write found the customer changed,
    DD002, and matched it again), the newest first, ten at most."""
    db = stocked
    emails = [f"known-{p}@example.com" for p in range(PAIRS)]
    for email in emails:
        capture.place_order(db, ADMIN, _body(email, "忠孝東路一段1號"))
    barriers = [threading.Barrier(2) for _ in range(PAIRS)]

    def place(i: int) -> None:
        pair, side = divmod(i, 2)
        for r in range(4):
            barriers[pair].wait(timeout=60)
            body = _body(emails[pair], f"信義路{r + 1}段{side + 1}號")
            assert capture.place_order(db, ADMIN, body)[1]

    assert run_threads(2 * PAIRS, place, timeout=300) == []
    rows = db.read(lambda c: c.execute(select(Customer.email, Customer.addresses)).all())
    assert sorted(r.email for r in rows) == sorted(emails)
    for row in rows:
        lines1 = [a["line1"] for a in row.addresses]
        expected = {"忠孝東路一段1號"} | {
            f"信義路{r + 1}段{s + 1}號" for r in range(4) for s in (0, 1)
        }
        assert len(lines1) == 9 and set(lines1) == expected, lines1
        assert lines1[-1] == "忠孝東路一段1號"  # the newest first: the first address is last
