"""LINE Pay's request signature on the published examples, and the amounts it is sent."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from dingdan.domain.payments import linepay as lp
from tests.helpers import shared_data_param, shared_external


def _vectors() -> list[Any]:
    path = shared_external() / "vectors" / "linepay.json"
    if not path.is_file():
        return [shared_data_param(f"{path} is missing")]
    cases = json.loads(path.read_text(encoding="utf-8"))["vectors"]
    return [pytest.param(c, id=c["id"]) for c in cases if c["kind"] == "linepay_sig"]


@pytest.mark.parametrize("case", _vectors())
def test_signature_matches_the_published_example(case: dict[str, Any]) -> None:
    # The examples sign the absolute URL they were given (the file's caveat): they check the
    # HMAC and the concatenation; what we sign is the path (the test below).
    given = case["inputs"]
    made = lp.signature(
        given["channel_secret"], given["uri"], given["query_or_body"], given["nonce"]
    )
    assert made == case["expected"]["X-LINE-Authorization"]
    headers = lp.headers(
        given["channel_id"],
        given["channel_secret"],
        given["uri"],
        given["query_or_body"],
        given["nonce"],
    )
    assert headers["X-LINE-ChannelId"] == given["channel_id"]
    assert headers["X-LINE-Authorization-Nonce"] == given["nonce"]
    assert headers["X-LINE-Authorization"] == case["expected"]["X-LINE-Authorization"]
    assert lp.signature_holds(
        given["channel_secret"], given["uri"], given["query_or_body"], given["nonce"], made
    )
    assert not lp.signature_holds(
        given["channel_secret"], given["uri"], given["query_or_body"] + " ", given["nonce"], made
    )


def test_signature_is_of_the_path_not_the_absolute_url() -> None:
    body = '{"amount":100}'
    on_path = lp.signature("s", "/v3/payments/request", body, "n")
    assert on_path != lp.signature("s", lp.SANDBOX_API + "/v3/payments/request", body, "n")
    assert lp.check_path("123") == "/v3/payments/requests/123/check"
    assert lp.confirm_path("123") == "/v3/payments/123/confirm"
    assert lp.refund_path("123") == "/v3/payments/123/refund"


def test_amounts_go_in_units_of_the_currency() -> None:
    assert lp.to_units(70000, "TWD", 2) == 700
    assert lp.to_units(1500, "JPY", 0) == 1500
    assert lp.to_units(1234, "USD", 2) == Decimal("12.34")
    with pytest.raises(lp.AmountNotPayable):
        lp.to_units(70050, "TWD", 2)  # LINE Pay takes whole dollars
    with pytest.raises(lp.AmountNotPayable):
        lp.to_units(10000, "HKD", 2)
    assert lp.dumps({"amount": Decimal("12.34")}) == '{"amount":12.34}'
    assert lp.to_minor(700, 2) == 70000
    assert lp.to_minor("12.34", 2) == 1234
    assert lp.to_minor(True, 2) is None


def test_request_body_adds_up_as_line_pay_requires() -> None:
    body = lp.request_body("key", "DD-1", 760, "TWD", "https://x/c", "https://x/x", "Order DD-1")
    package = body["packages"][0]
    assert body["amount"] == package["amount"] == 760
    assert sum(p["quantity"] * p["price"] for p in package["products"]) == 760
    assert body["redirectUrls"] == {"confirmUrl": "https://x/c", "cancelUrl": "https://x/x"}


def test_answers_are_read_with_the_transaction_id_exact() -> None:
    text = '{"returnCode":"0000","returnMessage":"ok","info":{"transactionId":2026120712345678901}}'
    answer = lp.parse(text)
    assert answer is not None and answer.ok
    assert lp.transaction_id(answer.info["transactionId"]) == "2026120712345678901"
    assert lp.parse("<html>") is None
    assert lp.parse('{"returnCode": 5}') is None
    assert lp.transaction_id("12a") is None
    assert lp.paid_minor({"payInfo": [{"amount": 500}, {"amount": 260}]}, 2) == 76000
    assert lp.paid_minor({"payInfo": "x"}, 2) is None
