"""ECPay's CheckMacValue against every published example in the shared vectors (payment
SHA256, logistics and e-invoice notification MD5), and what a changed field or a missing
value does to verification."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dingdan.domain.shared import ecpay_mac
from tests.helpers import shared_data_param, shared_external

FILES = ("ecpay_payment.json", "ecpay_logistics.json", "ecpay_einvoice.json")


def _cases() -> list[Any]:
    out = []
    for name in FILES:
        path = shared_external() / "vectors" / name
        if not path.is_file():
            return [shared_data_param(f"test vectors not found at {path}", id="vectors-missing")]
        for v in json.loads(path.read_text(encoding="utf-8"))["vectors"]:
            if v["kind"] == "ecpay_cmv":
                out.append(pytest.param(v, id=v["id"]))
    return out


@pytest.mark.parametrize("vector", _cases())
def test_check_mac_value_matches_the_published_examples(vector):
    i = vector["inputs"]
    method = "md5" if i["method"].upper() == "MD5" else "sha256"
    expected = vector["expected"]["CheckMacValue"]
    assert ecpay_mac.check_mac_value(i["params"], i["hash_key"], i["hash_iv"], method) == expected
    signed = dict(i["params"], CheckMacValue=expected)
    assert ecpay_mac.verify(signed, i["hash_key"], i["hash_iv"], method)
    # The value given in lowercase is the same value.
    assert ecpay_mac.verify(
        dict(signed, CheckMacValue=expected.lower()), i["hash_key"], i["hash_iv"], method
    )
    # Any field changed, the other hash, or other keys: refused.
    name = sorted(i["params"])[0]
    assert not ecpay_mac.verify(
        dict(signed, **{name: str(i["params"][name]) + "1"}), i["hash_key"], i["hash_iv"], method
    )
    other = "sha256" if method == "md5" else "md5"
    assert not ecpay_mac.verify(signed, i["hash_key"], i["hash_iv"], other)
    assert not ecpay_mac.verify(signed, i["hash_key"][::-1], i["hash_iv"], method)


def test_a_missing_or_empty_check_mac_value_is_refused():
    params = {"MerchantID": "3002607", "RtnCode": "1"}
    assert not ecpay_mac.verify(params, "k", "v")
    assert not ecpay_mac.verify(dict(params, CheckMacValue=""), "k", "v")
    assert not ecpay_mac.verify(dict(params, CheckMacValue=None), "k", "v")


def test_order_of_parameters_and_case_of_names_sort_as_ecpay_does():
    a = ecpay_mac.check_mac_value({"b": "1", "A": "2", "c": ""}, "k", "v")
    b = ecpay_mac.check_mac_value({"c": "", "A": "2", "b": "1"}, "k", "v")
    assert a == b
    # An empty value is kept (``c=``): leaving it out gives another value.
    assert a != ecpay_mac.check_mac_value({"b": "1", "A": "2"}, "k", "v")
