"""The centres' wire formats, without a network: ECPay's AES envelope against its published
example (shared vectors), the mapping of an e-invoice to ECPay's and Amego's fields, and
Amego's md5 sign."""

from __future__ import annotations

import hashlib
import json
import urllib.parse
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from dingdan.domain.invoicing import amego as am
from dingdan.domain.invoicing import carrier_formats
from dingdan.domain.invoicing import ecpay_einvoice as ec
from dingdan.domain.invoicing.documents import (
    Allowance,
    AllowanceVoid,
    EInvoice,
    InvoiceVoid,
    Line,
    Party,
)
from tests.helpers import missing_shared_data, shared_data_param, shared_external

VECTORS = shared_external() / "vectors"
AT = datetime(2026, 11, 30, 17, 30, tzinfo=UTC)  # 2026-12-01 01:30 in Taipei


def _vectors(name: str) -> dict[str, Any]:
    path = VECTORS / name
    if not path.is_file():
        missing_shared_data(f"test vectors not found at {path}")
    return json.loads(path.read_text(encoding="utf-8"))


def _vector(name: str, vector_id: str) -> dict[str, Any]:
    return next(v for v in _vectors(name)["vectors"] if v["id"] == vector_id)


def invoice(**kw: Any) -> EInvoice:
    values: dict[str, Any] = dict(
        number="DD000123",
        issued_at=AT,
        random_code="0000",
        seller=Party("凍頂茶行", ubn="24634102"),
        buyer=Party("林小姐", email="lin@example.com"),
        lines=(
            Line(1, "凍頂烏龍茶 150g", Decimal(2), Decimal(350), Decimal(700), unit="包"),
            Line(2, "運費", Decimal(1), Decimal(100), Decimal(100)),
        ),
        total=Decimal(800),
    )
    values.update(kw)
    return EInvoice(**values)


# ---- ECPay: the published AES example ------------------------------------------------------


def test_ecpay_sandbox_credentials_are_the_published_ones():
    creds = _vectors("ecpay_einvoice.json")["sandbox_credentials"]
    assert (
        creds["MerchantID"],
        creds["HashKey"],
        creds["HashIV"],
    ) == (ec.SANDBOX_MERCHANT_ID, ec.SANDBOX_HASH_KEY, ec.SANDBOX_HASH_IV)


def test_ecpay_data_of_the_documented_example_is_byte_for_byte_the_published_one():
    v = _vector("ecpay_einvoice.json", "ecpay-einvoice-aes-doc-upper")
    inputs, expected = v["inputs"], v["expected"]
    plain = inputs["plaintext_json"]
    assert ec.php_urlencode(plain) == expected["url_encoded"]
    assert (
        ec.encrypt_text(ec.php_urlencode(plain), inputs["hash_key"], inputs["hash_iv"])
        == (expected["base64"])
    )
    # Our JSON serialisation of the same object gives the same text, hence the same bytes.
    data = json.loads(plain)
    assert ec.dump_json(data) == plain
    assert ec.encrypt_data(data, inputs["hash_key"], inputs["hash_iv"]) == expected["base64"]
    assert ec.decrypt_data(expected["base64"], inputs["hash_key"], inputs["hash_iv"]) == data


def test_ecpay_lowercase_hex_variant_of_the_example_decrypts_to_the_same_json():
    v = _vector("ecpay_einvoice.json", "ecpay-einvoice-aes-doc-lower")
    inputs, expected = v["inputs"], v["expected"]
    assert (
        ec.encrypt_text(inputs["plaintext"], inputs["hash_key"], inputs["hash_iv"])
        == (expected["base64"])
    )
    got = ec.decrypt_data(expected["base64"], inputs["hash_key"], inputs["hash_iv"])
    assert got == json.loads(expected["decrypts_to_json"])


def test_ecpay_encoding_escapes_what_php_urlencode_escapes():
    from dingdan.domain.shared import ecpay_mac

    # One encoding for ECPay: the e-invoice's and the CheckMacValue's (published vectors of
    # both: test_einvoice_wire.py, test_ecpay_mac.py).
    assert ec.php_urlencode is ecpay_mac.php_urlencode
    assert ec.php_urlencode("a b~!*'()-_.") == "a+b%7E%21%2A%27%28%29-_."
    assert ec.php_urlencode("茶") == "%E8%8C%B6"


def test_ecpay_data_under_other_keys_does_not_open():
    data = ec.encrypt_data({"RtnCode": 1}, ec.SANDBOX_HASH_KEY, ec.SANDBOX_HASH_IV)
    with pytest.raises(ec.EcpayWireError):
        ec.decrypt_data(data, "0123456789abcdef", ec.SANDBOX_HASH_IV)


