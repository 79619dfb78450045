"""The dashboard's late list: every late order counted, the 50 longest waiting shown first."""

from __future__ import annotations

from datetime import timedelta

from dingdan.db.engine import Database
from dingdan.db.types import utcnow
from dingdan.services.orders import capture
from dingdan.services.reports import dashboard
from tests.builders import ADMIN, OMIT, address, location, order_body, product, receive


def test_late_list_shows_the_fifty_longest_waiting_and_counts_all(db: Database) -> None:
    location(db, "TPE")
    product(db, "LATE-1")
    receive(db, "TPE", {"LATE-1": 100})
    body = order_body(
        [{"sku": "LATE-1", "quantity": 1}],
        customer={"email": "late@example.com", "name": "王小明"},
        shipping_address=address(phone=None),
        shipping_price=OMIT,
    )
    numbers = [capture.place_order(db, ADMIN, body)[0]["number"] for _ in range(53)]

    later = dashboard.summary(db, now=utcnow() + timedelta(hours=100))
    assert later["counts"]["payment"] == 53
    assert later["late_total"] == 53
    shown = later["late"]
    assert len(shown) == 50
    # Longest waiting first: the first orders placed, in order; the three newest left out.
    assert [r["number"] for r in shown] == numbers[:50]
    assert all(r["stage"] == "payment" and r["hours"] >= 99.9 for r in shown)
    assert [r["since"] for r in shown] == sorted(r["since"] for r in shown)
