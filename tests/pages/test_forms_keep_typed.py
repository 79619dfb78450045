"""Issue 19, point 24: a refused back-office form comes back with its page (422), the message
in the reader's language beside the field that is wrong, and what was typed still in it."""

from __future__ import annotations

import re

from dingdan.services.inventory import stock
from dingdan.services.orders import capture, queries
from dingdan.services.payments import transactions
from tests.builders import ADMIN, LIN, order_body

ZH = {"Accept-Language": "zh-TW"}


def _field_error(html: str, element_id: str) -> str:
    match = re.search(rf'<p class="field-error" id="{element_id}-error"[^>]*>([^<]*)</p>', html)
    assert match, f"no error beside {element_id}"
    assert f'aria-invalid="true" aria-describedby="{element_id}-error"' in html
    return match.group(1)


def _order(db, paid: bool = False) -> dict:
    order, _ = capture.place_order(db, ADMIN, order_body(buyer=LIN))
    if paid:
        transactions.record_payment(db, ADMIN, order["number"], {"amount": order["total"]})
    return order


def test_a_payment_above_the_balance_stays_on_the_order_beside_the_amount(shop, browser, db):
    order = _order(db)
    r = browser("finance").post(
        f"/orders/{order['number']}/payments",
        {"amount": "99,999", "method": "bank_transfer", "reference": "匯款 末五碼 12345"},
        headers=ZH,
    )
    assert r.status_code == 422, r.text[:500]
    assert "超過應付餘額" in _field_error(r.text, "pay-amount")
    assert 'id="pay-amount" name="amount" inputmode="decimal" value="99,999"' in r.text
    assert 'value="匯款 末五碼 12345"' in r.text
    assert '<option value="bank_transfer" selected>' in r.text
    assert "is more than" not in r.text
    assert transactions.payments_of(db, order["number"])["items"] == []


def test_a_refund_above_what_was_paid_stays_on_the_order_beside_the_amount(shop, browser, db):
    order = _order(db, paid=True)
    r = browser("finance").post(
        f"/orders/{order['number']}/refunds",
        {"amount": "99,999", "reason": "客人退貨"},
        headers=ZH,
    )
    assert r.status_code == 422, r.text[:500]
    assert "超過已付金額扣除已退款" in _field_error(r.text, "refund-amount")
    assert 'value="99,999"' in r.text and 'value="客人退貨"' in r.text
    assert len(transactions.payments_of(db, order["number"])["items"]) == 1  # the payment alone


def test_a_refused_note_stays_on_the_order_beside_the_note_as_typed(shop, browser, db):
    order = _order(db)
    r = browser("customer_service").post(
        f"/orders/{order['number']}/notes", {"note": "易碎\x1b請加泡泡紙"}, headers=ZH
    )
    assert r.status_code == 422, r.text[:500]
    assert "不可包含控制字元" in _field_error(r.text, "note")
    textarea = re.search(r'<textarea id="note"[^>]*>([^<]*)</textarea>', r.text)
    assert textarea and "易碎" in textarea.group(1) and "請加泡泡紙" in textarea.group(1)
    kinds = [e["kind"] for e in queries.events(db, order["number"])["items"]]
    assert "note" not in kinds


def test_a_note_longer_than_the_limit_is_refused_not_cut(shop, browser, db):
    order = _order(db)
    r = browser("customer_service").post(
        f"/orders/{order['number']}/notes", {"note": "長" * 1001}, headers=ZH
    )
    assert r.status_code == 422, r.text[:500]
    assert "1000" in _field_error(r.text, "note")
    kinds = [e["kind"] for e in queries.events(db, order["number"])["items"]]
    assert "note" not in kinds


def test_a_refused_receipt_stays_on_the_inventory_page_beside_the_quantity(shop, browser, db):
    r = browser("warehouse").post(
        "/inventory/receive",
        {"location": "TPE", "sku": "TEA-001", "quantity": "0", "reference": "PO-7788"},
        headers=ZH,
    )
    assert r.status_code == 422, r.text[:500]
    assert "必須是至少為 1 的整數" in _field_error(r.text, "r-qty")
    assert 'id="r-qty" name="quantity"' in r.text and 'value="0"' in r.text
    assert 'value="PO-7788"' in r.text and '<option value="TPE" selected>' in r.text
    assert "must be a whole" not in r.text


def test_a_refused_adjustment_stays_on_the_ledger_beside_the_change(shop, browser, db):
    before = stock.stock_of(db, "TEA-001")
    r = browser("warehouse").post(
        "/inventory/adjust",
        {
            "location": "TPE",
            "sku": "TEA-001",
            "delta": "0",
            "reason": "damaged",
            "back_sku": "TEA-001",
        },
        headers=ZH,
    )
    assert r.status_code == 422, r.text[:500]
    assert "必須是不為 0 的整數" in _field_error(r.text, "a-delta")
    assert 'name="delta" type="number" inputmode="numeric" required value="0"' in r.text
    assert '<option value="damaged" selected>' in r.text
    assert stock.stock_of(db, "TEA-001") == before
