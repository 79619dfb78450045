"""The ezPay centre over real HTTP, against its local stand-in (tests/einvoice_fakes.py):
issue, void, allowance and allowance void round-trip with the number and random code ezPay
assigns; a refusal is recorded and not retried; a centre that is down, hangs or answers
garbage (or a network Status) is retried; every request and answer is kept in
``einvoice_exchanges``, and a repeated call is answered once."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from dingdan.config import Settings
from dingdan.db.einvoice_exchange_tables import EinvoiceExchange
from dingdan.domain.invoicing import ezpay_einvoice as ez
from dingdan.domain.invoicing.documents import (
    AllowanceVoid,
    InvoiceVoid,
)
from dingdan.services.invoicing.centre_exchanges import exchanges_of
from dingdan.services.invoicing.centres import (
    EzpayCentre,
    centre_from_settings,
    numbering_centre,
    verify_mobile_barcode,
)
from tests.einvoice_fakes import (
    AT,
    EZPAY_BAD_FIELD,
    EZPAY_TEST_IV,
    EZPAY_TEST_KEY,
    EZPAY_TEST_MERCHANT,
    NOW,
    FakeEzpay,
    allowance,
    invoice,
)


@pytest.fixture
def ezpay() -> Iterator[FakeEzpay]:
    fake = FakeEzpay(clock=lambda: NOW)
    fake.start()
    yield fake
    fake.stop()


def _centre(db, fake: FakeEzpay, timeout: float = 5.0, **kw) -> EzpayCentre:
    keys = dict(merchant_id=EZPAY_TEST_MERCHANT, hash_key=EZPAY_TEST_KEY, hash_iv=EZPAY_TEST_IV)
    keys.update(kw)
    return EzpayCentre(db, url=fake.url, timeout=timeout, clock=lambda: NOW, **keys)


def _rows(db) -> list:
    return list(
        db.read(lambda c: c.execute(select(EinvoiceExchange).order_by(EinvoiceExchange.id)).all())
    )


def test_issue_posts_the_encrypted_form_and_keeps_the_assigned_number(db, ezpay):
    answer = _centre(db, ezpay).issue(invoice())
    assert answer.ok and not answer.retryable
    held = ezpay.invoices["DD000123"]
    assert (answer.invoice_number, answer.random_code) == (held["InvoiceNumber"], held["RandomNum"])
    assert answer.issued_at == AT  # CreateTime is Taiwan's time
    got = ezpay.received[0]
    assert got.path == "/Api/invoice_issue"
    assert got.data == ez.issue_fields(invoice(), NOW)
    # Kept: the exact bytes both ways, the Result opened (its CheckCode verified).
    [row] = _rows(db)
    assert (row.centre, row.operation, row.document_number) == ("ezpay", "issue", "DD000123")
    assert row.request_body.encode() == got.body
    assert row.response_body.encode() == ezpay.answers[0]
    assert row.outcome == "ok" and row.http_status == 200 and row.code == "SUCCESS"
    assert json.loads(row.answer)["InvoiceNumber"] == answer.invoice_number


def test_repeated_issue_is_answered_from_the_log_and_a_lost_answer_is_found(db, ezpay):
    centre = _centre(db, ezpay)
    first = centre.issue(invoice())
    again = centre.issue(invoice())
    assert again.ok and again.invoice_number == first.invoice_number
    assert len(ezpay.received) == 1
    # The log lost (another install, say): ezPay refuses the repeat, the search finds it.
    db.write(lambda c: c.execute(EinvoiceExchange.__table__.delete()))
    found = centre.issue(invoice())
    assert found.ok and found.invoice_number == first.invoice_number
    assert found.random_code == first.random_code
    assert [r.path for r in ezpay.received[1:]] == ["/Api/invoice_issue", "/Api/invoice_search"]
    assert [(r.operation, r.outcome, r.code) for r in _rows(db)] == [
        ("issue", "refused", ez.DUPLICATE),
        ("query", "ok", "SUCCESS"),
    ]
    assert len(ezpay.invoices) == 1


def test_refusal_is_recorded_and_not_retried(db, ezpay):
    centre = _centre(db, ezpay)
    ezpay.refuse_next["/Api/invoice_issue"] = (EZPAY_BAD_FIELD, "載具號碼格式錯誤")  # type: ignore[assignment]
    answer = centre.issue(invoice())
    assert not answer.ok and not answer.retryable
    assert (answer.code, answer.message) == (EZPAY_BAD_FIELD, "載具號碼格式錯誤")
    first = _rows(db)[0]
    assert first.outcome == "refused" and first.error == "載具號碼格式錯誤"
    assert first.code == EZPAY_BAD_FIELD


@pytest.mark.parametrize("mode", ["down", "garbage"])
def test_down_or_garbled_is_retried_then_issued_once(db, ezpay, mode):
    centre = _centre(db, ezpay)
    ezpay.mode = mode
    answer = centre.issue(invoice())
    assert not answer.ok and answer.retryable
    [row] = _rows(db)
    assert row.outcome == "retry" and row.error
    assert row.http_status == (503 if mode == "down" else 200)
    ezpay.mode = "up"
    assert centre.issue(invoice()).ok
    assert len(ezpay.invoices) == 1
    assert [r.outcome for r in _rows(db)] == ["retry", "ok"]


def test_network_status_is_retried(db, ezpay):
    ezpay.refuse_next["/Api/invoice_issue"] = ("NOR10001", "網路連線異常")  # type: ignore[assignment]
    answer = _centre(db, ezpay).issue(invoice())
    assert answer.retryable and answer.code == "NOR10001"
    assert _rows(db)[0].outcome == "retry"


def test_timeout_is_retried(db, ezpay):
    ezpay.mode = "hang"
    answer = _centre(db, ezpay, timeout=0.3).issue(invoice())
    assert answer.retryable and "timed out" in (answer.message or "")
    [row] = _rows(db)
    assert row.outcome == "retry" and row.http_status is None


def test_an_answer_with_a_wrong_check_code_is_not_trusted(db, ezpay):
    ezpay.key = "z" * 32  # the stand-in signs under other keys (and cannot read ours)
    answer = _centre(db, ezpay).issue(invoice())
    assert not answer.ok and not answer.retryable and answer.code == "KEY10002"
    # Same keys to read, another to sign: the CheckCode does not verify.
    ezpay.key = EZPAY_TEST_KEY
    ezpay._checked = lambda result: {**result, "CheckCode": "0" * 64}  # type: ignore[method-assign]
    tampered = _centre(db, ezpay).issue(invoice("DD000124"))
    assert tampered.retryable and "CheckCode" in (tampered.message or "")


def test_void_allowance_and_allowance_void_round_trip(db, ezpay):
    centre = _centre(db, ezpay)
    number = centre.issue(invoice()).invoice_number
    assert number
    taken = centre.allowance(allowance("AL0001", number))
    assert taken.ok
    sent = ezpay.received[-1].data
    assert sent["InvoiceNo"] == number and sent["MerchantOrderNo"] == "DD000123"
    assert (sent["ItemAmt"], sent["ItemTaxAmt"], sent["TotalAmt"]) == ("333", "17", "350")
    assert ezpay.invoices["DD000123"]["remaining"] == 450
    too_much = centre.allowance(allowance("AL0002", number, amount=500))
    assert not too_much.ok and not too_much.retryable
    undone = centre.void_allowance(AllowanceVoid("AL0001", AT, AT, "退貨取消", "24634102", None))
    assert undone.ok
    assert ezpay.received[-1].data["AllowanceNo"] in ezpay.allowances
    assert ezpay.invoices["DD000123"]["remaining"] == 800
    voided = centre.void(InvoiceVoid(number, AT, AT, "訂單取消", "24634102", None))
    assert voided.ok and ezpay.invoices["DD000123"]["void"]
    assert ezpay.received[-1].data["InvalidReason"] == "訂單取消"
    # Repeats are answered from the log.
    before = len(ezpay.received)
    assert centre.void(InvoiceVoid(number, AT, AT, "訂單取消", "24634102", None)).ok
    assert centre.allowance(allowance("AL0001", number)).ok
    assert len(ezpay.received) == before
    assert {x["operation"] for x in exchanges_of(db, "AL0001")} == {"allowance", "void_allowance"}
    assert {x["outcome"] for x in exchanges_of(db, number)} == {"ok"}


def test_void_taken_before_a_lost_answer_is_already_void(db, ezpay):
    centre = _centre(db, ezpay)
    number = centre.issue(invoice()).invoice_number
    assert number
    ezpay.invoices["DD000123"]["void"] = True
    answer = centre.void(InvoiceVoid(number, AT, AT, "訂單取消", "24634102", None))
    assert answer.ok and answer.message == "already void"
    unknown = centre.void(InvoiceVoid("EZ99999999", AT, AT, "x", "24634102", None))
    assert not unknown.ok and not unknown.retryable


def test_allowances_of_documents_ezpay_never_took_are_refused_without_a_request(db, ezpay):
    centre = _centre(db, ezpay)
    no_invoice = centre.allowance(allowance("AL0009", "EZ99999999"))
    assert not no_invoice.ok and no_invoice.code == "unknown_invoice"
    no_allowance = centre.void_allowance(AllowanceVoid("AL9999", AT, AT, "x", "1", None))
    assert not no_allowance.ok and no_allowance.code == "unknown_allowance"
    bad_key = centre.issue(invoice("DD-" + "9" * 30))
    assert not bad_key.ok and not bad_key.retryable and bad_key.code == "bad_document"
    assert ezpay.received == []


def test_lookups_fall_back_to_the_format_rules(db, ezpay):
    centre = _centre(db, ezpay)
    assert centre.check_mobile_barcode("/TRM+O+P") is None
    assert centre.check_love_code("168001") is None
    assert verify_mobile_barcode(centre, "/ABC1234") is True
    assert ezpay.received == []


def test_the_centre_comes_from_the_settings_and_needs_its_keys(db):
    settings = Settings(
        einvoice_centre="ezpay",
        einvoice_ezpay_merchant_id=EZPAY_TEST_MERCHANT,
        einvoice_ezpay_hash_key=EZPAY_TEST_KEY,  # type: ignore[arg-type]
        einvoice_ezpay_hash_iv=EZPAY_TEST_IV,  # type: ignore[arg-type]
    )
    centre = centre_from_settings(db, settings)
    assert isinstance(centre, EzpayCentre) and centre.url == ez.TEST_URL
    assert EZPAY_TEST_KEY not in repr(centre) and EZPAY_TEST_IV not in repr(centre)
    assert numbering_centre(settings) == "ezpay"
    with pytest.raises(ValueError, match="EZPAY_MERCHANT_ID"):
        centre_from_settings(db, Settings(einvoice_centre="ezpay"))
    with pytest.raises(ValueError, match="32"):
        centre_from_settings(
            db,
            Settings(
                einvoice_centre="ezpay",
                einvoice_ezpay_merchant_id="1",
                einvoice_ezpay_hash_key="short",  # type: ignore[arg-type]
                einvoice_ezpay_hash_iv=EZPAY_TEST_IV,  # type: ignore[arg-type]
            ),
        )
