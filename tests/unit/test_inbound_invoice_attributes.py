"""The invoice choice a channel's order carries, mapped to the capture's ``invoice``: the
names Dingdan documents, the Chinese labels shops use, ECPay's WooCommerce plugin and the
RY invoice plugins; an invalid choice is noted, not captured."""

from __future__ import annotations

from dingdan.services.integrations import inbound_invoice as ii


def _shopify(*pairs: tuple[str, str]) -> dict | None:
    return ii.shopify({"note_attributes": [{"name": n, "value": v} for n, v in pairs]}, "a@b.tw")


def _woo(*pairs: tuple[str, str], company: str = "") -> dict | None:
    meta = [{"id": i, "key": k, "value": v} for i, (k, v) in enumerate(pairs)]
    return ii.woocommerce({"meta_data": meta, "billing": {"company": company}}, "a@b.tw")


def test_each_channels_names_map_to_the_same_request():
    b2b = {"type": "b2b", "buyer_ubn": "04595257", "buyer_name": "甲公司"}
    assert (
        _shopify(("invoice_type", "b2b"), ("buyer_ubn", "04595257"), ("buyer_name", "甲公司"))
        == b2b
    )
    assert _shopify(("統一編號", "04595257"), ("公司抬頭", "甲公司")) == b2b
    assert (
        _woo(
            ("_wooecpay_invoice_type", "c"),
            ("_wooecpay_invoice_customer_identifier", "04595257"),
            ("_wooecpay_invoice_customer_company", "甲公司"),
        )
        == b2b
    )
    assert _woo(("_invoice_type", "company"), ("_invoice_no", "04595257"), company="甲公司") == b2b
    mobile = {"type": "b2c", "carrier_type": "mobile", "carrier_id": "/TRM+O+P"}
    assert _shopify(("載具類型", "手機條碼"), ("載具號碼", "/trm+o+p")) == mobile
    assert (
        _woo(
            ("_wooecpay_invoice_type", "p"),
            ("_wooecpay_invoice_carruer_type", "3"),
            ("_wooecpay_invoice_carruer_num", "/TRM+O+P"),
        )
        == mobile
    )
    assert (
        _woo(
            ("_invoice_type", "personal"),
            ("_invoice_carruer_type", "phone_barcode"),
            ("_invoice_carruer_no", "/TRM+O+P"),
        )
        == mobile
    )
    cert = {"type": "b2c", "carrier_type": "certificate", "carrier_id": "AB12345678901234"}
    assert (
        _woo(("_invoice_carruer_type", "MOICA"), ("_invoice_carruer_no", "AB12345678901234"))
        == cert
    )
    assert _woo(("_wooecpay_invoice_type", "d"), ("_wooecpay_invoice_love_code", "168001")) == {
        "type": "b2c",
        "donation_code": "168001",
    }
    assert _shopify(("愛心碼", "168001")) == {"type": "b2c", "donation_code": "168001"}
    member = {"type": "b2c", "carrier_type": "member", "carrier_id": "a@b.tw"}
    assert _woo(("_invoice_type", "personal"), ("_invoice_carruer_type", "ecpay_host")) == member
    # Paper, or nothing the mapping knows: a printed invoice.
    assert _woo(("_wooecpay_invoice_type", "p"), ("_wooecpay_invoice_carruer_type", "0")) == {
        "type": "b2c"
    }
    assert _shopify(("gift wrap", "yes")) is None and ii.shopify({}, None) is None


def test_an_invalid_choice_is_noted_and_a_valid_one_captured():
    body = {"note": "請小心包裝"}
    ii.apply(body, {"type": "b2b", "buyer_ubn": "04595258", "buyer_name": "甲公司"})
    assert "invoice" not in body
    assert body["note"].startswith("請小心包裝\nInvoice request from the channel not used")
    assert "buyer_ubn invalid_ubn" in body["note"]
    ok: dict = {}
    ii.apply(ok, {"type": "b2c", "donation_code": "168001"})
    assert ok == {"invoice": {"type": "b2c", "donation_code": "168001"}}
    printed: dict = {}
    ii.apply(printed, {"type": "b2c"})
    assert printed == {}
