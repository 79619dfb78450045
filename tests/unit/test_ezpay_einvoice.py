"""ezPay's e-invoice wire (domain/invoicing/ezpay_einvoice.py): the CheckCode against the
published vector (shared data), the PostData_ encryption round trip, the fields of each call
and the reading of answers."""

from __future__ import annotations

import json
import urllib.parse
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from dingdan.domain.invoicing import ezpay_einvoice as ez
from dingdan.domain.invoicing.documents import (
    Allowance,
    AllowanceVoid,
    EInvoice,
    InvoiceVoid,
    Line,
    Party,
)
from tests import einvoice_fakes as fakes
from tests.helpers import missing_shared_data, shared_data_param, shared_external

VECTORS = shared_external() / "vectors" / "ezpay_einvoice.json"
KEY = "abcdefghijklmnopqrstuvwxyzabcdef"
IV = "1234567891234567"
AT = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def _cases() -> list[Any]:
    if not VECTORS.exists():
        return [shared_data_param(f"test vectors not found at {VECTORS}", id="vectors-missing")]
    data = json.loads(VECTORS.read_text(encoding="utf-8"))
    return [pytest.param(v, id=v["id"]) for v in data["vectors"] if v["kind"] == "ezpay_checkcode"]


@pytest.mark.parametrize("vector", _cases())
def test_check_code_is_the_published_one(vector):
    if not vector:
        missing_shared_data(f"test vectors not found at {VECTORS}")
    given = vector["inputs"]
    key, iv, fields = given["hash_key"], given["hash_iv"], given["fields"]
    assert ez.check_code(fields, key, iv) == vector["expected"]["CheckCode"]
    # The same fields in any order, as an answer's Result, verify; one changed does not.
    result = {**dict(reversed(list(fields.items()))), "CheckCode": vector["expected"]["CheckCode"]}
    assert ez.check_code_ok(result, key, iv)
    assert not ez.check_code_ok({**result, "TotalAmt": "501"}, key, iv)
    assert not ez.check_code_ok(result, key, "7654321987654321")


def invoice(**kw: Any) -> EInvoice:
    """The tests' invoice (tests/einvoice_fakes.py), issued at this module's ``AT``."""
    return fakes.invoice(**{"issued_at": AT, **kw})


def test_post_data_round_trip_and_padding_to_32_bytes():
    fields = {"RespondType": "JSON", "Version": "1.5", "ItemName": "茶 & 運費|x y", "Amt": "1"}
    body = ez.form_body("3622183", fields, KEY, IV)
    outer = dict(urllib.parse.parse_qsl(body.decode()))
    assert list(outer) == ["MerchantID_", "PostData_"] and outer["MerchantID_"] == "3622183"
    post = outer["PostData_"]
    assert post == post.lower() and len(bytes.fromhex(post)) % 32 == 0
    assert ez.decrypt(post, KEY, IV) == ez.query_string(fields)
    assert "ItemName=%E8%8C%B6+%26+" in ez.query_string(fields)  # form encoding, space +
    assert ez.read_form(body, KEY, IV) == ("3622183", fields)
    # A text of exactly 32 bytes gets a whole block of padding.
    assert len(bytes.fromhex(ez.encrypt("x" * 32, KEY, IV))) == 64


def test_wrong_keys_and_bad_input_are_clear_errors():
    post = ez.encrypt("a=1", KEY, IV)
    with pytest.raises(ez.EzpayWireError):
        ez.decrypt(post, "b" * 32, IV)
    with pytest.raises(ez.EzpayWireError, match="32"):
        ez.encrypt("a=1", "short", IV)
    with pytest.raises(ez.EzpayWireError, match="hex"):
        ez.decrypt("zz", KEY, IV)
    with pytest.raises(ez.EzpayWireError):
        ez.read_form(b"MerchantID_=1", KEY, IV)
    with pytest.raises(ez.EzpayWireError, match="MerchantOrderNo"):
        ez.merchant_order_no("X" * 21)


def test_issue_fields_b2c_mobile_carrier():
    f = ez.issue_fields(invoice(), 1_796_000_000)
    assert (f["RespondType"], f["Version"], f["TimeStamp"]) == ("JSON", "1.5", "1796000000")
    assert (f["MerchantOrderNo"], f["Status"], f["Category"]) == ("DD000123", "1", "B2C")
    assert (f["CarrierType"], f["CarrierNum"], f["PrintFlag"]) == ("0", "/TRM+O+P", "N")
    assert (f["TaxType"], f["TaxRate"]) == ("1", "5")
    assert (f["Amt"], f["TaxAmt"], f["TotalAmt"]) == ("762", "38", "800")
    assert f["ItemName"] == "凍頂烏龍茶 150g|運費" and f["ItemAmt"] == "700|100"
    assert f["ItemCount"] == "2|1" and f["ItemPrice"] == "350|100"


