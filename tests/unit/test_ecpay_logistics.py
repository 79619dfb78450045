"""ECPay logistics' parameters, answers and status codes (domain.fulfilment.ecpay_logistics),
with the CheckMacValue (MD5) checked on ECPay's published logistics example."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest

from dingdan.domain.fulfilment import ecpay_logistics as ec
from dingdan.domain.fulfilment.carriers import get_carrier
from dingdan.domain.shared import ecpay_mac
from dingdan.domain.shared.errors import ValidationFailed
from tests.helpers import missing_shared_data, shared_external


def test_the_published_logistics_example_signs_to_its_check_mac_value() -> None:
    path = shared_external() / "vectors" / "ecpay_logistics.json"
    if not path.exists():
        missing_shared_data("the shared ECPay logistics vectors are missing")
    doc = json.loads(path.read_text(encoding="utf-8"))
    for v in doc["vectors"]:
        i = v["inputs"]
        got = ecpay_mac.check_mac_value(i["params"], i["hash_key"], i["hash_iv"], "md5")
        assert got == v["expected"]["CheckMacValue"]


def test_every_brand_has_its_b2c_and_c2c_subtypes_and_a_store_pickup_carrier() -> None:
    subtypes = {b.name: (b.b2c, b.c2c) for b in ec.brands()}
    assert subtypes == {
        "7-ELEVEN": ("UNIMART", "UNIMARTC2C"),
        "FamilyMart": ("FAMI", "FAMIC2C"),
        "Hi-Life": ("HILIFE", "HILIFEC2C"),
        "OK": ("OKMART", "OKMARTC2C"),
    }
    for b in ec.brands():
        carrier = get_carrier(b.carrier)
        assert carrier is not None and carrier.store_pickup
        assert ec.brand_of_subtype(b.c2c) == b and ec.brand_of_subtype(b.b2c) == b


def test_the_map_reply_becomes_the_contracts_delivery() -> None:
    store = ec.store_from_map_reply(
        {
            "LogisticsSubType": "FAMIC2C",
            "CVSStoreID": "006598",
            "CVSStoreName": "全家南港店",
            "CVSAddress": "台北市南港區南港路二段93號",
        }
    )
    assert store.delivery() == {
        "type": "cvs_pickup",
        "brand": "FamilyMart",
        "store_id": "006598",
        "store_name": "全家南港店",
        "address": "台北市南港區南港路二段93號",
    }


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"brand": "Lawson", "store_id": "1", "store_name": "x"}, "brand"),
        ({"brand": "OK", "store_id": "12 34", "store_name": "x"}, "store_id"),
        ({"brand": "OK", "store_id": "1234", "store_name": ""}, "store_name"),
        ({"brand": "OK", "store_id": "1234", "store_name": "a\x00b"}, "store_name"),
    ],
)
def test_a_bad_store_is_refused_on_its_field(data: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        ec.check_store(data)
    assert [e.field for e in exc.value.errors] == [field]


def _parcel(**over: object) -> ec.Parcel:
    base = dict(
        trade_no="DD001001C1",
        brand="7-ELEVEN",
        store_id="991182",
        goods_amount=760,
        collection_amount=760,
        goods_name="茶行 DD001001",
        receiver_name="王小明",
        receiver_cell_phone="0912345678",
        receiver_email="a@example.com",
        sender_name="茶行123",
        sender_cell_phone="0987654321",
        created_at=datetime(2026, 12, 7, 2, 30, tzinfo=UTC),
    )
    return ec.Parcel(**(base | over))  # type: ignore[arg-type]


def test_create_parameters_collect_on_pickup_in_taiwan_time() -> None:
    p = ec.create_params("2000132", _parcel(), c2c=False, reply_url="u", c2c_reply_url="c")
    assert p["LogisticsSubType"] == "UNIMART" and p["LogisticsType"] == "CVS"
    assert p["IsCollection"] == "Y" and p["CollectionAmount"] == "760"
    assert p["MerchantTradeDate"] == "2026/12/07 10:30:00"
    assert p["SenderName"] == "茶行" and "LogisticsC2CReplyURL" not in p
    c2c = ec.create_params(
        "2000933", _parcel(collection_amount=0), c2c=True, reply_url="u", c2c_reply_url="c"
    )
    assert c2c["LogisticsSubType"] == "UNIMARTC2C" and c2c["IsCollection"] == "N"
    assert c2c["LogisticsC2CReplyURL"] == "c"


def test_the_create_answer_is_read_and_a_refusal_kept_as_a_message() -> None:
    fields = {"RtnCode": "300", "AllPayLogisticsID": "1718546", "CVSPaymentNo": "F0012345"}
    ok = ec.parse_answer("1|" + urlencode(fields))
    assert ok.ok and ok.fields["AllPayLogisticsID"] == "1718546"
    refused = ec.parse_answer("0|CheckMacValue Error")
    assert not refused.ok and refused.message == "CheckMacValue Error"
    assert not ec.parse_answer("<html>502</html>").ok


@pytest.mark.parametrize(
    ("code", "kind", "tracking"),
    [
        ("2030", ec.SENT, ("in_transit", None)),
        ("3024", ec.SENT, ("in_transit", None)),
        ("2073", ec.ARRIVED, ("out_for_delivery", None)),
        ("3018", ec.ARRIVED, ("out_for_delivery", None)),
        ("2067", ec.PICKED_UP, ("delivered", None)),
        ("3022", ec.PICKED_UP, ("delivered", None)),
        ("2074", ec.NOT_PICKED_UP, ("exception", "returned_to_sender")),
        ("3020", ec.NOT_PICKED_UP, ("exception", "returned_to_sender")),
        ("2101", ec.STORE_CLOSED, ("exception", "address_issue")),
    ],
)
def test_status_codes_mean_what_the_customer_sees(code: str, kind: str, tracking: tuple) -> None:
    assert ec.status_kind(code) == kind
    assert ec.tracking_status(kind) == tracking


def test_an_unknown_or_processing_code_changes_nothing() -> None:
    assert ec.status_kind("300") is None and ec.status_kind("9999") is None


def test_labels_b2c_through_print_trade_document_and_c2c_through_the_brands_page() -> None:
    path, params = ec.print_request("2000132", "FAMI", "1718546", "F1", "")
    assert path == "/helper/printTradeDocument" and "CVSPaymentNo" not in params
    path, params = ec.print_request("2000933", "UNIMARTC2C", "1718546", "F1", "1234")
    assert path == "/Express/PrintUniMartC2COrderInfo" and params["CVSValidationNo"] == "1234"
    path, params = ec.print_request("2000933", "OKMARTC2C", "1718546", "F1", "")
    assert path == "/Express/PrintOKMARTC2COrderInfo" and "CVSValidationNo" not in params


def test_phones_and_times_as_ecpay_writes_them() -> None:
    assert ec.cell_phone("+886 912-345-678") == "0912345678"
    assert ec.cell_phone("02-2345-6789") == ""
    assert ec.parse_ecpay_time("2026/12/07 10:30:00") == datetime(2026, 12, 7, 2, 30, tzinfo=UTC)
    assert ec.parse_ecpay_time("yesterday") is None
