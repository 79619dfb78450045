"""The order timeline tells each event in the reader's language from its kind and data; a
kind it does not know, or data of another shape, shows the message the service stored."""

from __future__ import annotations

import pytest

from dingdan.services.after_sales import disputes, return_settlement, returns
from dingdan.services.fulfilment import carriers, shipments
from dingdan.services.orders import capture, edits, queries
from dingdan.services.payments import transactions
from dingdan.web import i18n
from dingdan.web.pages.orders.timeline import KINDS, Reader, event_text
from tests.builders import ADMIN, LIN, order_body, product, receive


def _tell(event, language="en", currency="TWD"):
    return event_text(
        i18n.text_for(language),
        event,
        fmt=i18n.Formatter(language),
        language=language,
        currency=currency,
    )


def _timeline(html):
    return html.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]


@pytest.fixture
def shipped(shop, db):
    carriers.create_carrier(db, ADMIN, {"code": "kerry_tw", "name": "嘉里大榮物流"})
    number = shop["order"]["number"]
    transactions.record_payment(db, ADMIN, number, {"amount": "760.00", "reference": "ATM-0423"})
    shipments.create_shipment(
        db, ADMIN, number, {"carrier": "kerry_tw", "tracking_number": "KR12345678"}
    )
    shipments.add_note(db, ADMIN, number, "客人要求週六送達")
    return number


def test_the_timeline_reads_in_traditional_chinese(shipped, browser):
    b = browser("customer_service")
    b.post("/language", {"language": "zh_Hant", "next": "/"})
    told = _timeline(b.get(f"/orders/{shipped}").text)
    assert "已於官網下單，總額 NT$760。" in told
    assert "已從庫存保留 2 件。" in told
    assert "已收款 NT$760（ATM-0423）。" in told
    assert "已從 TPE 交由嘉里大榮物流出貨，追蹤號碼 KR12345678。" in told
    assert "客人要求週六送達" in told  # a note is shown as it was written
    for english in ("placed on", "Payment of", "Shipped from", "kerry_tw"):
        assert english not in told, english


def test_the_timeline_reads_in_simplified_chinese_and_english(shipped, browser):
    b = browser("finance")
    en = _timeline(b.get(f"/orders/{shipped}").text)
    assert "Order placed on Web shop, total NT$760." in en
    assert "Payment of NT$760 recorded (ATM-0423)." in en
    assert "Shipped from TPE with 嘉里大榮物流, tracking number KR12345678." in en
    b.post("/language", {"language": "zh_Hans", "next": "/"})
    hans = _timeline(b.get(f"/orders/{shipped}").text)
    assert "已从 TPE 交由嘉里大榮物流发货，运单号 KR12345678。" in hans  # the name as given
    assert "已收款 NT$760（ATM-0423）。" in hans


def test_what_people_typed_is_escaped_in_the_sentence(shop, browser, db):
    number = shop["order"]["number"]
    shipments.cancel_order(db, ADMIN, number, "<script>x</script>")
    told = _timeline(browser("customer_service").get(f"/orders/{number}").text)
    assert "Order cancelled: &lt;script&gt;x&lt;/script&gt;" in told
    assert "<script>x" not in told


