"""The e-invoice centres over real HTTP, against local stand-ins of ECPay and Amego
(tests/einvoice_fakes.py): issue, void, allowance and allowance void round-trip; the numbers
and random codes the centre assigns come back; a refusal is not retried, a centre that is
down, hangs or answers garbage is (``retryable``); every request and answer is kept in
``einvoice_exchanges``, and a repeated call is answered once."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from dingdan.config import Settings
from dingdan.db.einvoice_exchange_tables import EinvoiceExchange
from dingdan.domain.invoicing import amego as am
from dingdan.domain.invoicing import ecpay_einvoice as ec
from dingdan.domain.invoicing.documents import (
    AllowanceVoid,
    InvoiceVoid,
    Party,
)
from dingdan.services.invoicing.centre_exchanges import exchanges_of
from dingdan.services.invoicing.centres import (
    AmegoCentre,
    EcpayCentre,
    centre_from_settings,
    verify_love_code,
    verify_mobile_barcode,
)
from tests.einvoice_fakes import (
    AT,
    ECPAY_BAD_FIELD,
    NOW,
    FakeAmego,
    FakeEcpay,
    allowance,
    invoice,
)
from tests.helpers import run_threads


@pytest.fixture
def ecpay() -> Iterator[FakeEcpay]:
    fake = FakeEcpay(clock=lambda: NOW)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def amego() -> Iterator[FakeAmego]:
    fake = FakeAmego(clock=lambda: NOW)
    fake.start()
    yield fake
    fake.stop()


def _ecpay_centre(db, fake: FakeEcpay, timeout: float = 5.0) -> EcpayCentre:
    return EcpayCentre(db, url=fake.url, timeout=timeout, clock=lambda: NOW)


def _amego_centre(db, fake: FakeAmego, timeout: float = 5.0) -> AmegoCentre:
    return AmegoCentre(db, url=fake.url, timeout=timeout, clock=lambda: NOW)


def _rows(db) -> list:
    return list(
        db.read(lambda c: c.execute(select(EinvoiceExchange).order_by(EinvoiceExchange.id)).all())
    )


# ---- ECPay ---------------------------------------------------------------------------------


def test_ecpay_issue_sends_the_documented_envelope_and_keeps_the_assigned_number(db, ecpay):
    centre = _ecpay_centre(db, ecpay)
    answer = centre.issue(invoice())
    assert answer.ok and not answer.retryable
    held = ecpay.invoices["DD000123"]
    assert (answer.invoice_number, answer.random_code) == (held["InvoiceNo"], held["RandomNumber"])
    # The bytes the stand-in received are the documented envelope, Data under the same keys.
    got = ecpay.received[0]
    assert got.path == "/B2CInvoice/Issue"
    outer = json.loads(got.body)
    assert list(outer) == ["MerchantID", "RqHeader", "Data"]
    assert outer["RqHeader"] == {"Timestamp": NOW, "Revision": "3.0.0"}
    assert got.data == ec.issue_data(ec.SANDBOX_MERCHANT_ID, invoice())
    assert got.data["CarrierType"] == "3" and got.data["CarrierNum"] == "/TRM+O+P"
    assert got.data["Print"] == "0" and got.data["SalesAmount"] == 800
    # Kept: the exact bytes both ways, the answer opened.
    [row] = _rows(db)
    assert (row.centre, row.operation, row.document_number) == ("ecpay", "issue", "DD000123")
    assert row.request_body.encode() == got.body
    assert row.outcome == "ok" and row.http_status == 200 and row.code == "1"
    assert json.loads(row.answer)["InvoiceNo"] == answer.invoice_number
    assert json.loads(row.response_body)["TransCode"] == 1


def test_the_request_is_recorded_before_it_goes_out(db, ecpay):
    seen: list[tuple[str, str, bytes]] = []

    def look(path: str, body: bytes) -> None:  # in the stand-in, as the request arrives
        for row in _rows(db):
            seen.append((row.operation, row.outcome, row.request_body.encode()))
        assert seen and seen[-1][2] == body

    ecpay.on_receive = look
    assert _ecpay_centre(db, ecpay).issue(invoice()).ok
    assert seen == [("issue", "pending", ecpay.received[0].body)]
    assert [r.outcome for r in _rows(db)] == ["ok"]


def test_two_workers_issuing_one_invoice_at_once_get_one_number(db, ecpay):
    answers = []
    errors = run_threads(4, lambda i: answers.append(_ecpay_centre(db, ecpay).issue(invoice())))
    assert errors == []
    assert len(ecpay.invoices) == 1
    number = ecpay.invoices["DD000123"]["InvoiceNo"]
    assert [a.ok for a in answers] == [True] * 4
    assert {a.invoice_number for a in answers} == {number}


def test_ecpay_b2b_and_donation_invoices_carry_their_fields(db, ecpay):
    centre = _ecpay_centre(db, ecpay)
    b2b = invoice(
        "DD000200",
        buyer=Party(
            "茶葉股份有限公司", ubn="12345675", address="台北市中山區", email="ap@example.com"
        ),
        carrier_type=None,
        carrier_id=None,
    )
    donated = invoice("DD000201", carrier_type=None, carrier_id=None, donation_code="168001")
    assert centre.issue(b2b).ok and centre.issue(donated).ok
    sent_b2b, sent_donated = (r.data for r in ecpay.received)
    assert sent_b2b["CustomerIdentifier"] == "12345675" and sent_b2b["Print"] == "1"
    assert sent_b2b["CarrierType"] == "" and sent_b2b["Donation"] == "0"
    assert sent_donated["Donation"] == "1" and sent_donated["LoveCode"] == "168001"
    assert sent_donated["Print"] == "0" and sent_donated["CarrierType"] == ""


def test_ecpay_repeated_issue_is_answered_from_the_log_without_a_request(db, ecpay):
    centre = _ecpay_centre(db, ecpay)
    first = centre.issue(invoice())
    again = centre.issue(invoice())
    assert again.ok and again.invoice_number == first.invoice_number
    assert again.random_code == first.random_code
    assert len(ecpay.received) == 1 and len(ecpay.invoices) == 1


def test_ecpay_issue_taken_before_a_timeout_is_found_by_its_relate_number(db, ecpay):
    # The centre took the first attempt but the answer never came back: the retry is refused
    # as a repeated RelateNumber, and GetIssue gives the number it had assigned.
    centre = _ecpay_centre(db, ecpay)
    ecpay.invoices["DD000123"] = {
        "InvoiceNo": "AB10000077",
        "RandomNumber": "4321",
        "InvoiceDate": "2026-11-30 10:00:00",
        "remaining": 800,
        "void": False,
    }
    answer = centre.issue(invoice())
    assert answer.ok and (answer.invoice_number, answer.random_code) == ("AB10000077", "4321")
    assert [r.path for r in ecpay.received] == ["/B2CInvoice/Issue", "/B2CInvoice/GetIssue"]
    assert [(r.operation, r.outcome) for r in _rows(db)] == [
        ("issue", "refused"),
        ("get_issue", "ok"),
    ]


def test_ecpay_refusal_is_not_retried_and_says_why(db, ecpay):
    centre = _ecpay_centre(db, ecpay)
    ecpay.refuse_next["/B2CInvoice/Issue"] = (ECPAY_BAD_FIELD, "CarrierNum 格式錯誤")
    answer = centre.issue(invoice())
    assert not answer.ok and not answer.retryable
    assert answer.code == str(ECPAY_BAD_FIELD) and answer.message == "CarrierNum 格式錯誤"
    issue_row = _rows(db)[0]
    assert issue_row.outcome == "refused" and issue_row.error == "CarrierNum 格式錯誤"


@pytest.mark.parametrize("mode", ["down", "garbage"])
def test_ecpay_down_or_garbled_is_retryable_and_recorded(db, ecpay, mode):
    centre = _ecpay_centre(db, ecpay)
    ecpay.mode = mode
    answer = centre.issue(invoice())
    assert not answer.ok and answer.retryable
    [row] = _rows(db)
    assert row.outcome == "retry" and row.error
    assert row.http_status == (503 if mode == "down" else 200)
    # Back up: the retry issues it, once.
    ecpay.mode = "up"
    assert centre.issue(invoice()).ok
    assert len(ecpay.invoices) == 1
    assert [r.outcome for r in _rows(db)] == ["retry", "ok"]


def test_ecpay_timeout_is_retryable_and_recorded(db, ecpay):
    centre = _ecpay_centre(db, ecpay, timeout=0.3)
    ecpay.mode = "hang"
    answer = centre.issue(invoice())
    assert not answer.ok and answer.retryable and "timed out" in (answer.message or "")
    [row] = _rows(db)
    assert row.outcome == "retry" and row.http_status is None and "timed out" in row.error


def test_ecpay_refused_connection_is_retryable(db, ecpay):
    url = ecpay.url
    ecpay.stop()
    centre = EcpayCentre(db, url=url, timeout=2, clock=lambda: NOW)
    answer = centre.void(InvoiceVoid("AB10000000", AT, AT, "訂單取消", "24634102", None))
    assert answer.retryable and _rows(db)[0].outcome == "retry"


def test_ecpay_void_allowance_and_allowance_void_round_trip(db, ecpay):
    centre = _ecpay_centre(db, ecpay)
    issued = centre.issue(invoice())
    number = issued.invoice_number
    assert number
    taken = centre.allowance(allowance("AL0001", number))
    assert taken.ok
    assert ecpay.invoices["DD000123"]["remaining"] == 450
    sent = ecpay.received[-1].data
    assert sent["InvoiceNo"] == number and sent["AllowanceAmount"] == 350
    assert sent["AllowanceNotify"] == "E" and sent["NotifyMail"] == "lin@example.com"
    # More than what remains is refused.
    too_much = centre.allowance(allowance("AL0002", number, amount=500))
    assert not too_much.ok and not too_much.retryable
    # Voiding the allowance names ECPay's own allowance number, kept from its answer.
    undone = centre.void_allowance(AllowanceVoid("AL0001", AT, AT, "退貨取消", "24634102", None))
    assert undone.ok
    assert ecpay.received[-1].data["AllowanceNo"] in ecpay.allowances
    assert ecpay.invoices["DD000123"]["remaining"] == 800
    voided = centre.void(InvoiceVoid(number, AT, AT, "訂單取消", "24634102", None))
    assert voided.ok and ecpay.invoices["DD000123"]["void"]
    assert ecpay.received[-1].data == {
        "MerchantID": ec.SANDBOX_MERCHANT_ID,
        "InvoiceNo": number,
        "InvoiceDate": "2026-11-30",
        "Reason": "訂單取消",
    }
    # Repeats are answered from the log.
    before = len(ecpay.received)
    assert centre.void(InvoiceVoid(number, AT, AT, "訂單取消", "24634102", None)).ok
    assert centre.allowance(allowance("AL0001", number)).ok
    assert len(ecpay.received) == before
    assert {x["operation"] for x in exchanges_of(db, "AL0001")} == {"allowance", "void_allowance"}


def test_ecpay_void_taken_before_a_lost_answer_is_found_void(db, ecpay):
    centre = _ecpay_centre(db, ecpay)
    number = centre.issue(invoice()).invoice_number
    assert number
    ecpay.invoices["DD000123"]["void"] = True  # taken, but its answer never came back
    answer = centre.void(InvoiceVoid(number, AT, AT, "訂單取消", "24634102", None))
    assert answer.ok and answer.message == "already void"
    assert ecpay.received[-1].data == {
        "MerchantID": ec.SANDBOX_MERCHANT_ID,
        "InvoiceNo": number,
        "InvoiceDate": "2026-11-30",
    }
    # An invoice the centre does not know stays refused.
    unknown = centre.void(InvoiceVoid("AB99999999", AT, AT, "x", "24634102", None))
    assert not unknown.ok and not unknown.retryable


def test_ecpay_allowance_void_of_an_allowance_it_never_took_is_refused(db, ecpay):
    centre = _ecpay_centre(db, ecpay)
    answer = centre.void_allowance(AllowanceVoid("AL9999", AT, AT, "x", "24634102", None))
    assert not answer.ok and not answer.retryable and answer.code == "unknown_allowance"
    assert ecpay.received == []


def test_ecpay_barcode_and_love_code_lookups(db, ecpay):
    centre = _ecpay_centre(db, ecpay)
    assert centre.check_mobile_barcode("/TRM+O+P") is True
    assert centre.check_mobile_barcode("/AAAAAAA") is False
    assert centre.check_love_code("168001") is True
    assert centre.check_love_code("999") is False
    ecpay.mode = "down"
    assert centre.check_love_code("168001") is None  # offline: the format rule applies
    assert [r.operation for r in _rows(db)].count("check_barcode") == 2


def test_ecpay_envelope_refused_for_a_wrong_merchant(db, ecpay):
    centre = EcpayCentre(db, url=ecpay.url, merchant_id="3002607", clock=lambda: NOW)
    answer = centre.issue(invoice())
    assert not answer.ok and not answer.retryable and answer.code.startswith("TransCode")


def test_carriers_are_checked_online_and_by_format_offline(db, ecpay):
    centre = _ecpay_centre(db, ecpay)
    assert verify_mobile_barcode(centre, "/TRM+O+P") is True
    assert verify_mobile_barcode(centre, "/ABC1234") is False  # well formed, unknown to ECPay
    assert verify_mobile_barcode(centre, "ABC") is False  # never asked
    assert verify_love_code(centre, "168001") is True and verify_love_code(centre, "8585") is False
    asked = len(ecpay.received)
    ecpay.mode = "down"  # offline: the format decides
    assert verify_mobile_barcode(centre, "/ABC1234") is True
    assert verify_love_code(centre, "8585") is True and verify_love_code(centre, "12") is False
    assert verify_mobile_barcode(None, "/ABC1234") is True
    assert len(ecpay.received) == asked  # the stand-in was down: nothing reached it


# ---- Amego ---------------------------------------------------------------------------------


def test_amego_issue_signs_the_form_and_keeps_the_assigned_number(db, amego):
    centre = _amego_centre(db, amego)
    answer = centre.issue(invoice())
    assert answer.ok
    held = amego.invoices["DD000123"]
    assert (answer.invoice_number, answer.random_code) == (
        held["invoice_number"],
        held["random_number"],
    )
    got = amego.received[0]
    fields = am.read_form(got.body)
    assert fields["invoice"] == am.SANDBOX_UBN and fields["time"] == str(NOW)
    assert fields["sign"] == am.sign(fields["data"], NOW, am.SANDBOX_APP_KEY)
    assert got.data == am.issue_data(invoice())
    assert got.data["CarrierType"] == "3J0002" and got.data["TaxAmount"] == 0
    [row] = _rows(db)
    assert row.centre == "amego" and row.outcome == "ok"
    assert row.request_body.encode() == got.body


def test_amego_b2b_shows_the_tax_apart(db, amego):
    centre = _amego_centre(db, amego)
    b2b = invoice(
        buyer=Party("茶葉股份有限公司", ubn="12345675"), carrier_type=None, carrier_id=None
    )
    assert centre.issue(b2b).ok
    sent = amego.received[0].data
    assert (sent["SalesAmount"], sent["TaxAmount"], sent["TotalAmount"]) == (762, 38, 800)
    assert sent["BuyerIdentifier"] == "12345675"


def test_amego_round_trip_and_repeats(db, amego):
    centre = _amego_centre(db, amego)
    number = centre.issue(invoice()).invoice_number
    assert number
    assert centre.allowance(allowance("AL0001", number)).ok
    sent = amego.received[-1].data[0]
    assert (sent["TotalAmount"], sent["TaxAmount"]) == (333, 17)  # 350 tax included
    assert centre.void_allowance(AllowanceVoid("AL0001", AT, AT, "退貨取消", "24634102", None)).ok
    assert centre.void(InvoiceVoid(number, AT, AT, "訂單取消", "24634102", None)).ok
    assert amego.invoices["DD000123"]["invoice_type"] == "C0501"
    # A repeated issue refused by Amego (say, after a lost answer) is found by its OrderId.
    amego_db_only = AmegoCentre(db, url=amego.url, clock=lambda: NOW)
    db.write(lambda c: c.execute(EinvoiceExchange.__table__.delete()))
    again = amego_db_only.issue(invoice())
    assert again.ok and again.invoice_number == number
    assert [r.path for r in amego.received[-2:]] == ["/json/f0401", "/json/invoice_query"]


def test_amego_void_taken_before_a_lost_answer_is_found_void(db, amego):
    centre = _amego_centre(db, amego)
    number = centre.issue(invoice()).invoice_number
    assert number
    amego.invoices["DD000123"]["invoice_type"] = "C0501"
    answer = centre.void(InvoiceVoid(number, AT, AT, "訂單取消", "24634102", None))
    assert answer.ok and answer.message == "already void"
    assert amego.received[-1].data == {"type": "invoice", "invoice_number": number}


def test_amego_bad_key_is_refused_and_down_is_retried(db, amego):
    wrong = AmegoCentre(db, url=amego.url, app_key="not-the-key", clock=lambda: NOW)
    refused = wrong.issue(invoice())
    assert not refused.ok and not refused.retryable
    amego.mode = "down"
    down = _amego_centre(db, amego).issue(invoice("DD000999"))
    assert down.retryable
    assert [r.outcome for r in _rows(db)][-1] == "retry"


def test_amego_timeout_is_retryable(db, amego):
    amego.mode = "hang"
    answer = _amego_centre(db, amego, timeout=0.3).void(
        InvoiceVoid("AA26513024", AT, AT, "x", "24634102", None)
    )
    assert answer.retryable and "timed out" in (_rows(db)[0].error or "")


def test_amego_barcode_lookup(db, amego):
    centre = _amego_centre(db, amego)
    assert centre.check_mobile_barcode("/TRM+O+P") is True
    assert centre.check_mobile_barcode("/AAAAAAA") is False
    assert centre.check_love_code("168001") is None


# ---- settings ------------------------------------------------------------------------------


def test_the_centre_comes_from_the_settings_with_sandbox_defaults(db):
    assert centre_from_settings(db, Settings(einvoice_centre="")) is None
    ecpay = centre_from_settings(db, Settings(einvoice_centre="ecpay"))
    assert isinstance(ecpay, EcpayCentre) and ecpay.merchant_id == ec.SANDBOX_MERCHANT_ID
    assert ecpay.url == ec.SANDBOX_URL and "ejCk" not in repr(ecpay)
    amego = centre_from_settings(
        db, Settings(einvoice_centre="Amego", einvoice_amego_ubn="24634102")
    )
    assert isinstance(amego, AmegoCentre) and amego.ubn == "24634102"
    assert am.SANDBOX_APP_KEY not in repr(amego)
    assert "ejCk" not in repr(Settings())
    with pytest.raises(ValueError, match="EINVOICE_CENTRE"):
        centre_from_settings(db, Settings(einvoice_centre="nonesuch"))
