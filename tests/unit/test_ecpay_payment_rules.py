"""ECPay's all-in-one checkout as documented: the parameters of each way to pay, their
signature (the published example), the callbacks' fields and deadlines."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from dingdan.domain.payments import ecpay as ec
from tests.helpers import shared_data_param, shared_external


def _vectors() -> list:
    path = shared_external() / "vectors" / "ecpay_payment.json"
    if not path.is_file():
        return [shared_data_param(f"test vectors not found at {path}", id="vectors-missing")]
    return [pytest.param(v, id=v["id"]) for v in json.loads(path.read_text("utf-8"))["vectors"]]


def _checkout(choice: str) -> ec.Checkout:
    return ec.Checkout(
        merchant_id="3002607",
        merchant_trade_no="DD00001234ABCDEF0123",
        at=datetime(2026, 12, 7, 10, 30, 5, tzinfo=UTC),
        amount=760,
        description="Order DD-0001234",
        items=["烏龍茶 x 2", "Tea #2 x 1"],
        choice=choice,
        return_url="https://shop.example.com/hooks/ecpay/result",
        client_back_url="https://shop.example.com/pay/tok",
        order_result_url="https://shop.example.com/pay/tok/result",
        payment_info_url="https://shop.example.com/hooks/ecpay/payment-info",
    )


@pytest.mark.parametrize("vector", _vectors())
def test_signed_gives_the_published_check_mac_value(vector):
    i = vector["inputs"]
    if i["method"].upper() != "SHA256":
        pytest.skip("not a payment example")
    out = ec.signed(i["params"], i["hash_key"], i["hash_iv"])
    assert out["CheckMacValue"] == vector["expected"]["CheckMacValue"]
    assert ec.is_signed(out, i["hash_key"], i["hash_iv"])


def test_card_checkout_has_the_documented_parameters_and_no_deadline():
    p = ec.checkout_params(_checkout("card"))
    assert p["MerchantTradeDate"] == "2026/12/07 18:30:05"  # Asia/Taipei
    assert p["PaymentType"] == "aio" and p["EncryptType"] == "1"
    assert p["ChoosePayment"] == "Credit" and p["TotalAmount"] == "760"
    assert p["ItemName"] == "烏龍茶 x 2#Tea ＃2 x 1"
    assert "ExpireDate" not in p and "PaymentInfoURL" not in p and "StoreExpireDate" not in p
    assert p["NeedExtraPaidInfo"] == "Y"  # the result then carries card6no and card4no
    signed = ec.signed(p, ec.STAGE_HASH_KEY, ec.STAGE_HASH_IV)
    # Worked out by hand from ECPay's steps (the names sorted, HashKey/HashIV around, each
    # byte outside A-Za-z0-9-_.!*() as %xx, space +, lowercased, SHA256): the Chinese
    # ItemName and the full-width ＃ are UTF-8 escaped. The fields are sent as built.
    assert signed["CheckMacValue"] == (
        "AA91B0D450654C73B2DC02CDB968133FC900CA771DA77E6EA7C00E2456B1F185"
    )
    assert {k: v for k, v in signed.items() if k != "CheckMacValue"} == p
    assert not ec.is_signed({**signed, "TotalAmount": "1"}, ec.STAGE_HASH_KEY, ec.STAGE_HASH_IV)


def test_atm_and_cvs_name_their_deadline_and_the_payment_info_url():
    atm = ec.checkout_params(_checkout("atm"))
    assert atm["ChoosePayment"] == "ATM" and atm["ExpireDate"] == str(ec.ATM_DAYS)
    assert atm["PaymentInfoURL"].endswith("/hooks/ecpay/payment-info")
    cvs = ec.checkout_params(_checkout("cvs"))
    assert cvs["ChoosePayment"] == "CVS" and cvs["StoreExpireDate"] == str(ec.CVS_MINUTES)


def test_merchant_trade_numbers_are_unique_short_and_alphanumeric():
    seen = {ec.trade_no("DD-0001234") for _ in range(200)}
    assert len(seen) == 200
    assert all(re.fullmatch(r"[0-9A-Za-z]{1,20}", t) and t.startswith("DD0001234") for t in seen)


def test_only_whole_new_taiwan_dollars_are_taken():
    assert ec.whole_dollars(76000, "TWD") == 760
    for minor, cur in ((76050, "TWD"), (76000, "HKD"), (0, "TWD")):
        with pytest.raises(ValueError):
            ec.whole_dollars(minor, cur)


def test_callback_fields_and_deadlines_are_read_in_taipei_time():
    r = ec.read_result(
        {
            "MerchantTradeNo": "DD1",
            "RtnCode": "2",
            "TradeAmt": "760",
            "BankCode": "812",
            "vAccount": "9103522850",
            "ExpireDate": "2026/12/10",
        }
    )
    assert r.amount == 760 and r.v_account == "9103522850"
    assert r.expires_at == datetime(2026, 12, 10, 15, 59, 59, tzinfo=UTC)
    assert ec.expire_time("2026/12/10 18:30:00") == datetime(2026, 12, 10, 10, 30, tzinfo=UTC)
    assert ec.expire_time("soon") is None
    with pytest.raises(ValueError):
        ec.read_result({"MerchantTradeNo": "bad no!", "RtnCode": "1"})
