"""Who an order belongs to, decided by the capture (``match_customer``) and written on
PostgreSQL by the function of db/sql/place_order.sql, on SQLite statement by statement. The
same rules on both: found by email,
by phone only when the order gives no email; a new address goes first, ten at most, the
same address is not kept twice; empty contact fields are filled, filled ones kept."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dingdan.db.engine import Database
from dingdan.db.order_tables import Customer, Order
from dingdan.services.orders import capture
from tests.builders import ADMIN, OMIT, address, location, order_body, product, receive


def _body(customer: dict[str, Any], line1: str = "信義路五段7號") -> dict[str, Any]:
    return order_body(
        [{"sku": "CUS-1", "quantity": 1}],
        customer=customer,
        shipping_address=address(line1=line1, phone=None),
        payment_method="card",
        shipping_price=OMIT,
    )


def _customers(db: Database) -> list[Any]:
    return list(db.read(lambda c: c.execute(select(Customer).order_by(Customer.id)).all()))


def _owner(db: Database, number: str) -> int:
    stmt = select(Order.customer_id).where(Order.number == number)
    return int(db.read(lambda c: c.execute(stmt).scalar_one()))


def test_orders_find_their_customer_and_keep_the_addresses_newest_first(db: Database) -> None:
    location(db, "TPE")
    product(db, "CUS-1")
    receive(db, "TPE", {"CUS-1": 100})

    def place(customer: dict[str, Any], line1: str = "信義路五段7號") -> str:
        return str(capture.place_order(db, ADMIN, _body(customer, line1))[0]["number"])

    # A phone-only customer, without a name.
    first = place({"phone": "+886912345678"})
    # The same phone with no email: the same customer, whose empty name is now filled.
    second = place({"phone": "+886912345678", "name": "王小明"}, "中山路1號")
    # An email (in any case) makes its own customer even with that phone.
    third = place({"email": "Ming@Example.com", "phone": "+886912345678", "name": "明"})
    fourth = place({"email": "ming@example.com", "name": "另一個名字"})

    people = _customers(db)
    assert len(people) == 2
    by_phone, by_email = people
    assert _owner(db, first) == _owner(db, second) == by_phone.id
    assert _owner(db, third) == _owner(db, fourth) == by_email.id
    assert by_phone.name == "王小明" and by_phone.email is None
    assert by_email.email == "ming@example.com" and by_email.name == "明"  # kept, not replaced
    assert [a["line1"] for a in by_phone.addresses] == ["中山路1號", "信義路五段7號"]
    assert [a["line1"] for a in by_email.addresses] == ["信義路五段7號"]  # not twice

    for n in range(11):
        place({"email": "ming@example.com"}, f"民生路{n}號")
    kept = [a["line1"] for a in _customers(db)[1].addresses]
    assert kept == [f"民生路{n}號" for n in range(10, 0, -1)]


def test_a_full_width_or_otherwise_cased_email_is_the_same_customer(db: Database) -> None:
    """Emails are compared after NFKC and case folding; the order keeps the one it was sent."""
    location(db, "TPE")
    product(db, "CUS-1")
    receive(db, "TPE", {"CUS-1": 100})

    def place(customer: dict[str, Any]) -> dict[str, Any]:
        return capture.place_order(db, ADMIN, _body(customer))[0]

    first = place({"email": "wang@example.com", "name": "王小明"})
    look_alike = place({"email": "ＷＡＮＧ@example.com"})
    cased = place({"email": "Wang@EXAMPLE.com"})
    assert len(_customers(db)) == 1
    assert _owner(db, first["number"]) == _owner(db, look_alike["number"])
    assert _owner(db, cased["number"]) == _owner(db, first["number"])
    assert look_alike["customer"]["email"] == "ＷＡＮＧ@example.com"  # stored as sent
    # A first order with the look-alike: the customer is found by the plain address later.
    other = place({"email": "ｌｉｎ@example.com"})
    assert _owner(db, place({"email": "LIN@example.com"})["number"]) == _owner(db, other["number"])
    assert len(_customers(db)) == 2