def test_ecpay_envelope_and_reply():
    body = ec.envelope(
        "2000132", {"MerchantID": "2000132"}, ec.SANDBOX_HASH_KEY, ec.SANDBOX_HASH_IV, 1
    )
    outer = json.loads(body)
    assert outer["MerchantID"] == "2000132"
    assert outer["RqHeader"] == {"Timestamp": 1, "Revision": "3.0.0"}
    answer = json.dumps(
        {
            "TransCode": 1,
            "TransMsg": "",
            "Data": ec.encrypt_data(
                {"RtnCode": 1, "RtnMsg": "ok", "InvoiceNo": "UV11100019"},
                ec.SANDBOX_HASH_KEY,
                ec.SANDBOX_HASH_IV,
            ),
        }
    ).encode()
    reply = ec.open_reply(answer, ec.SANDBOX_HASH_KEY, ec.SANDBOX_HASH_IV)
    assert reply.ok and reply.data and reply.data["InvoiceNo"] == "UV11100019"
    refused = ec.open_reply(
        b'{"TransCode": 9999, "TransMsg": "bad", "Data": ""}', "a" * 16, "b" * 16
    )
    assert not refused.ok and refused.data is None and refused.trans_msg == "bad"
    with pytest.raises(ec.EcpayWireError):
        ec.open_reply(b"<html>", ec.SANDBOX_HASH_KEY, ec.SANDBOX_HASH_IV)


# ---- ECPay: the fields of each call --------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "fields"),
    [
        (
            {"carrier_type": "mobile", "carrier_id": "/TRM+O+P"},
            {"Print": "0", "Donation": "0", "CarrierType": "3", "CarrierNum": "/TRM+O+P"},
        ),
        (
            {"carrier_type": "certificate", "carrier_id": "AB12345678901234"},
            {"Print": "0", "CarrierType": "2", "CarrierNum": "AB12345678901234"},
        ),
        ({"carrier_type": "member"}, {"Print": "0", "CarrierType": "1", "CarrierNum": ""}),
        (
            {"donation_code": "168001"},
            {"Print": "0", "Donation": "1", "LoveCode": "168001", "CarrierType": ""},
        ),
        ({}, {"Print": "1", "Donation": "0", "CarrierType": "", "CustomerName": "林小姐"}),
        (
            {"buyer": Party("茶葉股份有限公司", ubn="12345675", address="台北市")},
            {
                "Print": "1",
                "CustomerIdentifier": "12345675",
                "CustomerName": "茶葉股份有限公司",
                "CustomerAddr": "台北市",
                "CarrierType": "",
            },
        ),
    ],
    ids=["mobile", "certificate", "member", "donation", "printed", "b2b"],
)
def test_ecpay_issue_fields_for_each_kind_of_invoice(kw, fields):
    data = ec.issue_data("2000132", invoice(**kw))
    assert {k: data[k] for k in fields} == fields
    assert data["RelateNumber"] == "DD000123" and data["TaxType"] == "1"
    assert data["SalesAmount"] == 800 and data["vat"] == "1" and data["InvType"] == "07"
    assert data["Items"][0] == {
        "ItemSeq": 1,
        "ItemName": "凍頂烏龍茶 150g",
        "ItemCount": 2,
        "ItemWord": "包",
        "ItemPrice": 350,
        "ItemTaxType": "1",
        "ItemAmount": 700,
    }
    assert sum(i["ItemAmount"] for i in data["Items"]) == data["SalesAmount"]


def test_ecpay_void_and_allowance_fields_use_the_taipei_day():
    void = InvoiceVoid("AB10000000", AT, AT, "客戶取消訂單並要求退款全額處理", "24634102", None)
    assert ec.void_data("2000132", void) == {
        "MerchantID": "2000132",
        "InvoiceNo": "AB10000000",
        "InvoiceDate": "2026-12-01",
        "Reason": "客戶取消訂單並要求退款全額處理"[:20],
    }
    allowance = Allowance(
        "AL0001", AT, "AB10000000", AT, Party("s", ubn="24634102"), Party("林小姐"),
        (Line(1, "茶", Decimal(1), Decimal(350), Decimal(350)),), Decimal(350),
    )  # fmt: skip
    data = ec.allowance_data("2000132", allowance)
    assert data["AllowanceNotify"] == "N" and data["AllowanceAmount"] == 350
    undo = AllowanceVoid("AL0001", AT, AT, "錯誤", "24634102", None)
    assert ec.void_allowance_data("2000132", undo, "AB10000000", "2019091813130135") == {
        "MerchantID": "2000132",
        "InvoiceNo": "AB10000000",
        "AllowanceNo": "2019091813130135",
        "Reason": "錯誤",
    }


def test_ecpay_relate_number_is_at_most_thirty_letters_and_digits():
    assert ec.relate_number("DD-2026-000123") == "DD2026000123"
    with pytest.raises(ec.EcpayWireError):
        ec.relate_number("X" * 31)


# ---- Amego ---------------------------------------------------------------------------------