def test_issue_fields_b2b_donation_and_printed():
    b2b = ez.issue_fields(
        invoice(buyer=Party("茶葉股份有限公司", ubn="12345675"), carrier_type=None), 0
    )
    assert (b2b["Category"], b2b["BuyerUBN"], b2b["PrintFlag"]) == ("B2B", "12345675", "Y")
    assert b2b["CarrierType"] == "" and b2b["LoveCode"] == ""
    # B2B items are priced without the tax, and add up to Amt.
    assert sum(int(a) for a in b2b["ItemAmt"].split("|")) == int(b2b["Amt"]) == 762
    donated = ez.issue_fields(invoice(carrier_type=None, donation_code="168001"), 0)
    assert (donated["LoveCode"], donated["PrintFlag"], donated["CarrierType"]) == (
        "168001",
        "N",
        "",
    )
    printed = ez.issue_fields(invoice(carrier_type=None, carrier_id=None), 0)
    assert printed["PrintFlag"] == "Y" and printed["BuyerName"] == "林小姐"
    exempt = ez.issue_fields(invoice(tax_type="exempt"), 0)
    assert (exempt["TaxType"], exempt["TaxRate"], exempt["TaxAmt"]) == ("3", "0", "0")


def test_void_allowance_and_allowance_void_fields():
    void = ez.void_fields(InvoiceVoid("EZ30000000", AT, AT, "訂單取消並重新開立", "1", None), 7)
    assert void["Version"] == "1.0" and void["InvoiceNumber"] == "EZ30000000"
    assert void["InvalidReason"] == "訂單取消並重"  # at most 20 bytes
    allowance = Allowance(
        number="AL0001",
        issued_at=AT,
        invoice_number="EZ30000000",
        invoice_issued_at=AT,
        seller=Party("凍頂茶行", ubn="24634102"),
        buyer=Party("林小姐", email="lin@example.com"),
        lines=(Line(1, "凍頂烏龍茶 150g", Decimal(1), Decimal(350), Decimal(350)),),
        total=Decimal(350),
    )
    f = ez.allowance_fields(allowance, "DD000123", 7)
    assert (f["Version"], f["InvoiceNo"], f["MerchantOrderNo"]) == ("1.3", "EZ30000000", "DD000123")
    assert (f["ItemAmt"], f["ItemTaxAmt"], f["TotalAmt"], f["Status"]) == ("333", "17", "350", "1")
    undo = ez.void_allowance_fields(AllowanceVoid("AL0001", AT, AT, "退貨", "1", None), "A1", 7)
    assert (undo["AllowanceNo"], undo["InvalidReason"]) == ("A1", "退貨")


def _body(status: str, result: Any = None, message: str = "") -> bytes:
    text = json.dumps(result) if isinstance(result, dict) else (result or "")
    return json.dumps({"Status": status, "Message": message, "Result": text}).encode()


def test_answers_are_read_success_refusal_retryable_and_tampered():
    fields = {
        "MerchantID": "3622183",
        "MerchantOrderNo": "DD000123",
        "InvoiceTransNo": "14061313541640927",
        "TotalAmt": 800,
        "RandomNum": "0142",
        "InvoiceNumber": "EZ30000000",
        "CreateTime": "2026-11-30 10:00:00",
    }
    good = {**fields, "CheckCode": ez.check_code(fields, KEY, IV)}
    reply = ez.open_reply(_body("SUCCESS", good, "ok"), KEY, IV)
    assert reply.ok and not reply.retryable and reply.result["InvoiceNumber"] == "EZ30000000"
    assert ez.issued_at(reply.result["CreateTime"]) == AT
    refused = ez.open_reply(_body("LIB10003", None, "自訂編號重覆"), KEY, IV)
    assert not refused.ok and not refused.retryable and refused.message == "自訂編號重覆"
    assert ez.open_reply(_body("NOR10001"), KEY, IV).retryable
    with pytest.raises(ez.EzpayWireError, match="CheckCode"):
        ez.open_reply(_body("SUCCESS", {**good, "TotalAmt": 1}), KEY, IV)
    for bad in (b"<html>", b"[]", b'{"Message": "x"}', _body("SUCCESS", "{not json")):
        with pytest.raises(ez.EzpayWireError):
            ez.open_reply(bad, KEY, IV)
    assert ez.issued_at("yesterday") is None and ez.issued_at(None) is None
