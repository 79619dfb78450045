"""Cancelling one line and recording a delivery exception from the order page: only for
their roles, bad input shown as a message, nothing changed on a refusal."""

from __future__ import annotations

import pytest

from dingdan.services.fulfilment import shipments
from dingdan.services.orders import capture, queries
from dingdan.services.payments import transactions
from tests.builders import ADMIN, LIN, order_body


@pytest.fixture
def two_lines(shop, db):
    body = order_body(
        buyer=LIN, lines=[{"sku": "TEA-001", "quantity": 3}, {"sku": "MUG-001", "quantity": 1}]
    )
    order, _ = capture.place_order(db, ADMIN, body)
    return order["number"]


def _line(db, number, sku):
    return next(ln for ln in queries.get_order(db, number)["lines"] if ln["sku"] == sku)


def test_customer_service_cancels_part_of_a_line(two_lines, browser, db):
    cs = browser("customer_service")
    assert 'id="cancel-line-form"' in cs.get(f"/orders/{two_lines}").text
    r = cs.post(
        f"/orders/{two_lines}/lines/cancel",
        {"sku": "TEA-001", "quantity": "2", "reason": "out of season"},
    )
    assert r.status_code == 303
    assert "flash ok" in cs.get(f"/orders/{two_lines}").text
    line = _line(db, two_lines, "TEA-001")
    assert line["cancelled"] == 2 and _line(db, two_lines, "MUG-001")["cancelled"] == 0


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        ({"sku": "TEA-001", "quantity": "x", "reason": "r"}, "must be a whole number"),
        ({"sku": "TEA-001", "quantity": "9", "reason": "r"}, "not possible"),
        ({"sku": "TEA-001", "quantity": "1", "reason": ""}, "is required"),
        ({"sku": "NOPE", "reason": "r"}, "could not find"),
    ],
)
def test_a_bad_line_cancel_is_shown_and_nothing_changes(two_lines, browser, db, data, shown):
    cs = browser("customer_service")
    r = cs.post(f"/orders/{two_lines}/lines/cancel", data)
    # Refused for a field: the page again (422), the message in the form; for a rule of the
    # order: a message at the top of the page it goes back to.
    html = r.text if r.status_code == 422 else cs.get(f"/orders/{two_lines}").text
    assert shown in html
    assert _line(db, two_lines, "TEA-001")["cancelled"] == 0


@pytest.mark.parametrize("role", ["warehouse", "finance", "viewer"])
def test_a_forged_line_cancel_gets_403(two_lines, browser, db, role):
    b = browser(role)
    assert 'id="cancel-line-form"' not in b.get(f"/orders/{two_lines}").text
    r = b.post(f"/orders/{two_lines}/lines/cancel", {"sku": "TEA-001", "reason": "forged"})
    assert r.status_code == 403
    assert _line(db, two_lines, "TEA-001")["cancelled"] == 0


@pytest.fixture
def shipment(shop, db):
    number = shop["order"]["number"]
    transactions.record_payment(db, ADMIN, number, {"amount": "760.00"})
    s = shipments.create_shipment(
        db, ADMIN, number, {"carrier": "hct", "tracking_number": "HCT20260001"}
    )
    return number, str(s["id"])


def _shipment(db, number):
    return queries.shipments_of(db, number)["items"][0]


def test_the_warehouse_records_a_delivery_exception(shipment, browser, db):
    number, sid = shipment
    wh = browser("warehouse")
    assert f'action="/shipments/{sid}/exception"' in wh.get(f"/orders/{number}").text
    r = wh.post(
        f"/shipments/{sid}/exception",
        {"order": number, "kind": "lost", "note": "<script>x</script>"},
    )
    assert r.status_code == 303 and r.headers["location"] == f"/orders/{number}"
    s = _shipment(db, number)
    assert s["status"] == "exception" and s["exception"] == "lost"
    html = wh.get(f"/orders/{number}").text
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>x" not in html


def test_an_unknown_exception_kind_is_refused_in_chinese(shipment, browser, db):
    number, sid = shipment
    wh = browser("warehouse")
    wh.post("/language", {"language": "zh_Hans", "next": "/"})
    r = wh.post(f"/shipments/{sid}/exception", {"order": number, "kind": "stolen"})
    assert r.status_code == 422
    html = r.text
    assert f'id="ex-kind-{sid}-error"' in html and "is not one of the choices" not in html
    assert _shipment(db, number)["status"] == "shipped"


@pytest.mark.parametrize("role", ["customer_service", "finance", "viewer"])
def test_a_forged_delivery_exception_gets_403(shipment, browser, db, role):
    number, sid = shipment
    r = browser(role).post(f"/shipments/{sid}/exception", {"order": number, "kind": "lost"})
    assert r.status_code == 403
    assert _shipment(db, number)["status"] == "shipped"
