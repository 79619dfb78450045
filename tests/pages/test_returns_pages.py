"""Returns in the back office: requested on the order page by customer service, approved or
rejected there, received by the warehouse, refunded by finance or exchanged; each step only
for its role, and bad input shown as a message with nothing changed."""

from __future__ import annotations

import pytest

from dingdan.services.after_sales import return_queries, returns
from dingdan.services.fulfilment import shipments
from dingdan.services.inventory import stock
from dingdan.services.orders import queries
from dingdan.services.payments import transactions
from tests.builders import ADMIN


@pytest.fixture
def shipped(shop, db):
    number = shop["order"]["number"]
    transactions.record_payment(db, ADMIN, number, {"amount": "760.00"})
    shipments.create_shipment(db, ADMIN, number, {"carrier": "hct", "tracking_number": "HCT1"})
    return number


def _request(db, number, quantity=1, reason="defective"):
    body = {"lines": [{"sku": "TEA-001", "quantity": quantity, "reason": reason}]}
    return returns.request_return(db, ADMIN, number, body)


def _on_hand(db, sku="TEA-001", loc="TPE"):
    items = stock.stock_of(db, sku)["locations"]
    return sum(i["on_hand"] for i in items if i["location"] == loc)


def test_customer_service_requests_a_return_from_the_order_page(shipped, browser, db):
    cs = browser("customer_service")
    html = cs.get(f"/orders/{shipped}").text
    assert 'id="return-form"' in html and 'value="changed_mind"' in html
    r = cs.post(
        f"/orders/{shipped}/returns",
        {"sku": "TEA-001", "quantity-0": "1", "reason-0": "defective", "note": "<b>cracked</b>"},
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/returns/")
    page = cs.get(r.headers["location"]).text
    assert "&lt;b&gt;cracked&lt;/b&gt;" in page and "<b>cracked" not in page
    assert 'id="approve-form"' in page and 'id="reject-form"' in page
    listed = return_queries.list_returns(db, order=shipped).items
    assert [(ln["sku"], ln["quantity"], ln["reason"]) for ln in listed[0]["lines"]] == [
        ("TEA-001", 1, "defective")
    ]


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        ({"sku": "TEA-001", "quantity-0": "9", "reason-0": "defective"}, "can be returned"),
        ({"sku": "TEA-001", "quantity-0": "x", "reason-0": "defective"}, "must be a whole number"),
        ({"sku": "TEA-001", "quantity-0": "0", "reason-0": "defective"}, "Please correct"),
        ({"sku": "TEA-001", "quantity-0": "1", "reason-0": "nonsense"}, "must be one of"),
    ],
)
def test_a_bad_return_request_is_shown_and_nothing_is_stored(shipped, browser, db, data, shown):
    cs = browser("customer_service")
    r = cs.post(f"/orders/{shipped}/returns", data)
    # Refused for its fields: the order page again, the message in the return form (422).
    assert r.status_code == 422 and 'id="return-form"' in r.text
    assert shown in r.text
    assert return_queries.list_returns(db, order=shipped).items == []


def test_a_bad_request_reads_in_traditional_chinese(shipped, browser):
    cs = browser("customer_service")
    cs.post("/language", {"language": "zh_Hant", "next": "/"})
    html = cs.post(f"/orders/{shipped}/returns", {"sku": "TEA-001", "quantity-0": "x"}).text
    assert "請" in html and "must be a whole number" not in html


def test_the_whole_flow_approve_receive_refund_by_each_role(shipped, browser, db):
    rid = _request(db, shipped, 2)["id"]
    assert browser("customer_service").post(f"/returns/{rid}/approve").status_code == 303
    assert return_queries.get_return(db, rid)["status"] == "approved"
    wh = browser("warehouse")
    page = wh.get(f"/returns/{rid}").text
    assert 'id="receive-form"' in page and 'id="approve-form"' not in page
    before = _on_hand(db)
    r = wh.post(
        f"/returns/{rid}/receive",
        {"location": "TPE", "sku": "TEA-001", "resellable-0": "1", "damaged-0": "1"},
    )
    assert r.status_code == 303
    ret = return_queries.get_return(db, rid)
    assert ret["status"] == "received" and ret["lines"][0]["resellable"] == 1
    assert ret["lines"][0]["damaged"] == 1 and _on_hand(db) == before + 1
    fin = browser("finance")
    assert 'id="return-refund-form"' in fin.get(f"/returns/{rid}").text
    r = fin.post(f"/returns/{rid}/refund", {"amount": "", "to": "store_credit"})
    assert r.status_code == 303
    ret = return_queries.get_return(db, rid)
    assert ret["status"] == "refunded" and ret["refund"] == {
        "amount": "700.00",
        "to": "store_credit",
    }
    assert queries.get_order(db, shipped)["refunded"] == "700.00"


