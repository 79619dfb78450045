"""100 orders paid at once from many threads, their invoices issued by several workers at
once (each order's event handled twice): the e-invoice numbers are gapless, each used once,
one invoice per order, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dingdan.db.invoice_tables import Invoice
from dingdan.db.order_tables import Order
from dingdan.db.types import utcnow
from dingdan.domain.invoicing import rules
from dingdan.domain.shared.errors import Conflict
from dingdan.services.invoicing import issuing
from dingdan.services.invoicing import settings as invoicing_settings
from dingdan.services.orders import capture
from dingdan.services.payments import transactions
from tests.builders import ADMIN, location, order_body, product, receive
from tests.helpers import run_threads

pytestmark = pytest.mark.xdist_group("threads")
ORDERS, THREADS = 100, 10


def _issue(db, number: str) -> None:
    for _ in range(5):
        try:
            issuing.issue_for_order(db, number, "payment")
            return
        except Conflict:  # another worker inserted the order's invoice first: look again
            continue
    raise AssertionError(f"{number} kept conflicting")


def test_orders_paid_at_once_get_gapless_numbers_each_used_once(db):
    product(db, "TEA-001", price="350.00")
    location(db, "TPE")
    receive(db, "TPE", {"TEA-001": 1000})
    invoicing_settings.put(
        db, ADMIN, {"seller_name": "茶行有限公司", "seller_ubn": "04595257", "einvoice": True}
    )
    period = rules.period_of(utcnow())
    for start, end in (("10000000", "10000049"), ("10000050", "10000099")):
        invoicing_settings.add_track(
            db, ADMIN, {"period": period, "prefix": "AB", "start": start, "end": end}
        )
    numbers = [
        str(capture.place_order(db, ADMIN, order_body())[0]["number"]) for _ in range(ORDERS)
    ]

    def pay_and_issue(i: int) -> None:
        mine = numbers[i::THREADS]
        for n in mine:
            transactions.record_payment(db, ADMIN, n, {"amount": "760.00"})
            _issue(db, n)
        for n in reversed(numbers[(i + 1) % THREADS :: THREADS]):  # a neighbour's, again
            _issue(db, n)

    assert run_threads(THREADS, pay_and_issue, timeout=120) == []
    rows = db.read(
        lambda c: c.execute(
            select(Order.number, Invoice.number, Invoice.status).join(
                Order, Order.id == Invoice.order_id
            )
        ).all()
    )
    assert len(rows) == ORDERS and all(status == "issued" for _, _, status in rows)
    assert sorted(o for o, _, _ in rows) == sorted(numbers)  # one invoice per order
    assert sorted(i for _, i, _ in rows) == [f"AB{10000000 + k:08d}" for k in range(ORDERS)]