def test_amego_sign_is_md5_of_data_time_and_key():
    data = '{"OrderId":"A20200817106955"}'
    expected = hashlib.md5(f"{data}1628136135sHeq7t8G1wiQvhAuIM27".encode()).hexdigest()
    assert am.sign(data, 1628136135, am.SANDBOX_APP_KEY) == expected
    body = am.form_body("12345678", {"OrderId": "A20200817106955"}, 1628136135, am.SANDBOX_APP_KEY)
    fields = dict(urllib.parse.parse_qsl(body.decode()))
    assert fields == {
        "invoice": "12345678",
        "data": data,
        "time": "1628136135",
        "sign": expected,
    }
    assert am.verify(fields, am.SANDBOX_APP_KEY) and not am.verify(fields, "other")


def test_amego_issue_fields_b2c_and_b2b():
    b2c = am.issue_data(invoice(carrier_type="mobile", carrier_id="/TRM+O+P"))
    assert (b2c["BuyerIdentifier"], b2c["CarrierType"], b2c["CarrierId1"]) == (
        "0000000000",
        "3J0002",
        "/TRM+O+P",
    )
    assert (b2c["SalesAmount"], b2c["TaxAmount"], b2c["TotalAmount"]) == (800, 0, 800)
    donated = am.issue_data(invoice(donation_code="168001"))
    assert donated["NPOBAN"] == "168001" and donated["CarrierType"] == ""
    member = am.issue_data(invoice(carrier_type="member"))
    assert member["CarrierType"] == "amego" and member["CarrierId1"] == "lin@example.com"
    b2b = am.issue_data(invoice(buyer=Party("茶葉股份有限公司", ubn="12345675")))
    assert (b2b["SalesAmount"], b2b["TaxAmount"], b2b["TotalAmount"]) == (762, 38, 800)
    assert b2b["BuyerIdentifier"] == "12345675" and b2b["BuyerName"] == "茶葉股份有限公司"


def test_amego_allowance_lines_add_up():
    allowance = Allowance(
        "AL0001", AT, "AA26513024", AT, Party("s", ubn="24634102"), Party("林小姐"),
        (
            Line(1, "茶", Decimal(1), Decimal(350), Decimal(350)),
            Line(2, "運費", Decimal(1), Decimal(100), Decimal(100)),
        ),
        Decimal(450),
    )  # fmt: skip
    [data] = am.allowance_data(allowance)
    items = data["ProductItem"]
    assert [(i["Amount"], i["Tax"]) for i in items] == [(333, 17), (95, 5)]
    assert (data["TotalAmount"], data["TaxAmount"]) == (428, 22)
    assert data["TotalAmount"] + data["TaxAmount"] == 450
    assert items[0]["OriginalInvoiceDate"] == "20261201" and data["AllowanceDate"] == "20261201"
    assert am.void_data(InvoiceVoid("AA26513024", AT, AT, "x", "24634102", None)) == [
        {"CancelInvoiceNumber": "AA26513024"}
    ]


# ---- carrier formats (offline rules) -------------------------------------------------------


def _format_cases() -> list[Any]:
    path = VECTORS / "taiwan_einvoice.json"
    if not path.is_file():
        return [shared_data_param(f"test vectors not found at {path}", id="vectors-missing")]
    data = json.loads(path.read_text(encoding="utf-8"))
    return [
        pytest.param(
            v["inputs"]["type"], v["inputs"]["value"], v["expected"]["format_valid"], id=v["id"]
        )
        for v in data["vectors"]
        if v["kind"] == "tw_format"
    ]


@pytest.mark.parametrize(("kind", "value", "valid"), _format_cases())
def test_carrier_donation_and_number_formats_follow_the_vectors(kind, value, valid):
    check = {
        "mobile_barcode": carrier_formats.is_mobile_barcode,
        "love_code": carrier_formats.is_love_code,
        "invoice_number": carrier_formats.is_invoice_number,
    }[kind]
    assert check(value) is valid


def test_citizen_certificate_carrier_format():
    assert carrier_formats.is_certificate_carrier("AB12345678901234")
    assert not carrier_formats.is_certificate_carrier("ab12345678901234")
    assert not carrier_formats.is_certificate_carrier("AB1234567890123")


def test_amego_b2b_amounts_match_amegos_own_example():
    # invoice.amego.tw/api_doc/example: items 170 and -2 tax included, to 統編 28080623:
    # SalesAmount 160, TaxAmount 8, TotalAmount 168.
    lines = (
        Line(1, "測試商品1", Decimal(1), Decimal(170), Decimal(170)),
        Line(2, "會員折抵", Decimal(1), Decimal(-2), Decimal(-2)),
    )
    data = am.issue_data(
        invoice(
            buyer=Party("光貿科技股份有限公司", ubn="28080623"), lines=lines, total=Decimal(168)
        )
    )
    assert (data["SalesAmount"], data["TaxAmount"], data["TotalAmount"]) == (160, 8, 168)
    assert (data["TaxType"], data["TaxRate"]) == (1, "0.05")
    assert [i["Amount"] for i in data["ProductItem"]] == [170, -2]