def test_receiving_more_than_requested_is_refused_and_nothing_moves(shipped, browser, db):
    rid = _request(db, shipped, 1)["id"]
    returns.approve_return(db, ADMIN, rid)
    wh = browser("warehouse")
    before = _on_hand(db)
    beside = 'class="field-error" id="resellable-0-error"'
    for n, shown in (("2", beside), ("-1", beside), ("0", 'class="flash error"')):
        data = {"location": "TPE", "sku": "TEA-001", "resellable-0": n}
        r = wh.post(f"/returns/{rid}/receive", data)
        assert r.status_code == 422 and shown in r.text
    assert return_queries.get_return(db, rid)["status"] == "approved" and _on_hand(db) == before


def test_reject_needs_a_reason_and_then_rejects(shipped, browser, db):
    rid = _request(db, shipped)["id"]
    cs = browser("customer_service")
    cs.post(f"/returns/{rid}/reject", {"reason": ""})
    assert "Reason" in cs.get(f"/returns/{rid}").text
    assert return_queries.get_return(db, rid)["status"] == "requested"
    cs.post(f"/returns/{rid}/reject", {"reason": "<script>alert(1)</script>"})
    html = cs.get(f"/returns/{rid}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert return_queries.get_return(db, rid)["status"] == "rejected"


def test_an_exchange_places_a_replacement_order(shipped, browser, db):
    rid = _request(db, shipped)["id"]
    returns.approve_return(db, ADMIN, rid)
    body = {
        "location": "TPE",
        "lines": [{"sku": "TEA-001", "quantity": 1, "condition": "resellable"}],
    }
    returns.receive_return(db, ADMIN, rid, body)
    cs = browser("customer_service")
    assert (
        cs.post(f"/returns/{rid}/exchange", {"sku": "TEA-001", "quantity": "1"}).status_code == 303
    )
    ret = return_queries.get_return(db, rid)
    assert ret["status"] == "exchanged" and ret["replacement_order"]
    assert ret["replacement_order"] in cs.get(f"/returns/{rid}").text


@pytest.mark.parametrize(
    ("role", "step", "status", "data"),
    [
        ("warehouse", "approve", "requested", {}),
        ("finance", "reject", "requested", {"reason": "forged"}),
        ("viewer", "approve", "requested", {}),
        (
            "customer_service",
            "receive",
            "approved",
            {"location": "TPE", "sku": "TEA-001", "resellable-0": "1"},
        ),
        (
            "finance",
            "receive",
            "approved",
            {"location": "TPE", "sku": "TEA-001", "resellable-0": "1"},
        ),
        ("customer_service", "refund", "received", {"to": "original"}),
        ("warehouse", "refund", "received", {"to": "original"}),
        ("finance", "exchange", "received", {"sku": "TEA-001", "quantity": "1"}),
    ],
)
def test_a_forged_step_of_another_role_gets_403_and_changes_nothing(
    shipped, browser, db, role, step, status, data
):
    rid = _request(db, shipped)["id"]
    if status != "requested":
        returns.approve_return(db, ADMIN, rid)
    if status == "received":
        returns.receive_return(
            db,
            ADMIN,
            rid,
            {
                "location": "TPE",
                "lines": [{"sku": "TEA-001", "quantity": 1, "condition": "resellable"}],
            },
        )
    b = browser(role)
    assert f'action="/returns/{rid}/{step}"' not in b.get(f"/returns/{rid}").text
    r = b.post(f"/returns/{rid}/{step}", data)
    assert r.status_code == 403
    assert return_queries.get_return(db, rid)["status"] == status


@pytest.mark.parametrize("role", ["warehouse", "finance", "viewer"])
def test_only_returns_roles_may_request_a_return(shipped, browser, db, role):
    b = browser(role)
    assert 'id="return-form"' not in b.get(f"/orders/{shipped}").text
    r = b.post(
        f"/orders/{shipped}/returns", {"sku": "TEA-001", "quantity-0": "1", "reason-0": "defective"}
    )
    assert r.status_code == 403
    assert return_queries.list_returns(db, order=shipped).items == []


def test_the_queue_filters_by_status_and_every_role_may_read_it(shipped, browser, db):
    first = _request(db, shipped)["id"]
    second = _request(db, shipped)["id"]
    returns.approve_return(db, ADMIN, second)
    for role in ("viewer", "warehouse", "finance"):
        html = browser(role).get("/returns").text
        assert f'href="/returns/{first}"' in html and f'href="/returns/{second}"' in html
    html = browser("viewer").get("/returns?status=approved").text
    assert f'href="/returns/{second}"' in html and f'href="/returns/{first}"' not in html
    assert browser("viewer").get("/returns?status=<x>").status_code == 200


def test_an_unknown_return_is_a_404_page(shop, browser):
    assert browser("viewer").get("/returns/999999").status_code == 404
    assert browser("viewer").get("/returns/abc").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(shop, browser):
    r = browser().get("/returns", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
