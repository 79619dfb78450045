"""Pages translate a field error by its code (no English message parsed back), and answer a
broken rule with the status the API gives for it."""

from __future__ import annotations

import re

from dingdan.domain.shared import error_codes
from dingdan.domain.shared.errors import FieldError
from dingdan.services.catalog import products
from dingdan.web import i18n
from dingdan.web.pages.shared import messages

ZH_TW = {"Accept-Language": "zh-TW"}


def test_a_coded_error_is_shown_in_traditional_chinese(shop, browser, db):
    wh = browser("warehouse")
    r = wh.post(
        "/products",
        {"sku": "SOAP-1", "name": "手工皂", "price": "1.234", "currency": "TWD"},
        headers=ZH_TW,
    )
    assert r.status_code == 422
    assert "請修正以下欄位。" in r.text and "TWD 最多 2 位小數" in r.text
    assert "allows at most" not in r.text


def test_a_page_answers_a_duplicate_with_the_apis_status(shop, browser, db):
    mgr = browser("manager")  # a new product's price needs `pricing`: not the warehouse's
    before = products.get_product(db, "TEA-001")
    r = mgr.post(
        "/products",
        {"sku": "TEA-001", "name": "dup", "price": "1", "currency": "TWD"},
        headers=ZH_TW,
    )
    assert r.status_code == 409  # as POST /api/v1/products answers a duplicate SKU
    assert products.get_product(db, "TEA-001") == before


def test_a_parameter_that_is_a_status_is_shown_by_its_label():
    error = FieldError.of("orders", "order_not_open", number="DD0001", status="cancelled")
    assert error.message == "DD0001 is cancelled"
    assert messages.field_message(i18n.text_for("zh_Hant"), error) == "DD0001 的狀態為「已取消」"
    assert messages.field_message(i18n.text_for("zh_Hans"), error) == "DD0001 的状态为“已取消”"
    assert messages.field_message(i18n.text_for("en"), error) == "DD0001 is cancelled"


def test_every_code_reads_in_chinese_without_english_left_over():
    hant = i18n.text_for("zh_Hant")
    for code, template in error_codes.FIELD_ERRORS.items():
        params = dict.fromkeys(re.findall(r"%\((\w+)\)s", template), "1")
        error = FieldError.of("x", code, **params)
        shown = messages.field_message(hant, error)
        assert shown != error.message or not any(c.isalpha() and c.isascii() for c in shown), code