def test_every_event_of_a_long_life_is_told_as_a_sentence(shop, db):
    """Events as the services really write them: none falls back to the stored message."""
    number = shop["order"]["number"]
    transactions.record_payment(db, ADMIN, number, {"amount": "760.00"})
    edits.edit_order(db, ADMIN, number, {"lines": [{"sku": "TEA-001", "quantity": 3}]})
    transactions.record_payment(db, ADMIN, number, {"amount": "350.00"})
    edits.cancel_line(db, ADMIN, number, "TEA-001", {"reason": "客人改變心意", "quantity": 1})
    transactions.refund(db, ADMIN, number, {"amount": "350.00", "reason": "少寄一件"})
    shipment = shipments.create_shipment(db, ADMIN, number, {"carrier": "hct"})
    shipments.record_exception(db, ADMIN, shipment["id"], {"kind": "delayed", "note": "颱風"})
    shipments.mark_delivered(db, ADMIN, shipment["id"])
    body = {"lines": [{"sku": "TEA-001", "quantity": 1, "reason": "defective"}]}
    rid = returns.request_return(db, ADMIN, number, body)["id"]
    returns.approve_return(db, ADMIN, rid)
    returns.receive_return(
        db,
        ADMIN,
        rid,
        {"location": "TPE", "lines": [{"sku": "TEA-001", "quantity": 1, "condition": "damaged"}]},
    )
    return_settlement.refund_return(db, ADMIN, rid, {"to": "store_credit"})
    dispute = disputes.open_dispute(db, ADMIN, number, {"type": "quality"})
    disputes.add_message(db, ADMIN, dispute["id"], {"direction": "inbound", "body": "茶葉受潮"})
    disputes.transition(db, ADMIN, dispute["id"], {"status": "investigating"})
    product(db, "PRE-001", price="500.00", allow_backorder=True)
    backordered, _ = capture.place_order(
        db, ADMIN, order_body(buyer=LIN, lines=[{"sku": "PRE-001", "quantity": 2}])
    )
    receive(db, "TPE", {"PRE-001": 2})  # the backorder is allocated when stock arrives

    events = queries.events(db, number)["items"]
    events += queries.events(db, backordered["number"])["items"]
    kinds = {e["kind"] for e in events}
    assert {
        "created",
        "allocated",
        "backordered",
        "paid",
        "edited",
        "cancelled",
        "refunded",
        "shipped",
        "exception",
        "delivered",
        "return_requested",
        "return_approved",
        "return_received",
        "return_refunded",
        "dispute_opened",
        "dispute_message",
        "dispute_investigating",
    } <= kinds
    reader = Reader(i18n.text_for("en"), i18n.Formatter("en"), "en", "TWD")
    for e in events:
        assert e["kind"] in KINDS, e["kind"]
        assert KINDS[e["kind"]](e, reader), e  # told from its data, no fallback
        assert _tell(e), e


@pytest.mark.parametrize(
    ("event", "en", "hant"),
    [
        (
            {
                "kind": "exception",
                "message": "Shipment 7: lost",
                "data": {"shipment_id": "7", "kind": "lost", "note": None},
            },
            "Shipment 7: Lost.",
            "貨件 7：遺失。",
        ),
        (
            {
                "kind": "return_exchanged",
                "message": "Return 3 exchanged for order DD001009",
                "data": {"return_id": "3", "replacement": "DD001009"},
            },
            "Return 3 exchanged for order DD001009.",
            "退貨 3 已換貨，新訂單 DD001009。",
        ),
        (
            {
                "kind": "dispute_resolved",
                "message": "Dispute 2 resolved (refund): 已退款",
                "data": {
                    "dispute_id": "2",
                    "status": "resolved",
                    "resolution": "refund",
                    "note": "已退款",
                },
            },
            "Dispute 2 resolved with a refund. Note: 已退款",
            "爭議 2 已以退款解決。備註：已退款",
        ),
        (
            {"kind": "authorized", "message": "1299.00 TWD authorized", "data": None},
            "NT$1,299 authorized.",
            "已授權 NT$1,299。",
        ),
        (
            {
                "kind": "return_photos",
                "message": "2 photo(s) attached to return 5",
                "data": {"return_id": "5", "count": 2},
            },
            "Photos attached to return 5: 2.",
            "退貨 5 已附上照片：2 張。",
        ),
    ],
)
def test_kinds_without_a_page_flow_here_read_in_both_languages(event, en, hant):
    assert _tell(event) == en
    assert _tell(event, "zh_Hant") == hant


def test_an_unknown_kind_or_an_unexpected_shape_shows_the_stored_message():
    assert _tell({"kind": "imported", "message": "Imported from Shopee", "data": {}}) == (
        "Imported from Shopee"
    )
    assert _tell({"kind": "paid", "message": "Payment of 5.00 TWD", "data": {"x": 1}}) == (
        "Payment of 5.00 TWD"
    )
    assert _tell({"kind": "shipped", "message": "Sent somehow", "data": {}}) == "Sent somehow"
    assert _tell({"kind": "note", "message": "請小心輕放", "data": None}) == "請小心輕放"
