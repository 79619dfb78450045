"""Money owed back in the back office (issue 19, point 3): the order page and list show
``refund_due``, the dashboard's "refunds due" block lists such orders for finance, and the
cancel, cancel-a-line and edit screens refund the difference in the same step."""

from __future__ import annotations

import pytest

from dingdan.services.orders import capture, queries
from dingdan.services.payments import transactions
from tests.builders import ADMIN, LIN, order_body


@pytest.fixture
def paid(shop, db):
    """A paid order: 2 × TEA-001 at 350.00 + 60.00 shipping = 760.00."""
    order, _ = capture.place_order(db, ADMIN, order_body(buyer=LIN))
    n = order["number"]
    transactions.record_payment(db, ADMIN, n, {"amount": order["total"]})
    return n


def test_a_cancelled_paid_order_shows_its_refund_due_and_sits_in_the_finance_queue(
    paid, browser, db
):
    manager = browser("manager")
    r = manager.post(f"/orders/{paid}/cancel", {"reason": "customer asked"})
    assert r.status_code == 303
    page = manager.get(f"/orders/{paid}").text
    assert 'id="refund-due"' in page and "760" in page
    assert 'name="amount" inputmode="decimal" required value="760.00"' in page  # prefilled
    finance = browser("finance")
    home = finance.get("/").text
    assert 'id="refunds-due"' in home and f"/orders/{paid}" in home
    assert 'href="/orders?refund_due=1"' in home
    listed = finance.get("/orders?refund_due=1").text
    assert f"/orders/{paid}" in listed
    assert 'id="refunds-due"' not in browser("warehouse").get("/").text


def test_the_dashboard_block_and_the_order_page_are_translated(paid, browser, db):
    finance, manager = browser("finance"), browser("manager")
    manager.post(f"/orders/{paid}/cancel", {"reason": "客人取消"})
    for lang, word in (("zh_Hant", "待退款"), ("zh_Hans", "待退款")):
        for b in (finance, manager):
            b.post("/language", {"language": lang, "next": "/"})
        assert word in finance.get("/").text
        assert word in manager.get(f"/orders/{paid}").text


def test_cancelling_with_the_box_ticked_refunds_what_was_paid(paid, browser, db):
    manager = browser("manager")
    form = manager.get(f"/orders/{paid}").text
    assert 'name="refund_difference"' in form
    # Offered only to a role that may refund: customer service cancels without it.
    cs = browser("customer_service")
    assert 'name="refund_difference"' not in cs.get(f"/orders/{paid}").text
    assert 'name="refund_difference"' not in cs.get(f"/orders/{paid}/edit").text
    r = manager.post(f"/orders/{paid}/cancel", {"reason": "out of stock", "refund_difference": "1"})
    assert r.status_code == 303
    o = queries.get_order(db, paid)
    assert o["status"] == "cancelled" and o["refunded"] == "760.00" and o["refund_due"] == "0.00"


def test_cancelling_a_line_refunds_the_difference_when_asked(paid, browser, db):
    manager = browser("manager")
    r = manager.post(
        f"/orders/{paid}/lines/cancel",
        {"sku": "TEA-001", "quantity": "1", "reason": "broken", "refund_difference": "1"},
    )
    assert r.status_code == 303
    o = queries.get_order(db, paid)
    assert o["total"] == "410.00" and o["refunded"] == "350.00" and o["refund_due"] == "0.00"


def test_an_edit_refunds_the_difference_when_asked_and_not_otherwise(paid, browser, db):
    manager = browser("manager")
    form = manager.get(f"/orders/{paid}/edit").text
    assert 'name="refund_difference"' in form
    r = manager.post(
        f"/orders/{paid}/edit",
        {
            "sku-0": "TEA-001",
            "qty-0": "1",
            "price-0": "350.00",
            "shipping_price": "60.00",
            **_address(db, paid),
        },
    )
    assert r.status_code == 303, r.text
    o = queries.get_order(db, paid)
    assert o["total"] == "410.00" and o["refund_due"] == "350.00" and o["refunded"] == "0.00"
    r = manager.post(
        f"/orders/{paid}/edit",
        {
            "sku-0": "TEA-001",
            "qty-0": "0",
            "price-0": "350.00",
            "shipping_price": "60.00",
            "add-sku-0": "MUG-001",
            "add-qty-0": "1",
            "refund_difference": "1",
            **_address(db, paid),
        },
    )
    assert r.status_code == 303, r.text
    o = queries.get_order(db, paid)
    assert o["total"] == "740.00" and o["refunded"] == "20.00" and o["refund_due"] == "0.00"


def _address(db, number):
    a = queries.get_order(db, number)["shipping_address"]
    return {f"addr-{k}": v or "" for k, v in a.items()}
